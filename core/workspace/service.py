"""Workspace-level operations: overview, integrity check, backup, passphrase."""

from __future__ import annotations

from pathlib import Path

from core import outcome
from core.identity.models import ADMIN
from core.identity.service import require_role
from core.outcome import Change, Outcome, mutation, query
from core.store import blobs, keys, rekey, workspace_repo
from core.store.backup import check_store, compare_with_backup, make_backup
from core.store.db import Store
from core.store.keys import KeyHeader
from core.tasks import TaskContext
from core.workspace.models import BackupResult, HeadAnchor, IntegrityReport, WorkspaceInfo


class WorkspaceService:
    def __init__(self, store: Store, header: KeyHeader | None, actor: str) -> None:
        self._store = store
        self._header = header
        self._actor = actor

    @query
    def info(self) -> WorkspaceInfo:
        """What the workspace is, how big, how many users and events, when last backed up."""
        path = self._store.path
        size = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        with self._store.read(self._actor) as tx:
            record = workspace_repo.workspace_record(tx)
            n_blobs, blob_bytes = blobs.stats(tx)
            return WorkspaceInfo(
                id=record.id, name=record.name, role=record.role, path=path, size_bytes=size,
                created_at=record.created_at, created_by=record.created_by, app_version=record.app_version,
                users=workspace_repo.count_users(tx), audit_events=record.audit_head.seq,
                audit_head=record.audit_head, blobs=n_blobs, blob_bytes=blob_bytes,
                last_backup_at=record.last_backup_at, last_backup_path=record.last_backup_path,
                keyring=bool(self._header and self._header.keyring),
                passphrase=bool(self._header and self._header.has_passphrase),
                read_only=self._store.read_only,
            )

    @query
    def check(self, ctx: TaskContext | None = None, against: Path | None = None) -> IntegrityReport:
        """Database structure, page authentication (HMAC), the audit chain, and the log compared
        with the audit head recorded by ``against`` (default: the last backup, where it still is)."""
        if against is None:
            with self._store.read(self._actor) as tx:
                last = workspace_repo.workspace_record(tx).last_backup_path
            against = Path(last) if last and keys.header_path(Path(last)).exists() else None
        return check_store(self._store, ctx, against)

    @query
    def compare_with_backup(self, backup: Path) -> HeadAnchor:
        """Whether the live audit log still holds the head ``backup``'s header recorded."""
        return compare_with_backup(self._store, Path(backup))

    @mutation
    def backup(self, dest: Path, ctx: TaskContext | None = None) -> Outcome[BackupResult]:
        """Write a verified, encrypted backup to ``dest`` (a new file). Admins only; audited.

        The backup opens with the same passphrase, keyring entry or recovery key as the
        workspace. Its key header records the audit head at the moment it was taken.
        """
        with self._store.read(self._actor) as tx:
            require_role(tx, ADMIN, "back up the workspace")
        result = make_backup(self._store, self._header, Path(dest), ctx)
        if self._store.read_only:  # taken beside another instance: its header is the record
            return Outcome(result, outcome.changes(Change.BACKUPS))
        with self._store.write(self._actor) as tx:
            workspace_repo.record_backup(tx, str(result.path))
            tx.audit("workspace.backed_up", f"backup:{result.path.name}", {
                "path": str(result.path), "size": result.size,
                "audit_head": {"seq": result.audit_head.seq, "hash": result.audit_head.hash},
            })
        return Outcome(result, outcome.changes(Change.WORKSPACE, Change.BACKUPS))

    @mutation
    def change_passphrase(self, new_passphrase: str) -> Outcome[None]:
        """Set or replace the passphrase. The change and its audit entry are one outcome.

        Interrupted before the entry commits, the old passphrase still works (the next open
        drops the new slot); after, the next open finishes the change. Only the key header is
        rewritten; the database key and the recovery key stay the same.
        """
        with self._store.write(self._actor) as tx:  # refuses a read-only workspace first
            require_role(tx, ADMIN, "change the passphrase")
        # New slot beside the old until the audit entry commits; see core.store.rekey.
        self._header = rekey.change_passphrase(self._store, self._header, new_passphrase, self._actor)
        return Outcome(None, outcome.changes(Change.WORKSPACE))
