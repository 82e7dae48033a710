"""Staged blobs: a long import holds no write transaction while it streams, leaves nothing when
cancelled, leaves an orphan the next writable open sweeps when killed, and keeps
de-duplication; referenced blobs cannot be deleted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from core import tasks
from core.api import Engine, TaskContext, Unlock
from core.errors import AirlockError, Cancelled
from core.store import blobs
from core.store.db import Store, orm
from core.store.opening import open_store
from core.tasks import CancelToken
from tests.core.store.test_blobs import GeneratedReader

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("_staging_child.py")
MB = 1024 * 1024


def _store(engine: Engine) -> Store:
    return engine._opened.store


def _counts(store: Store) -> tuple[int, int, int]:
    """Blobs, chunks and references in the workspace."""
    with store.read() as tx:
        conn = orm(tx)
        return (
            conn.execute(text("SELECT count(*) FROM blob")).scalar_one(),
            conn.execute(text("SELECT count(*) FROM blob_chunk")).scalar_one(),
            conn.execute(text("SELECT count(*) FROM blob_ref")).scalar_one(),
        )


def _in_flight_chunks(store: Store) -> int:
    """Chunks committed for uploads still in flight (staged, not yet recorded)."""
    with store.read() as tx:
        return int(orm(tx).execute(text(
            "SELECT count(*) FROM blob_chunk c JOIN blob b ON b.id = c.blob_id WHERE b.sha256 IS NULL"
        )).scalar_one())


#: Rows of the big test file: one column of random doubles, about 12 MiB of snapshot that
#: reaches the stream in some 25 batches, each with its progress report.
BIG_ROWS = 1_600_000


def _parquet(tmp_path: Path, rows: int = BIG_ROWS, seed: int = 1, name: str = "big.parquet") -> Path:
    rng = np.random.default_rng(seed)  # random doubles: the snapshot is about 8 bytes a value
    path = tmp_path / name
    pq.write_table(pa.table({"x": rng.random(rows)}), path)
    return path


@pytest.fixture
def chunk_per_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """A staging transaction per chunk, so a few MiB already span many transactions, and
    every progress report let through (they are otherwise at most 20 a second)."""
    monkeypatch.setattr(blobs, "STAGE_BATCH_BYTES", blobs.CHUNK_SIZE)
    monkeypatch.setattr(tasks, "_MIN_INTERVAL_S", 0.0)


@pytest.mark.usefixtures("chunk_per_transaction")
def test_a_cancelled_import_leaves_no_blob_and_no_version(
    workspace: tuple[Engine, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, _ = workspace
    store = _store(engine)
    token = CancelToken()
    staged_at_cancel: list[int] = []
    append = blobs.StagedBlob._append

    def cancelling_append(self: blobs.StagedBlob, first_seq: int, chunks: list[bytes]) -> None:
        append(self, first_seq, chunks)
        staged = _in_flight_chunks(store)
        if staged and not token.cancelled:  # chunks are committed: cancel in mid-stream
            staged_at_cancel.append(staged)
            token.cancel()

    monkeypatch.setattr(blobs.StagedBlob, "_append", cancelling_append)
    with pytest.raises(Cancelled):
        engine.datasets.import_file(_parquet(tmp_path), name="big", ctx=TaskContext(token=token))
    assert staged_at_cancel and staged_at_cancel[0] > 0, "the import was never cancelled mid-stream"
    assert _counts(store) == (0, 0, 0)
    assert engine.datasets.list() == []
    assert blobs.sweep(store) == 0
    assert engine.workspace.check().ok


@pytest.mark.usefixtures("chunk_per_transaction")
def test_another_writer_is_not_blocked_while_an_import_streams(
    workspace: tuple[Engine, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, _ = workspace
    store = _store(engine)
    source = _parquet(tmp_path)
    streaming, other_done = threading.Event(), threading.Event()
    order: list[str] = []
    failures: list[BaseException] = []
    append = blobs.StagedBlob._append

    def held_append(self: blobs.StagedBlob, first_seq: int, chunks: list[bytes]) -> None:
        append(self, first_seq, chunks)
        if not streaming.is_set() and _in_flight_chunks(store):
            order.append("import streaming")
            streaming.set()
            # Hold the import here, right after a staged batch committed, until the other
            # writer is through. An import that kept a write transaction open would make
            # that writer time out.
            other_done.wait(timeout=60)

    monkeypatch.setattr(blobs.StagedBlob, "_append", held_append)

    def run_import() -> None:
        try:
            engine.datasets.import_file(source, name="big")
            order.append("import finished")
        except BaseException as exc:
            failures.append(exc)
        finally:
            streaming.set()

    worker = threading.Thread(target=run_import)
    worker.start()
    try:
        assert streaming.wait(timeout=120), "the import never staged a batch"
        assert not failures, failures
        assert order == ["import streaming"], "the import finished without staging in batches"
        engine.users.add("rita", {"reviewer"})
        order.append("other write committed")
        assert engine.datasets.list() == [], "the import was already recorded: it was not in mid-stream"
    finally:
        other_done.set()
        worker.join(timeout=120)
    assert not failures, failures
    assert order == ["import streaming", "other write committed", "import finished"]
    assert {u.name for u in engine.users.list()} >= {"rita"}
    assert engine.datasets.version("big").row_count == BIG_ROWS
    assert engine.audit.verify().ok


def test_a_duplicate_import_drops_its_staged_copy(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    store = _store(engine)
    source = _parquet(tmp_path, rows=100_000)
    first = engine.datasets.import_file(source, name="d").value
    after_first = _counts(store)
    again = engine.datasets.import_file(source, name="d")
    assert not again.value.new and again.value.version.id == first.version.id and not again.changes
    assert _counts(store) == after_first == (1, after_first[1], 1)
    # The same content as another dataset: a new version, the same blob, one more reference.
    other = engine.datasets.import_file(source, name="e").value.version
    assert other.content_sha256 == first.version.content_sha256
    assert _counts(store) == (1, after_first[1], 2)
    with store.read() as tx:
        owners = blobs.owners(tx, other.content_sha256)
    assert {o.id for o in owners} == {first.version.id, other.id}
    assert engine.datasets.read_table("e").num_rows == 100_000


def test_a_referenced_blob_cannot_be_deleted_and_is_never_swept(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    store = _store(engine)
    version = engine.datasets.import_file(_parquet(tmp_path, rows=20_000), name="d").value.version
    with pytest.raises(AirlockError, match="FOREIGN KEY"):
        with store.write("tester") as tx:
            orm(tx).execute(text("DELETE FROM blob WHERE sha256 = :s"), {"s": version.content_sha256})
    assert blobs.sweep(store) == 0
    assert engine.datasets.read_table("d").num_rows == 20_000


@pytest.mark.usefixtures("chunk_per_transaction")
def test_the_sweep_spares_this_process_s_uploads_in_flight(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    store = _store(engine)
    with store.write("tester") as tx:
        blobs.put_bytes(tx, b"stored without an owner")
    with blobs.stage(store, "tester") as staged:
        staged.write(GeneratedReader(3 * MB + 5, seed=2))
        assert _counts(store)[:2] == (2, 5)
        assert blobs.sweep(store) == 1  # the ownerless blob; the upload in flight is spared
        assert _counts(store)[:2] == (1, 4)
    assert _counts(store) == (0, 0, 0)  # unreferenced when its block ended: dropped


def test_a_staged_blob_committed_and_referenced_is_kept(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    store = _store(engine)
    owner = blobs.BlobOwner("test", "kept")
    source = GeneratedReader(2 * MB + 1, seed=3)
    with blobs.stage(store, "tester") as staged:
        staged.write(source)
        with store.write("tester") as tx:
            info = staged.commit(tx)
            blobs.add_ref(tx, info.sha256, owner)
    assert info.new and info.sha256 == source.digest.hexdigest() and info.size == 2 * MB + 1
    assert blobs.sweep(store) == 0
    with store.read() as tx:
        assert blobs.owners(tx, info.sha256) == [owner]
        assert len(blobs.read_bytes(tx, info.sha256)) == 2 * MB + 1


@pytest.mark.slow
def test_a_killed_import_leaves_an_orphan_that_the_next_writable_open_sweeps_once(
    workspace: tuple[Engine, str], tmp_path: Path,
) -> None:
    engine, recovery = workspace
    path = engine.path
    engine.close()
    # Parquet rather than CSV: its batches reach the stream one by one, so progress reports
    # (and the child's chance to stop) come all through the staging.
    source = _parquet(tmp_path, seed=4)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(source)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(recovery + "\n")
        child.stdin.flush()
        line = child.stdout.readline()
        assert line.startswith("staged "), line + (child.stderr.read() if child.stderr else "")
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL

    unlock = Unlock.with_recovery_key(recovery)
    reader = open_store(path, unlock, read_only=True)  # a read-only open sweeps nothing
    try:
        blobs_left, chunks_left, refs = _counts(reader.store)
        assert (blobs_left, refs) == (1, 0) and chunks_left >= 1
    finally:
        reader.store.close()
    with Engine.open(path, unlock) as again:
        assert any("Removed 1 stored file that no record keeps" in n for n in again.notices), again.notices
        assert _counts(_store(again)) == (0, 0, 0)
        assert again.datasets.list() == []
        assert again.workspace.check().ok
        assert again.audit.verify().ok
    with Engine.open(path, unlock) as third:
        assert not any("Removed" in n for n in third.notices), "the sweep was announced twice"


def test_evidence_attachments_are_referenced_and_survive_the_sweep(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    assessment = engine.assessments.create("airlock-data-ml", "Unit").value
    question = engine.assessments.model_of(assessment).questions()[0].id
    evidence = tmp_path / "minutes.txt"
    evidence.write_text("steering committee minutes", encoding="utf-8")
    attached = engine.assessments.attach_evidence(assessment.id, question, evidence).value
    digest = attached.answers[question].evidence[0].digest
    assert blobs.sweep(_store(engine)) == 0
    with _store(engine).read() as tx:
        assert blobs.owners(tx, digest) == [blobs.BlobOwner("assessment", attached.id)]
        assert bytes(blobs.read_bytes(tx, digest)) == evidence.read_bytes()
