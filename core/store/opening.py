"""Creating and opening workspace files, telling apart every way an open can fail.

Before a single byte is written the file is probed: missing, empty, a plain SQLite file,
a torn (truncated) file, no key header, a wrong key (checked against the header's key
check, not by trial decryption), damage, another instance, a newer schema. Each is its own
error with its own message, and a failed open leaves the workspace file byte-identical.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

import core
from core.audit.chain import genesis_hash
from core.errors import (
    AirlockError,
    InvalidInput,
    NotAWorkspace,
    WorkspaceCorrupted,
    WorkspaceExists,
    WorkspaceInUse,
    WorkspaceNotFound,
    WrongKey,
)
from core.store import keys
from core.store.db import connect_raw, orm, PAGE_SIZE, Store, utc_now
from core.store.keys import KeyHeader, Unlock
from core.store.lock import WorkspaceLock
from core.store.migrate import check_and_upgrade
from core.store.schema import UserRow, WorkspaceRow
from core.workspace.models import ROLES

SQLITE_MAGIC = b"SQLite format 3\x00"
_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs", "9p", "afs", "ceph", "glusterfs"}


@dataclass(frozen=True, slots=True)
class OpenedStore:
    store: Store
    lock: WorkspaceLock | None
    header: KeyHeader | None


def probe_file(path: Path, *, check_length: bool = True) -> None:
    """Reject what is certainly not a workspace, reading only the first bytes."""
    if not path.exists():
        raise WorkspaceNotFound(f"No workspace at {path}.")
    if path.is_dir():
        raise NotAWorkspace(f"{path} is a folder, not a workspace file.")
    size = path.stat().st_size
    if size == 0:
        raise NotAWorkspace(
            f"{path} is empty (perhaps left by an interrupted creation); it is not opened, "
            "so no unencrypted database can be made in its place."
        )
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        raise NotAWorkspace(f"{path} is a plain, unencrypted SQLite database, not an Airlock workspace.")
    if check_length:
        probe_length(path)


def probe_length(path: Path) -> None:
    """A workspace is a whole number of pages; anything else was cut short or damaged."""
    size = path.stat().st_size
    if size % PAGE_SIZE:
        raise WorkspaceCorrupted(
            f"{path} is truncated or damaged: its size ({size} bytes) is not a whole number of "
            f"{PAGE_SIZE}-byte pages. Restore it from a backup."
        )


def _filesystem_type(path: Path) -> str:
    best, fstype = "", ""
    try:
        with open("/proc/mounts", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                    best, fstype = parts[1], parts[2]
    except OSError:
        return ""
    return fstype


def refuse_network_filesystem(path: Path) -> None:
    fstype = _filesystem_type(path.resolve())
    if fstype in _NETWORK_FS and os.environ.get("AIRLOCK_ALLOW_NETWORK_FS") != "1":
        raise InvalidInput(
            f"{path} is on a network file system ({fstype}). SQLite's write-ahead log needs every "
            "process on one host, and locks over the network are unreliable: copy the workspace to "
            "a local disk."
        )


def _check_length(path: Path, conn) -> None:  # type: ignore[no-untyped-def]
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return  # the header's page count may be stale until the log is checkpointed
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    if path.stat().st_size < pages * PAGE_SIZE:
        raise WorkspaceCorrupted(
            f"{path} is truncated: it should hold {pages} pages but holds "
            f"{path.stat().st_size // PAGE_SIZE}. Restore it from a backup."
        )


def _sidecars(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _remove_new_sidecars(path: Path, existed: set[Path]) -> None:
    """Undo the empty -wal/-shm that SQLite made while a failed open read a WAL-mode header."""
    wal, shm = _sidecars(path)
    if wal in existed or shm in existed:
        return
    if wal.exists() and wal.stat().st_size > 0:
        return  # never drop a log that holds pages
    wal.unlink(missing_ok=True)
    shm.unlink(missing_ok=True)


def _tidy_after_failed_read(path: Path, existed: set[Path]) -> None:
    """After a failed read-only open, drop its empty -wal/-shm, but only while no writer can be
    using them (we can take the writer lock)."""
    probe = WorkspaceLock(path)
    try:
        probe.acquire()
    except (WorkspaceInUse, OSError):
        return
    try:
        _remove_new_sidecars(path, existed)
    finally:
        probe.release(discard=True)


def open_store(path: Path, unlock: Unlock, *, read_only: bool = False) -> OpenedStore:
    path = Path(path).expanduser().absolute()
    # What the file is comes first: a stray photo must read "not a workspace", not "truncated".
    probe_file(path, check_length=False)
    refuse_network_filesystem(path)
    header_file = keys.header_path(path)
    header = KeyHeader.read(header_file) if header_file.exists() else None
    if header is None and unlock.recovery_key is None:
        raise NotAWorkspace(
            f"{path} has no key header beside it ({header_file.name}), so it is not an Airlock "
            "workspace, or the header was lost; if it is a workspace, open it with its recovery key."
        )
    probe_length(path)
    key = keys.resolve_key(unlock, header)
    lock = None if read_only else WorkspaceLock(path)
    if lock is not None:
        lock.acquire()
    existed = {p for p in _sidecars(path) if p.exists()}
    try:
        try:
            conn = connect_raw(path, key, read_only=read_only, wal=False)
        except WrongKey:
            if header is not None:  # the key is right (header check), so the file is damaged
                raise WorkspaceCorrupted(
                    f"{path} is damaged: the right key no longer decrypts it. Restore it from a backup."
                ) from None
            raise WrongKey(
                f"The recovery key does not open {path.name} (a key for another workspace, or a damaged file)."
            ) from None
        try:
            _check_length(path, conn)
            workspace_id = _workspace_id(conn, path, header)
            store = Store(path, key, workspace_id, read_only=read_only)
            check_and_upgrade(store.engine, conn, read_only=read_only)
        finally:
            conn.close()
        if header is None and not read_only:
            # The recovery key opened a workspace whose header was lost: write a fresh one.
            header = KeyHeader(workspace_id, keys.key_check(key, workspace_id))
            header.write(header_file)
        return OpenedStore(store, lock, header)
    except BaseException:
        if lock is not None:
            _remove_new_sidecars(path, existed)
            lock.release(discard=True)
        else:
            _tidy_after_failed_read(path, existed)
        raise


def _workspace_id(conn, path: Path, header: KeyHeader | None) -> str:  # type: ignore[no-untyped-def]
    import sqlcipher3

    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='workspace'").fetchone()
        row = conn.execute("SELECT id FROM workspace").fetchone() if has else None
    except sqlcipher3.DatabaseError as exc:
        raise WorkspaceCorrupted(f"{path} is damaged ({exc}). Restore it from a backup.") from None
    if row is None:
        raise NotAWorkspace(f"{path} is an encrypted database but not an Airlock workspace.")
    if header is not None and row[0] != header.workspace_id:
        raise NotAWorkspace(f"The key header beside {path.name} belongs to another workspace.")
    return str(row[0])


@dataclass(frozen=True, slots=True)
class Created:
    store: OpenedStore
    recovery_key: str
    uses_keyring: bool


def create_workspace(
    path: Path, *, name: str, role: str, creator: str, passphrase: str | None, use_keyring: bool
) -> Created:
    """Create a workspace file, its key header and (optionally) its keyring entry.

    The database is built under a temporary name and renamed into place last, so an
    interrupted creation leaves no half-made workspace under the real name.
    """
    path = Path(path).expanduser().absolute()
    if role not in ROLES:
        raise InvalidInput(f"Unknown workspace role {role!r}; choose one of {', '.join(ROLES)}.")
    if not name.strip():
        raise InvalidInput("The workspace name must not be empty.")
    if not passphrase and not use_keyring:
        raise InvalidInput("A new workspace needs a passphrase when no keyring is used.")
    header_file = keys.header_path(path)
    if path.exists() or header_file.exists():
        raise WorkspaceExists(f"{path} already exists; choose another name or open it.")
    if not path.parent.is_dir():
        raise InvalidInput(f"The folder {path.parent} does not exist.")
    refuse_network_filesystem(path.parent)

    key = keys.new_database_key()
    workspace_id = str(uuid.uuid4())
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
    header = KeyHeader(workspace_id, keys.key_check(key, workspace_id), keyring=use_keyring)
    if passphrase:
        header = header.with_passphrase(key, passphrase)
    stored_in_keyring = False
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        conn = connect_raw(tmp, key)
        store = Store(tmp, key, workspace_id)
        try:
            check_and_upgrade(store.engine, conn, read_only=False, new=True)
        finally:
            conn.close()
        now = utc_now()
        with store.write(creator) as tx:
            orm(tx).add(
                WorkspaceRow(
                    id=workspace_id, name=name.strip(), role=role, created_at=now, created_by=creator,
                    app_version=core.__version__, audit_head_seq=0, audit_head_hash=genesis_hash(workspace_id),
                )
            )
            orm(tx).add(UserRow(name=creator, display_name=creator, roles="admin,analyst", active=1, created_at=now))
            orm(tx).flush()
            tx.audit("workspace.created", f"workspace:{workspace_id}", {"name": name.strip(), "role": role, "keyring": use_keyring, "passphrase": bool(passphrase)})
            tx.audit("user.added", f"user:{creator}", {"roles": ["admin", "analyst"]})
        store.close()
        if use_keyring:
            keys.keyring_store(workspace_id, key)
            stored_in_keyring = True
        header.write(header_file)
        os.replace(tmp, path)
    except BaseException:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
        if stored_in_keyring:
            keys.keyring_delete(workspace_id)
        if header_file.exists() and not path.exists():
            header_file.unlink()
        raise
    for leftover in (tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
        leftover.unlink(missing_ok=True)
    unlock = Unlock.with_passphrase(passphrase) if passphrase else Unlock.with_keyring()
    opened = open_store(path, unlock)
    return Created(opened, keys.format_recovery_key(key), use_keyring)


def user_exists(store: Store, name: str) -> bool:
    with store.read() as tx:
        return orm(tx).scalars(select(UserRow).where(UserRow.name == name)).first() is not None


__all__ = ["AirlockError", "Created", "OpenedStore", "create_workspace", "open_store", "probe_file"]
