"""The content-addressed blob store inside the encrypted file.

Blobs are split into 1 MiB chunks so neither writing nor reading ever holds a whole blob
in memory. A blob's key is the SHA-256 of its bytes; storing the same bytes twice stores
them once. Reads re-hash what they return and fail loudly on any mismatch.

A blob lives while a record references it (``blob_ref``, a foreign key that forbids
deleting a referenced blob); an area's persistence module adds the reference in the
transaction that writes the record. Two ways in:

* :func:`put_stream` stores a blob inside the caller's transaction (small attachments).
* :func:`stage` writes a large blob *before* the transaction that records it, a few chunks
  per short write transaction, so a long import never holds the single write lock while
  it encodes, encrypts and streams. The staged blob is "in flight" (``sha256`` NULL, found
  by no reader) until :meth:`StagedBlob.commit` finalises it in the caller's metadata
  transaction. A staged blob that no record references when its block ends is deleted;
  one left by a crash is removed by :func:`sweep`, which the writable open runs.

This module knows no area: owners are named by kind and id, never imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO, Protocol, Self

from sqlalchemy import Connection, Insert, delete, func, insert, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import AirlockError, IntegrityError, NotFound
from core.store.db import CACHE_KIB, Store, Transaction, orm, utc_now
from core.store.schema import BlobChunkRow, BlobRefRow, BlobRow
from core.tasks import TaskContext, ensure_context

CHUNK_SIZE = 1024 * 1024
#: Page cache while a blob streams in (see put_stream).
STREAM_CACHE_KIB = 4 * 1024
#: Bytes of a staged blob written per short write transaction: long enough that the commit
#: (one fsync of the log) costs little, short enough that another writer waits a moment only.
STAGE_BATCH_BYTES = 8 * CHUNK_SIZE
#: Chunks deleted per write transaction when a staged or orphaned blob is dropped.
DROP_BATCH_CHUNKS = 64

_UNREFERENCED = "NOT EXISTS (SELECT 1 FROM blob_ref r WHERE r.blob_id = blob.id)"


@dataclass(frozen=True, slots=True)
class BlobInfo:
    sha256: str
    size: int
    created_at: str
    new: bool = False


@dataclass(frozen=True, slots=True)
class BlobOwner:
    """The record that keeps a blob alive: its kind (its table, named by the area's
    persistence module, e.g. ``dataset_version``) and its id."""

    kind: str
    id: str


def add_ref(tx: Transaction, sha256: str, owner: BlobOwner) -> None:
    """Record that ``owner`` keeps blob ``sha256`` (idempotent), in the owner's transaction.

    Raises
    ------
    NotFound
        No finalised blob has that hash.
    """
    blob_id = orm(tx).scalar(select(BlobRow.id).where(BlobRow.sha256 == sha256))
    if blob_id is None:
        raise NotFound(f"No blob {sha256[:12]}… in this workspace.")
    orm(tx).execute(
        sqlite_insert(BlobRefRow)
        .values(blob_id=blob_id, owner_kind=owner.kind, owner_id=owner.id, created_at=utc_now())
        .on_conflict_do_nothing()
    )


def owners(tx: Transaction, sha256: str) -> list[BlobOwner]:
    """The records that keep blob ``sha256`` (none: it is swept at the next writable open)."""
    rows = orm(tx).execute(
        select(BlobRefRow.owner_kind, BlobRefRow.owner_id)
        .join(BlobRow, BlobRow.id == BlobRefRow.blob_id)
        .where(BlobRow.sha256 == sha256)
        .order_by(BlobRefRow.owner_kind, BlobRefRow.owner_id)
    ).all()
    return [BlobOwner(kind, owner_id) for kind, owner_id in rows]


class ByteSource(Protocol):
    """What a blob is read from: anything with a binary ``read``.

    A file or :class:`io.BytesIO`, or a raw stream (:class:`io.RawIOBase`), which may return
    fewer bytes than asked for, or ``None`` when it has none ready; :func:`_read_full` copes.
    """

    def read(self, size: int = -1, /) -> bytes | None: ...


def put_stream(
    tx: Transaction, source: ByteSource, *, size_hint: int | None = None, ctx: TaskContext | None = None,
    owner: BlobOwner | None = None,
) -> BlobInfo:
    """Store everything ``source`` yields, chunk by chunk, in this transaction.

    ``owner``: the record that keeps the blob (see :func:`add_ref`). Without one, the blob
    must be referenced in this transaction, or the next writable open sweeps it.
    """
    ctx = ensure_context(ctx)
    row = BlobRow(sha256=None, size=0, chunk_size=CHUNK_SIZE, created_at=utc_now())
    orm(tx).add(row)
    orm(tx).flush()
    digest = hashlib.sha256()
    conn = orm(tx).connection()
    statement = insert(BlobChunkRow)
    # A small page cache while streaming: SQLCipher then encrypts and writes pages to the
    # log as chunks arrive (overlapping whatever produces them) instead of leaving up to the
    # whole cache to encrypt at commit. Restored afterwards.
    conn.exec_driver_sql(f"PRAGMA cache_size = -{STREAM_CACHE_KIB}")
    try:
        total = _put_chunks(conn, statement, row.id, source, digest, size_hint, ctx)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
    sha = digest.hexdigest()
    existing = orm(tx).scalars(select(BlobRow).where(BlobRow.sha256 == sha)).first()
    if existing is not None:
        conn.execute(delete(BlobChunkRow).where(BlobChunkRow.blob_id == row.id))
        orm(tx).delete(row)
        orm(tx).flush()
        result = BlobInfo(sha, existing.size, existing.created_at, new=False)
    else:
        row.sha256 = sha
        row.size = total
        orm(tx).flush()
        result = BlobInfo(sha, total, row.created_at, new=True)
    if owner is not None:
        add_ref(tx, sha, owner)
    ctx.report(1.0, "Stored")
    return result


def _read_full(source: ByteSource, n: int) -> bytes:
    """Up to ``n`` bytes: fewer only at the end (a raw stream may return short reads)."""
    chunk = source.read(n)
    if not chunk or len(chunk) == n:
        return chunk or b""
    parts = [chunk]
    got = len(chunk)
    while got < n:
        more = source.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _put_chunks(
    conn: Connection, statement: Insert, blob_id: int, source: ByteSource, digest: hashlib._Hash, size_hint: int | None,
    ctx: TaskContext,
) -> int:
    """Insert ``source``'s chunks in order, hashing them; the number of bytes."""
    seq = total = 0
    while True:
        ctx.check()
        chunk = _read_full(source, CHUNK_SIZE)
        if not chunk:
            return total
        digest.update(chunk)
        conn.execute(statement, {"blob_id": blob_id, "seq": seq, "data": chunk})
        seq += 1
        total += len(chunk)
        if size_hint:
            ctx.report(total / size_hint, "Storing")


