"""The blob store: streamed both ways, deduplicated, cancellable, and tamper-evident."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import text

from core.api import Engine, TaskContext
from core.errors import Cancelled, IntegrityError, NotFound
from core.store import blobs, keys
from core.store.db import Store, orm
from core.tasks import CancelToken
from tests.core.helpers import tamper_connection

MB = 1024 * 1024
#: A record that keeps a blob across a reopen (the writable open sweeps unreferenced blobs).
KEPT = blobs.BlobOwner("test", "kept")


class GeneratedReader(io.RawIOBase):
    """``size`` bytes made on demand from a seed: the whole never exists in memory."""

    def __init__(self, size: int, seed: int = 0, on_read: object = None) -> None:
        self.remaining = size
        self.rng = random.Random(seed)
        self.digest = hashlib.sha256()
        self.reads = 0
        self.on_read = on_read

    def read(self, n: int = -1) -> bytes:
        n = self.remaining if n < 0 else min(n, self.remaining)
        if n == 0:
            return b""
        chunk = self.rng.randbytes(n)
        self.digest.update(chunk)
        self.remaining -= n
        self.reads += 1
        if callable(self.on_read):
            self.on_read(self.reads)
        return chunk


def store_of(engine: Engine) -> Store:
    return engine._opened.store


def chunk_rows(store: Store) -> tuple[int, int]:
    with store.read() as tx:
        return (
            orm(tx).execute(text("SELECT count(*) FROM blob")).scalar_one(),
            orm(tx).execute(text("SELECT count(*) FROM blob_chunk")).scalar_one(),
        )


def test_large_blob_streams_without_being_held_in_memory(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    store = store_of(engine)
    size = 50 * MB + 12345
    source = GeneratedReader(size, seed=7)
    tracemalloc.start()
    try:
        with store.write("tester") as tx:
            stored = blobs.put_stream(tx, source, size_hint=size)
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        total = 0
        with store.read() as tx:
            for chunk in blobs.iter_chunks(tx, stored.sha256):
                assert len(chunk) <= blobs.CHUNK_SIZE
                digest.update(chunk)
                total += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.new and stored.size == size and stored.sha256 == source.digest.hexdigest()
    assert total == size and digest.hexdigest() == stored.sha256
    assert write_peak < 12 * MB, f"writing held {write_peak / MB:.0f} MB"
    assert read_peak < 12 * MB, f"reading held {read_peak / MB:.0f} MB"
    assert chunk_rows(store) == (1, -(-size // blobs.CHUNK_SIZE))
    assert engine.workspace.info().blob_bytes == size


def test_same_bytes_are_stored_once(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    store = store_of(engine)
    data = random.Random(3).randbytes(3 * MB + 5)
    with store.write("tester") as tx:
        first = blobs.put_bytes(tx, data)
    with store.write("tester") as tx:
        second = blobs.put_bytes(tx, data)
    assert first.new and not second.new and first.sha256 == second.sha256
    assert chunk_rows(store) == (1, 4)
    with store.read() as tx:
        assert blobs.read_bytes(tx, first.sha256) == data
        assert blobs.stats(tx) == (1, len(data))


def test_empty_blob_round_trips(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    store = store_of(engine)
    with store.write("tester") as tx:
        empty = blobs.put_bytes(tx, b"")
    with store.read() as tx:
        assert blobs.read_bytes(tx, empty.sha256) == b""
        with pytest.raises(NotFound):
            blobs.read_bytes(tx, "0" * 64)


def test_cancelled_upload_leaves_nothing(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    store = store_of(engine)
    with store.write("tester") as tx:
        blobs.put_bytes(tx, b"already here")
    before = chunk_rows(store)
    size_before = engine.workspace.info().blob_bytes
    token = CancelToken()
    source = GeneratedReader(20 * MB, on_read=lambda n: token.cancel() if n == 5 else None)
    with pytest.raises(Cancelled):
        with store.write("tester") as tx:
            blobs.put_stream(tx, source, size_hint=20 * MB, ctx=TaskContext(token=token))
    assert source.reads == 5, "the upload did not stop at the next chunk"
    assert chunk_rows(store) == before
    assert engine.workspace.info().blob_bytes == size_before
    assert engine.workspace.check().ok


def test_progress_is_monotone_and_ends_at_one(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    reports: list[float] = []
    size = 8 * MB
    with store_of(engine).write("tester") as tx:
        blobs.put_stream(tx, GeneratedReader(size, seed=1), size_hint=size, ctx=TaskContext(lambda f, m: reports.append(f)))
    assert len(reports) >= 2
    assert reports == sorted(reports)
    assert reports[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in reports)


def test_tampered_chunk_is_detected_on_read(workspace: tuple[Engine, str]) -> None:
    engine, recovery = workspace
    store = store_of(engine)
    data = random.Random(5).randbytes(2 * MB + 100)
    with store.write("tester") as tx:
        sha = blobs.put_bytes(tx, data, owner=KEPT).sha256
    path = engine.path
    engine.close()
    conn = tamper_connection(path, keys.parse_recovery_key(recovery))
    conn.execute("UPDATE blob_chunk SET data = ? WHERE seq = 1", (b"\x00" * len(data[MB : 2 * MB]),))
    conn.close()
    with Engine.open(path, recovery_unlock(recovery)) as again:
        with store_of(again).read() as tx:
            with pytest.raises(IntegrityError):
                blobs.read_bytes(tx, sha)
            with pytest.raises(IntegrityError):
                blobs.copy_to(tx, sha, io.BytesIO())


def _kept_then_tampered(workspace: tuple[Engine, str], data: bytes, sql: str, *params: object) -> tuple[Path, str, str]:
    """``data`` kept as a blob, the workspace closed, then ``sql`` run on it behind Airlock's back
    (a raw SQLCipher connection with the key): ``(path, recovery key, sha256)``."""
    engine, recovery = workspace
    with store_of(engine).write("tester") as tx:
        sha = blobs.put_bytes(tx, data, owner=KEPT).sha256
    path = engine.path
    engine.close()
    conn = tamper_connection(path, keys.parse_recovery_key(recovery))
    conn.execute(sql, params)
    conn.close()
    return path, recovery, sha


def test_missing_chunk_is_detected_on_read(workspace: tuple[Engine, str]) -> None:
    path, recovery, sha = _kept_then_tampered(workspace, random.Random(6).randbytes(3 * MB),
                                              "DELETE FROM blob_chunk WHERE seq = 2")
    with Engine.open(path, recovery_unlock(recovery)) as again:
        with store_of(again).read() as tx:
            with pytest.raises(IntegrityError):
                blobs.read_bytes(tx, sha)


def recovery_unlock(recovery: str):  # type: ignore[no-untyped-def]
    from core.api import Unlock

    return Unlock.with_recovery_key(recovery)


#: Without and with the read-ahead helper (the profile's way): every reader test runs both.
READ_AHEAD = pytest.mark.parametrize("read_ahead", [0, 3], ids=["plain", "read-ahead"])


def _helpers_alive() -> int:
    import threading

    return sum(t.name.startswith("airlock-blob-read") for t in threading.enumerate())


@READ_AHEAD
def test_reader_seeks_and_reads_like_the_bytes(workspace: tuple[Engine, str], read_ahead: int) -> None:
    engine, _ = workspace
    data = random.Random(8).randbytes(3 * MB + 777)
    with store_of(engine).write("tester") as tx:
        sha = blobs.put_bytes(tx, data).sha256
    rng = random.Random(9)
    with store_of(engine).read() as tx:
        reader = blobs.open_reader(tx, sha, cache_chunks=2, read_ahead=read_ahead)
        assert reader.seekable() and reader.size == len(data)
        for _ in range(200):
            start = rng.randrange(len(data) + 10)
            length = rng.choice([0, 1, 100, MB - 1, MB + 3, 2 * MB])
            reader.seek(start)
            assert reader.read(length) == data[start : start + length]
            assert reader.tell() == min(start + length, len(data)) or start > len(data)
        assert reader.seek(-10, io.SEEK_END) == len(data) - 10 and reader.read() == data[-10:]
        reader.seek(5)
        reader.seek(3, io.SEEK_CUR)
        assert reader.read(4) == data[8:12]
        with pytest.raises(ValueError):
            reader.seek(-1)
        reader.verify()
    assert _helpers_alive() == 0


@READ_AHEAD
def test_reader_reads_a_forward_scan_in_order_and_its_hash_holds(workspace: tuple[Engine, str], read_ahead: int) -> None:
    engine, _ = workspace
    data = random.Random(12).randbytes(6 * MB + 5)
    with store_of(engine).write("tester") as tx:
        sha = blobs.put_bytes(tx, data).sha256
    with store_of(engine).read() as tx, blobs.open_reader(tx, sha, cache_chunks=4, read_ahead=read_ahead) as reader:
        reader.seek(-5, io.SEEK_END)
        assert reader.read() == data[-5:]  # the footer first, as Parquet reads
        reader.seek(0)
        got = b"".join(iter(lambda: reader.read(300_000), b""))
        assert got == data
        fetched = reader.fetches
        reader.verify()
        assert reader.fetches == fetched  # every chunk was hashed on the way: verify fetched none again
    assert _helpers_alive() == 0


@READ_AHEAD
def test_reader_feeds_parquet_row_group_by_row_group_in_few_fetches(workspace: tuple[Engine, str], read_ahead: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    engine, _ = workspace
    rng = random.Random(10)
    table = pa.table({"x": [rng.random() for _ in range(400_000)], "k": [rng.randrange(50) for _ in range(400_000)]})
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=50_000, compression="zstd")
    with store_of(engine).write("tester") as tx:
        info = blobs.put_bytes(tx, buf.getvalue())
    chunks = -(-info.size // blobs.CHUNK_SIZE)
    with store_of(engine).read() as tx:
        reader = blobs.open_reader(tx, info.sha256, read_ahead=read_ahead)
        pf = pq.ParquetFile(reader)
        parts = [pf.read_row_group(i) for i in range(pf.num_row_groups)]
        assert pa.concat_tables(parts).equals(table)
        reader.verify()
        assert reader.fetches <= chunks + 2  # each chunk about once, not once per read


@READ_AHEAD
def test_reader_detects_a_tampered_chunk_on_verify(workspace: tuple[Engine, str], read_ahead: int) -> None:
    data = random.Random(11).randbytes(3 * MB)
    path, recovery, sha = _kept_then_tampered(workspace, data, "UPDATE blob_chunk SET data = ? WHERE seq = 2", b"\x01" * MB)
    with Engine.open(path, recovery_unlock(recovery)) as again:
        with store_of(again).read() as tx:
            reader = blobs.open_reader(tx, sha, read_ahead=read_ahead)
            reader.seek(MB)
            reader.read(10)  # chunk 0 was skipped: verify fetches it
            with pytest.raises(IntegrityError):
                reader.verify()
            reader = blobs.open_reader(tx, sha, read_ahead=read_ahead)
            assert reader.read(3 * MB) != data  # read in order: the altered chunk is hashed on the way
            with pytest.raises(IntegrityError):
                reader.verify()
            with pytest.raises(NotFound):
                blobs.open_reader(tx, "0" * 64)


def test_committed_pages_reach_the_workspace_file_without_waiting_for_close(
    workspace: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Automatic checkpoints are off (they would run inside the commit); the store's own
    # thread copies the log into the file after each write. Without it the file would stay
    # at its initial size until the workspace is closed.
    import contextlib
    import threading
    from collections.abc import Iterator

    engine, _ = workspace
    store = store_of(engine)
    path = engine.path
    checkpointed = threading.Event()
    real = store.raw_connection

    @contextlib.contextmanager
    def watched() -> Iterator[object]:
        with real() as conn:
            yield conn
        if threading.current_thread().name == "airlock-checkpoint":
            checkpointed.set()

    monkeypatch.setattr(store, "raw_connection", watched)
    before = path.stat().st_size
    with store.write("tester") as tx:
        blobs.put_bytes(tx, random.Random(5).randbytes(6 * MB))
    while path.stat().st_size < before + 6 * MB:  # a checkpoint of an earlier write may come first
        assert checkpointed.wait(20), "no checkpoint ran after the write"
        checkpointed.clear()
    with store.raw_connection() as conn:
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0


def test_reader_with_read_ahead_names_a_missing_chunk(workspace: tuple[Engine, str]) -> None:
    data = random.Random(13).randbytes(4 * MB)
    path, recovery, sha = _kept_then_tampered(workspace, data, "DELETE FROM blob_chunk WHERE seq = 2")
    with Engine.open(path, recovery_unlock(recovery)) as again:
        with store_of(again).read() as tx, blobs.open_reader(tx, sha, read_ahead=3) as reader:
            assert reader.read(MB) == data[:MB]  # chunk 2 was asked for ahead, and failed there
            with pytest.raises(IntegrityError, match="missing chunk 2"):
                reader.read(2 * MB)
    assert _helpers_alive() == 0
