"""The content-addressed blob store inside the encrypted file.

Blobs are split into 1 MiB chunks so neither writing nor reading ever holds a whole blob
in memory. A blob's key is the SHA-256 of its bytes; storing the same bytes twice stores
them once. Reads re-hash what they return and fail loudly on any mismatch.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, func, select

from core.errors import IntegrityError, NotFound
from core.store.db import Transaction, utc_now
from core.store.schema import BlobChunkRow, BlobRow
from core.tasks import TaskContext, ensure_context

CHUNK_SIZE = 1024 * 1024


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
    tx.session.add(row)
    tx.session.flush()
    digest = hashlib.sha256()
    conn = tx.session.connection()
    insert = BlobChunkRow.__table__.insert()
    seq = 0
    total = 0
    while True:
        ctx.check()
        chunk = source.read(CHUNK_SIZE)
        if not chunk:
            break
        digest.update(chunk)
        conn.execute(insert, {"blob_id": row.id, "seq": seq, "data": chunk})
        seq += 1
        total += len(chunk)
        if size_hint:
            ctx.report(total / size_hint, "Storing")
    sha = digest.hexdigest()
    existing = tx.session.scalars(select(BlobRow).where(BlobRow.sha256 == sha)).first()
    if existing is not None:
        conn.execute(delete(BlobChunkRow).where(BlobChunkRow.blob_id == row.id))
        tx.session.delete(row)
        tx.session.flush()
        ctx.report(1.0, "Stored")
        return BlobInfo(sha, existing.size, existing.created_at, new=False)
    row.sha256 = sha
    row.size = total
    tx.session.flush()
    ctx.report(1.0, "Stored")
    return BlobInfo(sha, total, row.created_at, new=True)


def put_bytes(tx: Transaction, data: bytes) -> BlobInfo:
    return put_stream(tx, io.BytesIO(data))


def info(tx: Transaction, sha256: str) -> BlobInfo:
    row = tx.session.scalars(select(BlobRow).where(BlobRow.sha256 == sha256)).first()
    if row is None:
        raise NotFound(f"No blob {sha256[:12]}… in this workspace.")
    return BlobInfo(sha256, row.size, row.created_at)


def iter_chunks(tx: Transaction, sha256: str) -> Iterator[bytes]:
    """Yield a blob's bytes chunk by chunk, verifying its hash at the end."""
    row = tx.session.scalars(select(BlobRow).where(BlobRow.sha256 == sha256)).first()
    if row is None:
        raise NotFound(f"No blob {sha256[:12]}… in this workspace.")
    conn = tx.session.connection()
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


def read_bytes(tx: Transaction, sha256: str) -> bytes:
    return b"".join(iter_chunks(tx, sha256))


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
    count, size = tx.session.execute(
        select(func.count(BlobRow.id), func.coalesce(func.sum(BlobRow.size), 0)).where(BlobRow.sha256.is_not(None))
    ).one()
    return int(count), int(size)
