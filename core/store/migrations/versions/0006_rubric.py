"""Rubric: results of each run, reviewers' attestations, the versioned rubric policy.

An attestation's evidence files are blobs referenced through ``blob_ref`` (owner kind
``rubric_attestation``), so nothing needs backfilling.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rubric_result",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model_version_id", sa.String(36), sa.ForeignKey("model_version.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_rubric_result_model_version_id", "rubric_result", ["model_version_id"])
    op.create_table(
        "rubric_attestation",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model_version_id", sa.String(36), sa.ForeignKey("model_version.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("test_id", sa.String(20), nullable=False),
        sa.Column("attested_by", sa.String(200), nullable=False),
        sa.Column("attested_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_rubric_attestation_model_version_id", "rubric_attestation", ["model_version_id"])
    op.create_table(
        "rubric_policy",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM blob_ref WHERE owner_kind = 'rubric_attestation'"))
    op.drop_table("rubric_policy")
    op.drop_index("ix_rubric_attestation_model_version_id", "rubric_attestation")
    op.drop_table("rubric_attestation")
    op.drop_index("ix_rubric_result_model_version_id", "rubric_result")
    op.drop_table("rubric_result")
