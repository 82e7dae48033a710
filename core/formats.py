"""One way to turn records into bytes and back: kinds, versions, canonical JSON.

Every record that is stored or leaves the workspace (profiles, schemas, reports, later
packages and policies) is a frozen dataclass registered here as a :class:`RecordKind`: a
name such as ``"airlock.profile"``, the ``format_version`` this Airlock writes, and one
upgrade step per older version it still reads. :func:`dumps` writes the record as
canonical JSON with its envelope, ``format`` and ``format_version`` at the top level beside
the record's own fields (release 0.1.0 wrote ``format_version`` there and no ``format``;
such bytes read as version 1). :func:`loads` checks the envelope, runs the upgrade steps
from the stored version to the current one, and decodes strictly into the dataclass.

- A version this Airlock cannot read raises :class:`~core.errors.UnknownFormat` naming the
  record, the version found and the versions read here.
- Content that does not fit the layout raises :class:`~core.errors.MalformedRecord`
  naming the record and the field path (``$.columns[3].mean``).
- :func:`canonical_json` is RFC 8785 (JCS), for bytes a signature will cover.

An area registers its kinds in its ``models`` module (importing the module registers
them), so a new area adds its records without editing this file. This module must not
import anything of ``core`` except the errors: it sits below every area and the store.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, overload

import msgspec
import rfc8785

from core.errors import MalformedRecord, UnknownFormat

T = TypeVar("T")

#: Turns a record's dict in one format version into the dict of the next version.
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class RecordKind(Generic[T]):
    """One kind of record: what it is called, its current format and how older ones read.

    Parameters
    ----------
    name
        Stable dotted name written as ``format`` (``"airlock.profile"``).
    type
        The frozen dataclass the record decodes into.
    version
        The ``format_version`` this Airlock writes.
    title
        How messages name one record ("profile", "drift report").
    recreate
        What a user does to get a fresh one ("recompute the profile").
    upgrades
        ``{v: step}``: ``step`` turns a version ``v`` dict into a version ``v + 1`` dict.
        Every version from the lowest key up to ``version`` is readable.
    derived
        Extra fields written for readers outside Airlock (a report's verdict); they are
        computed from the record and ignored when reading.
    """

    name: str
    type: type[T]
    version: int
    title: str
    recreate: str
    upgrades: Mapping[int, Upgrade] = dataclasses.field(default_factory=dict)
    derived: Callable[[T], Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if not dataclasses.is_dataclass(self.type):
            raise TypeError(f"{self.name}: a record kind's type must be a dataclass")
        if self.version < 1 or any(not 0 <= v < self.version for v in self.upgrades):
            raise ValueError(f"{self.name}: upgrade steps must lead from older versions to {self.version}")
        if set(range(min(self.upgrades, default=self.version), self.version)) != set(self.upgrades):
            raise ValueError(f"{self.name}: the upgrade steps must not skip a version")

    @property
    def readable(self) -> tuple[int, ...]:
        """Every ``format_version`` this Airlock reads, oldest first."""
        return tuple(range(min(self.upgrades, default=self.version), self.version + 1))


class _Envelope(msgspec.Struct):
    """The two top-level fields read before the body (everything else is skipped)."""

    format: Any = None
    format_version: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def _enc_hook(obj: Any) -> Any:
    """Values msgspec does not encode itself: numpy scalars and read-only mappings."""
    if type(obj).__module__ == "numpy" and callable(getattr(obj, "item", None)):
        return obj.item()
    if isinstance(obj, Mapping):
        return dict(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def _versions_text(versions: tuple[int, ...]) -> str:
    if len(versions) == 1:
        return f"format {versions[0]}"
    return f"formats {versions[0]}–{versions[-1]}"


class Registry:
    """The record kinds one Airlock knows; :data:`REGISTRY` is the application's."""

    def __init__(self) -> None:
        self._by_name: dict[str, RecordKind[Any]] = {}
        self._by_type: dict[type, RecordKind[Any]] = {}
        self._decoders: dict[str, msgspec.json.Decoder[Any]] = {}

    def register(self, kind: RecordKind[T]) -> RecordKind[T]:
        """Add ``kind``; a name or type registered twice is a programming error."""
        if kind.name in self._by_name or kind.type in self._by_type:
            raise ValueError(f"record kind {kind.name!r} ({kind.type.__name__}) is registered already")
        self._by_name[kind.name] = kind
        self._by_type[kind.type] = kind
        self._decoders[kind.name] = msgspec.json.Decoder(kind.type)
        return kind

    def kinds(self) -> tuple[RecordKind[Any], ...]:
        """Every registered kind, by name."""
        return tuple(self._by_name[n] for n in sorted(self._by_name))

    def kind(self, key: str | type) -> RecordKind[Any]:
        """The kind registered under a name or for a dataclass."""
        found = self._by_name.get(key) if isinstance(key, str) else self._by_type.get(key)
        if found is None:
            name = key if isinstance(key, str) else key.__name__
            raise KeyError(f"no record kind {name!r} is registered (import the area's models first)")
        return found

    # --- writing ------------------------------------------------------------------------

    def to_builtins(self, record: object) -> dict[str, Any]:
        """The record as JSON-ready builtins, with its envelope (what :meth:`dumps` writes)."""
        kind = self.kind(type(record))
        body: dict[str, Any] = msgspec.to_builtins(record, enc_hook=_enc_hook)
        if kind.derived is not None:
            body.update(msgspec.to_builtins(dict(kind.derived(record)), enc_hook=_enc_hook))
        body["format"] = kind.name
        body["format_version"] = kind.version
        return body

    def dumps(self, record: object) -> bytes:
        """Canonical JSON of a registered record (see :func:`dumps`)."""
        return _ENCODER.encode(self.to_builtins(record))

    # --- reading ------------------------------------------------------------------------

    def loads(self, key: str | type, data: bytes | str, *, source: str | None = None) -> Any:
        """Decode a record of kind ``key`` (see :func:`loads`)."""
        kind = self.kind(key)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        where = f"{source}: " if source else ""
        title = kind.title[0].upper() + kind.title[1:]
        try:
            env = _ENVELOPE.decode(raw)
            legacy: Any = None
        except msgspec.ValidationError as exc:
            raise MalformedRecord(f"{where}{title} is not a JSON object ({exc}).") from None
        except msgspec.DecodeError as exc:
            legacy = _stdlib_json(raw)  # release 0.1.0 wrote NaN where Python's json does
            if not isinstance(legacy, dict):
                raise MalformedRecord(f"{where}{title} is not valid JSON ({exc}).") from None
            env = _Envelope(legacy.get("format"), legacy.get("format_version"))
        if env.format is not None and env.format != kind.name:
            raise MalformedRecord(
                f"{where}This is a {env.format!r} record, not a {kind.title} ({kind.name!r})."
            )
        version = env.format_version
        if version is None:
            raise MalformedRecord(f"{where}{title} has no format_version (at `$.format_version`).")
        if isinstance(version, bool) or not isinstance(version, int):
            raise MalformedRecord(
                f"{where}{title}: format_version must be a whole number, found {version!r} "
                "(at `$.format_version`)."
            )
        if version not in kind.readable:
            said = "was written in" if version > kind.version else "says it is in"
            remedy = f"upgrade Airlock or {kind.recreate}" if version > kind.version else kind.recreate
            raise UnknownFormat(
                f"{where}This {kind.title} {said} format {version}; this Airlock reads "
                f"{_versions_text(kind.readable)}: {remedy}.",
                kind=kind.name, found=version, readable=kind.readable,
            )
        try:
            if version == kind.version and legacy is None:
                return self._decoders[kind.name].decode(raw)
            body = legacy if legacy is not None else msgspec.json.decode(raw)
            for step in range(version, kind.version):
                body = kind.upgrades[step](body)
            body["format_version"] = kind.version
            return msgspec.convert(body, kind.type)
        except msgspec.ValidationError as exc:
            raise MalformedRecord(
                f"{where}{title} (format {version}) does not fit its layout: {exc}. "
                f"It was damaged or written by something other than Airlock; {kind.recreate}."
            ) from None
        except (KeyError, TypeError, ValueError) as exc:  # an upgrade step met a field it needs missing
            raise MalformedRecord(
                f"{where}{title} (format {version}) cannot be upgraded: {exc!r} is missing or wrong; "
                f"{kind.recreate}."
            ) from None


def _stdlib_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


#: The kinds this Airlock knows; area ``models`` modules register theirs on import.
REGISTRY = Registry()


def register(kind: RecordKind[T]) -> RecordKind[T]:
    """Register ``kind`` in the application's registry; returns it."""
    return REGISTRY.register(kind)


def kinds() -> tuple[RecordKind[Any], ...]:
    """Every record kind registered so far."""
    return REGISTRY.kinds()


def dumps(record: object) -> bytes:
    """A registered record as canonical JSON with its envelope.

    Canonical here means: keys sorted at every level, no whitespace, UTF-8 (no ``\\u``
    escapes beyond those JSON requires), numbers in one fixed form (integers as integers,
    floats in their shortest round-trip form, always with a fraction or exponent: ``1.0``,
    ``1e21``). The same value always gives the same bytes. Use :func:`canonical_json` where
    a signature covers the bytes.

    Raises
    ------
    KeyError
        The record's type is not registered.
    TypeError
        The record holds a value JSON cannot carry.
    """
    return REGISTRY.dumps(record)


def to_builtins(record: object) -> dict[str, Any]:
    """The dict :func:`dumps` encodes (for ``--json`` output that is indented for people)."""
    return REGISTRY.to_builtins(record)


@overload
def loads(kind: type[T], data: bytes | str, *, source: str | None = None) -> T: ...
@overload
def loads(kind: str, data: bytes | str, *, source: str | None = None) -> Any: ...
def loads(kind: str | type[T], data: bytes | str, *, source: str | None = None) -> Any:
    """Read a record written by this or an earlier Airlock.

    Parameters
    ----------
    kind
        The record's dataclass (typed result) or its registered name.
    data
        The JSON bytes (or text) as stored.
    source
        Where the bytes came from, prefixed to error messages (``"loans@1"``).

    Raises
    ------
    UnknownFormat
        The ``format_version`` is newer than this Airlock or one it never wrote.
    MalformedRecord
        Not JSON, another kind of record, or a field that does not fit (its path is named).
    """
    return REGISTRY.loads(kind, data, source=source)


def canonical_json(obj: object) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of ``obj``, for what a signature covers.

    A registered record is written with its envelope; other dataclasses, mappings, lists,
    strings, numbers, booleans and None as they are. Numbers follow ECMAScript (``1e+21``,
    ``-0.0`` as ``0``, ``1.0`` as ``1``), keys are sorted by UTF-16 code units.

    Raises
    ------
    rfc8785.CanonicalizationError
        A NaN or infinite float, or an integer JCS cannot carry exactly (beyond 2**53).
    """
    try:
        value: Any = REGISTRY.to_builtins(obj)
    except KeyError:
        value = msgspec.to_builtins(obj, enc_hook=_enc_hook)
    return rfc8785.dumps(value)


__all__ = [
    "REGISTRY", "RecordKind", "Registry", "Upgrade", "canonical_json", "dumps", "kinds", "loads",
    "register", "to_builtins",
]
