"""Repositories of the foundation areas: rows in, domain values out.

Each function takes a :class:`~core.store.db.Transaction`; the service that calls it
decides the transaction's extent and writes the audit event in the same one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import func, or_, select

from core.audit.models import AuditEvent, ChainHead
from core.errors import NotFound, WorkspaceCorrupted
from core.identity.models import User
from core.store.db import Transaction, utc_now
from core.store.schema import AuditEventRow, UserRow, WorkspaceRow


# --- workspace ---------------------------------------------------------------------------

def workspace_row(tx: Transaction) -> WorkspaceRow:
    row = tx.session.get(WorkspaceRow, tx.workspace_id)
    if row is None:
        raise WorkspaceCorrupted("The workspace record is missing.")
    return row


def record_backup(tx: Transaction, path: str) -> None:
    row = workspace_row(tx)
    row.last_backup_at = utc_now()
    row.last_backup_path = path


# --- users -------------------------------------------------------------------------------

def _user(row: UserRow) -> User:
    roles = frozenset(r for r in row.roles.split(",") if r)
    return User(row.name, row.display_name, roles, bool(row.active), row.created_at)


def list_users(tx: Transaction) -> list[User]:
    return [_user(r) for r in tx.session.scalars(select(UserRow).order_by(UserRow.name))]


def get_user(tx: Transaction, name: str) -> User | None:
    row = tx.session.get(UserRow, name)
    return _user(row) if row else None


def add_user(tx: Transaction, name: str, display_name: str, roles: frozenset[str]) -> User:
    row = UserRow(name=name, display_name=display_name, roles=",".join(sorted(roles)), active=1, created_at=utc_now())
    tx.session.add(row)
    tx.session.flush()
    return _user(row)


def set_user(tx: Transaction, name: str, *, roles: frozenset[str] | None = None, active: bool | None = None) -> User:
    row = tx.session.get(UserRow, name)
    if row is None:
        raise NotFound(f"No user {name!r} in this workspace.")
    if roles is not None:
        row.roles = ",".join(sorted(roles))
    if active is not None:
        row.active = int(active)
    tx.session.flush()
    return _user(row)


def count_users(tx: Transaction) -> int:
    return int(tx.session.scalar(select(func.count()).select_from(UserRow)) or 0)


# --- audit -------------------------------------------------------------------------------

def _event(row: AuditEventRow) -> AuditEvent:
    try:
        details = json.loads(row.details)
    except json.JSONDecodeError:
        details = {"_unreadable": row.details}
    if not isinstance(details, dict):
        details = {"_value": details}
    return AuditEvent(row.seq, row.at, row.actor, row.action, row.subject, details, row.prev_hash, row.hash)


def iter_events(tx: Transaction, batch: int = 2000) -> Iterator[AuditEvent]:
    """All events in sequence order, fetched in batches so a long log never sits in memory."""
    last_seq = 0
    while True:
        rows = tx.session.scalars(
            select(AuditEventRow).where(AuditEventRow.seq > last_seq).order_by(AuditEventRow.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield _event(row)
        last_seq = rows[-1].seq


def query_events(
    tx: Transaction, *, limit: int = 100, offset: int = 0, action: str | None = None,
    actor: str | None = None, text: str | None = None,
) -> tuple[list[AuditEvent], int]:
    """Newest first, filtered; returns a page and the total number that match."""
    stmt = select(AuditEventRow)
    if action:
        stmt = stmt.where(AuditEventRow.action.like(f"{_literal(action)}%", escape="\\"))
    if actor:
        stmt = stmt.where(AuditEventRow.actor == actor)
    if text:
        pattern = f"%{_literal(text)}%"
        stmt = stmt.where(or_(*(col.like(pattern, escape="\\") for col in (AuditEventRow.subject, AuditEventRow.details, AuditEventRow.action))))
    total = int(tx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = tx.session.scalars(stmt.order_by(AuditEventRow.seq.desc()).limit(limit).offset(offset)).all()
    return [_event(r) for r in rows], total


def _literal(text: str) -> str:
    """``text`` for a LIKE pattern, its ``%`` and ``_`` meaning themselves (a user types "user_3")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def recorded_head(tx: Transaction) -> ChainHead:
    row = workspace_row(tx)
    return ChainHead(row.audit_head_seq, row.audit_head_hash)
