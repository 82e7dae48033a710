"""The encrypted store: one SQLCipher file opened through SQLAlchemy.

Every pooled connection is keyed first, then gets the pinned cipher settings, is checked by
a read of ``sqlite_master``, and only then gets ``temp_store=MEMORY``, WAL,
``synchronous=FULL``, a busy timeout and foreign keys. Writers take ``BEGIN IMMEDIATE`` so
appends to the audit chain are serialised. Driver errors become the project's own errors
in :func:`translate_error`; nothing above this package sees SQLAlchemy or sqlcipher3.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import create_engine, event, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from core.audit.chain import canonical_details, entry_hash
from core.audit.models import AuditEvent, ChainHead
from core.errors import (
    AirlockError,
    DiskFull,
    ReadOnlyWorkspace,
    UnsafeEnvironment,
    WorkspaceCorrupted,
    WorkspaceInUse,
    WrongKey,
)
from core.outcome import write_forbidden_by
from core.store.schema import AuditEventRow, WorkspaceRow

#: 16 KiB pages with HMAC-SHA256: per-page crypto dominates blob streaming, and this pair
#: streams blobs at about 1.6x the speed of SQLCipher 4's 4 KiB / HMAC-SHA512 default with no
#: loss on row operations (benchmarks/store_bench.py). HMAC-SHA256 is a full-strength MAC.
PAGE_SIZE = 16384
HMAC_ALGORITHM = "HMAC_SHA256"
#: Decrypted pages kept per connection (negative: KiB), so hot tables are decrypted once.
CACHE_KIB = 32 * 1024
BUSY_TIMEOUT_MS = 10_000

#: Pinned so a library upgrade cannot change how existing workspaces and backups are read.
CIPHER_PRAGMAS = (
    "PRAGMA cipher_compatibility = 4",
    f"PRAGMA cipher_page_size = {PAGE_SIZE}",
    "PRAGMA kdf_iter = 256000",
    f"PRAGMA cipher_hmac_algorithm = {HMAC_ALGORITHM}",
    "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA512",
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def raw_key_literal(key: bytes) -> str:
    return f"\"x'{key.hex()}'\""


def connect_raw(path: Path, key: bytes, *, read_only: bool = False, wal: bool = True) -> sqlcipher3.Connection:
    """A keyed, checked, configured DB-API connection. Nothing is written before the check.

    ``wal=False`` leaves the journal mode as the file has it: for probing a file that may
    not be a workspace at all (switching to WAL rewrites its header).
    """
    if read_only:
        conn = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None)
    try:
        # SQLCipher logs "ERROR CORE" lines to stderr on a wrong key or a damaged page; the
        # caller turns those cases into clear errors of its own.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = {raw_key_literal(key)}")
        for pragma in CIPHER_PRAGMAS:
            conn.execute(pragma)
        version = conn.execute("PRAGMA cipher_version").fetchone()
        if not version or not version[0]:
            raise UnsafeEnvironment("The SQLite driver has no SQLCipher: refusing to write unencrypted data.")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            raise WrongKey(f"The key does not decrypt {path.name}, or the file is damaged ({exc}).") from None
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if not read_only and wal:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if read_only:
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def cipher_versions() -> tuple[str | None, str | None]:
    """SQLCipher's version and its crypto provider's, from an in-memory database (None: missing)."""
    conn = sqlcipher3.connect(":memory:")
    try:
        cipher = conn.execute("PRAGMA cipher_version").fetchone()
        provider = conn.execute("PRAGMA cipher_provider_version").fetchone()
    finally:
        conn.close()
    return (cipher[0] if cipher and cipher[0] else None, provider[0] if provider and provider[0] else None)


def attach_encrypted(conn: sqlcipher3.Connection, path: Path, alias: str, key: bytes) -> None:
    """Attach ``path`` under ``alias`` with this format's pinned cipher settings.

    An attached database otherwise gets SQLCipher's process defaults, not the settings pinned
    on the main connection, and would be written in a format workspaces cannot open.
    """
    conn.execute(f"ATTACH DATABASE ? AS {alias} KEY {raw_key_literal(key)}", (str(path),))
    for pragma in CIPHER_PRAGMAS:
        if "cipher_compatibility" not in pragma:  # a connection-wide setting, not per schema
            conn.execute(pragma.replace("PRAGMA ", f"PRAGMA {alias}.", 1))


def translate_error(exc: BaseException) -> AirlockError:
    """Turn a driver error into one the user can act on."""
    text = str(getattr(exc, "orig", exc))
    lowered = text.lower()
    if "database is locked" in lowered or "database is busy" in lowered:
        return WorkspaceInUse("The workspace is busy in another process; try again in a moment.")
    if "database or disk is full" in lowered or getattr(getattr(exc, "orig", exc), "sqlite_errorcode", None) == 13:
        return DiskFull(
            "The disk holding the workspace is full: the change was not saved and the workspace is intact "
            "(it was rolled back). Free some space and try again."
        )
    if "malformed" in lowered or "not a database" in lowered or "disk i/o" in lowered:
        return WorkspaceCorrupted(f"The workspace file is damaged: {text}. Restore it from a backup.")
    if "readonly" in lowered or "read-only" in lowered or "query_only" in lowered:
        return ReadOnlyWorkspace("This workspace is open read-only.")
    return WorkspaceCorrupted(f"Storage error: {text}")


class Transaction:
    """One unit of work: who is acting, whether it may write, and the audit append for this change.

    The ORM session inside stays private to ``core.store``: the persistence modules reach it
    through :func:`orm`; services only pass the transaction on.
    """

    __slots__ = ("_session", "actor", "workspace_id", "writable")

    def __init__(self, session: Session, actor: str, workspace_id: str, writable: bool) -> None:
        self._session = session
        self.actor = actor
        self.workspace_id = workspace_id
        self.writable = writable

    def audit(self, action: str, subject: str, details: dict[str, Any] | None = None) -> AuditEvent:
        """Append an audit event in this transaction, linked to the current head."""
        if not self.writable:
            raise ReadOnlyWorkspace("Cannot record a change in a read-only transaction.")
        ws = self._session.get(WorkspaceRow, self.workspace_id)
        if ws is None:
            raise WorkspaceCorrupted("The workspace record is missing.")
        seq = ws.audit_head_seq + 1
        at = utc_now()
        details_json = canonical_details(details)
        digest = entry_hash(seq, at, self.actor, action, subject, details_json, ws.audit_head_hash)
        self._session.add(
            AuditEventRow(
                seq=seq, at=at, actor=self.actor, action=action, subject=subject,
                details=details_json, prev_hash=ws.audit_head_hash, hash=digest,
            )
        )
        ev = AuditEvent(seq, at, self.actor, action, subject, details or {}, ws.audit_head_hash, digest)
        ws.audit_head_seq = seq
        ws.audit_head_hash = digest
        self._session.flush()
        return ev

    def head(self) -> ChainHead:
        ws = self._session.get(WorkspaceRow, self.workspace_id)
        assert ws is not None
        return ChainHead(ws.audit_head_seq, ws.audit_head_hash)


def orm(tx: Transaction) -> Session:
    """The ORM session of ``tx``, for the persistence modules of ``core.store`` only."""
    return tx._session


class Store:
    """An open workspace file. Thread-safe: each transaction takes its own pooled connection."""

    def __init__(self, path: Path, key: bytes, workspace_id: str, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.workspace_id = workspace_id
        self._key = key
        self._local = threading.local()
        self.engine: Engine = create_engine(
            "sqlite+pysqlite://",
            module=sqlcipher3,
            creator=lambda: self._connect(),
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=4,
            pool_pre_ping=False,
        )
        event.listen(self.engine, "begin", self._on_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._checkpointer = None if read_only else _Checkpointer(self)

    def _connect(self) -> sqlcipher3.Connection:
        conn = connect_raw(self.path, self._key, read_only=self.read_only)
        if not self.read_only:
            # Checkpoints run on the store's own thread (see _Checkpointer), not inside a commit.
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        return conn

    @property
    def key(self) -> bytes:
        return self._key

    @staticmethod
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("airlock_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    @contextlib.contextmanager
    def write(self, actor: str) -> Iterator[Transaction]:
        """A write transaction: commits on success, rolls back on any error."""
        if self.read_only:
            raise ReadOnlyWorkspace("This workspace is open read-only; reopen it to make changes.")
        forbidden_by = write_forbidden_by()
        if forbidden_by is not None:
            # A programming error, not a user's: a query (or work routed as one) tried to write.
            raise RuntimeError(f"{forbidden_by} tried to open a write transaction; make it a mutation.")
        with self._scope(actor, writable=True) as tx:
            yield tx

    @contextlib.contextmanager
    def read(self, actor: str = "") -> Iterator[Transaction]:
        """A read transaction: one consistent snapshot, never writes."""
        with self._scope(actor, writable=False) as tx:
            yield tx

    @contextlib.contextmanager
    def _scope(self, actor: str, writable: bool) -> Iterator[Transaction]:
        bind = self.engine.execution_options(airlock_write=writable)
        session = self._sessions(bind=bind)
        try:
            yield Transaction(session, actor, self.workspace_id, writable)
            if writable:
                session.commit()
                if self._checkpointer is not None:
                    self._checkpointer.poke()
            else:
                session.rollback()
        except sa_exc.DBAPIError as exc:
            session.rollback()
            raise translate_error(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def raw_connection(self) -> Iterator[sqlcipher3.Connection]:
        """A pooled DB-API connection for work SQLAlchemy cannot express (export, checks)."""
        fairy = self.engine.raw_connection()
        try:
            yield fairy.driver_connection
        finally:
            fairy.close()

    def checkpoint(self) -> None:
        if self.read_only:
            return
        with self.raw_connection() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        try:
            self.checkpoint()
        except Exception:  # closing must not fail because another reader is busy
            pass
        self.engine.dispose()


class _Checkpointer:
    """Copies committed pages from the write-ahead log into the workspace file, off the caller's thread.

    SQLite's automatic checkpoint runs inside the commit that crosses its threshold, so the
    user waits for a copy of everything written since the last one (a third of a second
    after a 100 MB import). SQLite's advice for that is to turn automatic checkpoints off
    and run them on a thread of one's own: this one wakes after each write transaction and
    runs a PASSIVE checkpoint, which never blocks readers or writers. Committed data is
    durable in the log either way; a crash before a checkpoint loses nothing. Closing the
    store stops the thread and truncates the log.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def poke(self) -> None:
        with self._lock:
            if self._stopping:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="airlock-checkpoint", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                with self._store.raw_connection() as conn:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # a busy or closing store: the next poke, or close(), tries again
                pass

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()


def read_workspace_row(tx: Transaction) -> WorkspaceRow | None:
    return orm(tx).scalars(select(WorkspaceRow)).first()
