"""Running core functions off the GUI thread, with progress, cancel and stale-result dropping.

A page owns one :class:`TaskRunner`. ``runner.start(fn, description)`` runs ``fn(ctx)`` on a
``QThreadPool`` worker with a :class:`~core.tasks.TaskContext` whose progress callback emits
Qt signals; those signals live on a separate ``QObject`` created on the GUI thread, so Qt
queues them to the runner's slots there. Starting a new task cancels the one before it,
and whatever the old one still delivers is dropped (Orange's ``ConcurrentWidgetMixin``).

Store writes go to a one-thread pool (``writes=True``) so they are serialised (Anki's
approach); reads and checks use the global pool. :func:`shutdown` cancels every runner and
waits for both pools with a timeout; the main window calls it on quit.

This module knows nothing about pages or widgets and never touches the engine itself.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.errors import Cancelled
from core.outcome import Outcome
from core.tasks import CancelToken, TaskContext

TaskFn = Callable[[TaskContext], Any]

_ids = itertools.count(1)
_runners: weakref.WeakSet[TaskRunner] = weakref.WeakSet()
_write_pool: QThreadPool | None = None


def write_pool() -> QThreadPool:
    """The one-thread pool that serialises store writes."""
    global _write_pool
    if _write_pool is None:
        _write_pool = QThreadPool()
        _write_pool.setMaxThreadCount(1)
        _write_pool.setObjectName("airlock-writes")
    return _write_pool


def pools() -> list[QThreadPool]:
    """Every pool a runner may use (global first)."""
    return [QThreadPool.globalInstance(), write_pool()]


def shutdown(timeout_ms: int = 5000) -> bool:
    """Cancel every runner and wait for the pools; True when all work stopped in time."""
    for runner in list(_runners):
        runner.cancel()
    done = True
    for pool in pools():
        done = pool.waitForDone(timeout_ms) and done
    return done


class _WorkerSignals(QObject):
    """Signals of one task; emitted on the worker thread, delivered on the GUI thread."""

    progressed = Signal(int, float, str)
    """Payload: task id, overall fraction 0..1, message."""

    succeeded = Signal(int, object)
    """Payload: task id, the function's return value."""

    raised = Signal(int, object)
    """Payload: task id, the exception the function raised."""

    stopped = Signal(int)
    """Payload: task id of a task that stopped on a cancel request."""


class _Worker(QRunnable):
    def __init__(self, task_id: int, fn: TaskFn, token: CancelToken, signals: _WorkerSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)  # the pool owns and deletes it after run()
        self._id = task_id
        self._fn = fn
        self._token = token
        self.signals = signals

    def _report(self, fraction: float, message: str) -> None:
        self.signals.progressed.emit(self._id, float(fraction), message)

    def run(self) -> None:
        ctx = TaskContext(self._report, self._token)
        try:
            result = self._fn(ctx)
        except Cancelled:
            self.signals.stopped.emit(self._id)
        except BaseException as exc:  # delivered to the GUI as a value, shown as a message
            self.signals.raised.emit(self._id, exc)
        else:
            self.signals.succeeded.emit(self._id, result)


class TaskRunner(QObject):
    """Runs one task at a time for its owner; a new task supersedes the old one.

    Parameters
    ----------
    parent:
        The owning page (or any QObject).
    publish:
        Called with a task's result on the GUI thread when the result is an
        :class:`~core.outcome.Outcome`, even a superseded one: the store did change, so the
        bus must hear of it.
    """

    started = Signal(str)
    """A task started; payload: its description ("Backing up the workspace")."""

    progressed = Signal(float, str)
    """Progress of the current task; payload: fraction 0..1 and a message."""

    finished = Signal(object)
    """The current task returned; payload: its return value."""

    failed = Signal(object)
    """The current task raised; payload: the exception."""

    cancelled = Signal()
    """The current task stopped because it was cancelled; no payload."""

    busy_changed = Signal(bool)
    """Whether a current task is running; payload: the new state."""

    def __init__(self, parent: QObject | None = None, publish: Callable[[object], None] | None = None) -> None:
        super().__init__(parent)
        self._publish = publish
        self._current: int | None = None
        self._token: CancelToken | None = None
        self._signals: dict[int, _WorkerSignals] = {}  # alive until each task's last word
        self.description = ""
        _runners.add(self)

    @property
    def busy(self) -> bool:
        return self._current is not None

    def start(self, fn: TaskFn, description: str, *, writes: bool = False) -> int:
        """Run ``fn(ctx)`` in the background and return the task's id.

        ``writes=True`` sends it to the one-thread write pool. Any task still running is
        cancelled first and its result will be dropped.
        """
        if self._token is not None:
            self._token.cancel()
        task_id = next(_ids)
        token = CancelToken()
        signals = _WorkerSignals()
        signals.progressed.connect(self._on_worker_progressed)
        signals.succeeded.connect(self._on_worker_succeeded)
        signals.raised.connect(self._on_worker_raised)
        signals.stopped.connect(self._on_worker_stopped)
        worker = _Worker(task_id, fn, token, signals)
        self._signals[task_id] = signals
        was_busy = self.busy
        self._current = task_id
        self._token = token
        self.description = description
        self.started.emit(description)
        if not was_busy:
            self.busy_changed.emit(True)
        (write_pool() if writes else QThreadPool.globalInstance()).start(worker)
        return task_id

    def cancel(self) -> None:
        """Ask the current task to stop; it answers with ``cancelled`` when it does."""
        if self._token is not None:
            self._token.cancel()

    def _settle(self, task_id: int) -> bool:
        """Forget the worker; True when ``task_id`` is the current task (its news counts)."""
        self._signals.pop(task_id, None)
        if task_id != self._current:
            return False
        self._current = None
        self._token = None
        self.busy_changed.emit(False)
        return True

    @Slot(int, float, str)
    def _on_worker_progressed(self, task_id: int, fraction: float, message: str) -> None:
        if task_id == self._current:
            self.progressed.emit(fraction, message)

    @Slot(int, object)
    def _on_worker_succeeded(self, task_id: int, result: object) -> None:
        if isinstance(result, Outcome) and self._publish is not None:
            self._publish(result)
        if self._settle(task_id):
            self.finished.emit(result)

    @Slot(int, object)
    def _on_worker_raised(self, task_id: int, error: object) -> None:
        if self._settle(task_id):
            self.failed.emit(error)

    @Slot(int)
    def _on_worker_stopped(self, task_id: int) -> None:
        if self._settle(task_id):
            self.cancelled.emit()
