"""Online encrypted backups, their verification, and restoring one into a new file.

A backup is made with ``sqlcipher_export`` inside one read transaction of the live
workspace (a consistent snapshot, never a raw copy of a file that may be mid-write), under
the same key, beside a copy of the key header that also records when it was taken and the
audit chain's head at that moment. Verification opens the copy with its key, runs
``PRAGMA integrity_check`` and ``PRAGMA cipher_integrity_check`` and walks the audit chain.
"""

from __future__ import annotations

import contextlib
import errno
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
    DiskFull,
    InvalidInput,
    WorkspaceExists,
)
from core.store import audit_repo, keys, leftovers
from core.store.db import Store, attach_encrypted, connect_raw, utc_now
from core.store.keys import KeyHeader, Unlock
from core.store.opening import open_store, probe_file
from core.tasks import TaskContext, ensure_context
from core.workspace.models import BackupResult, BackupVerification, HeadAnchor, IntegrityReport


def compare_with_backup(store: Store, backup: Path) -> HeadAnchor:
    """Does the live log still hold the head ``backup``'s header recorded (and reach that far)?

    Reads only the backup's key header (its MAC is checked under the database key); the
    backup database itself is not opened.
    """
    backup = Path(os.path.realpath(Path(backup).expanduser()))
    source = str(backup)
    header_file = keys.header_path(backup)
    try:
        header = KeyHeader.read(header_file)
    except AirlockError as exc:
        return HeadAnchor(source, False, True, f"Not compared with {backup.name}: {exc}")
    meta = header.backup
    if header.workspace_id != store.workspace_id:
        return HeadAnchor(source, False, True, f"Not compared with {backup.name}: it is a backup of another workspace.")
    if not isinstance(meta, dict) or not isinstance(meta.get("audit_head"), dict):
        return HeadAnchor(source, False, True, f"Not compared with {backup.name}: its header records no audit head.")
    authentic = header.backup_authentic(store.key)
    try:
        head = ChainHead(int(meta["audit_head"]["seq"]), str(meta["audit_head"]["hash"]))
    except (KeyError, TypeError, ValueError):
        return HeadAnchor(source, True, False, f"The header of {backup.name} is damaged: its audit head is unreadable.")
    if authentic is False:
        return HeadAnchor(source, True, False,
                          f"The header of {backup.name} was edited (its MAC does not match): it cannot vouch for the log.",
                          head, authentic)
    with store.raw_connection() as conn:
        row = conn.execute("SELECT hash FROM audit_event WHERE seq = ?", (head.seq,)).fetchone()
        last = conn.execute("SELECT max(seq) FROM audit_event").fetchone()
    last_seq = int(last[0]) if last and last[0] is not None else 0
    note = "" if authentic else " (that header has no MAC: made by an older Airlock)"
    where = f"backup {backup.name} (taken {meta.get('taken_at', '?')})"
    if row is None or last_seq < head.seq:
        return HeadAnchor(source, True, False,
                          f"The audit log ends at #{last_seq}, but {where} recorded #{head.seq}: entries were cut "
                          f"off the end of the log{note}.", head, authentic)
    if str(row[0]) != head.hash:
        return HeadAnchor(source, True, False,
                          f"Audit entry #{head.seq} is not the one {where} recorded: the log was rewritten{note}.",
                          head, authentic)
    return HeadAnchor(source, True, True,
                      f"The log holds the head #{head.seq} {head.hash[:12]} recorded by {where}{note}.", head, authentic)


def check_store(store: Store, ctx: TaskContext | None = None, against: Path | None = None) -> IntegrityReport:
    """Structure, page HMACs and the audit chain of an open store; with ``against``, also the
    live log compared with the audit head that backup's header recorded."""
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
    anchor = None
    if against is not None:
        try:
            anchor = compare_with_backup(store, against)
        except (sqlcipher3.DatabaseError, AirlockError) as exc:
            anchor = HeadAnchor(str(against), True, False, f"The audit log could not be compared with {against}: {exc}")
    ctx.report(1.0, "Checked")
    ok = integrity == "ok" and cipher == "ok" and chain.ok and (anchor is None or anchor.ok)
    return IntegrityReport(ok, integrity, cipher, chain, anchor)


def _interrupt_on_cancel(conn: sqlcipher3.Connection, ctx: TaskContext, done: threading.Event) -> None:
    while not done.wait(0.1):
        if ctx.cancelled:
            conn.interrupt()
            return


