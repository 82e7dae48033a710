"""Work in a child process: progress, cancel, deaths, secrets, results, and a workspace left alone.

Each child costs a spawn (0.1–1 s here), so each test starts as few as it can and checks
everything that one child can show. The functions the children run are in ``child_work``.
"""

from __future__ import annotations

import ast
import hashlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from core import runtime
from core.errors import Cancelled, InvalidInput, WorkspaceInUse
from core.processes import ChildFailed, ChildOutOfMemory, ChildTask, run_in_child
from core.store import keys
from core.tasks import CancelToken, TaskContext
from tests.conftest import PASSPHRASE
from tests.core import child_work

MB = 2**20


class _Recorder:
    """A parent-side progress callback that keeps what arrives and can run a check on a message."""

    def __init__(self, on: str | None = None, then: Any = None) -> None:
        self.seen: list[tuple[float, str]] = []
        self.token = CancelToken()
        self._on, self._then = on, then
        self.ran = 0

    def __call__(self, fraction: float, message: str) -> None:
        self.seen.append((fraction, message))
        if message == self._on and not self.token.cancelled:
            self.ran += 1
            if self._then is not None:
                self._then()
            self.token.cancel()

    @property
    def ctx(self) -> TaskContext:
        return TaskContext(self, self.token)


def test_progress_crosses_and_the_result_arrives_intact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.tasks._MIN_INTERVAL_S", 0.0)  # the parent passes on all the child sends
    rec = _Recorder()
    result = run_in_child(child_work.steps_and_a_large_result, 5, 50 * MB, ctx=rec.ctx)

    assert len(result["blob"]) == 50 * MB
    assert hashlib.sha256(result["blob"]).hexdigest() == result["sha256"]
    assert result["blob"] == hashlib.shake_256(b"airlock").digest(50 * MB)
    assert result["pid"] != os.getpid()
    assert result["settings"] == runtime.current() and result["cpu_workers"] == runtime.cpu_workers()

    fractions = [f for f, _ in rec.seen]
    messages = [m for _, m in rec.seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0
    assert rec.seen[-1] == (1.0, "done")
    assert [m for m in messages if m.startswith("step")] == [f"step {i} of 5" for i in range(1, 6)]
    # The child's context throttles as in-process work does: the burst arrives thinned.
    assert 0 < messages.count("burst") < child_work.BURST / 10


def test_secrets_reach_the_child_only_through_the_pipe(
    workspace: tuple[Any, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, recovery = workspace
    key = keys.parse_recovery_key(recovery)
    # The parent's environment holds the passphrase (as the command line's does) and the key
    # under a name that does not look secret: the child must inherit neither.
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SOME_SETTING", key.hex())
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.chdir(cwd)
    looked: dict[str, bytes] = {}
    task: ChildTask[str]

    def inspect_the_child() -> None:
        assert task.process is not None and task.process.pid is not None
        proc = Path("/proc") / str(task.process.pid)
        looked["cmdline"] = (proc / "cmdline").read_bytes()
        looked["environ"] = (proc / "environ").read_bytes()
        looked["files"] = repr(sorted(os.listdir(scratch)) + sorted(os.listdir(cwd))).encode()

    rec = _Recorder(on=child_work.HOLDING, then=inspect_the_child)
    task = ChildTask(
        child_work.hold_a_secret_until_cancelled, b"rows", ctx=rec.ctx, secrets={"key": key, "passphrase": PASSPHRASE},
    )
    with pytest.raises(Cancelled):
        task.run()

    assert rec.ran == 1, "the child never reported that it held the secret"
    assert task.process is not None and not task.process.is_alive()
    assert task.process.exitcode == 0  # it stopped by itself at its next check
    assert looked["cmdline"] and looked["environ"]
    for secret in (key, key.hex().encode(), recovery.encode(), PASSPHRASE.encode()):
        assert secret not in looked["cmdline"]
        assert secret not in looked["environ"]
    assert b"AIRLOCK_NO_KEYRING=1" in looked["environ"]  # the rest of the environment is inherited
    assert looked["files"] == b"[]"
    assert os.listdir(scratch) == [] and os.listdir(cwd) == []
    assert os.environ["AIRLOCK_PASSPHRASE"] == PASSPHRASE  # the parent's environment is restored
    assert os.environ["SOME_SETTING"] == key.hex()


def test_the_primitive_uses_no_temporary_files() -> None:
    source = Path(__file__).parents[2] / "core" / "processes.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert "tempfile" not in imported and not any(m.startswith("multiprocessing.shared_memory") for m in imported)


def test_a_child_that_ignores_cancel_is_terminated() -> None:
    rec = _Recorder(on="busy")
    task = ChildTask(child_work.ignore_cancel, ctx=rec.ctx)
    with pytest.raises(Cancelled):
        task.run()
    assert rec.ran == 1
    assert task.process is not None and not task.process.is_alive()
    assert task.process.exitcode == -signal.SIGTERM


@pytest.mark.parametrize(
    ("how", "error", "words"),
    [
        ("airlock", WorkspaceInUse, "The workspace is open in another window."),
        ("exception", ChildFailed, "ValueError: column 'age' holds a date"),
        ("exit", ChildFailed, "exited with status 3"),
        ("sigkill", ChildFailed, "killed (SIGKILL)"),
        ("memory", ChildOutOfMemory, "ran out of memory"),
    ],
)
def test_a_child_that_dies_is_a_clear_error(how: str, error: type[Exception], words: str) -> None:
    rec = _Recorder()
    task = ChildTask(child_work.fail, how, 2048 * MB, ctx=rec.ctx, memory_limit_bytes=1024 * MB)
    with pytest.raises(error) as raised:
        task.run()
    assert type(raised.value) is error
    assert words in str(raised.value)
    assert rec.seen == [(0.2, f"about to fail: {how}")]
    assert task.process is not None and not task.process.is_alive()
    if how == "airlock":  # the same class, message and fields as the child raised
        assert str(raised.value) == words
        assert (raised.value.host, raised.value.pid) == ("elsewhere", 42)  # type: ignore[attr-defined]
    if how == "exception":
        assert any("ValueError" in note for note in raised.value.__notes__)  # the child's traceback


def _workspace_state(engine: Any, folder: Path) -> tuple[object, ...]:
    files = sorted(p.name for p in folder.iterdir())
    # The shared-memory index changes with any reader's marks; the database and its log may not.
    content = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if not p.name.endswith("-shm")}
    return files, content, engine.audit.head(), engine.audit.events()


@pytest.mark.parametrize("how", ["exit", "cancel"])
def test_nothing_half_written_after_a_crash_or_a_cancel(workspace: tuple[Any, str], how: str) -> None:
    engine, _ = workspace
    folder = Path(engine.path).parent
    before = _workspace_state(engine, folder)
    rec = _Recorder(on=child_work.HOLDING if how == "cancel" else None)
    with pytest.raises(Cancelled if how == "cancel" else ChildFailed):
        run_in_child(
            child_work.open_read_only_then_die, str(engine.path), how, ctx=rec.ctx, secrets={"passphrase": PASSPHRASE},
        )
    assert (0.5, child_work.HOLDING) in rec.seen  # the child had the workspace open when it ended
    assert _workspace_state(engine, folder) == before
    assert engine.audit.verify().ok


def test_untrusted_work_may_send_back_plain_data_only() -> None:
    assert run_in_child(child_work.an_object) == runtime.RuntimeSettings(threads=1)  # trusted: any value
    with pytest.raises(ChildFailed, match="other than plain data") as raised:
        run_in_child(child_work.an_object, plain_result=True)
    assert "core.runtime.RuntimeSettings" in str(raised.value)
    assert isinstance(run_in_child(child_work.nothing, plain_result=True), float)


def test_what_cannot_cross_fails_before_any_process_starts() -> None:
    def local(ctx: TaskContext) -> None:
        pass

    with pytest.raises(TypeError, match="top-level function"):
        ChildTask(local)
    with pytest.raises(TypeError, match="cannot be sent to a child process"):
        ChildTask(child_work.fail, lambda: None)
    with pytest.raises(InvalidInput, match="memory limit"):
        ChildTask(child_work.nothing, memory_limit_bytes=0)
    with pytest.raises(TypeError, match="both as secrets"):
        ChildTask(child_work.hold_a_secret_until_cancelled, b"", key=b"k", secrets={"key": b"k"})


def test_an_already_cancelled_context_starts_no_child() -> None:
    rec = _Recorder()
    rec.token.cancel()
    task = ChildTask(child_work.nothing, ctx=rec.ctx)
    with pytest.raises(Cancelled):
        task.run()
    assert task.process is None


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities on this platform")
def test_a_child_runs_below_its_parent_so_the_window_keeps_its_cpu() -> None:
    from core.processes import CHILD_NICENESS

    assert run_in_child(child_work.niceness) == min(os.nice(0) + CHILD_NICENESS, 19)