def put_bytes(tx: Transaction, data: bytes, *, owner: BlobOwner | None = None) -> BlobInfo:
    return put_stream(tx, io.BytesIO(data), owner=owner)


# --- staging -------------------------------------------------------------------------------

_in_flight_lock = threading.Lock()
#: Staged blob ids of this process's live uploads, per workspace file: the sweep spares them.
_in_flight: dict[str, set[int]] = {}


def _in_flight_ids(store: Store) -> set[int]:
    with _in_flight_lock:
        return set(_in_flight.get(str(store.path), ()))


class StagedBlob:
    """A blob written ahead of the record that will keep it; use through :func:`stage`.

    :meth:`write` streams the bytes in short write transactions; :meth:`commit`, inside the
    caller's write transaction, finalises the blob (or finds an identical one already
    stored) so the caller can reference it there. Leaving the ``with`` block deletes the
    staged blob unless a record references it by then (best effort; the sweep removes
    whatever a crash leaves).
    """

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor
        self._id: int | None = None
        self._sha256: str | None = None
        self._size = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        self.discard()

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            raise RuntimeError("Nothing was staged yet: call write() first.")
        return self._sha256

    @property
    def size(self) -> int:
        return self._size

    def write(self, source: ByteSource, *, size_hint: int | None = None, ctx: TaskContext | None = None) -> None:
        """Stream everything ``source`` yields into the staged blob.

        ``source`` is read outside any transaction; each :data:`STAGE_BATCH_BYTES` of it is
        written in one short write transaction.

        Raises
        ------
        Cancelled
            Through ``ctx``; what was staged is deleted when the block ends.
        """
        if self._id is not None:
            raise RuntimeError("A staged blob is written once.")
        ctx = ensure_context(ctx)
        with self._store.write(self._actor) as tx:
            row = BlobRow(sha256=None, size=0, chunk_size=CHUNK_SIZE, created_at=utc_now())
            orm(tx).add(row)
            orm(tx).flush()
            self._id = row.id
        with _in_flight_lock:
            _in_flight.setdefault(str(self._store.path), set()).add(row.id)
        digest = hashlib.sha256()
        pending: list[bytes] = []
        pending_bytes = seq = total = 0
        while True:
            ctx.check()
            chunk = _read_full(source, CHUNK_SIZE)
            if chunk:
                digest.update(chunk)
                pending.append(chunk)
                pending_bytes += len(chunk)
                total += len(chunk)
            if pending and (not chunk or pending_bytes >= STAGE_BATCH_BYTES):
                ctx.check()
                self._append(seq, pending)
                seq += len(pending)
                pending, pending_bytes = [], 0
            if not chunk:
                break
            if size_hint:
                ctx.report(min(1.0, total / size_hint), "Storing")
        self._sha256 = digest.hexdigest()
        self._size = total

    def _append(self, first_seq: int, chunks: list[bytes]) -> None:
        with self._store.write(self._actor) as tx:
            conn = orm(tx).connection()
            conn.exec_driver_sql(f"PRAGMA cache_size = -{STREAM_CACHE_KIB}")
            try:
                conn.execute(
                    insert(BlobChunkRow),
                    [{"blob_id": self._id, "seq": first_seq + i, "data": c} for i, c in enumerate(chunks)],
                )
            finally:
                conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")

    def commit(self, tx: Transaction) -> BlobInfo:
        """Finalise the staged blob in ``tx``, the caller's metadata transaction.

        Returns the blob to reference: this one (``new``), or an identical one stored
        before (not ``new``; the staged copy is deleted when the block ends). Reference it
        in ``tx`` (:func:`add_ref`), or it is deleted when the block ends.

        Raises
        ------
        IntegrityError
            The staged rows are gone (they were removed behind this upload's back).
        """
        sha = self.sha256
        existing = orm(tx).scalars(select(BlobRow).where(BlobRow.sha256 == sha)).first()
        if existing is not None:
            return BlobInfo(sha, existing.size, existing.created_at, new=False)
        row = orm(tx).get(BlobRow, self._id)
        if row is None or row.sha256 is not None:
            raise IntegrityError("The staged upload vanished from the workspace before it was recorded; import again.")
        row.sha256 = sha
        row.size = self._size
        orm(tx).flush()
        return BlobInfo(sha, self._size, row.created_at, new=True)

    def discard(self) -> None:
        """Delete the staged blob unless a record references it (best effort: what a busy store
        keeps, the next writable open sweeps)."""
        blob_id, self._id = self._id, None
        if blob_id is None:
            return
        try:
            with contextlib.suppress(AirlockError):  # a busy store: the next writable open sweeps it
                _drop(self._store, self._actor, blob_id)
        finally:
            with _in_flight_lock:
                _in_flight.get(str(self._store.path), set()).discard(blob_id)