def _backup_connection(store: Store) -> contextlib.AbstractContextManager[sqlcipher3.Connection]:
    """A connection that can read the workspace in one transaction and write an attached copy.

    A read-only open (another instance holds the writer lock) has only ``query_only``
    connections, which cannot write even to an attached file: it gets one connection of its
    own that writes nothing to the workspace (a read transaction on it, the writes go to the
    attached backup), so a backup can be taken while another instance has the workspace open.
    """
    if not store.read_only:
        return store.raw_connection()
    conn = connect_raw(store.path, store.key, read_only=False, wal=False)
    return contextlib.closing(conn)


def _disk_full(where: Path, exc: BaseException) -> DiskFull:
    return DiskFull(
        f"The disk holding {where.parent} is full ({exc}); the backup was not written and nothing "
        "was damaged. Free some space (or choose another folder) and try again."
    )


def make_backup(store: Store, header: KeyHeader | None, dest: Path, ctx: TaskContext | None = None) -> BackupResult:
    """Export a consistent encrypted copy of ``store`` to ``dest`` and verify it.

    Works on a read-only open too (one read transaction is enough). The backup's key header
    records when it was taken and the audit head, authenticated by a MAC under a key derived
    from the database key.
    """
    ctx = ensure_context(ctx)
    dest = Path(dest).expanduser().absolute()
    if dest.parent.is_dir():  # temporary files beside the real folder, not a link to it
        dest = Path(os.path.realpath(dest.parent)) / dest.name
    dest_header = keys.header_path(dest)
    if os.path.lexists(dest) or os.path.lexists(dest_header):
        raise WorkspaceExists(f"{dest} already exists; backups never overwrite a file.")
    if not dest.parent.is_dir():
        raise InvalidInput(f"The folder {dest.parent} does not exist.")
    if dest.resolve() == store.path.resolve():
        raise InvalidInput("A backup cannot replace the workspace itself.")
    leftovers.sweep(dest.parent)  # partial copies of backups whose process died
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    taken_at = utc_now()
    try:
        ctx.report(0.0, "Copying the workspace")
        create_private_file(partial)
        with _backup_connection(store) as conn:
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
                if "full" in str(exc).lower():
                    raise _disk_full(dest, exc) from None
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
        meta = {"taken_at": taken_at, "source": str(store.path), "audit_head": {"seq": head.seq, "hash": head.hash}}
        backup_header = base.with_backup(store.key, meta, keys.read_file_salt(partial))
        try:
            with open(partial, "rb+") as fh:
                os.fsync(fh.fileno())
            backup_header.write(dest_header)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _disk_full(dest, exc) from None
            raise
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        if dest_header.exists() and not dest.exists():
            dest_header.unlink()
        raise
    ctx.report(1.0, "Backup complete")
    return BackupResult(dest, dest.stat().st_size, taken_at, head, report)


def verify_backup(backup: Path, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Open a backup read-only with its key and check it; refuse anything else clearly.

    A header whose backup metadata does not match its MAC was edited: refused.
    """
    backup = Path(backup).expanduser().absolute()
    try:
        probe_file(backup)
        opened = open_store(backup, unlock, read_only=True)
    except AirlockError as exc:
        raise BackupInvalid(f"{backup} is not a usable Airlock backup: {exc}") from None
    try:
        authentic = opened.header.backup_authentic(opened.store.key) if opened.header else None
        if authentic is False:
            raise BackupInvalid(
                f"The key header of {backup} was edited: its backup record (audit head, time taken) does not "
                "match its authentication code. Do not rely on this backup; use another one."
            )
        report = check_store(opened.store, ctx)
    finally:
        opened.store.close()
    meta = (opened.header.backup if opened.header else None) or {}
    head = meta.get("audit_head")
    recorded = ChainHead(int(head["seq"]), str(head["hash"])) if isinstance(head, dict) else None
    return BackupVerification(
        backup, opened.store.workspace_id, str(meta.get("taken_at", "")), recorded, report, authentic
    )


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
                source_header.slots, source_header.backup, source_header.file_salt,
            ).write(partial_header)
        try:
            verification = verify_backup(partial, unlock, ctx.sub(0.2, 0.95))
        except BackupInvalid as exc:  # name the user's file, not our temporary copy
            raise BackupInvalid(str(exc).replace(str(partial), str(backup))) from None
        if not verification.ok:
            raise BackupInvalid(f"{backup} failed verification: {verification.report.describe()}")
        if source_header is not None:
            final = KeyHeader(
                source_header.workspace_id, source_header.check, source_header.keyring, source_header.slots,
                file_salt=source_header.file_salt,
            )
        else:  # the header was lost; the recovery key opened it, so make a fresh one
            final = KeyHeader(
                verification.workspace_id, keys.key_check(key, verification.workspace_id),
                file_salt=keys.read_file_salt(partial),
            )
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
