"""ORM rows of the discovery area, on the store's shared declarative ``Base``.

Rows never leave ``core.store``: :mod:`core.store.data_repo` converts them to the values in
:mod:`core.data.models`. Snapshots themselves are blobs; a version row names its blob by
SHA-256. Any change here needs an Alembic migration.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store.schema import Base


class DatasetRow(Base):
    __tablename__ = "dataset"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))


class DatasetVersionRow(Base):
    """One snapshot; ``content_sha256`` is the Parquet blob's hash and the version's identity."""

    __tablename__ = "dataset_version"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number"),
        UniqueConstraint("dataset_id", "content_sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    columns: Mapped[str] = mapped_column(Text)  # JSON list of [name, type]
    source_kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)  # never holds a password
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[str] = mapped_column(String(40))


class DatasetProfileRow(Base):
    """A computed profile (JSON) of one version, per target column ('' when none)."""

    __tablename__ = "dataset_profile"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_version.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))


class DatasetSchemaRow(Base):
    """One revision of a dataset's expected schema (JSON); edits add revisions."""

    __tablename__ = "dataset_schema"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(200))