def stage(store: Store, actor: str) -> StagedBlob:
    """A blob staged in short transactions, for ``with stage(store, actor) as staged:``."""
    return StagedBlob(store, actor)


def _drop(store: Store, actor: str, blob_id: int) -> bool:
    """Delete an unreferenced blob in short transactions; False if it is referenced or gone.

    It first loses its hash (in flight again), so no new reference can find it while its
    chunks go, a batch per transaction.
    """
    with store.write(actor) as tx:
        conn = orm(tx).connection()
        hit = conn.execute(
            text(f"UPDATE blob SET sha256 = NULL WHERE id = :id AND {_UNREFERENCED}"), {"id": blob_id}
        ).rowcount
        if not hit:
            return False
        last = conn.execute(
            select(func.max(BlobChunkRow.seq)).where(BlobChunkRow.blob_id == blob_id)
        ).scalar()
    low = 0
    while last is not None and low <= last:
        with store.write(actor) as tx:
            orm(tx).execute(delete(BlobChunkRow).where(
                BlobChunkRow.blob_id == blob_id, BlobChunkRow.seq >= low, BlobChunkRow.seq < low + DROP_BATCH_CHUNKS,
            ))
        low += DROP_BATCH_CHUNKS
    with store.write(actor) as tx:
        orm(tx).connection().execute(text(f"DELETE FROM blob WHERE id = :id AND {_UNREFERENCED}"), {"id": blob_id})
    return True


