"""Persistence of the workspace area: its one record, converted to a value inside the session."""

from __future__ import annotations

from sqlalchemy import func, select

from core.audit.models import ChainHead
from core.errors import WorkspaceCorrupted
from core.store.db import Transaction, orm, utc_now
from core.store.schema import UserRow, WorkspaceRow
from core.workspace.models import WorkspaceRecord


def _row(tx: Transaction) -> WorkspaceRow:
    row = orm(tx).get(WorkspaceRow, tx.workspace_id)
    if row is None:
        raise WorkspaceCorrupted("The workspace record is missing.")
    return row


def workspace_record(tx: Transaction) -> WorkspaceRecord:
    """The workspace's record: name, role, creation, audit head, last backup."""
    row = _row(tx)
    return WorkspaceRecord(
        id=row.id, name=row.name, role=row.role, created_at=row.created_at, created_by=row.created_by,
        app_version=row.app_version, audit_head=ChainHead(row.audit_head_seq, row.audit_head_hash),
        last_backup_at=row.last_backup_at, last_backup_path=row.last_backup_path,
    )


def record_backup(tx: Transaction, path: str) -> None:
    """Remember when and where the last backup was written."""
    row = _row(tx)
    row.last_backup_at = utc_now()
    row.last_backup_path = path


def count_users(tx: Transaction) -> int:
    return int(orm(tx).scalar(select(func.count()).select_from(UserRow)) or 0)
