"""The task runner: the GUI keeps running, cancel stops work, stale results are dropped."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer

from core.errors import InvalidInput
from core.outcome import Outcome
from core.tasks import TaskContext
from desktop.bus import EventBus
from desktop.tasks import TaskRunner


def slow(seconds: float, result: object = "done"):
    def fn(ctx: TaskContext) -> object:
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            ctx.check()
            ctx.report(elapsed / seconds, "working")
            time.sleep(0.01)
        return result

    return fn


def test_long_task_does_not_block_the_event_loop(qtbot) -> None:
    runner = TaskRunner()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    progress: list[float] = []
    runner.progressed.connect(lambda f, m: progress.append(f))
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start(slow(1.0), "Slow work")
    timer.stop()
    assert blocker.args == ["done"]
    assert len(ticks) >= 20, f"the timer fired only {len(ticks)} times during a 1 s task"
    assert max(b - a for a, b in zip(ticks, ticks[1:])) < 0.5
    assert progress and progress == sorted(progress)
    assert not runner.busy


def test_cancel_stops_the_task_without_a_result(qtbot) -> None:
    runner = TaskRunner()
    runner.start(slow(10.0), "Endless work")
    qtbot.waitSignal(runner.progressed, timeout=2000).wait()
    with qtbot.assertNotEmitted(runner.finished, wait=100), qtbot.waitSignal(runner.cancelled, timeout=2000):
        runner.cancel()
    assert not runner.busy


def test_a_new_task_drops_the_old_result(qtbot) -> None:
    runner = TaskRunner()
    results: list[object] = []
    runner.finished.connect(results.append)
    runner.start(slow(0.5, "old"), "First")
    with qtbot.assertNotEmitted(runner.cancelled), qtbot.waitSignal(runner.finished, timeout=3000) as blocker:
        runner.start(slow(0.2, "new"), "Second")
    qtbot.wait(100)
    assert blocker.args == ["new"]
    assert results == ["new"]


def test_stale_result_that_finished_anyway_is_dropped(qtbot) -> None:
    runner = TaskRunner()

    def ignores_cancel(ctx: TaskContext) -> str:
        time.sleep(0.3)
        return "stale"

    results: list[object] = []
    runner.finished.connect(results.append)
    runner.start(ignores_cancel, "Uncancellable")
    with qtbot.waitSignal(runner.finished, timeout=3000):
        runner.start(slow(0.0, "fresh"), "Quick")
    qtbot.waitUntil(lambda: runner.busy is False)
    qtbot.wait(500)  # the uncancellable one returns meanwhile and must be ignored
    assert results == ["fresh"]


def test_failure_is_delivered_as_an_exception(qtbot) -> None:
    runner = TaskRunner()

    def fails(ctx: TaskContext) -> None:
        raise InvalidInput("bad input")

    with qtbot.assertNotEmitted(runner.finished), qtbot.waitSignal(runner.failed, timeout=2000) as blocker:
        runner.start(fails, "Failing")
    assert isinstance(blocker.args[0], InvalidInput)


@pytest.mark.parametrize("writes", [False, True])
def test_outcome_changes_reach_the_bus(qtbot, writes: bool) -> None:
    bus = EventBus()
    runner = TaskRunner(publish=bus.publish_outcome)
    with qtbot.waitSignal(bus.changed, timeout=2000) as blocker:
        runner.start(lambda ctx: Outcome(1, frozenset({"users"})), "Mutating", writes=writes)
    assert blocker.args == [frozenset({"users"})]
    qtbot.waitUntil(lambda: not runner.busy)


def test_emitting_keeps_reference_counts_right(qapp) -> None:
    """PySide6 6.12.0 dropped a reference to True per emit (thousands aborted the interpreter); we pin 6.11.3."""
    import sys

    bus = EventBus()
    before = sys.getrefcount(True)
    for _ in range(5000):
        bus.changed.emit(frozenset({"users"}))
    assert sys.getrefcount(True) >= before - 10
