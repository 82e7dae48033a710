"""Strict DSSE envelopes and in-toto statements: the signed wrapper of approvals, attestations, policies.

An envelope (https://github.com/secure-systems-lab/dsse) is JSON with a base64 ``payload``, its
``payloadType`` and a list of ``signatures`` (``keyid``, base64 ``sig``), each over the
pre-authentication encoding of type and payload. The signing and the signature check are
securesystemslib's (:class:`securesystemslib.dsse.Envelope`, :class:`~securesystemslib.signer.SSlibKey`);
this module adds the strict *reading* that a file from someone else needs before any of that:

* a size limit (1 MiB) checked before parsing, and a nesting-depth limit (32) checked by a scan of
  the bytes before the JSON parser runs, so a hostile ``[[[[…`` never reaches a recursive parser;
* strict JSON: UTF-8, no duplicate member names, no ``NaN``/``Infinity``, nothing after the value;
* exact types and members (no missing or extra fields), canonical standard base64 (one spelling
  per byte string, so a flipped padding bit cannot slip through), the expected ``payloadType``,
  the expected number of signatures, key ids that are securesystemslib key ids and never repeated.

Signature checks accept ECDSA P-256 keys only (securesystemslib scheme ``ecdsa-sha2-nistp256``);
any other curve or algorithm is refused by name before anything is verified.

This module knows nothing of approvals, policies, the key store or the workspace; it never
touches the file system or the network and never sees a private key except through a signer.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError

# The classes are re-exported by securesystemslib.signer without __all__, which mypy --strict
# does not count as an export; import them from where they are defined.
from securesystemslib.signer._key import SSlibKey
from securesystemslib.signer._signature import Signature
from securesystemslib.signer._signer import Signer

from core import formats
from core.errors import AirlockError
from core.promotion.models import IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT

#: Envelopes larger than this are refused before they are parsed.
MAX_ENVELOPE_BYTES = 1 << 20
#: JSON nested deeper than this (arrays and objects) is refused before it is parsed.
MAX_JSON_DEPTH = 32
#: The only signing scheme accepted: ECDSA on NIST P-256 with SHA-256.
P256_SCHEME = "ecdsa-sha2-nistp256"
#: A public key PEM longer than this is not a P-256 key (those are 178 characters).
MAX_PEM_CHARS = 16_384

_KEYID = re.compile(r"[0-9a-f]{64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class EnvelopeInvalid(AirlockError):
    """A signed envelope or its statement cannot be read: malformed, wrong kind, wrong shape."""

    code = "envelope_invalid"

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class KeyRefused(AirlockError):
    """A public key is not one Airlock signs or verifies with (only ECDSA P-256), or is malformed."""

    code = "key_refused"

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class SignatureInvalid(AirlockError):
    """A well-formed envelope whose signature does not verify with the key it names."""

    code = "signature_invalid"

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


# --- strict JSON ---------------------------------------------------------------------------


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in ``data`` (brackets inside strings do not count).

    A scan of the bytes, not a parse, so it is safe on any input: unbalanced or nonsense
    input gives some number, and the parser that runs afterwards reports what is wrong.
    """
    brackets = _BRACKETS.findall(_STRING.sub(b'""', data))
    if not brackets:
        return 0
    return max(0, max(accumulate(_DEPTH_STEP[b[0]] for b in brackets)))


