"""Progress and cancellation without Qt: sub-ranges, throttling, cancel."""

from __future__ import annotations

import time

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


def test_reports_are_throttled_but_first_and_last_get_through() -> None:
    seen, ctx = _recorder()
    start = time.monotonic()
    n = 20_000
    for i in range(n):
        ctx.report(i / n, "working")
    ctx.report(1.0, "done")
    elapsed = time.monotonic() - start
    assert seen[0][0] == 0.0 and seen[-1] == (1.0, "done")
    assert len(seen) <= 2 + elapsed / 0.05 + 1, f"{len(seen)} reports in {elapsed:.2f}s"
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


def test_throttled_reports_resume_after_the_interval() -> None:
    seen, ctx = _recorder()
    ctx.report(0.1)
    ctx.report(0.2)
    time.sleep(0.06)
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
