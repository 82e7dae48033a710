"""The progress bar and Ctrl-C: a bar only on a terminal; Ctrl-C cancels, exits 130, leaves nothing."""

from __future__ import annotations

import _thread
import io
import threading
from pathlib import Path

import pytest

from core.api import TaskContext
from core.cli import common
from core.cli.common import ProgressBar, run_task
from tests.cli.conftest import Made


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _three_steps(ctx: TaskContext) -> int:
    ctx.report(0.0, "Starting")
    ctx.report(0.5, "Halfway")
    ctx.report(1.0, "Done")
    return 42


def test_bar_is_drawn_in_place_on_a_terminal_and_erased_at_the_end() -> None:
    screen = FakeTerminal()
    assert run_task(_three_steps, ProgressBar(screen)) == 42
    drawn = screen.getvalue()
    assert "\n" not in drawn  # one line, redrawn with carriage returns
    assert "Starting" in drawn and "100%  Done" in drawn
    assert "[" + "#" * 28 + "]" in drawn
    assert drawn.endswith("\r\x1b[K")


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    pipe = io.StringIO()
    assert run_task(_three_steps, ProgressBar(pipe)) == 42
    assert pipe.getvalue() == ""


def test_errors_in_the_work_reach_the_caller() -> None:
    def fails(ctx: TaskContext) -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        run_task(fails, ProgressBar(io.StringIO()))


class CtrlCDuringWork(ProgressBar):
    """Presses Ctrl-C at the first progress report and holds the work until it is seen."""

    def __init__(self, stream: object = None) -> None:
        super().__init__(io.StringIO())
        self.seen = threading.Event()
        self.pressed = False

    def update(self, fraction: float, message: str) -> None:
        if not self.pressed:
            self.pressed = True
            _thread.interrupt_main()
            assert self.seen.wait(10), "the main thread never saw Ctrl-C"

    def note(self, message: str) -> None:
        self.seen.set()


def test_ctrl_c_during_backup_cancels_exits_130_and_leaves_no_file(
    made: Made, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(common, "ProgressBar", CtrlCDuringWork)
    dest = tmp_path / "cancelled.airlock"
    result = run("--workspace", made.path, "workspace", "backup", dest)
    assert result.code == 130
    assert "Cancelled." in result.err
    assert [p.name for p in tmp_path.iterdir() if "cancelled" in p.name] == []
    monkeypatch.setattr(common, "ProgressBar", ProgressBar)
    info = run("--workspace", made.path, "workspace", "info")
    assert "Last backup:  never" in info.out


def test_ctrl_c_at_a_prompt_exits_130(made: Made, run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def interrupted(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    monkeypatch.setattr(common, "interactive", lambda: True)
    monkeypatch.setattr(common.getpass, "getpass", interrupted)
    result = run("--workspace", made.path, "workspace", "info")
    assert result.code == 130
    assert "Traceback" not in result.err
