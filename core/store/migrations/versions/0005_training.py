"""Training: specs, runs, models, model versions, their evidence and plots.

Artefacts and plots are blobs referenced through ``blob_ref`` (owner kind ``model_version``),
so nothing needs backfilling.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_spec",
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "training_run",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("spec_hash", sa.String(64), sa.ForeignKey("training_spec.hash", ondelete="RESTRICT"), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("model_version", sa.String(36), nullable=True),
        sa.Column("trials", sa.Integer, nullable=False),
    )
    op.create_index("ix_training_run_spec_hash", "training_run", ["spec_hash"])
    op.create_index("ix_training_run_status", "training_run", ["status"])
    op.create_table(
        "model",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "model_version",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model", sa.String(200), sa.ForeignKey("model.name", ondelete="RESTRICT"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("model", "number"),
    )
    op.create_index("ix_model_version_model", "model_version", ["model"])
    op.create_table(
        "model_evidence",
        sa.Column("version_id", sa.String(36), sa.ForeignKey("model_version.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "model_plot",
        sa.Column("version_id", sa.String(36), sa.ForeignKey("model_version.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM blob_ref WHERE owner_kind = 'model_version'"))
    op.drop_table("model_plot")
    op.drop_table("model_evidence")
    op.drop_index("ix_model_version_model", "model_version")
    op.drop_table("model_version")
    op.drop_table("model")
    op.drop_index("ix_training_run_status", "training_run")
    op.drop_index("ix_training_run_spec_hash", "training_run")
    op.drop_table("training_run")
    op.drop_table("training_spec")
