"""Reading and verifying the audit log. Appending happens inside each mutation."""

from __future__ import annotations

from core.audit.chain import verify_chain
from core.audit.models import AuditEvent, ChainHead, ChainReport
from core.outcome import query
from core.store import audit_repo
from core.store.db import Store
from core.tasks import TaskContext, ensure_context


class AuditService:
    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    @query
    def events(
        self, *, limit: int = 100, offset: int = 0, action: str | None = None,
        actor: str | None = None, text: str | None = None,
    ) -> tuple[list[AuditEvent], int]:
        """A page of events, newest first, and how many match the filters in total.

        Parameters
        ----------
        action:
            Prefix of the action name (``user.`` matches every user event).
        actor:
            Exact user name.
        text:
            Substring of the action, subject or details.
        """
        with self._store.read(self._actor) as tx:
            return audit_repo.query_events(tx, limit=limit, offset=offset, action=action, actor=actor, text=text)

    @query
    def head(self) -> ChainHead:
        """The newest entry the workspace recorded."""
        with self._store.read(self._actor) as tx:
            return audit_repo.recorded_head(tx)

    @query
    def verify(self, ctx: TaskContext | None = None) -> ChainReport:
        """Walk the whole chain; the report names the first entry that does not hold."""
        ctx = ensure_context(ctx)
        ctx.report(0.0, "Verifying the audit chain")
        with self._store.read(self._actor) as tx:
            report = verify_chain(audit_repo.iter_events(tx), self._store.workspace_id, audit_repo.recorded_head(tx))
        ctx.report(1.0, "Verified")
        return report
