"""Online encrypted backups, their verification, and restoring one into a new file.

A backup is made with ``sqlcipher_export`` inside one read transaction of the live
workspace (a consistent snapshot, never a raw copy of a file that may be mid-write), under
the same key, beside a copy of the key header that also records when it was taken and the
audit chain's head at that moment. Verification opens the copy with its key, runs
``PRAGMA integrity_check`` and ``PRAGMA cipher_integrity_check`` and walks the audit chain.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import sqlcipher3

from core.audit.chain import verify_chain
from core.audit.models import ChainHead, ChainReport
from core.errors import (
    AirlockError,
    BackupInvalid,
    Cancelled,
    InvalidInput,
    WorkspaceExists,
)
from core.store import audit_repo, keys
from core.store.db import Store, attach_encrypted, utc_now
from core.store.keys import KeyHeader, Unlock
from core.store.opening import open_store, probe_file
from core.tasks import TaskContext, ensure_context
from core.workspace.models import BackupResult, BackupVerification, IntegrityReport


def check_store(store: Store, ctx: TaskContext | None = None) -> IntegrityReport:
    """Structure, page HMACs and the audit chain of an open store."""
    ctx = ensure_context(ctx)
    ctx.report(0.0, "Checking database structure")
    # A damaged page makes the checks themselves fail: that is a finding to report, not a crash.
    with store.raw_connection() as conn:
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            integrity = "ok" if rows == [("ok",)] else "; ".join(r[0] for r in rows[:5])
        except sqlcipher3.DatabaseError as exc:
            integrity = f"unreadable ({exc})"
        ctx.check()
        ctx.report(0.4, "Checking page authentication")
        try:
            bad = conn.execute("PRAGMA cipher_integrity_check").fetchall()
            cipher = "ok" if not bad else "; ".join(r[0] for r in bad[:5])
        except sqlcipher3.DatabaseError as exc:
            cipher = f"unreadable ({exc})"
    ctx.check()
    ctx.report(0.7, "Verifying the audit chain")
    try:
        with store.read() as tx:
            chain = verify_chain(audit_repo.iter_events(tx), store.workspace_id, audit_repo.recorded_head(tx))
    except AirlockError as exc:
        chain = ChainReport(False, 0, ChainHead(0, ""), None, f"the audit log could not be read ({exc})")
    ctx.report(1.0, "Checked")
    return IntegrityReport(integrity == "ok" and cipher == "ok" and chain.ok, integrity, cipher, chain)


def _interrupt_on_cancel(conn: sqlcipher3.Connection, ctx: TaskContext, done: threading.Event) -> None:
    while not done.wait(0.1):
        if ctx.cancelled:
            conn.interrupt()
            return


def make_backup(store: Store, header: KeyHeader | None, dest: Path, ctx: TaskContext | None = None) -> BackupResult:
    """Export a consistent encrypted copy of ``store`` to ``dest`` and verify it."""
    ctx = ensure_context(ctx)
    dest = Path(dest).expanduser().absolute()
    dest_header = keys.header_path(dest)
    if dest.exists() or dest_header.exists():
        raise WorkspaceExists(f"{dest} already exists; backups never overwrite a file.")
    if not dest.parent.is_dir():
        raise InvalidInput(f"The folder {dest.parent} does not exist.")
    if dest.resolve() == store.path.resolve():
        raise InvalidInput("A backup cannot replace the workspace itself.")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    taken_at = utc_now()
    try:
        ctx.report(0.0, "Copying the workspace")
        create_private_file(partial)
        with store.raw_connection() as conn:
            done = threading.Event()
            watcher = threading.Thread(target=_interrupt_on_cancel, args=(conn, ctx, done), daemon=True)
            watcher.start()
            try:
                attach_encrypted(conn, partial, "airlock_backup", store.key)
                try:
                    conn.execute("BEGIN")
                    head_row = conn.execute("SELECT audit_head_seq, audit_head_hash FROM workspace").fetchone()
                    conn.execute("SELECT sqlcipher_export('airlock_backup')")
                    conn.execute("COMMIT")
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute("DETACH DATABASE airlock_backup")
            except sqlcipher3.OperationalError as exc:
                if ctx.cancelled:
                    raise Cancelled("Backup cancelled; nothing was written.") from None
                raise BackupInvalid(f"The backup could not be written: {exc}") from None
            finally:
                done.set()
                watcher.join()
        ctx.check()
        head = ChainHead(int(head_row[0]), str(head_row[1]))
        ctx.report(0.7, "Verifying the backup")
        backup_store = Store(partial, store.key, store.workspace_id, read_only=True)
        try:
            report = check_store(backup_store, ctx.sub(0.7, 0.98))
        finally:
            backup_store.close()
        if not report.ok:
            raise BackupInvalid(f"The new backup failed its own check: {report.describe()}")
        base = header or KeyHeader(store.workspace_id, keys.key_check(store.key, store.workspace_id))
        backup_header = KeyHeader(
            base.workspace_id, base.check, base.keyring, base.slots,
            backup={"taken_at": taken_at, "source": str(store.path), "audit_head": {"seq": head.seq, "hash": head.hash}},
        )
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        backup_header.write(dest_header)
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        if dest_header.exists() and not dest.exists():
            dest_header.unlink()
        raise
    ctx.report(1.0, "Backup complete")
    return BackupResult(dest, dest.stat().st_size, taken_at, head, report)


def verify_backup(backup: Path, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Open a backup read-only with its key and check it; refuse anything else clearly."""
    backup = Path(backup).expanduser().absolute()
    try:
        probe_file(backup)
        opened = open_store(backup, unlock, read_only=True)
    except AirlockError as exc:
        raise BackupInvalid(f"{backup} is not a usable Airlock backup: {exc}") from None
    try:
        report = check_store(opened.store, ctx)
    finally:
        opened.store.close()
    meta = (opened.header.backup if opened.header else None) or {}
    head = meta.get("audit_head")
    recorded = ChainHead(int(head["seq"]), str(head["hash"])) if isinstance(head, dict) else None
    return BackupVerification(backup, opened.store.workspace_id, str(meta.get("taken_at", "")), recorded, report)


