"""One writer per workspace file, whatever names reach it: hard links, symbolic links, renames.

The attack: the file hard linked (or symlinked) under a second name with its key header
copied; before the fix each name had its own lock file and its own WAL, two writers ran at
once and committed work was lost. Each test stages the attack and shows it refused.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.api import Engine, Unlock
from core.errors import InvalidInput, WorkspaceInUse, WrongKey
from core.store import keys
from core.store.lock import WorkspaceLock
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("_crash_child.py")


def _closed(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "w.airlock"
    engine, recovery = Engine.create(path, name="Links", passphrase=PASSPHRASE, use_keyring=False)
    engine.close()
    return path, recovery


def test_hard_link_second_writer_is_refused_under_a_real_workload(tmp_path: Path) -> None:
    path, recovery = _closed(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), recovery, "0", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        for _ in range(5):  # the writer is busy committing
            assert child.stdout.readline().startswith("committed")
        # the attack: a second name for the same file, with the key header beside it
        twin = tmp_path / "twin.airlock"
        os.link(path, twin)
        shutil.copyfile(keys.header_path(path), keys.header_path(twin))
        with pytest.raises(InvalidInput, match="hard links") as info:
            Engine.open(twin, Unlock.with_passphrase(PASSPHRASE))
        assert "samefile" in str(info.value)
        with pytest.raises(InvalidInput, match="hard links"):
            Engine.open(twin, Unlock.with_recovery_key(recovery), read_only=True)
        assert not (tmp_path / "twin.airlock-wal").exists(), "the second name got a write-ahead log"
        os.unlink(twin)
        for _ in range(5):  # the first writer never noticed
            assert child.stdout.readline().startswith("committed")
    finally:
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
    committed = [int(m) for m in re.findall(r"^committed (\d+)$", out, re.MULTILINE)]
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
        report = again.workspace.check()
        assert report.ok, report.describe()
        names = {u.name for u in again.users.list()}
        assert {f"crash{i}" for i in committed} <= names


def test_a_workspace_with_two_names_is_refused_before_any_open(tmp_path: Path) -> None:
    path, _ = _closed(tmp_path)
    os.link(path, tmp_path / "other-name")
    for name in (path, tmp_path / "other-name"):
        with pytest.raises(InvalidInput, match="2 hard links"):
            Engine.open(name, Unlock.with_passphrase(PASSPHRASE))


def test_the_lock_belongs_to_the_file_not_the_name(tmp_path: Path) -> None:
    """Even where the link check is raced (a link made between check and lock), the lock on
    the database file itself keeps the second writer out."""
    path, _ = _closed(tmp_path)
    os.link(path, tmp_path / "alias.airlock")
    first = WorkspaceLock(path)
    first.acquire()
    try:
        with pytest.raises(WorkspaceInUse, match="another name"):
            WorkspaceLock(tmp_path / "alias.airlock").acquire()
    finally:
        first.release()


def test_symlink_is_resolved_and_shares_the_lock(tmp_path: Path) -> None:
    path, _ = _closed(tmp_path)
    link = tmp_path / "link.airlock"
    link.symlink_to(path)
    keys.header_path(link).symlink_to(keys.header_path(path))
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        with pytest.raises(WorkspaceInUse):
            Engine.open(link, Unlock.with_passphrase(PASSPHRASE))
        engine.users.add("bob", {"analyst"})
    with Engine.open(link, Unlock.with_passphrase(PASSPHRASE)) as through_link:
        assert through_link.path == path, "the symbolic link was not resolved at open"
        assert "bob" in {u.name for u in through_link.users.list()}
    assert not (tmp_path / "link.airlock-wal").exists() and not (tmp_path / "link.airlock.lock").exists()


def test_passphrase_change_through_a_link_changes_the_real_header(tmp_path: Path) -> None:
    path, _ = _closed(tmp_path)
    link = tmp_path / "link.airlock"
    link.symlink_to(path)
    keys.header_path(link).symlink_to(keys.header_path(path))
    with Engine.open(link, Unlock.with_passphrase(PASSPHRASE)) as engine:
        engine.workspace.change_passphrase("battery staple")
    assert keys.header_path(link).is_symlink(), "the link to the key header was replaced by a file"
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_passphrase(PASSPHRASE))
    with Engine.open(path, Unlock.with_passphrase("battery staple")) as engine:
        events, _ = engine.audit.events(action="workspace.passphrase_changed")
        assert len(events) == 1


def test_a_symlinked_key_header_stays_a_link_after_a_change(tmp_path: Path) -> None:
    path, _ = _closed(tmp_path)
    vault = tmp_path / "vault"
    vault.mkdir()
    real_header = vault / "w.keys"
    shutil.move(keys.header_path(path), real_header)
    keys.header_path(path).symlink_to(real_header)
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        engine.workspace.change_passphrase("battery staple")
    assert keys.header_path(path).is_symlink()
    assert keys.KeyHeader.read(real_header).unlock_with_passphrase("battery staple")
    assert [p.name for p in vault.iterdir()] == ["w.keys"], "a temporary file was left beside the real header"
