"""Persistence of the audit area: reading the log and its recorded head (appends live in ``db.Transaction``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import func, or_, select

from core.audit.models import AuditEvent, ChainHead
from core.errors import WorkspaceCorrupted
from core.store.db import Transaction, orm
from core.store.schema import AuditEventRow, WorkspaceRow


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
        rows = orm(tx).scalars(
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
        columns = (AuditEventRow.subject, AuditEventRow.details, AuditEventRow.action)
        stmt = stmt.where(or_(*(col.like(pattern, escape="\\") for col in columns)))
    total = int(orm(tx).scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = orm(tx).scalars(stmt.order_by(AuditEventRow.seq.desc()).limit(limit).offset(offset)).all()
    return [_event(r) for r in rows], total


def hashes(tx: Transaction, upto: int) -> list[str]:
    """The entry hashes of events 1..``upto``, in order (what a promotion package carries of the log)."""
    return list(orm(tx).scalars(select(AuditEventRow.hash).where(AuditEventRow.seq <= upto).order_by(AuditEventRow.seq)))


def _literal(text: str) -> str:
    """``text`` for a LIKE pattern, its ``%`` and ``_`` meaning themselves (a user types "user_3")."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def recorded_head(tx: Transaction) -> ChainHead:
    row = orm(tx).get(WorkspaceRow, tx.workspace_id)
    if row is None:
        raise WorkspaceCorrupted("The workspace record is missing.")
    return ChainHead(row.audit_head_seq, row.audit_head_hash)
