"""The content-addressed blob store inside the encrypted file.

Blobs are split into 1 MiB chunks so neither writing nor reading ever holds a whole blob
in memory. A blob's key is the SHA-256 of its bytes; storing the same bytes twice stores
them once. Reads re-hash what they return and fail loudly on any mismatch.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import delete, func, select

from core.errors import IntegrityError, NotFound
from core.store.db import CACHE_KIB, orm, Transaction, utc_now
from core.store.schema import BlobChunkRow, BlobRow
from core.tasks import TaskContext, ensure_context

CHUNK_SIZE = 1024 * 1024
#: Page cache while a blob streams in (see put_stream).
STREAM_CACHE_KIB = 4 * 1024


@dataclass(frozen=True, slots=True)
class BlobInfo:
    sha256: str
    size: int
    created_at: str
    new: bool = False


def put_stream(tx: Transaction, source: BinaryIO, *, size_hint: int | None = None, ctx: TaskContext | None = None) -> BlobInfo:
    """Store everything ``source`` yields, chunk by chunk, in this transaction."""
    ctx = ensure_context(ctx)
    row = BlobRow(sha256=None, size=0, chunk_size=CHUNK_SIZE, created_at=utc_now())
    orm(tx).add(row)
    orm(tx).flush()
    digest = hashlib.sha256()
    conn = orm(tx).connection()
    insert = BlobChunkRow.__table__.insert()
    # A small page cache while streaming: SQLCipher then encrypts and writes pages to the
    # log as chunks arrive (overlapping whatever produces them) instead of leaving up to the
    # whole cache to encrypt at commit. Restored afterwards.
    conn.exec_driver_sql(f"PRAGMA cache_size = -{STREAM_CACHE_KIB}")
    try:
        total = _put_chunks(conn, insert, row.id, source, digest, size_hint, ctx)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{CACHE_KIB}")
    sha = digest.hexdigest()
    existing = orm(tx).scalars(select(BlobRow).where(BlobRow.sha256 == sha)).first()
    if existing is not None:
        conn.execute(delete(BlobChunkRow).where(BlobChunkRow.blob_id == row.id))
        orm(tx).delete(row)
        orm(tx).flush()
        ctx.report(1.0, "Stored")
        return BlobInfo(sha, existing.size, existing.created_at, new=False)
    row.sha256 = sha
    row.size = total
    orm(tx).flush()
    ctx.report(1.0, "Stored")
    return BlobInfo(sha, total, row.created_at, new=True)


def _put_chunks(
    conn: Any, insert: Any, blob_id: int, source: BinaryIO, digest: Any, size_hint: int | None, ctx: TaskContext,
) -> int:
    """Insert ``source``'s chunks in order, hashing them; the number of bytes."""
    seq = total = 0
    while True:
        ctx.check()
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            return total
        digest.update(chunk)
        conn.execute(insert, {"blob_id": blob_id, "seq": seq, "data": chunk})
        seq += 1
        total += len(chunk)
        if size_hint:
            ctx.report(total / size_hint, "Storing")


def put_bytes(tx: Transaction, data: bytes) -> BlobInfo:
    return put_stream(tx, io.BytesIO(data))


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
    """

    def __init__(self, tx: Transaction, row: BlobRow, cache_chunks: int = 4) -> None:
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

    def _fetch(self, seq: int) -> bytes:
        data = self._cache.get(seq)
        if data is not None:
            self._cache.move_to_end(seq)
            return data
        data = self._conn.execute(
            select(BlobChunkRow.data).where(BlobChunkRow.blob_id == self._blob_id, BlobChunkRow.seq == seq)
        ).scalar_one_or_none()
        if data is None:
            raise IntegrityError(f"Blob {self._sha256[:12]}… is missing chunk {seq}.")
        self.fetches += 1
        expected = min(self._chunk_size, self._size - seq * self._chunk_size)
        if len(data) != expected:
            raise IntegrityError(f"Blob {self._sha256[:12]}… chunk {seq} has the wrong size: it was altered.")
        self._cache[seq] = data
        while self._hashed in self._cache:  # chunks read slightly out of order still count
            self._digest.update(self._cache[self._hashed])
            self._hashed += 1
        while len(self._cache) > self._cache_chunks:
            self._cache.popitem(last=False)
        return data

    def readinto(self, buffer: Any) -> int:
        with self._lock:
            view = memoryview(buffer).cast("B")
            want = min(len(view), max(0, self._size - self._pos))
            done = 0
            while done < want:
                seq, start = divmod(self._pos, self._chunk_size)
                data = self._fetch(seq)
                n = min(want - done, len(data) - start)
                view[done:done + n] = data[start:start + n]
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
            while self._hashed < self._chunks:
                self._cache.pop(self._hashed, None)
                self._fetch(self._hashed)  # hashes it, and any cached chunks after it
            if self._digest.hexdigest() != self._sha256:
                raise IntegrityError(f"Blob {self._sha256[:12]}… does not match its hash: it was altered.")


def open_reader(tx: Transaction, sha256: str, *, cache_chunks: int = 4) -> BlobReader:
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
    return BlobReader(tx, row, cache_chunks)


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
