"""The dataset service: what ``engine.datasets`` offers the desktop and the command line.

An import checks the source, stages its Parquet snapshot in the encrypted blob store in
short write transactions, then records the dataset version with its lineage, the blob's
reference and an audit event in one short transaction. A cancelled or failed import
leaves nothing behind (a crash leaves a staged blob that the next writable open sweeps). The
snapshot's SHA-256 is the version's identity: importing the same content again returns
the existing version. Profiles and schemas are JSON kept beside the version.
"""

from __future__ import annotations

import builtins
import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from core import outcome, runtime
from core.data import excel, external_sql, importing, parquet_source, snapshot
from core.data.models import (
    CsvOptions,
    Dataset,
    DatasetVersion,
    DriftReport,
    ImportResult,
    Lineage,
    Profile,
    Schema,
    SourceKind,
    ValidationReport,
)
from core.data.preview import default_name
from core.errors import AirlockError, IntegrityError, InvalidInput, NotFound
from core.identity.models import ANALYST
from core.identity.service import require_member, require_role
from core.outcome import Change, Outcome, mutation, query
from core.store import blobs, data_repo, exports
from core.store.db import Store, Transaction, utc_now
from core.tasks import TaskContext, ensure_context, long_work

if TYPE_CHECKING:
    from core.data.preview import Preview


#: The name of the area in ``Outcome.changes``.
_CHANGES = outcome.changes(Change.DATASETS)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_EXCEL = (".xlsx", ".xlsm")
_PARQUET = (".parquet", ".pq")
#: Blob chunks (1 MiB each) a profile keeps decrypted: a row group's column chunks span several.
PROFILE_CACHE_CHUNKS = 16
#: Chunks (1 MiB each) fetched ahead of the profile's scan: about one row group of a wide table.
PROFILE_READ_AHEAD_CHUNKS = 8


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(f"Dataset name {name!r}: use letters, digits and . _ - (1–100, not starting with . _ -).")
    return name


def split_ref(ref: str) -> tuple[str, int | None]:
    """``name`` or ``name@3`` → (name, version number or None for the latest)."""
    name, _, number = ref.partition("@")
    if not number:
        return name, None
    if not number.isdigit():
        raise InvalidInput(f"{ref!r}: a version is written name@NUMBER, e.g. sales@2.")
    return name, int(number)


