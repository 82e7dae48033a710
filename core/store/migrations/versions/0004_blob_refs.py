"""Blob references: the records that keep a blob, so unreferenced ones can be swept.

Backfills a reference for every dataset version (its Parquet snapshot) and for every
assessment that lists an evidence attachment. (The unique constraint the ORM used to
declare on ``blob_chunk (blob_id, seq)`` was never created by 0001 and is gone from the
ORM: the primary key is that pair.)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_ref",
        sa.Column("blob_id", sa.Integer, sa.ForeignKey("blob.id", ondelete="RESTRICT"), primary_key=True),
        sa.Column("owner_kind", sa.String(40), primary_key=True),
        sa.Column("owner_id", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_blob_ref_owner", "blob_ref", ["owner_kind", "owner_id"])
    conn = op.get_bind()
    # The owner kinds are the ones core.store.data_repo and core.store.assessment_repo use.
    conn.execute(sa.text(
        "INSERT INTO blob_ref (blob_id, owner_kind, owner_id, created_at) "
        "SELECT b.id, 'dataset_version', v.id, v.imported_at "
        "FROM dataset_version v JOIN blob b ON b.sha256 = v.content_sha256"
    ))
    seen: set[tuple[int, str]] = set()
    answers = conn.execute(sa.text("SELECT assessment_id, evidence, answered_at FROM assessment_answer")).all()
    for assessment_id, evidence, answered_at in answers:
        for entry in json.loads(evidence or "[]"):
            blob_id = conn.execute(
                sa.text("SELECT id FROM blob WHERE sha256 = :sha"), {"sha": entry.get("digest")}
            ).scalar()
            if blob_id is None or (blob_id, assessment_id) in seen:
                continue
            seen.add((blob_id, assessment_id))
            conn.execute(
                sa.text(
                    "INSERT INTO blob_ref (blob_id, owner_kind, owner_id, created_at) "
                    "VALUES (:blob, 'assessment', :owner, :at)"
                ),
                {"blob": blob_id, "owner": assessment_id, "at": answered_at},
            )


def downgrade() -> None:
    op.drop_index("ix_blob_ref_owner", "blob_ref")
    op.drop_table("blob_ref")