def sweep(store: Store, actor: str = "") -> int:
    """Delete every blob that no record references, except this process's live uploads.

    Run by the writable open (:func:`core.store.opening.open_store`): what it finds was left
    by a crash or a failed clean-up (a staged upload) or stored without an owner.

    Returns
    -------
    int
        The number of blobs deleted.
    """
    with store.read(actor) as tx:
        orphans = orm(tx).connection().execute(text(f"SELECT id FROM blob WHERE {_UNREFERENCED}")).scalars().all()
    spared = _in_flight_ids(store)
    return sum(_drop(store, actor, int(blob_id)) for blob_id in orphans if blob_id not in spared)


def sweep_notices(store: Store) -> list[str]:
    """:func:`sweep`, as the sentence the writable open passes on once (none when nothing was
    swept, or when the store was too busy to sweep: the next open tries again)."""
    try:
        count = sweep(store)
    except AirlockError:
        return []
    if not count:
        return []
    return [
        f"Removed {count} stored file{'s' if count != 1 else ''} that no record keeps "
        "(left by an interrupted or failed import)."
    ]


def info(tx: Transaction, sha256: str) -> BlobInfo:
    row = orm(tx).scalars(select(BlobRow).where(BlobRow.sha256 == sha256)).first()
    if row is None:
        raise NotFound(f"No blob {sha256[:12]}… in this workspace.")
    return BlobInfo(sha256, row.size, row.created_at)


def iter_chunks(tx: Transaction, sha256: str) -> Iterator[bytes]:
    """Yield a blob's bytes chunk by chunk, verifying its hash at the end."""
    row = orm(tx).scalars(select(BlobRow).where(BlobRow.sha256 == sha256)).first()
    if row is None:
        raise NotFound(f"No blob {sha256[:12]}… in this workspace.")
    conn = orm(tx).connection()
    digest = hashlib.sha256()
    count = conn.execute(select(func.count()).where(BlobChunkRow.blob_id == row.id)).scalar_one()
    for seq in range(count):
        data = conn.execute(
            select(BlobChunkRow.data).where(BlobChunkRow.blob_id == row.id, BlobChunkRow.seq == seq)
        ).scalar_one_or_none()
        if data is None:
            raise IntegrityError(f"Blob {sha256[:12]}… is missing chunk {seq}.")
        digest.update(data)
        yield data
    if digest.hexdigest() != sha256:
        raise IntegrityError(f"Blob {sha256[:12]}… does not match its hash: it was altered.")


def read_bytes(tx: Transaction, sha256: str) -> bytearray:
    """The whole blob in one buffer, filled chunk by chunk (never twice its size in memory)."""
    out = bytearray(info(tx, sha256).size)
    at = 0
    for chunk in iter_chunks(tx, sha256):
        out[at : at + len(chunk)] = chunk
        at += len(chunk)
    if at != len(out):
        raise IntegrityError(f"Blob {sha256[:12]}… holds {at:,} bytes, not the {len(out):,} recorded.")
    return out