def restore_backup(backup: Path, dest: Path, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Copy ``backup`` into a new workspace file ``dest`` and verify the copy before it appears.

    A backup is a closed file, so a byte copy is exact; what gets verified is the copy
    itself, so nothing can change between the check and the restored workspace.
    """
    ctx = ensure_context(ctx)
    backup = Path(backup).expanduser().absolute()
    dest = Path(dest).expanduser().absolute()
    dest_header = keys.header_path(dest)
    if dest.exists() or dest_header.exists():
        raise WorkspaceExists(f"{dest} already exists; restore into a new file.")
    if not dest.parent.is_dir():
        raise InvalidInput(f"The folder {dest.parent} does not exist.")
    try:
        probe_file(backup)
    except AirlockError as exc:
        raise BackupInvalid(f"{backup} is not a usable Airlock backup: {exc}") from None
    partial = dest.with_name(f".{dest.name}.restoring-{os.getpid()}")
    partial_header = keys.header_path(partial)
    try:
        ctx.report(0.0, "Copying the backup")
        create_private_file(partial)
        with open(backup, "rb") as src, open(partial, "wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        source_header_file = keys.header_path(backup)
        try:
            source_header = KeyHeader.read(source_header_file) if source_header_file.exists() else None
            key = keys.resolve_key(unlock, source_header)
        except AirlockError as exc:  # a foreign file or the wrong key: say so as a backup problem
            raise BackupInvalid(f"{backup} is not a usable Airlock backup: {exc}") from None
        if source_header is not None:
            KeyHeader(
                source_header.workspace_id, source_header.check, source_header.keyring,
                source_header.slots, source_header.backup,
            ).write(partial_header)
        try:
            verification = verify_backup(partial, unlock, ctx.sub(0.2, 0.95))
        except BackupInvalid as exc:  # name the user's file, not our temporary copy
            raise BackupInvalid(str(exc).replace(str(partial), str(backup))) from None
        if not verification.ok:
            raise BackupInvalid(f"{backup} failed verification: {verification.report.describe()}")
        if source_header is not None:
            final = KeyHeader(source_header.workspace_id, source_header.check, source_header.keyring, source_header.slots)
        else:  # the header was lost; the recovery key opened it, so make a fresh one
            final = KeyHeader(verification.workspace_id, keys.key_check(key, verification.workspace_id))
        final.write(dest_header)
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        if dest_header.exists() and not dest.exists():
            dest_header.unlink()
        raise
    finally:
        partial_header.unlink(missing_ok=True)
    ctx.report(1.0, "Restored")
    return verification


def create_private_file(path: Path) -> None:
    """Create an empty file only its owner can read, failing if it exists."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
