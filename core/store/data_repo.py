"""Repository of the discovery area: rows in, :mod:`core.data.models` values out.

Each function takes a :class:`~core.store.db.Transaction`; the dataset service decides the
transaction's extent and writes the audit event in the same one.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import func, select

from core import formats
from core.data.models import ColumnInfo, Dataset, DatasetId, DatasetVersion, Lineage, Profile, Schema, SourceKind, VersionId
from core.store import blobs
from core.store.data_rows import DatasetProfileRow, DatasetRow, DatasetSchemaRow, DatasetVersionRow
from core.store.db import Transaction, orm, utc_now

#: The owner kind of a version's snapshot in ``blob_ref`` (migration 0004 backfills it).
VERSION_OWNER = "dataset_version"


def _version(row: DatasetVersionRow, name: str) -> DatasetVersion:
    return DatasetVersion(
        id=VersionId(row.id), dataset_id=DatasetId(row.dataset_id), dataset_name=name, number=row.number,
        content_sha256=row.content_sha256, size_bytes=row.size_bytes, row_count=row.row_count,
        columns=tuple(ColumnInfo(n, t) for n, t in json.loads(row.columns)),
        lineage=Lineage(SourceKind(row.source_kind), row.source, row.query, row.source_sha256, row.imported_by, row.imported_at),
        warnings=tuple(json.loads(row.warnings)),
    )


def _dataset(tx: Transaction, row: DatasetRow) -> Dataset:
    count = orm(tx).scalar(select(func.count()).where(DatasetVersionRow.dataset_id == row.id)) or 0
    latest = orm(tx).scalars(
        select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == row.id).order_by(DatasetVersionRow.number.desc())
    ).first()
    return Dataset(
        DatasetId(row.id), row.name, row.created_at, row.created_by, int(count),
        _version(latest, row.name) if latest else None,
    )


def dataset_by_name(tx: Transaction, name: str) -> Dataset | None:
    row = orm(tx).scalars(select(DatasetRow).where(DatasetRow.name == name)).first()
    return _dataset(tx, row) if row else None


def ensure_dataset(tx: Transaction, name: str) -> tuple[DatasetId, bool]:
    """The dataset's id, creating it when new; the flag says whether it was created."""
    row = orm(tx).scalars(select(DatasetRow).where(DatasetRow.name == name)).first()
    if row is not None:
        return DatasetId(row.id), False
    row = DatasetRow(id=str(uuid.uuid4()), name=name, created_at=utc_now(), created_by=tx.actor)
    orm(tx).add(row)
    orm(tx).flush()
    return DatasetId(row.id), True


def list_datasets(tx: Transaction) -> list[Dataset]:
    return [_dataset(tx, r) for r in orm(tx).scalars(select(DatasetRow).order_by(DatasetRow.name))]


def versions(tx: Transaction, dataset_id: str, name: str) -> list[DatasetVersion]:
    rows = orm(tx).scalars(
        select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset_id).order_by(DatasetVersionRow.number)
    )
    return [_version(r, name) for r in rows]


def version_by_id(tx: Transaction, version_id: str) -> DatasetVersion | None:
    """A version by its id, or None."""
    row = orm(tx).get(DatasetVersionRow, version_id)
    if row is None:
        return None
    ds = orm(tx).get(DatasetRow, row.dataset_id)
    return _version(row, ds.name if ds else "?")


def version_by_content(tx: Transaction, dataset_id: str, name: str, sha256: str) -> DatasetVersion | None:
    row = orm(tx).scalars(
        select(DatasetVersionRow).where(
            DatasetVersionRow.dataset_id == dataset_id, DatasetVersionRow.content_sha256 == sha256
        )
    ).first()
    return _version(row, name) if row else None


def version(tx: Transaction, dataset_id: str, name: str, number: int | None) -> DatasetVersion | None:
    query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset_id)
    if number is None:
        query = query.order_by(DatasetVersionRow.number.desc())
    else:
        query = query.where(DatasetVersionRow.number == number)
    row = orm(tx).scalars(query).first()
    return _version(row, name) if row else None


def add_version(
    tx: Transaction, dataset_id: str, name: str, *, sha256: str, size: int, rows: int,
    columns: list[tuple[str, str]], lineage: Lineage, warnings: list[str],
) -> DatasetVersion:
    number = (orm(tx).scalar(
        select(func.max(DatasetVersionRow.number)).where(DatasetVersionRow.dataset_id == dataset_id)
    ) or 0) + 1
    row = DatasetVersionRow(
        id=str(uuid.uuid4()), dataset_id=dataset_id, number=number, content_sha256=sha256, size_bytes=size,
        row_count=rows, columns=json.dumps(columns), source_kind=lineage.source_kind, source=lineage.source,
        query=lineage.query, source_sha256=lineage.source_sha256, warnings=json.dumps(warnings),
        imported_by=lineage.imported_by, imported_at=lineage.imported_at,
    )
    orm(tx).add(row)
    orm(tx).flush()
    blobs.add_ref(tx, sha256, blobs.BlobOwner(VERSION_OWNER, row.id))  # the snapshot lives while the version does
    return _version(row, name)


def load_profile(tx: Transaction, version_id: str, target: str | None, source: str) -> Profile | None:
    """The kept profile of a version for ``target`` (None: without one), or None.

    ``source`` names the version in the error a record in an unknown format raises.
    """
    row = orm(tx).get(DatasetProfileRow, (version_id, target or ""))
    return formats.loads(Profile, row.body, source=source) if row else None


def profile_targets(tx: Transaction, version_id: str) -> list[str | None]:
    """The targets a version has kept profiles for (None: the one without a target first, then by name)."""
    stored = orm(tx).scalars(
        select(DatasetProfileRow.target).where(DatasetProfileRow.version_id == version_id)
        .order_by(DatasetProfileRow.target)
    ).all()
    return [t or None for t in stored]  # '' (no target) sorts first


def save_profile(tx: Transaction, profile: Profile) -> None:
    """Keep ``profile`` with its version, replacing an earlier one for the same target."""
    version_id, target = profile.version_id, profile.target
    body = formats.dumps(profile).decode("utf-8")
    row = orm(tx).get(DatasetProfileRow, (version_id, target or ""))
    if row is None:
        orm(tx).add(DatasetProfileRow(
            version_id=version_id, target=target or "", body=body, created_at=utc_now(), created_by=tx.actor
        ))
    else:
        row.body = body
        row.created_at = utc_now()
        row.created_by = tx.actor
    orm(tx).flush()


def latest_schema(tx: Transaction, dataset_id: str, source: str) -> Schema | None:
    """The newest schema revision of a dataset, or None."""
    row = orm(tx).scalars(
        select(DatasetSchemaRow).where(DatasetSchemaRow.dataset_id == dataset_id)
        .order_by(DatasetSchemaRow.revision.desc())
    ).first()
    return formats.loads(Schema, row.body, source=source) if row else None


def next_schema_revision(tx: Transaction, dataset_id: str) -> int:
    current = orm(tx).scalar(
        select(func.max(DatasetSchemaRow.revision)).where(DatasetSchemaRow.dataset_id == dataset_id)
    )
    return (current or 0) + 1


def save_schema(tx: Transaction, dataset_id: str, revision: int, schema: Schema) -> None:
    """Keep ``schema`` as revision ``revision`` of the dataset."""
    body = formats.dumps(schema).decode("utf-8")
    orm(tx).add(DatasetSchemaRow(
        dataset_id=dataset_id, revision=revision, body=body, created_at=utc_now(), created_by=tx.actor
    ))
    orm(tx).flush()