class BlobReader(io.RawIOBase):
    """A seekable, read-only view of one blob that fetches its chunks on demand.

    At most ``cache_chunks`` decrypted chunks are held at once. Chunks met in order
    (0, 1, 2, …) are hashed on the way; :meth:`verify` hashes whatever was skipped and
    compares the whole with the blob's SHA-256, so a reader that read everything (a full
    Parquet scan reads the footer first, then the row groups forward) pays little extra.
    Calls are serialised by a lock: Arrow may read from its own I/O threads. Valid only
    inside the transaction it was opened in.

    With ``read_ahead`` chunks, one helper thread does every fetch (SQLCipher decrypts as the
    chunk is selected) and the hashing, and keeps that many chunks fetched past the last one
    asked for: a forward scan decodes one row group while the next is decrypted. The
    connection is still used by one thread at a time (the helper, while it exists), and the
    digest is still of the chunks in order. :meth:`verify` and :meth:`close` end the helper.
    """

    def __init__(self, tx: Transaction, row: BlobRow, cache_chunks: int = 4, read_ahead: int = 0) -> None:
        super().__init__()
        self._conn = orm(tx).connection()
        self._blob_id = row.id
        self._sha256 = str(row.sha256)
        self._size = int(row.size)
        self._chunk_size = int(row.chunk_size)
        self._chunks = -(-self._size // self._chunk_size) if self._size else 0
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_chunks = max(1, cache_chunks)
        self._pos = 0
        self._digest = hashlib.sha256()
        self._hashed = 0  # chunks 0.._hashed-1 are in the digest
        self._lock = threading.Lock()
        self.fetches = 0
        self._read_ahead = max(0, read_ahead)
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="airlock-blob-read") if read_ahead > 0 else None
        self._ahead: dict[int, Future[bytes]] = {}  # chunks the helper fetches or has fetched
        self._unhashed: dict[int, bytes] = {}  # the helper's own: chunks met before their turn to be hashed

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._lock:
            if whence == io.SEEK_SET:
                pos = offset
            elif whence == io.SEEK_CUR:
                pos = self._pos + offset
            elif whence == io.SEEK_END:
                pos = self._size + offset
            else:
                raise ValueError(f"invalid whence {whence}")
            if pos < 0:
                raise ValueError("negative seek position")
            self._pos = pos
            return pos

    def _load(self, seq: int) -> bytes:
        """Chunk ``seq`` from the store, its size checked."""
        data = self._conn.execute(
            select(BlobChunkRow.data).where(BlobChunkRow.blob_id == self._blob_id, BlobChunkRow.seq == seq)
        ).scalar_one_or_none()
        if data is None:
            raise IntegrityError(f"Blob {self._sha256[:12]}… is missing chunk {seq}.")
        expected = min(self._chunk_size, self._size - seq * self._chunk_size)
        if len(data) != expected:
            raise IntegrityError(f"Blob {self._sha256[:12]}… chunk {seq} has the wrong size: it was altered.")
        return bytes(data)

    def _load_and_hash(self, seq: int) -> bytes:
        """The helper's job: chunk ``seq``, and every chunk that can be hashed in order, hashed.

        Chunks met before their turn wait in ``_unhashed`` (the footer, read first, until the
        scan reaches it); past ``cache_chunks`` of them the latest are dropped, and
        :meth:`verify` fetches whatever was not hashed. Only the helper touches the digest
        while it exists.
        """
        data = self._load(seq)
        if seq >= self._hashed:
            self._unhashed[seq] = data
            while self._hashed in self._unhashed:
                self._digest.update(self._unhashed.pop(self._hashed))
                self._hashed += 1
            while len(self._unhashed) > self._cache_chunks:
                del self._unhashed[max(self._unhashed)]
        return data

    def _fetch(self, seq: int) -> bytes:
        data = self._cache.get(seq)
        if data is not None:
            self._cache.move_to_end(seq)
            return data
        self.fetches += 1
        if self._helper is None:
            data = self._load(seq)
            self._cache[seq] = data
            while self._hashed in self._cache:  # chunks read slightly out of order still count
                self._digest.update(self._cache[self._hashed])
                self._hashed += 1
        else:
            data = self._from_helper(seq)
            self._cache[seq] = data
        while len(self._cache) > self._cache_chunks:
            self._cache.popitem(last=False)
        return data

    def _from_helper(self, seq: int) -> bytes:
        """Chunk ``seq`` through the helper, with the next ``read_ahead`` chunks asked for after it."""
        assert self._helper is not None
        pending = self._ahead.pop(seq, None)
        if pending is None:  # a jump: what was asked for ahead of the old place is not needed first
            for other in self._ahead.values():
                other.cancel()
            self._ahead = {k: f for k, f in self._ahead.items() if not f.cancelled()}
            pending = self._helper.submit(self._load_and_hash, seq)
        for following in range(seq + 1, min(seq + 1 + self._read_ahead, self._chunks)):
            if following not in self._cache and following not in self._ahead:
                self._ahead[following] = self._helper.submit(self._load_and_hash, following)
        return pending.result()

    def _end_helper(self) -> None:
        """Stop the helper (its fetches in flight finish first); the digest is this thread's again."""
        if self._helper is None:
            return
        self._helper.shutdown(wait=True, cancel_futures=True)
        self._helper = None
        self._ahead.clear()  # a failure among them is raised again if that chunk is read
        self._unhashed.clear()

    def close(self) -> None:
        with self._lock:
            self._end_helper()
        super().close()

    def readinto(self, buffer: Any) -> int:
        with self._lock:
            view = memoryview(buffer).cast("B")
            want = min(len(view), max(0, self._size - self._pos))
            done = 0
            while done < want:
                seq, start = divmod(self._pos, self._chunk_size)
                data = self._fetch(seq)
                n = min(want - done, len(data) - start)
                view[done:done + n] = memoryview(data)[start:start + n]  # no copy of the slice first
                done += n
                self._pos += n
            return done

    def readall(self) -> bytes:
        return self.read(max(0, self._size - self._pos))

    def verify(self) -> None:
        """Check the blob against its SHA-256, fetching only the chunks not yet hashed in order.

        Raises
        ------
        IntegrityError
            A chunk is missing or the bytes do not match the hash.
        """
        with self._lock:
            self._end_helper()
            while self._hashed < self._chunks:
                self._cache.pop(self._hashed, None)
                self._fetch(self._hashed)  # hashes it, and any cached chunks after it
            if self._digest.hexdigest() != self._sha256:
                raise IntegrityError(f"Blob {self._sha256[:12]}… does not match its hash: it was altered.")


