"""A passphrase change killed at every fsync: never a working passphrase the log does not show.

The attack (before the fix): killed just after the header rename, the new passphrase worked
and ``workspace.passphrase_changed`` was never written; killed at the first fsync, a
``.keys.*.tmp`` holding a slot for the new passphrase stayed forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.api import Engine, Unlock
from core.errors import WrongKey
from core.store import keys
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("_rekey_child.py")
NEW = "battery staple horse"


def _run_child(path: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(CHILD), str(path), PASSPHRASE, NEW, str(kill_at)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


def _works(header: keys.KeyHeader, passphrase: str) -> bool:
    try:
        header.unlock_with_passphrase(passphrase)
    except WrongKey:
        return False
    return True


def _closed(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "w.airlock"
    engine, recovery = Engine.create(path, name="Rekey", passphrase=PASSPHRASE, use_keyring=False)
    engine.close()
    return path, recovery


def test_an_uninterrupted_change_makes_four_fsyncs(tmp_path: Path) -> None:
    """The parametrised kills below cover every fsync a change makes."""
    path, _ = _closed(tmp_path)
    done = _run_child(path, 0)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fsyncs 4"


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4])
def test_sigkill_at_each_fsync_leaves_an_audited_outcome(tmp_path: Path, kill_at: int) -> None:
    path, recovery = _closed(tmp_path)
    killed = _run_child(path, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = keys.KeyHeader.read(keys.header_path(path))
    if kill_at == 2:  # the attack's moment: the new passphrase is in the header, not yet in the log
        assert _works(left, NEW) and left.pending_changes
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as engine:
        events, _ = engine.audit.events(action="workspace.passphrase_changed")
        assert engine.audit.verify().ok
        notices = engine.notices
    header = keys.KeyHeader.read(keys.header_path(path))
    assert not header.pending_changes
    assert len([s for s in header.slots if s.get("type") == "passphrase"]) == 1
    new_works, old_works = _works(header, NEW), _works(header, PASSPHRASE)
    assert new_works != old_works, "exactly one passphrase works once the change is settled"
    assert new_works == (len(events) == 1), f"new passphrase works: {new_works}, audit entries: {len(events)}"
    assert old_works == (len(events) == 0)
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")], "a temporary header was left"
    if kill_at in (1, 3):  # a temporary header file was left by the kill: removed, and said so
        assert any("key-header write" in n for n in notices), notices
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
        assert again.notices == (), "a sweep or settlement was reported twice"


def test_the_pending_passphrase_of_an_unlogged_change_is_refused(tmp_path: Path) -> None:
    path, _ = _closed(tmp_path)
    assert _run_child(path, 2).returncode == -signal.SIGKILL
    with pytest.raises(WrongKey, match="interrupted"):
        Engine.open(path, Unlock.with_passphrase(NEW))
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        assert engine.audit.verify().ok
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_passphrase(NEW))


def test_the_new_passphrase_of_a_logged_change_finishes_it(tmp_path: Path) -> None:
    path, _ = _closed(tmp_path)
    assert _run_child(path, 3).returncode == -signal.SIGKILL
    with Engine.open(path, Unlock.with_passphrase(NEW)) as engine:
        assert any("Finished an interrupted passphrase change" in n for n in engine.notices)
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_passphrase(PASSPHRASE))
