"""ORM rows of the training area, on the store's shared declarative ``Base``.

Rows never leave ``core.store``: :mod:`core.store.training_repo` converts them to the values in
:mod:`core.training.models`. Bodies are the records' canonical JSON (:mod:`core.formats`);
artefacts and plots are blobs referenced through ``blob_ref`` (owner ``model_version``).
Any change here needs an Alembic migration.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store.schema import Base


class TrainingSpecRow(Base):
    """A spec as it was run, keyed by its hash (``spec_hash``)."""

    __tablename__ = "training_spec"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(40))


class TrainingRunRow(Base):
    """One start of a spec: running, or how it ended."""

    __tablename__ = "training_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    spec_hash: Mapped[str] = mapped_column(ForeignKey("training_spec.hash", ondelete="RESTRICT"), index=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[str] = mapped_column(String(40))
    finished_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(36), nullable=True)
    trials: Mapped[int] = mapped_column(Integer, default=0)


class ModelRow(Base):
    """A named model; its versions are :class:`ModelVersionRow`."""

    __tablename__ = "model"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(40))


class ModelVersionRow(Base):
    """One trained version: ``body`` is the :class:`~core.training.models.ModelVersion` record."""

    __tablename__ = "model_version"
    __table_args__ = (UniqueConstraint("model", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model: Mapped[str] = mapped_column(ForeignKey("model.name", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))


class ModelEvidenceRow(Base):
    """One evidence item of a version (``body``: its ``airlock.evidence.<kind>`` record)."""

    __tablename__ = "model_evidence"

    version_id: Mapped[str] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class ModelPlotRow(Base):
    """A plot of a version: its name and the PNG blob's hash (the blob is referenced by the version)."""

    __tablename__ = "model_plot"

    version_id: Mapped[str] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