def open_reader(tx: Transaction, sha256: str, *, cache_chunks: int = 4, read_ahead: int = 0) -> BlobReader:
    """A seekable file-like reader over a blob's chunks (for ``pyarrow.parquet.ParquetFile``).

    Holds at most ``cache_chunks`` chunks in memory. Random access cannot check the hash
    as it goes: call :meth:`BlobReader.verify` after reading to detect tampering.

    Raises
    ------
    NotFound
        No such blob.
    """
    row = orm(tx).scalars(select(BlobRow).where(BlobRow.sha256 == sha256)).first()
    if row is None:
        raise NotFound(f"No blob {sha256[:12]}… in this workspace.")
    return BlobReader(tx, row, cache_chunks, read_ahead)


def copy_to(tx: Transaction, sha256: str, target: BinaryIO, ctx: TaskContext | None = None) -> int:
    ctx = ensure_context(ctx)
    total = info(tx, sha256).size
    written = 0
    for chunk in iter_chunks(tx, sha256):
        ctx.check()
        target.write(chunk)
        written += len(chunk)
        if total:
            ctx.report(written / total, "Reading")
    return written


def stats(tx: Transaction) -> tuple[int, int]:
    """Number of blobs and their total size in bytes."""
    count, size = orm(tx).execute(
        select(func.count(BlobRow.id), func.coalesce(func.sum(BlobRow.size), 0)).where(BlobRow.sha256.is_not(None))
    ).one()
    return int(count), int(size)
