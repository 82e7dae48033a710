"""Running core functions off the GUI thread, routed by kind, with progress, cancel and stale-result dropping.

Work comes in two kinds, as in the engine (Anki's ``QueryOp`` / ``CollectionOp``):

- ``runner.query(fn, description)`` runs ``fn(ctx)`` on the global pool inside
  :func:`core.api.queries_only`, so the store refuses any write it tries (a query that writes
  fails the first time it runs, as an error the page shows). A query returns a plain value;
  returning an :class:`~core.api.Outcome` is a mistake and fails with ``TypeError``.
- ``runner.mutate(fn, description)`` runs ``fn(ctx)`` on the one-thread write pool, so store
  writes are serialised, and must return an :class:`~core.api.Outcome`. Its ``changes`` are
  published on the bus even when the task was superseded: the store did change.

Long reads therefore never hold the write thread. Each runner has one *concern* (a page may own
several: ``"profile"``, ``"drift"`` …): starting a task cancels only the runner's previous task,
and whatever that task still delivers is dropped (Orange's ``ConcurrentWidgetMixin``). Worker
signals live on a separate ``QObject`` created on the GUI thread, so Qt queues them to the
runner's slots there. :func:`shutdown` cancels every runner and waits for both pools with a
timeout; the main window calls it on quit.

This module knows nothing about pages or widgets and never touches the engine itself.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.api import Cancelled, CancelToken, Change, Outcome, TaskContext, queries_only

T = TypeVar("T")

Publish = Callable[[frozenset[Change]], None]
"""Where a mutation's changes go (the bus's ``publish``)."""

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


def read_pool() -> QThreadPool:
    """The pool queries run on (Qt's global pool)."""
    pool = QThreadPool.globalInstance()
    assert pool is not None
    return pool


def pools() -> list[QThreadPool]:
    """Every pool a runner may use (reads first)."""
    return [read_pool(), write_pool()]


def shutdown(timeout_ms: int = 5000) -> bool:
    """Cancel every runner (every concern of every page) and wait for the pools; True when all work stopped in time."""
    for runner in list(_runners):
        runner.cancel()
    done = True
    for pool in pools():
        done = pool.waitForDone(timeout_ms) and done
    return done


def _as_query(fn: Callable[[TaskContext], T], description: str) -> Callable[[TaskContext], T]:
    def query(ctx: TaskContext) -> T:
        with queries_only(f"The query {description!r}"):
            result = fn(ctx)
        if isinstance(result, Outcome):
            raise TypeError(f"The query {description!r} returned an Outcome; a mutation must run with mutate().")
        return result

    return query


def _as_mutation(fn: Callable[[TaskContext], Outcome[T]], description: str) -> Callable[[TaskContext], Outcome[T]]:
    def mutation(ctx: TaskContext) -> Outcome[T]:
        result = fn(ctx)
        if not isinstance(result, Outcome):
            raise TypeError(f"The mutation {description!r} returned {type(result).__name__}, not an Outcome.")
        return result

    return mutation


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
    def __init__(self, task_id: int, fn: Callable[[TaskContext], object], token: CancelToken,
                 signals: _WorkerSignals) -> None:
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
        except BaseException as exc:  # noqa: BLE001 - delivered to the GUI as a value, shown as a message
            self.signals.raised.emit(self._id, exc)
        else:
            self.signals.succeeded.emit(self._id, result)


class TaskRunner(QObject):
    """Runs one task at a time for one concern of its owner; a new task supersedes the old one.

    Parameters
    ----------
    parent:
        The owning page (or any QObject).
    publish:
        Called on the GUI thread with a mutation's ``Outcome.changes``, even a superseded one's.
    concern:
        What this runner's tasks are about ("profile", "drift"); a page keys its runners by it.
    """

    started = Signal(str)
    """A task started; payload: its description ("Backing up the workspace")."""

    progressed = Signal(float, str)
    """Progress of the current task; payload: fraction 0..1 and a message."""

    finished = Signal(object)
    """The current task returned; payload: its return value (an Outcome for a mutation)."""

    failed = Signal(object)
    """The current task raised; payload: the exception."""

    cancelled = Signal()
    """The current task stopped because it was cancelled; no payload."""

    busy_changed = Signal(bool)
    """Whether a current task is running; payload: the new state."""

    def __init__(self, parent: QObject | None = None, publish: Publish | None = None, concern: str = "") -> None:
        super().__init__(parent)
        self._publish = publish
        self.concern = concern
        self._current: int | None = None
        self._token: CancelToken | None = None
        self._signals: dict[int, _WorkerSignals] = {}  # alive until each task's last word
        self.description = ""
        _runners.add(self)

    @property
    def busy(self) -> bool:
        return self._current is not None

    def query(self, fn: Callable[[TaskContext], T], description: str) -> int:
        """Run the read-only ``fn(ctx)`` on the read pool; returns the task's id.

        The store refuses writes while it runs; a returned Outcome fails with ``TypeError``.
        Any task of this runner still running is cancelled and its result will be dropped.
        """
        return self._start(_as_query(fn, description), description, read_pool())

    def mutate(self, fn: Callable[[TaskContext], Outcome[T]], description: str) -> int:
        """Run ``fn(ctx)``, which stores something, on the one write thread; returns the task's id.

        Its Outcome's changes are published whether or not a newer task superseded it.
        """
        return self._start(_as_mutation(fn, description), description, write_pool())

    def _start(self, fn: Callable[[TaskContext], object], description: str, pool: QThreadPool) -> int:
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
        pool.start(worker)
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
        if isinstance(result, Outcome) and self._publish is not None:  # only mutations get here with one
            self._publish(result.changes)
        asked_to_stop = task_id == self._current and self._token is not None and self._token.cancelled
        if self._settle(task_id):
            if asked_to_stop and not isinstance(result, Outcome):
                # A query that finished after the user pressed Cancel: its result is not wanted.
                # (A mutation's result is shown: the store did change.)
                self.cancelled.emit()
            else:
                self.finished.emit(result)

    @Slot(int, object)
    def _on_worker_raised(self, task_id: int, error: object) -> None:
        if self._settle(task_id):
            self.failed.emit(error)

    @Slot(int)
    def _on_worker_stopped(self, task_id: int) -> None:
        if self._settle(task_id):
            self.cancelled.emit()
