"""The task runner: work routed by kind, the GUI keeps running, cancel stops work, stale results are dropped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import QThreadPool, QTimer

from core.api import Change, Engine, InvalidInput, Outcome, TaskContext, User
from desktop import tasks
from desktop.bus import EventBus
from desktop.tasks import TaskRunner


def slow(seconds: float, result: object = "done") -> Callable[[TaskContext], object]:
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
    ticks_while_busy: list[bool] = []
    gui_ran = threading.Event()
    timer = QTimer()
    timer.setInterval(20)

    def on_tick() -> None:
        if runner.busy:
            ticks_while_busy.append(True)
        if len(ticks_while_busy) >= 5:
            gui_ran.set()

    timer.timeout.connect(on_tick)
    timer.start()
    progress: list[float] = []
    runner.progressed.connect(lambda f, m: progress.append(f))

    def waits_for_the_gui(ctx: TaskContext) -> str:
        # Ends only once the GUI thread has handled timer events while this task ran.
        for i in range(1000):
            ctx.check()
            ctx.report(i / 1000, "waiting for the event loop")
            if gui_ran.wait(0.01):
                return "done"
        return "the event loop did not run while the task did"

    with qtbot.waitSignal(runner.finished, timeout=15_000) as blocker:
        runner.query(waits_for_the_gui, "Slow work")
    timer.stop()
    assert blocker.args == ["done"]
    assert progress and progress == sorted(progress)
    assert not runner.busy


def test_cancel_stops_the_task_without_a_result(qtbot) -> None:
    runner = TaskRunner()
    runner.query(slow(10.0), "Endless work")
    qtbot.waitSignal(runner.progressed, timeout=2000).wait()
    with qtbot.assertNotEmitted(runner.finished, wait=100), qtbot.waitSignal(runner.cancelled, timeout=2000):
        runner.cancel()
    assert not runner.busy


def test_a_query_that_finishes_after_cancel_reports_cancelled_not_its_result(qtbot) -> None:
    runner = TaskRunner()
    release = threading.Event()

    def ignores_cancel(ctx: TaskContext) -> str:
        release.wait(5)
        return "unwanted"

    runner.query(ignores_cancel, "Uncancellable")
    runner.cancel()
    with qtbot.assertNotEmitted(runner.finished, wait=100), qtbot.waitSignal(runner.cancelled, timeout=3000):
        release.set()
    assert not runner.busy


def test_a_new_task_drops_the_old_result(qtbot) -> None:
    runner = TaskRunner()
    results: list[object] = []
    runner.finished.connect(results.append)
    runner.query(slow(0.5, "old"), "First")
    with qtbot.assertNotEmitted(runner.cancelled), qtbot.waitSignal(runner.finished, timeout=3000) as blocker:
        runner.query(slow(0.2, "new"), "Second")
    qtbot.wait(100)
    assert blocker.args == ["new"]
    assert results == ["new"]


def test_stale_result_that_finished_anyway_is_dropped(qtbot) -> None:
    runner = TaskRunner()
    release = threading.Event()

    def ignores_cancel(ctx: TaskContext) -> str:
        release.wait(5)
        return "stale"

    results: list[object] = []
    runner.finished.connect(results.append)
    runner.query(ignores_cancel, "Uncancellable")
    with qtbot.waitSignal(runner.finished, timeout=3000):
        runner.query(slow(0.0, "fresh"), "Quick")
    release.set()  # the uncancellable one returns now and must be ignored
    assert QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(50)  # let its queued signal arrive
    assert results == ["fresh"]


def test_failure_is_delivered_as_an_exception(qtbot) -> None:
    runner = TaskRunner()

    def fails(ctx: TaskContext) -> None:
        raise InvalidInput("bad input")

    with qtbot.assertNotEmitted(runner.finished), qtbot.waitSignal(runner.failed, timeout=2000) as blocker:
        runner.query(fails, "Failing")
    assert isinstance(blocker.args[0], InvalidInput)


def test_a_query_may_not_return_an_outcome(qtbot) -> None:
    bus = EventBus()
    runner = TaskRunner(publish=bus.publish)
    with qtbot.assertNotEmitted(bus.changed), qtbot.waitSignal(runner.failed, timeout=2000) as blocker:
        runner.query(lambda ctx: Outcome(1, frozenset({Change.USERS})), "Sneaky")  # type: ignore[arg-type, return-value]
    assert isinstance(blocker.args[0], TypeError) and "mutate()" in str(blocker.args[0])


def test_a_mutation_must_return_an_outcome(qtbot) -> None:
    runner = TaskRunner()
    with qtbot.waitSignal(runner.failed, timeout=2000) as blocker:
        runner.mutate(lambda ctx: "plain", "Forgetful")  # type: ignore[arg-type, return-value]
    assert isinstance(blocker.args[0], TypeError) and "not an Outcome" in str(blocker.args[0])


def test_queries_and_mutations_run_on_their_own_pools(qtbot) -> None:
    runner = TaskRunner()
    seen: dict[str, tuple[int, int]] = {}

    def busy_threads() -> tuple[int, int]:
        return tasks.read_pool().activeThreadCount(), tasks.write_pool().activeThreadCount()

    def mutation(ctx: TaskContext) -> Outcome[None]:
        seen["mutation"] = busy_threads()
        return Outcome(None, frozenset())

    def query(ctx: TaskContext) -> None:
        seen["query"] = busy_threads()

    with qtbot.waitSignal(runner.finished, timeout=2000):
        runner.mutate(mutation, "Writing")
    with qtbot.waitSignal(runner.finished, timeout=2000):
        runner.query(query, "Reading")
    assert seen["mutation"] == (0, 1)
    assert seen["query"] == (1, 0)


def test_a_long_query_does_not_hold_the_write_thread(qtbot) -> None:
    reading, writing = TaskRunner(concern="read"), TaskRunner(concern="write")
    reading.query(slow(10.0), "Long read")
    qtbot.waitSignal(reading.progressed, timeout=2000).wait()
    with qtbot.waitSignal(writing.finished, timeout=2000) as blocker:
        writing.mutate(lambda ctx: Outcome("stored", frozenset()), "Short write")
    assert blocker.args[0].value == "stored" and reading.busy
    with qtbot.waitSignal(reading.cancelled, timeout=2000):
        reading.cancel()


def test_outcome_changes_reach_the_bus(qtbot) -> None:
    bus = EventBus()
    runner = TaskRunner(publish=bus.publish)
    with qtbot.waitSignal(bus.changed, timeout=2000) as blocker:
        runner.mutate(lambda ctx: Outcome(1, frozenset({Change.USERS})), "Mutating")
    assert blocker.args == [frozenset({Change.USERS})]
    qtbot.waitUntil(lambda: not runner.busy)


def test_a_superseded_mutation_still_publishes_its_changes(qtbot, engine: Engine) -> None:
    bus = EventBus()
    runner = TaskRunner(publish=bus.publish)
    users = engine.users
    release = threading.Event()

    def add(ctx: TaskContext) -> Outcome[User]:
        release.wait(5)
        return users.add("bob", {"analyst"}, "Bob")

    results: list[object] = []
    runner.finished.connect(results.append)
    runner.mutate(add, "Adding bob")
    with qtbot.waitSignal(runner.finished, timeout=3000):
        runner.query(lambda ctx: "newer", "Newer")
    with qtbot.waitSignal(bus.changed, timeout=5000) as blocker:
        release.set()
    assert Change.USERS in blocker.args[0]
    assert results == ["newer"]  # the superseded result itself is dropped
    assert [u.name for u in engine.users.list() if u.name == "bob"] == ["bob"]


def test_a_query_that_writes_is_reported_and_writes_nothing(qtbot, engine: Engine) -> None:
    runner = TaskRunner()
    users = engine.users
    before = engine.audit.head()

    def sneaky(ctx: TaskContext) -> object:
        return users.add("mallory", {"analyst"}, "Mallory").value  # a mutation called from a query

    with qtbot.assertNotEmitted(runner.finished), qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.query(sneaky, "Listing users")
    assert "tried to open a write transaction" in str(blocker.args[0])
    assert "mallory" not in [u.name for u in engine.users.list()]
    assert engine.audit.head() == before


def test_shutdown_cancels_every_runner(qtbot) -> None:
    first, second = TaskRunner(concern="a"), TaskRunner(concern="b")
    first.query(slow(10.0), "One")
    second.query(slow(10.0), "Two")
    with qtbot.waitSignal(first.cancelled, timeout=5000), qtbot.waitSignal(second.cancelled, timeout=5000):
        assert tasks.shutdown(5000)


@pytest.mark.parametrize("name", ["users", "datasets"])
def test_the_bus_carries_change_members(qapp, name: str) -> None:
    bus = EventBus()
    got: list[object] = []
    bus.changed.connect(got.append)
    bus.publish(frozenset({Change(name)}))
    assert got == [frozenset({Change(name)})] and all(isinstance(c, Change) for c in got[0])  # type: ignore[attr-defined]


def test_emitting_keeps_reference_counts_right(qapp) -> None:
    """PySide6 6.12.0 dropped a reference to True per emit (thousands aborted the interpreter); we pin 6.11.3."""
    import sys

    bus = EventBus()
    before = sys.getrefcount(True)
    for _ in range(5000):
        bus.changed.emit(frozenset({Change.USERS}))
    assert sys.getrefcount(True) >= before - 10


def test_the_progress_widget_follows_every_concern(qtbot) -> None:
    from desktop.widgets.task_progress import TaskProgressWidget

    widget = TaskProgressWidget()
    qtbot.addWidget(widget)
    profile, drift = TaskRunner(concern="profile"), TaskRunner(concern="drift")
    widget.track(profile)
    widget.track(drift)
    release = threading.Event()
    profile.query(slow(10.0), "Profiling")
    drift.query(lambda ctx: release.wait(5), "Comparing")
    assert widget.runner is drift and widget.message.text() == "Comparing…" and not widget.isHidden()
    with qtbot.waitSignal(drift.finished, timeout=5000):
        release.set()
    assert widget.runner is profile and not widget.isHidden()  # back to the task still running
    with qtbot.waitSignal(profile.cancelled, timeout=5000):
        widget.cancel_button.click()  # cancels the task on show, the profile
    assert widget.runner is None and widget.isHidden()