def _no_duplicates(source: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in pairs:
            if name in out:
                raise EnvelopeInvalid(source, f"the JSON has the member {name!r} twice; refused as ambiguous.")
            out[name] = value
        return out

    return hook


def _no_constant(source: str) -> Any:
    def hook(name: str) -> Any:
        raise EnvelopeInvalid(source, f"the JSON holds {name}, which JSON does not allow.")

    return hook


def parse_json(
    data: bytes, source: str, *, what: str = "envelope", max_bytes: int = MAX_ENVELOPE_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse untrusted JSON strictly: size and depth first, then UTF-8, duplicates, constants.

    Raises
    ------
    EnvelopeInvalid
        Larger than ``max_bytes``, nested deeper than ``max_depth``, not UTF-8, not JSON, a
        member name twice, or ``NaN``/``Infinity``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EnvelopeInvalid(source, f"the {what} must be bytes, not {type(data).__name__}.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise EnvelopeInvalid(
            source, f"the {what} is {len(data):,} bytes, more than the {max_bytes:,} allowed; refused unread."
        )
    if not data.strip():
        raise EnvelopeInvalid(source, f"the {what} is empty.")
    depth = json_depth(data)
    if depth > max_depth:
        raise EnvelopeInvalid(
            source, f"the {what}'s JSON nests {depth} levels deep, more than the {max_depth} allowed; refused unread."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvelopeInvalid(source, f"the {what} is not UTF-8 text (byte {exc.start}).") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(source), parse_constant=_no_constant(source))
    except json.JSONDecodeError as exc:
        raise EnvelopeInvalid(
            source, f"the {what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    except RecursionError:  # unreachable after the depth scan; kept so no traceback can escape
        raise EnvelopeInvalid(source, f"the {what}'s JSON nests too deeply; refused.") from None


def _b64decode(text: str, source: str, where: str) -> bytes:
    """Standard base64 with padding, in its one canonical spelling (no whitespace, no URL alphabet)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise EnvelopeInvalid(source, f"{where} is not valid base64.") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise EnvelopeInvalid(source, f"{where} is not in canonical base64 (padding or trailing bits altered).")
    return raw


def _exact_members(obj: dict[str, Any], expected: set[str], source: str, where: str) -> None:
    missing = sorted(expected - obj.keys())
    extra = sorted(obj.keys() - expected)
    if missing:
        raise EnvelopeInvalid(source, f"{where} lacks {', '.join(repr(m) for m in missing)}.")
    if extra:
        raise EnvelopeInvalid(source, f"{where} has unexpected member(s) {', '.join(repr(m) for m in extra)}.")


def _type_name(value: Any) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
        bool: "true/false", type(None): "null",
    }.get(type(value), type(value).__name__)


# --- envelopes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DsseEnvelope:
    """An envelope as read: payload bytes, its type, the signatures in file order, the raw bytes."""

    payload: bytes
    payload_type: str
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, signature bytes), keyids distinct
    raw: bytes
    source: str

    @property
    def keyids(self) -> tuple[str, ...]:
        return tuple(keyid for keyid, _ in self.signatures)

    def to_sslib(self) -> Envelope:
        """securesystemslib's envelope (signatures keyed by key id, so distinct ids are required)."""
        return Envelope(
            self.payload, self.payload_type,
            {keyid: Signature(keyid, sig.hex()) for keyid, sig in self.signatures},
        )

    def pae(self) -> bytes:
        """The bytes each signature covers (DSSE's pre-authentication encoding)."""
        return self.to_sslib().pae()


def read_envelope(
    data: bytes,
    source: str,
    *,
    payload_type: str,
    signatures: int | None = 1,
    min_signatures: int = 1,
    max_bytes: int = MAX_ENVELOPE_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> DsseEnvelope:
    """Read a DSSE envelope strictly; nothing is verified yet (see :func:`verify_signature`).

    Parameters
    ----------
    data
        The envelope file's bytes.
    source
        Where they came from (a path), for messages.
    payload_type
        The ``payloadType`` the caller expects; anything else is refused.
    signatures
        The exact number of signatures required (approvals and attestations: 1), or None for
        "at least ``min_signatures``" (policies, signed by several administrators).
    min_signatures
        The least number of signatures when ``signatures`` is None.

    Raises
    ------
    EnvelopeInvalid
        Too large, too deep, not JSON, wrong members or types, bad base64, unexpected payload
        type, the wrong number of signatures, a malformed or repeated key id.
    """
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data
    body = parse_json(raw, source, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(body, dict):
        raise EnvelopeInvalid(source, f"a signed envelope is a JSON object, this is {_type_name(body)}.")
    _exact_members(body, {"payload", "payloadType", "signatures"}, source, "the envelope")
    if not isinstance(body["payloadType"], str):
        raise EnvelopeInvalid(source, f"'payloadType' must be a string, not {_type_name(body['payloadType'])}.")
    if body["payloadType"] != payload_type:
        raise EnvelopeInvalid(
            source, f"the envelope holds {body['payloadType']!r}, not the expected {payload_type!r}."
        )
    if not isinstance(body["payload"], str):
        raise EnvelopeInvalid(source, f"'payload' must be a string, not {_type_name(body['payload'])}.")
    payload = _b64decode(body["payload"], source, "'payload'")
    sigs = body["signatures"]
    if not isinstance(sigs, list):
        raise EnvelopeInvalid(source, f"'signatures' must be an array, not {_type_name(sigs)}.")
    if signatures is not None and len(sigs) != signatures:
        raise EnvelopeInvalid(
            source, f"the envelope carries {len(sigs)} signature(s); exactly {signatures} expected."
        )
    if signatures is None and len(sigs) < min_signatures:
        raise EnvelopeInvalid(
            source, f"the envelope carries {len(sigs)} signature(s); at least {min_signatures} expected."
        )
    read: list[tuple[str, bytes]] = []
    for i, sig in enumerate(sigs):
        where = f"signature {i + 1}"
        if not isinstance(sig, dict):
            raise EnvelopeInvalid(source, f"{where} must be an object, not {_type_name(sig)}.")
        _exact_members(sig, {"keyid", "sig"}, source, where)
        keyid, value = sig["keyid"], sig["sig"]
        if not isinstance(keyid, str):
            raise EnvelopeInvalid(source, f"{where}: 'keyid' must be a string, not {_type_name(keyid)}.")
        if not _KEYID.fullmatch(keyid):
            raise EnvelopeInvalid(source, f"{where}: 'keyid' is not a key id (64 lower-case hex digits).")
        if not isinstance(value, str):
            raise EnvelopeInvalid(source, f"{where}: 'sig' must be a string, not {_type_name(value)}.")
        sig_bytes = _b64decode(value, source, f"{where}: 'sig'")
        if not sig_bytes:
            raise EnvelopeInvalid(source, f"{where} is empty.")
        if any(keyid == seen for seen, _ in read):
            raise EnvelopeInvalid(
                source, f"two signatures name the key {keyid[:16]}…; one key signs once (refused as a duplicate)."
            )
        read.append((keyid, sig_bytes))
    return DsseEnvelope(payload, payload_type, tuple(read), raw, source)


def _check_signer(signer: Signer) -> None:
    scheme = getattr(signer.public_key, "scheme", None)
    if scheme != P256_SCHEME:
        raise KeyRefused("signer", f"Airlock signs with ECDSA P-256 keys only; this signer uses {scheme!r}.")


def write_envelope(payload: bytes, payload_type: str, signers: Sequence[Signer]) -> bytes:
    """A new envelope over ``payload`` signed by each of ``signers`` (distinct keys), as JSON bytes.

    Raises
    ------
    KeyRefused
        A signer is not an ECDSA P-256 key.
    ValueError
        No signer, or two signers with the same key.
    """
    if not signers:
        raise ValueError("an envelope needs at least one signer")
    envelope = Envelope(payload, payload_type, {})
    for signer in signers:
        _check_signer(signer)
        if signer.public_key.keyid in envelope.signatures:
            raise ValueError(f"key {signer.public_key.keyid} given twice")
        envelope.sign(signer)
    return _dump(envelope)


def add_signature(envelope: DsseEnvelope, signer: Signer) -> bytes:
    """``envelope`` with one more signature, by ``signer``, over the same payload (as JSON bytes).

    Raises
    ------
    EnvelopeInvalid
        The envelope already carries a signature by this key.
    """
    _check_signer(signer)
    if signer.public_key.keyid in envelope.keyids:
        raise EnvelopeInvalid(envelope.source, f"the key {signer.public_key.keyid[:16]}… has signed it already.")
    sslib = envelope.to_sslib()
    signed = Envelope(sslib.payload, sslib.payload_type, dict(sslib.signatures))
    signed.sign(signer)
    return _dump(signed)


def _dump(envelope: Envelope) -> bytes:
    return formats.canonical_json(envelope.to_dict())


# --- keys and signatures -------------------------------------------------------------------


def describe_key(public_key: object) -> str:
    """A public key's algorithm in words, for refusals ("an RSA-2048 key", "an ECDSA key on secp384r1")."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"an ECDSA key on {public_key.curve.name}"
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"an RSA-{public_key.key_size} key"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "an Ed25519 key"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "an Ed448 key"
    return f"a {type(public_key).__name__.removeprefix('_')}"


def load_public_key(pem: str | bytes, source: str) -> SSlibKey:
    """A P-256 public key from its SubjectPublicKeyInfo PEM, as securesystemslib's key (with its keyid).

    Raises
    ------
    KeyRefused
        Not a PEM public key, or a key of any other algorithm or curve (named in the message).
    """
    text = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
    if len(text) > MAX_PEM_CHARS:
        raise KeyRefused(source, "this is far too long to be a P-256 public key.")
    try:
        key = load_pem_public_key(text)
    except UnsupportedAlgorithm as exc:
        raise KeyRefused(source, f"the public key uses an algorithm Airlock does not accept ({exc}).") from None
    except (ValueError, TypeError):
        raise KeyRefused(
            source, "this is not a PEM public key (expected '-----BEGIN PUBLIC KEY-----' … an ECDSA P-256 key)."
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyRefused(
            source, f"this is {describe_key(key)}; Airlock accepts only ECDSA P-256 (secp256r1) signing keys."
        )
    sslib = SSlibKey.from_crypto(key)
    if sslib.scheme != P256_SCHEME:  # from_crypto's default for P-256; checked, not assumed
        raise KeyRefused(source, f"unexpected signing scheme {sslib.scheme!r} for a P-256 key.")
    return sslib


def keyid_of(pem: str | bytes, source: str = "public key") -> str:
    """The key id (securesystemslib's) of a P-256 public key PEM."""
    return load_public_key(pem, source).keyid


def verify_signature(envelope: DsseEnvelope, public_pem: str | bytes, *, key_source: str = "public key") -> str:
    """Check that ``envelope`` carries a valid signature by the key ``public_pem``; returns its key id.

    The signature must name that key's id and verify over the envelope's pre-authentication
    encoding. Other signatures in the envelope are ignored here (a policy counts them itself).

    Raises
    ------
    KeyRefused
        ``public_pem`` is not an ECDSA P-256 public key.
    SignatureInvalid
        No signature names that key, or the one that does is not valid for this payload.
    """
    key = load_public_key(public_pem, key_source)
    sig = next((s for k, s in envelope.signatures if k == key.keyid), None)
    if sig is None:
        named = ", ".join(k[:16] + "…" for k in envelope.keyids) or "none"
        raise SignatureInvalid(
            envelope.source, f"it is not signed by the key {key.keyid[:16]}… (signed by: {named})."
        )
    try:
        key.verify_signature(Signature(key.keyid, sig.hex()), envelope.pae())
    except UnverifiedSignatureError:
        raise SignatureInvalid(
            envelope.source,
            f"the signature by key {key.keyid[:16]}… does not verify: the file was changed after signing, "
            "or was signed by another key.",
        ) from None
    return key.keyid


# --- in-toto statements --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """An in-toto Statement v1 with one subject, as read back."""

    subject_name: str
    sha256: str
    predicate_type: str
    predicate: dict[str, Any]


def statement_bytes(subject_name: str, sha256: str, predicate_type: str, predicate: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of an in-toto Statement v1 with one subject (``name``, ``digest.sha256``)."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return formats.canonical_json({
        "_type": IN_TOTO_STATEMENT,
        "subject": [{"name": subject_name, "digest": {"sha256": sha256}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })


def read_statement(
    payload: bytes, source: str, *, predicate_type: str, canonical: bool = False, max_depth: int = MAX_JSON_DEPTH,
) -> Statement:
    """Parse an envelope's payload as an in-toto Statement v1 strictly.

    Exactly the members ``_type``, ``subject``, ``predicateType``, ``predicate``; one subject with a
    string name and exactly one digest, a lower-case SHA-256; the expected predicate type; the
    predicate an object (its own shape is the caller's to check). With ``canonical``, the payload
    must also be exactly the RFC 8785 bytes of what it says (Airlock's own statements: one
    spelling per statement, so no two different payloads mean the same).

    Raises
    ------
    EnvelopeInvalid
        Anything else.
    """
    body = parse_json(payload, source, what="statement", max_depth=max_depth)
    if not isinstance(body, dict):
        raise EnvelopeInvalid(source, f"the statement must be a JSON object, not {_type_name(body)}.")
    _exact_members(body, {"_type", "subject", "predicateType", "predicate"}, source, "the statement")
    if body["_type"] != IN_TOTO_STATEMENT:
        raise EnvelopeInvalid(source, f"the statement's _type is {body['_type']!r}, not {IN_TOTO_STATEMENT!r}.")
    if not isinstance(body["predicateType"], str) or body["predicateType"] != predicate_type:
        raise EnvelopeInvalid(
            source, f"the statement is a {body['predicateType']!r}, not the expected {predicate_type!r}."
        )
    subjects = body["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1:
        count = len(subjects) if isinstance(subjects, list) else _type_name(subjects)
        raise EnvelopeInvalid(source, f"the statement must have exactly one subject (found {count}).")
    subject = subjects[0]
    if not isinstance(subject, dict):
        raise EnvelopeInvalid(source, f"the subject must be an object, not {_type_name(subject)}.")
    _exact_members(subject, {"name", "digest"}, source, "the subject")
    if not isinstance(subject["name"], str) or not subject["name"]:
        raise EnvelopeInvalid(source, "the subject's name must be a non-empty string.")
    digest = subject["digest"]
    if not isinstance(digest, dict):
        raise EnvelopeInvalid(source, f"the subject's digest must be an object, not {_type_name(digest)}.")
    _exact_members(digest, {"sha256"}, source, "the subject's digest")
    if not isinstance(digest["sha256"], str) or not _SHA256.fullmatch(digest["sha256"]):
        raise EnvelopeInvalid(source, "the subject's sha256 is not 64 lower-case hex digits.")
    if not isinstance(body["predicate"], dict):
        raise EnvelopeInvalid(source, f"the predicate must be an object, not {_type_name(body['predicate'])}.")
    if canonical:
        try:
            same = formats.canonical_json(body) == payload
        except Exception:  # an integer or float that JCS cannot carry exactly
            same = False
        if not same:
            raise EnvelopeInvalid(source, "the statement is not in canonical JSON (RFC 8785); refused.")
    return Statement(subject["name"], digest["sha256"], predicate_type, body["predicate"])


__all__ = [
    "IN_TOTO_PAYLOAD_TYPE", "MAX_ENVELOPE_BYTES", "MAX_JSON_DEPTH", "P256_SCHEME", "DsseEnvelope", "EnvelopeInvalid",
    "KeyRefused", "SignatureInvalid", "Statement", "add_signature", "describe_key", "json_depth", "keyid_of",
    "load_public_key", "parse_json", "read_envelope", "read_statement", "statement_bytes", "verify_signature",
    "write_envelope",
]
