"""Backups verify, restore into new files only, and refuse anything that is not one."""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from core.api import Engine, TaskContext, Unlock, restore_backup, verify_backup
from core.errors import BackupInvalid, Cancelled, WorkspaceExists
from core.store import blobs, keys
from core.tasks import CancelToken
from tests.conftest import PASSPHRASE
from tests.core.helpers import sha256_file, snapshot_dir

MB = 1024 * 1024


def _fill(engine: Engine, mb: int = 2) -> None:
    for i in range(5):
        engine.users.add(f"user{i}", {"analyst"})
    with engine._opened.store.write("tester") as tx:
        blobs.put_bytes(tx, random.Random(mb).randbytes(mb * MB), owner=blobs.BlobOwner("test", "fill"))


def test_backup_restores_and_opens_every_way(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, recovery = workspace
    _fill(engine)
    result = engine.workspace.backup(tmp_path / "b.airlock").value
    assert result.report.ok and result.audit_head.seq > 0
    assert (tmp_path / "b.airlock").read_bytes()[:16] != b"SQLite format 3\x00"
    head_at_backup = result.audit_head
    assert engine.workspace.info().last_backup_path == str(tmp_path / "b.airlock")
    events, _ = engine.audit.events(action="workspace.backed_up")
    assert events and events[0].details["audit_head"]["seq"] == head_at_backup.seq

    verification = verify_backup(tmp_path / "b.airlock", Unlock.with_passphrase(PASSPHRASE))
    assert verification.ok and verification.recorded_head == head_at_backup

    restored = restore_backup(tmp_path / "b.airlock", tmp_path / "r.airlock", Unlock.with_recovery_key(recovery))
    assert restored.ok
    for unlock in (Unlock.with_passphrase(PASSPHRASE), Unlock.with_recovery_key(recovery)):
        with Engine.open(tmp_path / "r.airlock", unlock) as again:
            assert again.audit.head() == head_at_backup
            assert again.workspace.check().ok
            assert {u.name for u in again.users.list()} >= {f"user{i}" for i in range(5)}
            assert again.workspace.info().blob_bytes == 2 * MB
    assert not any(".restoring-" in p.name or ".partial-" in p.name for p in tmp_path.iterdir())


def test_corrupted_backup_is_refused(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, recovery = workspace
    _fill(engine, mb=4)
    backup = tmp_path / "b.airlock"
    engine.workspace.backup(backup)
    data = bytearray(backup.read_bytes())
    for offset in (len(data) // 2, len(data) // 2 + 7, len(data) // 3):
        data[offset] ^= 0x5A
    backup.write_bytes(bytes(data))
    verification = verify_backup(backup, Unlock.with_passphrase(PASSPHRASE))
    assert not verification.ok
    assert "HMAC" in verification.report.describe() or "unreadable" in verification.report.describe()
    with pytest.raises(BackupInvalid):
        restore_backup(backup, tmp_path / "r.airlock", Unlock.with_recovery_key(recovery))
    assert not (tmp_path / "r.airlock").exists()
    assert not keys.header_path(tmp_path / "r.airlock").exists()


def _foreign_files(tmp_path: Path) -> dict[str, Path]:
    noise = tmp_path / "noise.airlock"
    noise.write_bytes(random.Random(9).randbytes(16 * 4096))
    plain = tmp_path / "plain.airlock"
    conn = sqlite3.connect(plain)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    empty = tmp_path / "empty.airlock"
    empty.touch()
    other, _ = Engine.create(tmp_path / "other.airlock", name="Other", passphrase="other pass", use_keyring=False)
    with other:
        other.workspace.backup(tmp_path / "other-backup.airlock")
    return {"noise": noise, "plain": plain, "empty": empty, "other": tmp_path / "other-backup.airlock"}


def test_foreign_files_are_refused_as_backups(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, recovery = workspace
    folder = tmp_path / "foreign"
    folder.mkdir()
    files = _foreign_files(folder)
    # the other workspace's backup, with this workspace's key header put beside it
    header_swapped = folder / "swapped.airlock"
    shutil.copyfile(files["other"], header_swapped)
    shutil.copyfile(keys.header_path(engine.path), keys.header_path(header_swapped))
    files["swapped"] = header_swapped
    for name, path in files.items():
        for unlock in (Unlock.with_passphrase(PASSPHRASE), Unlock.with_recovery_key(recovery)):
            before = snapshot_dir(folder)
            with pytest.raises(BackupInvalid):
                verify_backup(path, unlock)
            dest = tmp_path / f"restored-{name}.airlock"
            with pytest.raises(BackupInvalid):
                restore_backup(path, dest, unlock)
            assert snapshot_dir(folder) == before, f"checking {name} changed files"
            assert not dest.exists() and not keys.header_path(dest).exists()


def test_restore_never_overwrites(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, recovery = workspace
    engine.workspace.backup(tmp_path / "b.airlock")
    victim = tmp_path / "existing.airlock"
    victim.write_bytes(b"precious")
    with pytest.raises(WorkspaceExists):
        restore_backup(tmp_path / "b.airlock", victim, Unlock.with_recovery_key(recovery))
    assert victim.read_bytes() == b"precious"
    engine.close()
    digest = sha256_file(engine.path)
    with pytest.raises(WorkspaceExists):
        restore_backup(tmp_path / "b.airlock", engine.path, Unlock.with_recovery_key(recovery))
    assert sha256_file(engine.path) == digest


def test_backup_never_overwrites(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    victim = tmp_path / "existing.airlock"
    victim.write_bytes(b"precious")
    with pytest.raises(WorkspaceExists):
        engine.workspace.backup(victim)
    assert victim.read_bytes() == b"precious"


@pytest.mark.parametrize("when", ["before", "during"])
def test_cancelled_backup_leaves_no_file(workspace: tuple[Engine, str], tmp_path: Path, when: str) -> None:
    engine, _ = workspace
    _fill(engine, mb=20)
    folder = tmp_path / "backups"
    folder.mkdir()
    token = CancelToken()
    if when == "before":
        token.cancel()
    else:
        threading.Timer(0.02, token.cancel).start()
    head = engine.audit.head()
    with pytest.raises(Cancelled):
        engine.workspace.backup(folder / "b.airlock", TaskContext(token=token))
    assert list(folder.iterdir()) == []
    assert engine.audit.head() == head, "a cancelled backup was recorded"
    assert engine.workspace.info().last_backup_at is None
    # the connection that was interrupted is usable again: the next backup works
    assert engine.workspace.backup(folder / "b2.airlock").value.report.ok


def test_backup_progress_is_monotone(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    reports: list[float] = []
    engine.workspace.backup(tmp_path / "b.airlock", TaskContext(lambda f, m: reports.append(f)))
    assert reports == sorted(reports) and reports[-1] == 1.0 and reports[0] == 0.0
