"""Functions that tests/core/test_processes.py runs in child processes.

They live apart from the test module so a child imports only this (not pytest). Each is
written against ``TaskContext`` exactly as a service function would be.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import time
from pathlib import Path
from typing import Any

from core import runtime
from core.errors import WorkspaceInUse
from core.tasks import TaskContext

#: A report this message carries means "inspect me now": the child keeps working until cancelled.
HOLDING = "holding the secret"
#: Reports sent back to back by :func:`steps_and_a_large_result`.
BURST = 20_000


def steps_and_a_large_result(ctx: TaskContext, steps: int, size: int) -> dict[str, Any]:
    """Reports ``steps`` times, then returns ``size`` bytes with their digest and the child's facts."""
    for i in range(steps):
        ctx.check()
        ctx.report(i / steps, f"step {i + 1} of {steps}")
        time.sleep(0.06)  # longer than the throttle interval, so every report crosses
    burst = ctx.sub(steps / (steps + 1), 1.0)
    for i in range(BURST):  # far faster than the throttle lets through
        burst.report(i / BURST, "burst")
    blob = hashlib.shake_256(b"airlock").digest(size)
    ctx.report(1.0, "done")
    return {
        "blob": blob, "sha256": hashlib.sha256(blob).hexdigest(), "pid": os.getpid(),
        "settings": runtime.current(), "cpu_workers": runtime.cpu_workers(),
    }


def hold_a_secret_until_cancelled(ctx: TaskContext, data: bytes, *, key: bytes, passphrase: str) -> str:
    """Uses the secrets (a MAC over ``data``), says so, then waits for cancel, checking often."""
    mac = hmac.new(key, data + passphrase.encode(), hashlib.sha256).hexdigest()
    ctx.report(0.5, HOLDING)
    deadline = time.monotonic() + 60  # a test that forgets to cancel still ends
    while time.monotonic() < deadline:
        ctx.check()
        time.sleep(0.01)
        ctx.report(0.5, HOLDING)
    return mac


def ignore_cancel(ctx: TaskContext) -> None:
    """A busy loop that never calls ``ctx.check()``: only terminating the process ends it."""
    ctx.report(0.1, "busy")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pass


def open_read_only_then_die(ctx: TaskContext, path: str, how: str, *, passphrase: str) -> int:
    """Opens the workspace read-only with the passphrase, reads, then dies or waits for cancel."""
    from core.api import Engine, Unlock

    with Engine.open(Path(path), Unlock.with_passphrase(passphrase), read_only=True) as engine:
        seq = engine.audit.head().seq
        ctx.report(0.5, HOLDING)
        if how == "exit":
            os._exit(9)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ctx.check()
            time.sleep(0.01)
    return seq


def fail(ctx: TaskContext, how: str, size: int = 0) -> None:
    """Ends the way ``how`` says: an Airlock error, another exception, an exit, a kill, no memory."""
    ctx.report(0.2, f"about to fail: {how}")
    if how == "airlock":
        raise WorkspaceInUse("The workspace is open in another window.", host="elsewhere", pid=42)
    if how == "exception":
        raise ValueError("column 'age' holds a date")
    if how == "exit":
        os._exit(3)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "memory":
        bytearray(size)
    time.sleep(60)


def nothing(ctx: TaskContext) -> float:
    """Returns at once: for measuring what a child costs to start."""
    return time.monotonic()


def an_object(ctx: TaskContext) -> runtime.RuntimeSettings:
    """Returns an instance of a class: fine from trusted work, refused where only plain data may come."""
    return runtime.RuntimeSettings(threads=1)


def niceness(ctx: TaskContext) -> int:
    """The child's own scheduling niceness."""
    return os.nice(0)
