"""ORM rows of the rubric area, on the store's shared declarative ``Base``.

Rows never leave ``core.store``: :mod:`core.store.rubric_repo` converts them to the values in
:mod:`core.rubric.models`. Bodies are the records' canonical JSON (:mod:`core.formats`); an
attestation's evidence files are blobs referenced through ``blob_ref`` (owner
``rubric_attestation``). Any change here needs an Alembic migration.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.schema import Base


class RubricResultRow(Base):
    """One run of the rubric for a model version (``body``: its ``airlock.rubric_result``)."""

    __tablename__ = "rubric_result"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_version.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)


class RubricAttestationRow(Base):
    """A reviewer's attestation of one test for one model version (``body``: ``airlock.attestation``)."""

    __tablename__ = "rubric_attestation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    model_version_id: Mapped[str] = mapped_column(ForeignKey("model_version.id", ondelete="RESTRICT"), index=True)
    test_id: Mapped[str] = mapped_column(String(20))
    attested_by: Mapped[str] = mapped_column(String(200))
    attested_at: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)


class RubricPolicyRow(Base):
    """One version of the workspace's rubric policy (``body``: ``airlock.rubric_policy``)."""

    __tablename__ = "rubric_policy"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
