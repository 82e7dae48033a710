"""Kill a writer at random moments: every commit it reported survives, and the file checks out."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from core.api import Engine, Unlock
from core.store.db import orm

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("_crash_child.py")
ROUNDS = 20


def _present(engine: Engine) -> list[int]:
    with engine._opened.store.read() as tx:
        names = orm(tx).execute(text("SELECT name FROM app_user WHERE name LIKE 'crash%'")).scalars().all()
        subjects = orm(tx).execute(text("SELECT subject FROM audit_event WHERE action = 'test.write'")).scalars().all()
    users = sorted(int(n[5:]) for n in names)
    audited = sorted(int(s[5:]) for s in subjects)
    assert users == audited, "a row and its audit entry were not committed together"
    return users


@pytest.mark.slow
def test_sigkill_never_loses_a_reported_commit(workspace: tuple[Engine, str]) -> None:
    engine, recovery = workspace
    path = engine.path
    engine.close()
    rng = random.Random(20240611)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    next_index = 0
    reported_total = 0
    for round_no in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(path), recovery, str(next_index), str(round_no)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.strip() == "ready", first + (child.stderr.read() if child.stderr else "")
        time.sleep(rng.uniform(0.0, 0.35))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        committed = [int(m) for m in re.findall(r"^committed (\d+)$", out, re.MULTILINE)]
        reported_total += len(committed)
        # the kernel dropped the lock with the process: a normal open works at once
        with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
            present = _present(again)
            assert set(committed) <= set(present), f"round {round_no}: lost {sorted(set(committed) - set(present))}"
            assert present == list(range(len(present))), f"round {round_no}: commits are not a prefix"
            report = again.workspace.check()
            assert report.ok, f"round {round_no}: {report.describe()}"
            next_index = len(present)
    assert reported_total > ROUNDS, "the child hardly ever committed: the test proved little"
