"""Progress reporting and cancellation for long work, without Qt.

A long core function takes ``ctx: TaskContext | None = None``, calls ``ctx.report(fraction,
message)`` now and then and ``ctx.check()`` between steps. Sub-steps get a slice of the
parent's range with :meth:`TaskContext.sub`, so nested work reports one monotone 0..1 bar.
The desktop turns reports into Qt signals; the command line draws a text bar.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from core.errors import Cancelled

ProgressCallback = Callable[[float, str], None]

_MIN_INTERVAL_S = 0.05


class CancelToken:
    """A flag one thread sets and a worker polls. Safe to share across threads."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class _Sink:
    callback: ProgressCallback | None
    last_emit: float = 0.0
    last_fraction: float = -1.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, fraction: float, message: str, force: bool) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        with self.lock:
            if fraction < self.last_fraction:
                fraction = self.last_fraction  # never move the bar backwards
            if not force and now - self.last_emit < _MIN_INTERVAL_S:
                return
            self.last_emit = now
            self.last_fraction = fraction
        self.callback(fraction, message)


class TaskContext:
    """Where a long function reports progress and learns it should stop.

    Parameters
    ----------
    progress:
        Called with ``(fraction, message)``; throttled to about 20 calls a second, except
        the first and the last (fraction 1.0), which always get through.
    token:
        Cancellation flag; :meth:`check` raises :class:`~core.errors.Cancelled` once set.
    """

    def __init__(
        self,
        progress: ProgressCallback | None = None,
        token: CancelToken | None = None,
        *,
        _sink: _Sink | None = None,
        _start: float = 0.0,
        _end: float = 1.0,
    ) -> None:
        self.token = token or CancelToken()
        self._sink = _sink or _Sink(progress)
        self._start = _start
        self._end = _end

    def report(self, fraction: float, message: str = "") -> None:
        """Report progress in this context's own 0..1 range."""
        fraction = min(1.0, max(0.0, fraction))
        overall = self._start + (self._end - self._start) * fraction
        force = self._sink.last_fraction < 0 or overall >= 1.0
        self._sink.emit(overall, message, force)

    def check(self) -> None:
        """Raise :class:`~core.errors.Cancelled` if cancellation was requested."""
        if self.token.cancelled:
            raise Cancelled("Cancelled by the user.")

    def sub(self, start: float, end: float) -> TaskContext:
        """A context whose 0..1 maps onto ``[start, end]`` of this one's range."""
        span = self._end - self._start
        return TaskContext(
            token=self.token,
            _sink=self._sink,
            _start=self._start + span * start,
            _end=self._start + span * end,
        )

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


def ensure_context(ctx: TaskContext | None) -> TaskContext:
    """The given context, or a silent one that never cancels."""
    return ctx if ctx is not None else TaskContext()


_frozen = 0
_frozen_lock = threading.Lock()


@contextlib.contextmanager
def long_work() -> Iterator[None]:
    """Around seconds of number crunching: the garbage collector stops re-scanning old objects.

    A long task allocates many short-lived Python objects (arrays, futures); each young
    collection that escalates walks every object of the process (the loaded libraries hold
    hundreds of thousands). ``gc.freeze`` moves the objects alive now out of the collector's
    sight until the outermost ``long_work`` ends; garbage made meanwhile is still collected.
    """
    import gc

    global _frozen
    with _frozen_lock:
        _frozen += 1
        if _frozen == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen -= 1
            if _frozen == 0:
                gc.unfreeze()
