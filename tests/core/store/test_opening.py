"""Every way opening a file can go wrong gets its own error, and leaves the file untouched."""

from __future__ import annotations

import os
import random
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from core.api import Engine, Unlock
from core.errors import (
    InvalidInput,
    KeyUnavailable,
    NotAWorkspace,
    ReadOnlyWorkspace,
    WorkspaceCorrupted,
    WorkspaceInUse,
    WorkspaceNotFound,
    WorkspaceTooNew,
    WrongKey,
)
from core.store import keys
from core.store.db import PAGE_SIZE
from tests.conftest import PASSPHRASE
from tests.core.helpers import snapshot_dir, tamper_connection

PAGE = PAGE_SIZE


@pytest.fixture
def closed_workspace(tmp_path: Path) -> tuple[Path, str]:
    """A closed workspace with some content in its own folder: ``(path, recovery_key)``."""
    folder = tmp_path / "site"
    folder.mkdir()
    path = folder / "w.airlock"
    engine, recovery = Engine.create(path, name="Test", passphrase=PASSPHRASE, use_keyring=False)
    with engine:
        for i in range(40):
            engine.users.add(f"user{i}", {"analyst"}, display_name="Analyst " * 20)
    assert path.stat().st_size >= 20 * PAGE
    return path, recovery


def _open_fails(path: Path, unlock: Unlock, error: type[Exception], **kw: bool) -> Exception:
    folder = path.parent
    before = snapshot_dir(folder)
    with pytest.raises(error) as info:
        Engine.open(path, unlock, **kw)
    assert snapshot_dir(folder) == before, "a failed open changed or created files"
    return info.value


def test_workspace_file_is_not_plain_sqlite(closed_workspace: tuple[Path, str]) -> None:
    path, _ = closed_workspace
    assert path.read_bytes()[:16] != b"SQLite format 3\x00"


def test_wrong_passphrase_is_wrong_key_and_changes_nothing(closed_workspace: tuple[Path, str]) -> None:
    path, _ = closed_workspace
    err = _open_fails(path, Unlock.with_passphrase("correct horse!"), WrongKey)
    assert "correct horse" not in str(err)


def test_recovery_key_with_a_typo_is_caught_by_its_checksum(closed_workspace: tuple[Path, str]) -> None:
    path, recovery = closed_workspace
    i = recovery.index("-") + 2
    typo = recovery[:i] + ("A" if recovery[i] != "A" else "B") + recovery[i + 1 :]
    err = _open_fails(path, Unlock.with_recovery_key(typo), InvalidInput)
    assert "checksum" in str(err)
    _open_fails(path, Unlock.with_recovery_key(recovery[:-5]), InvalidInput)
    _open_fails(path, Unlock.with_recovery_key(recovery.replace(recovery[0], "!", 1)), InvalidInput)


