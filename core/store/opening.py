"""Creating and opening workspace files, telling apart every way an open can fail.

Before a single byte is written the file is probed: missing, empty, a plain SQLite file,
a torn (truncated) file, no key header, a wrong key (checked against the header's key
check, not by trial decryption), damage, another instance, a newer schema. Each is its own
error with its own message, and a failed open leaves the workspace file byte-identical.

Symbolic links are resolved once, first; every file beside the workspace (key header,
lock, WAL, SHM, temporary files) is named from the resolved path, and a file with more than
one hard link is refused, so one file never has two writers under two names. A writable
open also settles an interrupted passphrase change and sweeps the leftovers of crashed
processes, and says what it did in :attr:`OpenedStore.notices`.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlcipher3
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
from core.store import blobs, keys, leftovers, rekey
from core.store.db import PAGE_SIZE, Store, connect_raw, orm, utc_now
from core.store.keys import KeyHeader, Unlock
from core.store.lock import WorkspaceLock
from core.store.migrate import check_and_upgrade
from core.store.schema import UserRow, WorkspaceRow
from core.workspace.models import ROLES

SQLITE_MAGIC = b"SQLite format 3\x00"
#: File systems whose locks or write ordering SQLite's write-ahead log cannot rely on.
NETWORK_FS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "9p", "afs", "ceph", "glusterfs", "lustre",
    "gpfs", "beegfs", "ocfs2", "gfs2", "davfs", "fuse.davfs", "fuse.davfs2", "fuse.sshfs", "sshfs",
    "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.goofys", "fuse.juicefs", "fuse.glusterfs",
    "fuse.cephfs", "fuse.ceph-fuse", "fuse.gvfsd-fuse", "fuse.smbnetfs", "fuse.curlftpfs", "fuse.onedriver",
})
#: File systems in memory: a workspace there does not survive a reboot or power loss.
MEMORY_FS = frozenset({"tmpfs", "ramfs"})
MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True, slots=True)
class OpenedStore:
    store: Store
    lock: WorkspaceLock | None
    header: KeyHeader | None
    #: What the open did or found that the user should hear about once (sweeps, warnings).
    notices: tuple[str, ...] = field(default=())


def resolve_path(path: Path) -> Path:
    """The absolute path with every symbolic link resolved (once, before anything is opened)."""
    path = Path(path).expanduser().absolute()
    if path.is_symlink() and not path.exists():
        raise WorkspaceNotFound(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist.")
    return Path(os.path.realpath(path))


def refuse_hard_links(path: Path) -> None:
    """A file reachable by two names would get two lock files and two write-ahead logs."""
    links = os.stat(path).st_nlink
    if links > 1:
        raise InvalidInput(
            f"{path} has {links} hard links (other names for the same file). SQLite keeps a write-ahead "
            "log beside each name, so writers under two names would corrupt the workspace. Remove the "
            f"other names (`find {path.parent} -xdev -samefile {path}` lists them) or make a copy with "
            "`airlock workspace backup`."
        )


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


def _unescape_mount(text: str) -> str:
    """Mount points in the mount table escape space, tab, newline and backslash as octal."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and len(text) >= i + 4 and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def filesystem_type(path: Path, mountinfo: Path = MOUNTINFO) -> str:
    """The type of the file system holding ``path``: the mount whose point is the longest
    whole-component prefix of it in the real mount table ("" where there is none)."""
    parts = Path(path).parts
    best_len, fstype = -1, ""
    try:
        with open(mountinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if "-" not in fields[6:]:
                    continue
                sep = fields.index("-", 6)
                if len(fields) < sep + 2 or len(fields) < 5:
                    continue
                point = Path(_unescape_mount(fields[4])).parts
                if len(point) > best_len and parts[: len(point)] == point:
                    best_len, fstype = len(point), fields[sep + 1]
    except OSError:
        return ""
    return fstype


def refuse_network_filesystem(path: Path, mountinfo: Path = MOUNTINFO) -> str:
    """Refuse network file systems; return the file system type for further warnings."""
    fstype = filesystem_type(path.resolve(), mountinfo)
    if fstype in NETWORK_FS and os.environ.get("AIRLOCK_ALLOW_NETWORK_FS") != "1":
        raise InvalidInput(
            f"{path} is on a network file system ({fstype}). SQLite's write-ahead log needs every "
            "process on one host, and locks over the network are unreliable: copy the workspace to "
            "a local disk."
        )
    return fstype


def memory_fs_notice(path: Path, fstype: str) -> list[str]:
    if fstype not in MEMORY_FS:
        return []
    return [
        f"Warning: {path} is on {fstype}, a file system in memory: the workspace is lost at the next "
        "reboot or power cut. Move it to a disk (or keep a backup on one)."
    ]


def _check_length(path: Path, conn: sqlcipher3.Connection) -> None:
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
    path = resolve_path(path)
    # What the file is comes first: a stray photo must read "not a workspace", not "truncated".
    probe_file(path, check_length=False)
    refuse_hard_links(path)
    notices = memory_fs_notice(path, refuse_network_filesystem(path))
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
            if header is not None:  # the key is right (header check): a foreign or damaged file
                raise _undecryptable(path, header) from None
            raise WrongKey(
                f"The recovery key does not open {path.name} (a key for another workspace, or a damaged file)."
            ) from None
        try:
            _check_length(path, conn)
            workspace_id = _workspace_id(conn, path, header)
            if header is not None:
                header, settled = rekey.reconcile(conn, header, header_file, writable=not read_only)
                notices += settled
            store = Store(path, key, workspace_id, read_only=read_only)
            check_and_upgrade(store.engine, conn, read_only=read_only)
        finally:
            conn.close()
        if header is None and not read_only:
            # The recovery key opened a workspace whose header was lost: write a fresh one.
            header = KeyHeader(workspace_id, keys.key_check(key, workspace_id), file_salt=keys.read_file_salt(path))
            header.write(header_file)
        if lock is not None:
            notices += leftovers.sweep(path.parent, locked_header=header_file)
            notices += blobs.sweep_notices(store)  # staged blobs a crash left (core.store.blobs)
        return OpenedStore(store, lock, header, tuple(notices))
    except BaseException:
        if lock is not None:
            _remove_new_sidecars(path, existed)
            lock.release(discard=True)
        else:
            _tidy_after_failed_read(path, existed)
        raise


def _undecryptable(path: Path, header: KeyHeader) -> AirlockError:
    """The right key (by the header's check) does not decrypt the file: whose file is it?"""
    salt = keys.read_file_salt(path)
    if header.file_salt is not None and salt is not None and salt != header.file_salt:
        return NotAWorkspace(
            f"{path.name} is not the database its key header {keys.header_path(path).name} belongs to "
            f"(workspace {header.workspace_id}): it is another workspace's file, or the header was copied "
            "from another workspace. Put each file beside its own key header; nothing was changed."
        )
    if header.file_salt is None:
        return WorkspaceCorrupted(
            f"{path} does not decrypt with the key its header accepts: the file is damaged, or it is "
            f"another workspace's file placed beside this header. If files were copied or renamed, check "
            "that it and its .keys file belong together; otherwise restore it from a backup."
        )
    return WorkspaceCorrupted(f"{path} is damaged: the right key no longer decrypts it. Restore it from a backup.")


def _workspace_id(conn: sqlcipher3.Connection, path: Path, header: KeyHeader | None) -> str:
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
    if path.parent.is_dir():
        path = Path(os.path.realpath(path.parent)) / path.name
    if role not in ROLES:
        raise InvalidInput(f"Unknown workspace role {role!r}; choose one of {', '.join(ROLES)}.")
    if not name.strip():
        raise InvalidInput("The workspace name must not be empty.")
    if not passphrase and not use_keyring:
        raise InvalidInput("A new workspace needs a passphrase when no keyring is used.")
    header_file = keys.header_path(path)
    if os.path.lexists(path) or os.path.lexists(header_file):
        raise WorkspaceExists(f"{path} already exists; choose another name or open it.")
    if not path.parent.is_dir():
        raise InvalidInput(f"The folder {path.parent} does not exist.")
    refuse_network_filesystem(path.parent)
    swept = leftovers.sweep(path.parent)

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
            created = {"name": name.strip(), "role": role, "keyring": use_keyring, "passphrase": bool(passphrase)}
            tx.audit("workspace.created", f"workspace:{workspace_id}", created)
            tx.audit("user.added", f"user:{creator}", {"roles": ["admin", "analyst"]})
        store.close()
        if use_keyring:
            keys.keyring_store(workspace_id, key)
            stored_in_keyring = True
        header.file_salt = keys.read_file_salt(tmp)
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
    if swept:
        opened = OpenedStore(opened.store, opened.lock, opened.header, tuple(swept) + opened.notices)
    return Created(opened, keys.format_recovery_key(key), use_keyring)


def user_exists(store: Store, name: str) -> bool:
    with store.read() as tx:
        return orm(tx).scalars(select(UserRow).where(UserRow.name == name)).first() is not None


__all__ = ["AirlockError", "Created", "OpenedStore", "create_workspace", "open_store", "probe_file"]
