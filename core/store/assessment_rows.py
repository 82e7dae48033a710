"""ORM rows of the assessment area, on the store's shared declarative ``Base``.

Rows never leave ``core.store``: :mod:`core.store.assessment_repo` converts them to the
values in :mod:`core.assessment.models`. Any change here needs an Alembic migration.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.schema import Base


class AssessmentModelRow(Base):
    """One version of a maturity model, kept verbatim so old assessments stay readable."""

    __tablename__ = "assessment_model"

    model_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the model file's JSON text
    builtin: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[str] = mapped_column(String(40))
    imported_by: Mapped[str] = mapped_column(String(200))


class AssessmentRow(Base):
    __tablename__ = "assessment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lineage_id: Mapped[str] = mapped_column(String(36), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    assessors: Mapped[str] = mapped_column(Text)  # JSON list
    assessed_on: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8))
    targets: Mapped[str] = mapped_column(Text)  # JSON object dimension -> level
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(40))
    finalised_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    finalised_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    supersedes: Mapped[str | None] = mapped_column(String(36), nullable=True)


class AssessmentAnswerRow(Base):
    __tablename__ = "assessment_answer"

    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    skip_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of blob refs
    answered_by: Mapped[str] = mapped_column(String(200))
    answered_at: Mapped[str] = mapped_column(String(40))