class DatasetService:
    """Datasets: import, versions, profiles, schemas and drift."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    # --- import ----------------------------------------------------------------------------

    @mutation
    def import_file(
        self, path: Path | str, *, name: str | None = None, csv: CsvOptions | None = None,
        sheet: str | None = None, ctx: TaskContext | None = None,
    ) -> Outcome[ImportResult]:
        """Import a CSV/TSV, Parquet or Excel file as a new version of dataset ``name``.

        Parameters
        ----------
        path
            The file. ``.parquet``/``.pq`` is Parquet, ``.xlsx``/``.xlsm`` Excel, anything
            else delimited text.
        name
            The dataset; defaults to the file name without its extension.
        csv
            Delimiter, encoding and header for text files; unset fields are sniffed.
        sheet
            The Excel sheet; the first one by default.
        ctx
            Progress and cancellation.

        Returns
        -------
        Outcome[ImportResult]
            The version, and whether it is new (False: the same content was already there).

        Raises
        ------
        InvalidInput
            The file cannot be read as a table; the message names the line and column.
        PermissionDenied
            The acting user is not an analyst.
        Cancelled
            Cancelled through ``ctx``; nothing was stored.
        """
        ctx = ensure_context(ctx)
        path = Path(path).expanduser()
        name = _check_name(name or default_name(path))
        self._check_role()
        suffix = path.suffix.lower()
        if suffix in _PARQUET:
            schema, rows, parquet_batches, warnings = parquet_source.open_parquet(path)
            lineage = self._lineage("parquet", str(path.absolute()), None, importing.file_sha256(path))
            return self._store_snapshot(name, schema, parquet_batches(), rows, lineage, warnings, ctx.sub(0.0, 1.0))
        decimal = "."
        if suffix in _EXCEL:
            source = excel.scan_excel(path, sheet, csv.has_header if csv else None, ctx.sub(0.0, 0.2))
        else:
            dialect = importing.sniff(path, csv or CsvOptions())
            decimal = dialect.decimal
            source = importing.scan_csv(path, dialect, ctx.sub(0.0, 0.3))
        if source.inferred is not None:
            types, warnings = source.inferred
        else:
            types, warnings = snapshot.infer_types(source.names, source.batches(), source.rows, ctx.sub(0.3, 0.6),
                                                   decimal=decimal)
        warnings = [*source.notes, *warnings]
        schema = pa.schema(list(types.items()))
        lineage = self._lineage(source.kind, str(path.absolute()), None, source.sha256)
        # A CSV converts numbers while parsing; cast_batches converts the rest (a no-op for those).
        raw = source.batches(types) if source.kind == "csv" else source.batches()
        batches = snapshot.cast_batches(raw, types, decimal=decimal)
        return self._store_snapshot(name, schema, batches, source.rows, lineage, warnings, ctx.sub(0.6, 1.0))

    @mutation
    def import_sql(
        self, url: str, query: str, *, name: str, password: str | None = None, ctx: TaskContext | None = None,
    ) -> Outcome[ImportResult]:
        """Import the result of ``query`` on the database at ``url`` as a new version.

        The password (given separately, or inside ``url``) is used to connect and is never
        stored: the lineage keeps the URL without it.

        Raises
        ------
        InvalidInput
            Bad URL, connection refused, failing query, or a column whose type changes.
        """
        ctx = ensure_context(ctx)
        name = _check_name(name)
        if not query.strip():
            raise InvalidInput("Give the SQL query to import.")
        self._check_role()
        names, batches = external_sql.query_batches(url, query, password=password)
        importing.check_names(names, "the query result")
        first = next(batches, None)
        if first is None:
            batches.close()
            raise InvalidInput("The query returned no rows; nothing to import.")

        def chained() -> Iterator[pa.RecordBatch]:
            yield first
            yield from batches

        lineage = self._lineage("sql", external_sql.redact(url), query, None)
        return self._store_snapshot(name, first.schema, chained(), None, lineage, [], ctx)

    def _check_role(self) -> None:
        with self._store.read(self._actor) as tx:
            require_role(tx, ANALYST, "import data")

    def _lineage(self, kind: SourceKind | str, source: str, query: str | None, sha: str | None) -> Lineage:
        return Lineage(SourceKind(kind), source, query, sha, self._actor, utc_now())

    def _store_snapshot(
        self, name: str, schema: pa.Schema, batches: object, rows: int | None, lineage: Lineage,
        warnings: list[str], ctx: TaskContext,
    ) -> Outcome[ImportResult]:
        # The snapshot is staged in short write transactions while it is encoded, encrypted
        # and streamed (other writers go on meanwhile); the version, its lineage, the blob's
        # reference and the audit event are committed together in one short transaction at
        # the end. Leaving the block deletes a staged snapshot that nothing references
        # (cancelled, failed, or a duplicate of stored content).
        with blobs.stage(self._store, self._actor) as staged:
            stream = snapshot.ParquetStream(schema, batches, total_rows=rows, ctx=ctx)  # type: ignore[arg-type]
            try:
                staged.write(stream, ctx=ctx)
            finally:
                stream.close()
            if rows is not None and stream.rows != rows:
                raise InvalidInput(
                    f"{lineage.source}: the checked file has {rows:,} data rows but {stream.rows:,} were read; "
                    "its quoting is ambiguous. Check quotes inside values."
                )
            with self._store.write(self._actor) as tx:
                require_role(tx, ANALYST, "import data")
                dataset_id, _ = data_repo.ensure_dataset(tx, name)
                existing = data_repo.version_by_content(tx, dataset_id, name, staged.sha256)
                if existing is not None:
                    return Outcome(ImportResult(existing, new=False), frozenset())
                blob = staged.commit(tx)
                columns = [(f.name, str(f.type)) for f in schema]
                version = data_repo.add_version(  # references the blob
                    tx, dataset_id, name, sha256=blob.sha256, size=blob.size, rows=stream.rows,
                    columns=columns, lineage=lineage, warnings=warnings,
                )
                tx.audit("dataset.imported", f"dataset:{version.label}", {
                    "content_sha256": blob.sha256, "rows": stream.rows, "columns": len(columns),
                    "source_kind": lineage.source_kind, "source": lineage.source, "query": lineage.query,
                    "source_sha256": lineage.source_sha256,
                })
        ctx.report(1.0, "Imported")
        return Outcome(ImportResult(version, new=True), _CHANGES)

    # --- reading ---------------------------------------------------------------------------

    @query
    def preview_file(
        self, path: Path | str, options: CsvOptions | None = None, sheet: str | None = None, limit: int = 20,
    ) -> Preview:
        """The first ``limit`` rows of a file as an import would read them; reads nothing else.

        For delimited text the preview uses the importer's own sniffer, and says in
        ``settings`` which delimiter, header and encoding were chosen, so the user can
        correct them before importing. Nothing is stored and nothing is audited.

        Raises
        ------
        InvalidInput
            The file cannot be read or is not the kind its name says.
        """
        from core.data.preview import preview_file

        return preview_file(Path(path), options or CsvOptions(), sheet, limit)

    @query
    def list(self) -> list[Dataset]:
        """All datasets, by name, each with its latest version."""
        with self._store.read(self._actor) as tx:
            return data_repo.list_datasets(tx)

    @query
    def versions(self, name: str) -> builtins.list[DatasetVersion]:
        """Every version of dataset ``name``, oldest first."""
        with self._store.read(self._actor) as tx:
            ds = self._dataset(tx, name)
            return data_repo.versions(tx, ds.id, ds.name)

    @query
    def version(self, ref: str) -> DatasetVersion:
        """The version ``name@N``, or the latest of ``name``.

        Raises
        ------
        NotFound
            No such dataset or version.
        """
        name, number = split_ref(ref)
        with self._store.read(self._actor) as tx:
            return self._version(tx, name, number)

    @query
    def read_table(self, ref: str | DatasetVersion, columns: builtins.list[str] | None = None) -> pa.Table:
        """The snapshot's data (decrypted in memory only), optionally some columns."""
        version = ref if isinstance(ref, DatasetVersion) else self.version(ref)
        return snapshot.read_snapshot(self._snapshot_bytes(version), columns)

    def _snapshot_bytes(self, version: DatasetVersion) -> bytearray:
        """The version's Parquet snapshot, decrypted into memory (its hash checked: :func:`blobs.read_bytes`)."""
        with self._store.read(self._actor) as tx:
            try:
                return blobs.read_bytes(tx, version.content_sha256)
            except IntegrityError as exc:
                raise IntegrityError(f"The snapshot of {version.label}: {exc}") from None

    def _dataset(self, tx: Transaction, name: str) -> Dataset:
        ds = data_repo.dataset_by_name(tx, name)
        if ds is None:
            raise NotFound(f"No dataset {name!r} in this workspace.")
        return ds

    def _version(self, tx: Transaction, name: str, number: int | None) -> DatasetVersion:
        ds = self._dataset(tx, name)
        v = data_repo.version(tx, ds.id, ds.name, number)
        if v is None:
            raise NotFound(f"Dataset {name!r} has no version {number}." if number else f"Dataset {name!r} has no versions.")
        return v

    # --- profile ---------------------------------------------------------------------------

    @query
    def stored_profile(self, ref: str, *, target: str | None = None) -> Profile | None:
        """The profile kept with a version for ``target``, or None when none was saved."""
        version = self._checked_version(ref, target)
        with self._store.read(self._actor) as tx:
            return data_repo.load_profile(tx, version.id, target, version.label)

    @query
    def profile_targets(self, ref: str) -> builtins.list[str | None]:
        """The targets a version has kept profiles for: None (no target) first when kept, then by name.

        Parameters
        ----------
        ref
            ``name`` or ``name@N``.
        """
        version = self.version(ref)
        with self._store.read(self._actor) as tx:
            return data_repo.profile_targets(tx, version.id)

    @query
    def profile(self, ref: str, *, target: str | None = None, refresh: bool = False,
                not_pii: tuple[str, ...] | None = None, ctx: TaskContext | None = None) -> Profile:
        """The profile of a version: the kept one, or computed now (and not kept).

        A query: it never writes, so it works on a read-only workspace and for any member.
        Keep a computed profile with :meth:`save_profile`.

        Parameters
        ----------
        ref
            ``name`` or ``name@N``.
        target
            A column to measure every other column's association with (leakage check).
        refresh
            Compute again even when a kept profile exists.
        not_pii
            Columns the user says hold no personal data: their most frequent values are shown
            although they look like names or free text. None keeps the kept profile's choice;
            a different choice computes the profile again.
        ctx
            Progress and cancellation.
        """
        from core.data import profiling

        version = self._checked_version(ref, target)
        if not refresh:
            with self._store.read(self._actor) as tx:
                kept = data_repo.load_profile(tx, version.id, target, version.label)
            if kept is not None and (not_pii is None or tuple(sorted(kept.not_pii)) == tuple(sorted(not_pii))):
                return kept
        with self._store.read(self._actor) as tx:
            # Row group by row group from the encrypted store: the snapshot is never whole in memory.
            # A helper thread decrypts and hashes the chunks ahead while a row group is decoded.
            reader = blobs.open_reader(tx, version.content_sha256, cache_chunks=PROFILE_CACHE_CHUNKS,
                                       read_ahead=PROFILE_READ_AHEAD_CHUNKS)
            with reader, _snapshot_checked(version, reader.verify):
                result = profiling.profile_parquet(reader, version_id=version.id, target=target, ctx=ctx,
                                                   not_pii=tuple(not_pii or ()))
                reader.verify()
        return result

    @mutation
    def save_profile(self, profile: Profile) -> Outcome[Profile]:
        """Keep ``profile`` with its version (replacing an earlier one for the same target). Audited.

        Raises
        ------
        PermissionDenied
            The acting user is not an analyst.
        NotFound
            The version no longer exists.
        """
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "profile data")
            version = data_repo.version_by_id(tx, profile.version_id)
            if version is None:
                raise NotFound("The profiled dataset version is not in this workspace.")
            data_repo.save_profile(tx, profile)
            tx.audit("dataset.profiled", f"dataset:{version.label}", {"target": profile.target})
        return Outcome(profile, _CHANGES)

    @query
    def profile_report(self, ref: str, *, format: str = "pdf", target: str | None = None,
                       ctx: TaskContext | None = None) -> bytes:
        """The profile of a version as a self-contained report a reviewer can read offline.

        A query: it returns the bytes and writes nothing. Writing them to a file is
        :meth:`export_profile_report`, which is audited.

        Parameters
        ----------
        ref
            ``name`` or ``name@N``.
        format
            ``pdf`` (sections with bookmarks: overview, alerts, columns, distributions,
            correlations, target associations) or ``html`` (one page, inline charts).
        target
            As in :meth:`profile`; the kept profile is reused when there is one.
        ctx
            Progress and cancellation (profiling takes 0–90%, the report the rest).

        Returns
        -------
        bytes
            The PDF, or the HTML page encoded as UTF-8.
        """
        _check_report_format(format)
        ctx = ensure_context(ctx)
        prof = self.profile(ref, target=target, ctx=ctx.sub(0.0, 0.9))
        title = f"Profile of {self.version(ref).label}"
        ctx.check()
        ctx.report(0.9, "Drawing the report")
        data = self._render(prof, format, title)
        ctx.report(1.0, "Report ready")
        return data

    @mutation
    def export_profile_report(self, ref: str, dest: Path | str, *, format: str = "pdf",
                              target: str | None = None, not_pii: tuple[str, ...] | None = None,
                              ctx: TaskContext | None = None) -> Outcome[Path]:
        """Write the profile report to ``dest`` (owner-only). Audited: values leave the workspace.

        Refused before any work on a read-only workspace, for a missing or unwritable folder,
        or for a user who is not a member. The profile is kept when it had to be computed
        (``not_pii`` as in :meth:`profile`: a different choice computes it again).

        Raises
        ------
        ReadOnlyWorkspace
            The workspace is open read-only.
        InvalidInput
            Unknown format, or the destination cannot be written.
        """
        _check_report_format(format)
        out = exports.check_destination(self._store, dest, "export the profile report")
        with self._store.read(self._actor) as tx:
            require_member(tx, "export a profile report")
        ctx = ensure_context(ctx)
        version = self._checked_version(ref, target)
        kept = self.stored_profile(ref, target=target)
        if kept is not None and not_pii is not None and sorted(kept.not_pii) != sorted(not_pii):
            kept = None
        prof = kept or self.profile(ref, target=target, refresh=True, not_pii=not_pii, ctx=ctx.sub(0.0, 0.9))
        ctx.check()
        ctx.report(0.9, "Drawing the report")
        payload = self._render(prof, format, f"Profile of {version.label}")
        with self._store.write(self._actor) as tx:
            if kept is None:
                require_role(tx, ANALYST, "profile data")
                data_repo.save_profile(tx, prof)
                tx.audit("dataset.profiled", f"dataset:{version.label}", {"target": target})
            exports.write_export(tx, out, payload)
            tx.audit("dataset.report_exported", f"dataset:{version.label}",
                     {"format": format, "target": target, "file": out.name})
        ctx.report(1.0, "Report written")
        return Outcome(out, _CHANGES)

    def _render(self, prof: Profile, format: str, title: str) -> bytes:
        from core.data.report import ReportInfo

        with self._store.read(self._actor) as tx:  # the report names the version and its source
            version = data_repo.version_by_id(tx, prof.version_id)
        info = ReportInfo(title, version.label if version else None, version.lineage.source if version else None)
        if format == "pdf":
            from core.data.report_pdf import render_pdf

            return render_pdf(prof, info)
        from core.data.report import render_html

        return render_html(prof, info).encode("utf-8")

    def _checked_version(self, ref: str, target: str | None) -> DatasetVersion:
        version = self.version(ref)
        if target is not None and target not in {c.name for c in version.columns}:
            raise InvalidInput(f"{version.label} has no column {target!r}.")
        return version

    # --- schema & drift (see schema.py / drift.py) ----------------------------------------

    @mutation
    def infer_schema(self, ref: str) -> Outcome[Schema]:
        """Infer the expected schema from a version's profile and keep it as a new revision.

        Types, missing shares and ranges come from the profile; the levels of few-valued
        columns (allowed values) are read from the snapshot, since a profile keeps only the
        top values. The rules are in :func:`core.data.schema.infer`.
        """
        from core.data import schema as schema_mod

        version = self.version(ref)
        prof = self.profile(ref)
        # Decrypted once, when a column needs its levels; only those are decoded, one at a time.
        columns = snapshot.SnapshotColumns(self._snapshot_bytes(version)) if schema_mod.reads_levels(prof) else None
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "set a dataset schema")
            revision = data_repo.next_schema_revision(tx, version.dataset_id)
            result = schema_mod.infer(prof, version.dataset_name, revision, version.label, columns)
            data_repo.save_schema(tx, version.dataset_id, revision, result)
            tx.audit("dataset.schema_inferred", f"dataset:{version.dataset_name}",
                     {"revision": revision, "from": version.label})
        return Outcome(result, _CHANGES)

    @query
    def schema(self, name: str) -> Schema:
        """The latest schema revision of dataset ``name``.

        Raises
        ------
        NotFound
            No schema was inferred or set yet.
        """
        with self._store.read(self._actor) as tx:
            ds = self._dataset(tx, name)
            found = data_repo.latest_schema(tx, ds.id, f"dataset {name!r}")
        if found is None:
            raise NotFound(f"Dataset {name!r} has no schema yet; infer one first.")
        return found

    @mutation
    def edit_schema(self, name: str, column: str, **changes: object) -> Outcome[Schema]:
        """Change one column's expectations; saved as a new, audited revision.

        ``changes`` are fields of :class:`~core.data.models.ColumnSchema` (``required``,
        ``max_missing_fraction``, ``minimum``, ``maximum``, ``allowed_values``, ``unique``, ``type``).
        """
        from core.data import schema as schema_mod

        current = self.schema(name)
        with self._store.write(self._actor) as tx:
            require_role(tx, ANALYST, "edit a dataset schema")
            ds = self._dataset(tx, name)
            revision = data_repo.next_schema_revision(tx, ds.id)
            edited, before = schema_mod.edit(current, column, revision, changes)
            data_repo.save_schema(tx, ds.id, revision, edited)
            tx.audit("dataset.schema_edited", f"dataset:{name}", {
                "revision": revision, "column": column, "before": before,
                "after": {k: (list(v) if isinstance(v, tuple) else v) for k, v in changes.items()},
            })
        return Outcome(edited, _CHANGES)

    @query
    def validate(self, name: str, ref: str) -> ValidationReport:
        """Check version ``ref`` against dataset ``name``'s latest schema."""
        from core.data import schema as schema_mod

        expected = self.schema(name)
        version = self.version(ref)
        # Decrypted once; each column decoded only while it is checked.
        columns = snapshot.SnapshotColumns(self._snapshot_bytes(version))
        return schema_mod.validate(expected, columns, version.label)

    @query
    def drift(self, reference: str, current: str, *, ctx: TaskContext | None = None, **options: object) -> DriftReport:
        """Compare the distributions of two versions, column by column (``ctx``: progress and cancel).

        ``options`` go to :func:`core.data.drift.compare` (``correction``, ``alpha``,
        ``psi_moderate``, ``psi_major``, ``missing_moderate``, ``missing_major``, ``columns``).
        Columns the reference's kept profile calls identifiers are skipped, like those found
        so by content.
        """
        from concurrent.futures import ThreadPoolExecutor

        from core.data import drift as drift_mod
        from core.data.models import SemanticType

        ref_v, cur_v = self.version(reference), self.version(current)
        try:
            kept = self.stored_profile(reference)
        except AirlockError:  # a kept profile this Airlock cannot read: identifiers by content only
            kept = None
        identifiers = {c.name for c in kept.columns if c.semantic_type == SemanticType.IDENTIFIER} if kept else set()

        # Both snapshots are decrypted at once (one core each); each column is then decoded
        # only while it is compared, so memory holds the compressed snapshots and a few columns.
        # (Loading scipy beside the decryption was tried: the import holds the GIL that the
        # decrypting threads need between chunks, and it cost more than it saved.)
        with ThreadPoolExecutor(max_workers=min(2, runtime.cpu_workers())) as pool:
            ref_b, cur_b = pool.map(self._snapshot_bytes, (ref_v, cur_v))
        # Text columns come as their dictionary codes: drift only counts them.
        ref_t, cur_t = (snapshot.SnapshotColumns(b, text_as_codes=True) for b in (ref_b, cur_b))
        del ref_b, cur_b
        with long_work():
            return drift_mod.compare(ref_t, cur_t, ref_v.label, cur_v.label,
                                     identifiers=identifiers, ctx=ctx, **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def _snapshot_checked(version: DatasetVersion, verify: Callable[[], None]) -> Iterator[None]:
    """Turn a snapshot that cannot be decoded into the :class:`IntegrityError` it stands for.

    Snapshots were written by the import and are checked by their SHA-256: bytes that
    Parquet or LZ4 cannot decode were altered, which ``verify`` (the blob's hash check) then
    proves; the error names the dataset version. Should the hash match, the decoding error is
    a bug and is raised as it is.
    """
    try:
        yield
    except IntegrityError as altered:
        raise IntegrityError(f"The snapshot of {version.label}: {altered}") from None
    except AirlockError:
        raise
    except Exception as exc:  # whatever garbage bytes make a decoder raise
        try:
            verify()
        except IntegrityError as altered:
            raise IntegrityError(f"The snapshot of {version.label}: {altered}") from exc
        raise


def _check_report_format(format: str) -> None:
    if format not in ("pdf", "html"):
        raise InvalidInput(f"A profile report is 'pdf' or 'html', not {format!r}.")
