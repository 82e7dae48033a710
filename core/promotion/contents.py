"""What goes into a promotion package's ``content/`` folder, gathered from a development workspace.

:func:`gather_contents` reads one model version through the training, rubric and dataset
services and returns the package's :class:`~core.promotion.models.Manifest` with every file of
``content/`` as bytes (paths relative to ``content/``): the manifest, the model artefacts as
stored, the dataset's schema, the model card (Markdown and JSON), the evidence and its plots,
the latest rubric result, the model report (an invariant PDF) and the canary batch with the
development pipeline's predictions for it. Nothing is written to disk; the package engineer
signs and packs the files.

Determinism: the same model version in the same workspace gives byte-identical files. No file
holds a build time (the report is dated with the version's training time), JSON is canonical
(sorted keys), the canary is drawn with a fixed seed and written to Parquet with fixed
settings, and plots are the stored PNGs (the slice plot is redrawn only when slices of an
identifier column were removed from it).

No raw rows, no identifier or personal values leave the workspace (:func:`redact_evidence`):
the explanation of one holdout row is withheld (its contributions describe a real record),
slices and fairness groups of identifier or personal-data columns are removed (their levels are
data values), the schema loses the bounds and allowed values of those columns, and every text
of the evidence and the rubric result is scanned for the text values of those columns (each
found one replaced by ``[redacted]``); a last check refuses to build if one is still in any text
file. The canary batch holds feature columns only, each drawn independently from the training
snapshot with a fixed seed, and no canary row equals a training row on those features.

This module must not write to the store (it runs queries only), import Qt, or load a model in
this process (predictions come from :meth:`TrainingService.predict`'s child process).
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from core import formats
from core.errors import AirlockError, IntegrityError, InvalidInput, NotFound
from core.promotion.model_card import artefact_format, build_card, card_artefacts, card_markdown
from core.promotion.models import (
    PACKAGE_FORMAT_VERSION,
    ArtefactEntry,
    CanarySpec,
    Lineage,
    Manifest,
    RubricSummary,
)
from core.rubric.models import RubricResult, TestOutcome, TestStatus
from core.tasks import ensure_context
from core.training.models import (
    Evidence,
    EvidenceItem,
    EvidenceKind,
    Explanation,
    Inclusion,
    ModelVersion,
    SliceReport,
    TrainingSpec,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from core.data.models import DatasetVersion, Profile, Schema
    from core.data.service import DatasetService
    from core.rubric.service import RubricService
    from core.tasks import TaskContext
    from core.training.service import TrainingService
    from core.workspace.models import WorkspaceInfo

#: Most rows of the canary batch.
CANARY_ROWS = 64
#: Seed of the canary draw (with the version's own seed, so two versions draw differently).
CANARY_SEED = 13
#: Absolute tolerance of numeric canary predictions (labels must be equal).
CANARY_TOLERANCE = 1e-9
#: Rounds of redrawing canary rows that happen to equal a training row before such rows are dropped.
CANARY_REDRAWS = 20
#: Paths of the canary files inside ``content/``.
CANARY_ROWS_PATH = "canary/rows.parquet"
CANARY_PREDICTIONS_PATH = "canary/predictions.json"

#: The envelope of ``evidence/evidence.json`` (its items are each a registered ``airlock.evidence.*`` record).
EVIDENCE_FORMAT = "airlock.package_evidence"
EVIDENCE_FORMAT_VERSION = 1

#: What replaces a value of an identifier or personal-data column found in a text.
REDACTED = "[redacted]"
#: Shortest text value looked for (shorter ones would hit ordinary words and numbers).
MIN_SCRUB_LENGTH = 4

_ENCODER = msgspec.json.Encoder(order="sorted")
_SPLIT = re.compile(r"([\s=,;:()\[\]{}<>'\"|/]+)")
_PLOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.png$")
_EXPLANATION_WITHHELD = ("the explanation of one holdout row (its transformed feature values and contributions "
                         "describe a real record)")


class ContentsError(AirlockError):
    """The model version cannot be packaged as it stands (what is missing and what to do is said)."""


# --- the entry point ---------------------------------------------------------------------------


def gather_contents(training: TrainingService, rubric: RubricService, datasets: DatasetService, model_ref: str, *,
                    author: str, author_keyid: str, source_workspace: WorkspaceInfo,
                    ctx: TaskContext | None = None) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and every file of the package's ``content/`` folder for model version ``model_ref``.

    Reads only (queries); the canary's predictions come from the development pipeline in a
    child process (:meth:`TrainingService.predict`).

    Parameters
    ----------
    training, rubric, datasets
        The development workspace's services, for the same acting user.
    model_ref
        ``model@N``, or ``model`` for its latest version.
    author, author_keyid
        The printed name and key id of the key that will sign the package.
    source_workspace
        The development workspace (its id, name and audit head go into the manifest).
    ctx
        Progress and cancellation (the canary's child process honours it).

    Returns
    -------
    tuple of Manifest and dict
        The manifest and ``{path under content/: bytes}``, by path, ``manifest.json`` among them.

    Raises
    ------
    NotFound
        No such model version.
    ContentsError
        The version's spec or training dataset version is no longer in the workspace, or a value
        of an identifier column would still be in a file.
    IntegrityError
        A stored artefact, plot or snapshot does not match its recorded hash.
    """
    ctx = ensure_context(ctx)
    ctx.report(0.0, "Reading the model version")
    version = training.model_version(model_ref)
    label = version.label
    spec = _spec(training, version)
    run_id = next((r.id for r in training.runs() if r.model_version == version.id), "")
    dataset = _dataset(datasets, version)
    table = datasets.read_table(dataset)
    schema = _optional(lambda: datasets.schema(dataset.dataset_name))
    profile = _optional(lambda: datasets.stored_profile(dataset.label, target=spec.target)) \
        or _optional(lambda: datasets.stored_profile(dataset.label))
    sensitive = sensitive_columns(table, spec, schema, profile)
    scrubber = Scrubber(_text_values(table, sensitive))
    ctx.check()

    files: dict[str, bytes] = {}
    entries: list[ArtefactEntry] = []
    for name, _sha in version.artefacts:
        path = f"model/{_file_name(name, 'artefact')}"
        files[path] = training.artefact(label, name)
        entries.append(ArtefactEntry(path, artefact_format(name)))
    if schema is not None:
        files["schema.json"] = formats.dumps(redact_schema(schema, sensitive))

    ctx.report(0.1, "Redacting the evidence")
    items, withheld, dropped = redact_evidence(training.evidence(label).items, sensitive)
    items = tuple(scrubber.item(i) for i in items)
    evidence = Evidence(version.id, items)
    plots = _plots(training.plots(label), items, slices_changed=bool(dropped))
    files["evidence/evidence.json"] = evidence_json(evidence, withheld)
    for name, png in plots:
        files[f"evidence/{name}"] = png

    history = rubric.history(label)
    result = history[-1] if history else None
    if result is not None:
        files["rubric/result.json"] = _rubric_json(result, scrubber, dropped)

    ctx.report(0.2, "Drawing the canary batch")
    canary: CanarySpec | None = None
    rows = draw_canary(table, spec.features, seed=(CANARY_SEED, version.seed))
    if rows.num_rows:
        rows_bytes = parquet_bytes(rows)
        predictions = _predictions(training, label, rows_bytes, ctx)
        files[CANARY_ROWS_PATH] = rows_bytes
        files[CANARY_PREDICTIONS_PATH] = predictions
        canary = CanarySpec(CANARY_ROWS_PATH, CANARY_PREDICTIONS_PATH, CANARY_TOLERANCE, rows.num_rows)
    ctx.check()

    ctx.report(0.8, "Writing the model card and the report")
    manifest = Manifest(
        package_format=PACKAGE_FORMAT_VERSION, model=version.model, version=version.number,
        model_version_id=str(version.id), task=str(spec.task), algorithm=str(version.algorithm),
        metric=version.metric, holdout=version.holdout.value, created_at=version.created_at,
        author=author, author_keyid=author_keyid, source_workspace_id=source_workspace.id,
        source_workspace_name=source_workspace.name, audit_seq=source_workspace.audit_head.seq,
        audit_hash=source_workspace.audit_head.hash,
        lineage=Lineage(version.dataset, version.dataset_version_id, version.dataset_sha256, version.spec_hash,
                        str(run_id)),
        environment=environment_pairs(version), artefacts=tuple(entries),
        rubric=rubric_summary(result) if result is not None else None, canary=canary,
    )
    digests = {e.path: _sha256(files[e.path]) for e in entries}
    card = build_card(manifest, version, spec, evidence, result, dataset_rows=dataset.row_count,
                      artefacts=card_artefacts(entries, digests), withheld=withheld)
    files["model_card.json"] = formats.dumps(card)
    files["model_card.md"] = scrubber.text(card_markdown(card)).encode("utf-8")
    files["report/model.pdf"] = _report(version, evidence, plots, spec)
    files["manifest.json"] = formats.dumps(manifest)
    _check_no_values(files, scrubber)
    ctx.report(1.0, f"Gathered {len(files)} files for {label}")
    return manifest, dict(sorted(files.items()))


