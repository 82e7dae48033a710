"""Promotion: the trust policy's versions, used approval nonces, development audit heads seen,
admitted packages (their files as blobs kept by ``admitted_package``) and the registry's history.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trust_policy",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("environment", sa.String(10), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("installed_at", sa.String(40), nullable=False),
        sa.Column("installed_by", sa.String(200), nullable=False),
        sa.Column("recovered", sa.Boolean, nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
    )
    op.create_table(
        "approval_nonce",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("keyid", sa.String(64), nullable=False),
        sa.Column("package_digest", sa.String(64), nullable=False),
        sa.Column("used_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "audit_source",
        sa.Column("workspace_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("chain_sha256", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "admitted_package",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("package_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("admitted_at", sa.String(40), nullable=False),
        sa.Column("admitted_by", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("model", "version", name="uq_admitted_model_version"),
    )
    op.create_table(
        "admitted_file",
        sa.Column("package_id", sa.String(36), sa.ForeignKey("admitted_package.id", ondelete="RESTRICT"),
                  primary_key=True),
        sa.Column("path", sa.String(400), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
    )
    op.create_table(
        "registry_event",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("previous", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=True),
    )
    op.create_index("ix_registry_event_model", "registry_event", ["model"])


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM blob_ref WHERE owner_kind IN ('admitted_package', 'audit_source')"))
    op.drop_index("ix_registry_event_model", "registry_event")
    op.drop_table("registry_event")
    op.drop_table("admitted_file")
    op.drop_table("admitted_package")
    op.drop_table("audit_source")
    op.drop_table("approval_nonce")
    op.drop_table("trust_policy")