def test_recovery_key_of_another_workspace_is_wrong_key(closed_workspace: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = closed_workspace
    other = keys.format_recovery_key(keys.new_database_key())
    _open_fails(path, Unlock.with_recovery_key(other), WrongKey)


def test_recovery_key_formatting_is_forgiving(closed_workspace: tuple[Path, str]) -> None:
    path, recovery = closed_workspace
    with Engine.open(path, Unlock.with_recovery_key(recovery.lower().replace("-", " "))) as engine:
        assert engine.workspace.info().name == "Test"


@pytest.mark.parametrize("cut", ["partial_page", "half", "one_page"])
def test_truncated_workspace_is_corrupted_not_wrong_key(closed_workspace: tuple[Path, str], cut: str) -> None:
    path, recovery = closed_workspace
    data = path.read_bytes()
    size = {"partial_page": len(data) - 1000, "half": (len(data) // PAGE // 2) * PAGE, "one_page": PAGE}[cut]
    path.write_bytes(data[:size])
    err = _open_fails(path, Unlock.with_passphrase(PASSPHRASE), WorkspaceCorrupted)
    assert "backup" in str(err).lower()
    _open_fails(path, Unlock.with_recovery_key(recovery), WorkspaceCorrupted)


def test_random_bytes_are_not_a_workspace(tmp_path: Path) -> None:
    rng = random.Random(1)
    for size in (10_000, 8 * PAGE):
        path = tmp_path / f"photo{size}.jpg"
        path.write_bytes(rng.randbytes(size))
        _open_fails(path, Unlock.with_passphrase(PASSPHRASE), NotAWorkspace)


def test_random_bytes_with_a_recovery_key_are_refused_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(random.Random(2).randbytes(8 * PAGE))
    recovery = keys.format_recovery_key(keys.new_database_key())
    _open_fails(path, Unlock.with_recovery_key(recovery), WrongKey)
    assert not keys.header_path(path).exists()


def test_empty_file_is_never_opened(tmp_path: Path) -> None:
    path = tmp_path / "w.airlock"
    path.touch()
    err = _open_fails(path, Unlock.with_recovery_key(keys.format_recovery_key(keys.new_database_key())), NotAWorkspace)
    assert "empty" in str(err)
    assert path.stat().st_size == 0


def test_plain_sqlite_file_is_not_a_workspace(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t(x)")
    conn.execute("INSERT INTO t VALUES ('hello')")
    conn.commit()
    conn.close()
    err = _open_fails(path, Unlock.with_passphrase(PASSPHRASE), NotAWorkspace)
    assert "unencrypted" in str(err)
    _open_fails(path, Unlock.with_recovery_key(keys.format_recovery_key(keys.new_database_key())), NotAWorkspace)


def test_missing_workspace_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound):
        Engine.open(tmp_path / "nothing.airlock", Unlock.with_passphrase(PASSPHRASE))
    assert list(tmp_path.iterdir()) == []


def test_newer_schema_is_refused_untouched(closed_workspace: tuple[Path, str]) -> None:
    path, recovery = closed_workspace
    conn = tamper_connection(path, keys.parse_recovery_key(recovery))
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    err = _open_fails(path, Unlock.with_passphrase(PASSPHRASE), WorkspaceTooNew)
    assert "9999" in str(err)
    _open_fails(path, Unlock.with_passphrase(PASSPHRASE), WorkspaceTooNew, read_only=True)


def test_encrypted_database_that_is_not_a_workspace(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    key = keys.new_database_key()
    conn = tamper_connection(path, key)
    conn.execute("CREATE TABLE t(x)")
    conn.close()
    _open_fails(path, Unlock.with_recovery_key(keys.format_recovery_key(key)), NotAWorkspace)


def test_lost_key_header_is_recreated_by_the_recovery_key(closed_workspace: tuple[Path, str]) -> None:
    path, recovery = closed_workspace
    header = keys.header_path(path)
    workspace_id = keys.KeyHeader.read(header).workspace_id
    header.unlink()
    _open_fails(path, Unlock.with_passphrase(PASSPHRASE), NotAWorkspace)
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as engine:
        assert engine.workspace.info().users == 41
    assert keys.KeyHeader.read(header).workspace_id == workspace_id
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as engine:
        assert engine.workspace.check().ok


def test_header_of_another_workspace_is_refused(closed_workspace: tuple[Path, str], tmp_path: Path) -> None:
    path, recovery = closed_workspace
    other, _ = Engine.create(tmp_path / "other.airlock", name="Other", passphrase=PASSPHRASE, use_keyring=False)
    other.close()
    shutil.copyfile(keys.header_path(tmp_path / "other.airlock"), keys.header_path(path))
    # the other header's passphrase slot yields the other key: this file must not pass for it,
    # and it is another workspace's header, not damage ("restore from a backup" would mislead)
    err = _open_fails(path, Unlock.with_passphrase(PASSPHRASE), NotAWorkspace)
    assert "another workspace" in str(err) and "backup" not in str(err)
    _open_fails(path, Unlock.with_recovery_key(recovery), WrongKey)


def test_database_of_another_workspace_beside_a_header_is_foreign_not_damaged(
    closed_workspace: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = closed_workspace
    other, _ = Engine.create(tmp_path / "other.airlock", name="Other", passphrase=PASSPHRASE, use_keyring=False)
    other.close()
    shutil.copyfile(tmp_path / "other.airlock", path)
    err = _open_fails(path, Unlock.with_passphrase(PASSPHRASE), NotAWorkspace)
    assert "another workspace's file" in str(err) and "damaged" not in str(err)


def test_second_instance_gets_in_use_and_read_only_still_works(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    with pytest.raises(WorkspaceInUse) as info:
        Engine.open(engine.path, Unlock.with_passphrase(PASSPHRASE))
    assert info.value.pid == os.getpid()
    assert info.value.host == socket.gethostname()
    assert str(os.getpid()) in str(info.value)
    engine.users.add("bob", {"analyst"})
    with Engine.open(engine.path, Unlock.with_passphrase(PASSPHRASE), read_only=True) as reader:
        assert reader.read_only
        assert [u.name for u in reader.users.list()].count("bob") == 1
        assert reader.audit.verify().ok
        with pytest.raises(ReadOnlyWorkspace):
            reader.users.add("carol", {"analyst"})
        with pytest.raises(ReadOnlyWorkspace):
            reader.workspace.change_passphrase("another one")
    assert "carol" not in [u.name for u in engine.users.list()]
    engine.users.add("dave", {"analyst"})  # the writer is unaffected by the reader


def test_lock_is_released_on_close(workspace: tuple[Engine, str]) -> None:
    engine, recovery = workspace
    engine.close()
    with Engine.open(engine.path, Unlock.with_recovery_key(recovery)) as again:
        assert again.workspace.info().name == "Test"


def test_keyring_returning_none_is_key_unavailable_never_a_new_workspace(memory_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k.airlock"
    engine, _ = Engine.create(path, name="K", use_keyring=True)
    engine.close()
    memory_keyring.answer_none = True
    before = snapshot_dir(tmp_path)
    with pytest.raises(KeyUnavailable):
        Engine.open(path, Unlock.with_keyring())
    assert snapshot_dir(tmp_path) == before
    with pytest.raises(WorkspaceNotFound):
        Engine.open(tmp_path / "new.airlock", Unlock.with_keyring())
    assert snapshot_dir(tmp_path) == before