# --- reading what the package needs ----------------------------------------------------------


def _spec(training: TrainingService, version: ModelVersion) -> TrainingSpec:
    try:
        return training.spec(version.spec_hash)
    except NotFound:
        raise ContentsError(
            f"{version.label}: its training spec {version.spec_hash[:12]}… is no longer in this workspace, so the "
            "package could not say what the model was trained on; train the model again and package the new version."
        ) from None


def _dataset(datasets: DatasetService, version: ModelVersion) -> DatasetVersion:
    try:
        found = datasets.version(version.dataset)
    except NotFound:
        raise ContentsError(
            f"{version.label}: its training data {version.dataset} is no longer in this workspace; the package "
            "needs it for the schema and the canary batch. Restore the dataset version or train again."
        ) from None
    if found.id != version.dataset_version_id or found.content_sha256 != version.dataset_sha256:
        raise IntegrityError(
            f"{version.label} was trained on {version.dataset} with content {version.dataset_sha256[:12]}…, but that "
            f"version now holds {found.content_sha256[:12]}…; the package refuses data other than the training data."
        )
    return found


def _optional(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (NotFound, InvalidInput):
        return None


def _file_name(name: str, what: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name) or ".." in name:
        raise ContentsError(f"The {what} name {name!r} cannot be a file name in a package.")
    return name


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def environment_pairs(version: ModelVersion) -> tuple[tuple[str, str], ...]:
    """The environment lock as ``(name, version)`` pairs sorted by name: python, platform and every package."""
    lock = version.environment
    pairs = {("python", lock.python), ("platform", lock.platform), *lock.packages}
    return tuple(sorted(pairs, key=lambda p: (p[0].lower(), p[0], p[1])))


def rubric_summary(result: RubricResult) -> RubricSummary:
    """What the manifest says of a rubric result: its score, band and which tests passed, failed, were not done."""
    return RubricSummary(
        result_id=str(result.id), score=result.score.final, band=result.score.band,
        passed=tuple(sorted(r.test_id for r in result.results if r.outcome == TestOutcome.PASS)),
        failed=tuple(sorted(r.test_id for r in result.results if r.outcome == TestOutcome.FAIL)),
        not_done=tuple(sorted(r.test_id for r in result.results if r.status == TestStatus.NOT_DONE)),
    )


# --- identifiers and personal data -------------------------------------------------------------

_SENSITIVE_REASONS = ("identifier", "personal data")


def sensitive_columns(table: pa.Table, spec: TrainingSpec, schema: Schema | None,
                      profile: Profile | None) -> frozenset[str]:
    """Columns whose values must not leave the workspace: identifiers and personal data.

    A column counts when any of these says so: the spec left it out as an identifier or as
    personal data, the schema calls it an identifier, the stored profile found it an identifier
    or personal data (unless the user said it holds none), or the profile's identifier rule
    (:func:`core.data.profiling.identifier_reason`) holds for it in the snapshot.
    """
    from core.data.models import SemanticType
    from core.data.profiling import identifier_reason

    found = {e.column for e in spec.excluded if e.reason.startswith(_SENSITIVE_REASONS)}
    if schema is not None:
        found |= {c.name for c in schema.columns if c.semantic_type == SemanticType.IDENTIFIER}
    if profile is not None:
        found |= {c.name for c in profile.columns
                  if c.identifier is not None or c.semantic_type == SemanticType.IDENTIFIER
                  or (c.pii is not None and c.name not in profile.not_pii)}
    for name in table.column_names:
        if name not in found and name != spec.target and identifier_reason(name, table.column(name)) is not None:
            found.add(name)
    return frozenset(found - {spec.target})


def _text_values(table: pa.Table, columns: Iterable[str]) -> frozenset[str]:
    """The distinct text values (at least :data:`MIN_SCRUB_LENGTH` characters) of ``columns``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out: set[str] = set()
    for name in sorted(columns):
        if name not in table.column_names:
            continue
        col = table.column(name)
        t = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            continue
        values = pc.unique(col.cast(t)).drop_null().to_pylist()
        out.update(v.strip() for v in values if isinstance(v, str) and len(v.strip()) >= MIN_SCRUB_LENGTH)
    return frozenset(out)


class Scrubber:
    """Replaces known text values of identifier and personal-data columns in texts.

    A value counts when a whole text equals it or when it is one token of the text (tokens are
    split at white space and punctuation such as ``= , ; : ( ) [ ] { } ' "``).
    """

    def __init__(self, values: frozenset[str]) -> None:
        self.values = values

    def text(self, text: str) -> str:
        """``text`` with every known value replaced by :data:`REDACTED`."""
        if not self.values:
            return text
        if text.strip() in self.values:
            return REDACTED
        parts = _SPLIT.split(text)
        if not any(p in self.values for p in parts[::2]):
            return text
        return "".join(REDACTED if i % 2 == 0 and p in self.values else p for i, p in enumerate(parts))

    def found(self, text: str) -> str | None:
        """The first known value in ``text``, or None."""
        if not self.values:
            return None
        return next((p for p in _SPLIT.split(text)[::2] if p in self.values), None)

    def builtins(self, value: Any) -> Any:
        """A JSON-ready value with every string (keys too) scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.builtins(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.builtins(v) for k, v in value.items()}
        return value

    def item(self, item: EvidenceItem) -> EvidenceItem:
        """``item`` with its texts scrubbed (the same object when nothing was found)."""
        if not self.values:
            return item
        body = formats.to_builtins(item)
        clean = self.builtins(body)
        if clean == body:
            return item
        result: EvidenceItem = formats.loads(type(item), _ENCODER.encode(clean))
        return result


def redact_schema(schema: Schema, sensitive: frozenset[str]) -> Schema:
    """The schema without the bounds and allowed values of identifier and personal-data columns."""
    columns = tuple(dataclasses.replace(c, minimum=None, maximum=None, allowed_values=None)
                    if c.name in sensitive else c for c in schema.columns)
    return dataclasses.replace(schema, columns=columns)


def redact_evidence(items: Sequence[EvidenceItem], sensitive: frozenset[str]) -> tuple[
        tuple[EvidenceItem, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The evidence items a package may carry, what was withheld, and the removed slices.

    - the explanation of one holdout row is withheld (its values and contributions are a real record);
    - slices of identifier or personal-data columns are removed (their levels are data values), with
      the ``skipped`` notes about them;
    - fairness attributes that are such columns are removed (their group labels are data values);
    - every other item is kept as stored (aggregates, column names and method texts only).

    Returns
    -------
    tuple
        ``(items, withheld, removed)``: the items in kind order, one sentence per thing withheld,
        and the ``(column, level)`` of each removed slice.
    """
    kept: list[EvidenceItem] = []
    withheld: list[str] = []
    removed: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Explanation):
            withheld.append(_EXPLANATION_WITHHELD)
            continue
        if isinstance(item, SliceReport):
            gone = [s for s in item.slices if s.column in sensitive]
            skipped = tuple(s for s in item.skipped if not any(s.startswith(f"{c}=") for c in sensitive))
            if gone or len(skipped) != len(item.skipped):
                columns = sorted({s.column for s in gone} | {c for c in sensitive for s in item.skipped
                                                             if s.startswith(f"{c}=")})
                withheld.append(f"the slices of identifier or personal-data column(s) {', '.join(columns)} "
                                "(their levels are data values)")
                removed += [(s.column, s.level) for s in gone]
                item = dataclasses.replace(item, slices=tuple(s for s in item.slices if s.column not in sensitive),
                                           skipped=skipped)
        elif isinstance(item, Inclusion):
            gone_attrs = [a.attribute for a in item.attributes if a.attribute in sensitive]
            if gone_attrs:
                withheld.append(f"the fairness groups of identifier or personal-data column(s) "
                                f"{', '.join(sorted(gone_attrs))} (their group labels are data values)")
                attributes = tuple(a for a in item.attributes if a.attribute not in sensitive)
                if not attributes:
                    continue
                item = dataclasses.replace(item, attributes=attributes)
        kept.append(item)
    order = list(EvidenceKind)
    kept.sort(key=lambda i: order.index(i.kind))
    return tuple(kept), tuple(withheld), tuple(removed)


def _plots(stored: Sequence[tuple[str, bytes]], items: Sequence[EvidenceItem], *,
           slices_changed: bool) -> list[tuple[str, bytes]]:
    """The plots as stored, by name; the slice plot redrawn from the redacted slices when some were removed."""
    out: list[tuple[str, bytes]] = []
    for name, png in sorted(stored):
        if not _PLOT_NAME.match(name):
            raise ContentsError(f"The plot name {name!r} cannot be a file name in a package.")
        if name == "slices.png" and slices_changed:
            from core.training.plots import slices_png

            report = next((i for i in items if isinstance(i, SliceReport)), None)
            if report is None or not report.slices:
                continue
            png = slices_png(report)
        out.append((name, bytes(png)))
    return out


def evidence_json(evidence: Evidence, withheld: Sequence[str] = ()) -> bytes:
    """``evidence/evidence.json``: every item as its registered record, and what was withheld (canonical JSON)."""
    return _ENCODER.encode({
        "format": EVIDENCE_FORMAT, "format_version": EVIDENCE_FORMAT_VERSION,
        "model_version_id": str(evidence.version_id),
        "items": [formats.to_builtins(i) for i in evidence.items], "withheld": list(withheld),
    })


def read_evidence(data: bytes, *, source: str = "evidence/evidence.json") -> tuple[EvidenceItem, ...]:
    """The evidence items of a package's ``evidence/evidence.json`` (each read strictly by its kind).

    Raises
    ------
    MalformedRecord, UnknownFormat
        Not such a file, an item of an unknown kind, or an item that does not fit its layout.
    """
    from core.errors import MalformedRecord, UnknownFormat

    try:
        body = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise MalformedRecord(f"{source}: not valid JSON ({exc}).") from None
    if not isinstance(body, dict) or body.get("format") != EVIDENCE_FORMAT:
        raise MalformedRecord(f"{source}: not a package's evidence file ({EVIDENCE_FORMAT!r}).")
    found = body.get("format_version")
    if found != EVIDENCE_FORMAT_VERSION or isinstance(found, bool):
        raise UnknownFormat(f"{source}: evidence format {found!r}; this Airlock reads format "
                            f"{EVIDENCE_FORMAT_VERSION}: build the package again with this Airlock.",
                            kind=EVIDENCE_FORMAT, found=found if isinstance(found, int) else 0,
                            readable=(EVIDENCE_FORMAT_VERSION,))
    raw = body.get("items")
    if not isinstance(raw, list):
        raise MalformedRecord(f"{source}: `items` must be a list.")
    out: list[EvidenceItem] = []
    for n, entry in enumerate(raw):
        kind = entry.get("format") if isinstance(entry, dict) else None
        if not isinstance(kind, str) or not kind.startswith("airlock.evidence."):
            raise MalformedRecord(f"{source}: item {n} is not an evidence record.")
        try:
            out.append(formats.loads(kind, _ENCODER.encode(entry), source=f"{source} item {n}"))
        except KeyError:
            raise MalformedRecord(f"{source}: item {n} is of unknown kind {kind!r}.") from None
    return tuple(out)


def _rubric_json(result: RubricResult, scrubber: Scrubber, removed: Sequence[tuple[str, str]]) -> bytes:
    """The rubric result as stored, with removed slices and known values replaced in its texts."""
    marks = sorted({f"{c}={level}" for c, level in removed}, key=len, reverse=True)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for mark in marks:
                value = value.replace(mark, f"{mark.partition('=')[0]}={REDACTED}")
            return scrubber.text(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return _ENCODER.encode(clean(formats.to_builtins(result)))


def _check_no_values(files: Mapping[str, bytes], scrubber: Scrubber) -> None:
    """Refuse the package if a text file still holds a known identifier or personal value."""
    for path, data in files.items():
        if not path.endswith((".json", ".md")):
            continue
        hit = scrubber.found(data.decode("utf-8", "replace"))
        if hit is not None:
            raise ContentsError(f"{path} would carry a value of an identifier or personal-data column; "
                                "the package was not built. Report this: the evidence redaction missed it.")


# --- the canary batch --------------------------------------------------------------------------


def draw_canary(table: pa.Table, features: Sequence[str], *, seed: int | Sequence[int],
                rows: int = CANARY_ROWS) -> pa.Table:
    """Up to ``rows`` canary rows: each feature column drawn independently from ``table`` (fixed seed).

    Each column takes its own random sample of the table's rows, so a canary row is a mix of
    values from different records; a canary row that still equals some row of ``table`` on
    ``features`` is drawn again (:data:`CANARY_REDRAWS` rounds) and then dropped. Dictionary
    columns keep only the levels drawn.
    """
    import numpy as np
    import pyarrow as pa

    names = [f for f in features if f in table.column_names]
    missing = [f for f in features if f not in table.column_names]
    if missing:
        raise ContentsError(f"The training data lacks the feature column(s) {', '.join(missing)}; "
                            "the canary batch cannot be drawn.")
    source = table.select(names)
    total = source.num_rows
    n = min(rows, total)
    if not names or n == 0:
        return pa.table({name: pa.array([], type=source.schema.field(name).type) for name in names})
    rng = np.random.default_rng(list(seed) if not isinstance(seed, int) else seed)
    index = np.stack([rng.choice(total, size=n, replace=False) for _ in names], axis=1)
    real = np.unique(_row_hashes(source))
    keep = np.ones(n, dtype=bool)
    for round_ in range(CANARY_REDRAWS + 1):
        clash = np.flatnonzero(np.isin(_row_hashes(_take(source, index)), real))
        if not clash.size:
            break
        if round_ == CANARY_REDRAWS:
            keep[clash] = False
            break
        index[clash] = rng.integers(0, total, size=(clash.size, len(names)))
    return _take(source, index[keep])


def _take(source: pa.Table, index: Any) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = {}
    for j, name in enumerate(source.column_names):
        col = source.column(name).take(pa.array(index[:, j], type=pa.int64())).combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = pc.dictionary_encode(col.cast(col.type.value_type))
        columns[name] = col
    fields = [pa.field(name, columns[name].type, source.schema.field(name).nullable) for name in source.column_names]
    return pa.Table.from_arrays([columns[f.name] for f in fields], schema=pa.schema(fields))


def _row_hashes(table: pa.Table) -> Any:
    """One 64-bit hash per row over its values (equal rows hash equal; NaN and missing hash alike)."""
    import pandas as pd
    import pyarrow as pa

    plain = pa.Table.from_arrays(
        [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns],
        names=table.column_names)
    return pd.util.hash_pandas_object(plain.to_pandas(), index=False).to_numpy()


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as Parquet with fixed settings (the same table always gives the same bytes)."""
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(None), buffer, compression="zstd", compression_level=3,
                   use_dictionary=True, write_statistics=True, version="2.6")
    return buffer.getvalue()


def _predictions(training: TrainingService, label: str, rows_parquet: bytes, ctx: TaskContext) -> bytes:
    """The development pipeline's predictions for the canary rows (in its child process), as JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import rfc8785

    rows = pq.ParquetFile(pa.BufferReader(rows_parquet)).read()
    predictions = training.predict(label, rows, ctx=ctx.sub(0.2, 0.8))
    if len(predictions) != rows.num_rows:
        raise ContentsError(f"{label} gave {len(predictions)} predictions for {rows.num_rows} canary rows.")
    try:
        return formats.canonical_json(list(predictions))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ContentsError(f"{label}'s predictions for the canary rows cannot be written as JSON ({exc}): "
                            "a prediction is not finite or not a plain value.") from None


# --- the report ----------------------------------------------------------------------------------


def _report(version: ModelVersion, evidence: Evidence, plots: Sequence[tuple[str, bytes]],
            spec: TrainingSpec) -> bytes:
    """The model report as an invariant PDF, dated with the version's training time (no build time)."""
    from core.training.report_pdf import render_pdf

    moment = datetime.fromisoformat(version.created_at)
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return render_pdf(version, evidence, plots, spec=spec, generated_at=moment)


__all__ = [
    "CANARY_PREDICTIONS_PATH", "CANARY_ROWS", "CANARY_ROWS_PATH", "CANARY_SEED", "CANARY_TOLERANCE",
    "EVIDENCE_FORMAT", "EVIDENCE_FORMAT_VERSION", "REDACTED", "ContentsError", "Scrubber", "draw_canary",
    "environment_pairs", "evidence_json", "gather_contents", "parquet_bytes", "read_evidence", "redact_evidence",
    "redact_schema", "rubric_summary", "sensitive_columns",
]
