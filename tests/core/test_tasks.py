"""Progress and cancellation without Qt: sub-ranges, throttling, cancel."""

from __future__ import annotations

import itertools

import pytest

from core.errors import Cancelled
from core.tasks import CancelToken, TaskContext, ensure_context


def _recorder() -> tuple[list[tuple[float, str]], TaskContext]:
    seen: list[tuple[float, str]] = []
    return seen, TaskContext(lambda f, m: seen.append((f, m)))


def test_sub_ranges_map_onto_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.tasks._MIN_INTERVAL_S", 0.0)
    seen, ctx = _recorder()
    ctx.report(0.0, "start")
    load = ctx.sub(0.2, 0.6)
    load.report(0.5, "half of loading")
    inner = load.sub(0.5, 1.0)
    inner.report(0.5, "inner")
    load.report(1.0, "loaded")
    ctx.sub(0.6, 1.0).report(1.0, "done")
    assert [round(f, 6) for f, _ in seen] == [0.0, 0.4, 0.5, 0.6, 1.0]
    assert [m for _, m in seen][-1] == "done"


def test_reports_are_clamped_and_never_go_backwards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.tasks._MIN_INTERVAL_S", 0.0)
    seen, ctx = _recorder()
    ctx.report(0.5)
    ctx.report(0.3)
    ctx.report(-4)
    ctx.report(7)
    assert [f for f, _ in seen] == [0.5, 0.5, 0.5, 1.0]


class _FakeClock:
    """Stands in for the ``time`` module inside core.tasks: time moves only when a test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_reports_are_throttled_but_first_and_last_get_through(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _FakeClock()
    monkeypatch.setattr("core.tasks.time", clock)
    seen: list[tuple[float, str]] = []
    emitted_at: list[float] = []

    def record(fraction: float, message: str) -> None:
        seen.append((fraction, message))
        emitted_at.append(clock.now)

    ctx = TaskContext(record)
    n = 2_000
    for i in range(n):
        ctx.report(i / n, "working")
        clock.now += 1 / 1024  # 2,000 reports over about 2 s
    ctx.report(1.0, "done")
    assert seen[0][0] == 0.0 and seen[-1] == (1.0, "done")
    gaps = [b - a for a, b in itertools.pairwise(emitted_at[:-1])]  # the last is forced
    assert gaps and min(gaps) >= 0.05, "two reports less than the interval apart"
    assert len(seen) >= 30, f"only {len(seen)} of {n} reports got through in about 2 s"
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


def test_throttled_reports_resume_after_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _FakeClock()
    monkeypatch.setattr("core.tasks.time", clock)
    seen, ctx = _recorder()
    ctx.report(0.1)
    ctx.report(0.2)
    clock.now += 0.06
    ctx.report(0.3)
    assert [f for f, _ in seen] == [0.1, 0.3]


def test_check_raises_cancelled_in_every_sub_context() -> None:
    token = CancelToken()
    ctx = TaskContext(token=token)
    sub = ctx.sub(0.0, 0.5).sub(0.5, 1.0)
    ctx.check()
    sub.check()
    assert not sub.cancelled
    token.cancel()
    assert ctx.cancelled and sub.cancelled
    with pytest.raises(Cancelled):
        sub.check()
    with pytest.raises(Cancelled):
        ctx.check()


def test_silent_context_never_cancels() -> None:
    ctx = ensure_context(None)
    ctx.report(0.5, "nobody listens")
    ctx.check()
    given = TaskContext()
    assert ensure_context(given) is given
