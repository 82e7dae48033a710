"""Maturity assessments: model versions, assessments and their answers.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_model",
        sa.Column("model_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("builtin", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.String(40), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "assessment",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("lineage_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("assessors", sa.Text, nullable=False),
        sa.Column("assessed_on", sa.String(10), nullable=False),
        sa.Column("model_id", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("targets", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("finalised_by", sa.String(200)),
        sa.Column("finalised_at", sa.String(40)),
        sa.Column("supersedes", sa.String(36)),
    )
    op.create_index("ix_assessment_lineage_id", "assessment", ["lineage_id"])
    op.create_index("ix_assessment_unit", "assessment", ["unit"])
    op.create_table(
        "assessment_answer",
        sa.Column("assessment_id", sa.String(36),
                  sa.ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("question_id", sa.String(100), primary_key=True),
        sa.Column("level", sa.Integer),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("skip_reason", sa.Text),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("answered_by", sa.String(200), nullable=False),
        sa.Column("answered_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in ("assessment_answer", "assessment", "assessment_model"):
        op.drop_table(table)
