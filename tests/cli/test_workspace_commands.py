"""The everyday path a user walks: init, info, users, audit, backup, restore, check."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.api import Engine, Unlock
from core.store.keys import parse_recovery_key
from tests.cli.conftest import PASSPHRASE, Made


def test_init_shows_the_recovery_key_once_and_framed(made: Made) -> None:
    out = made.init.out
    assert out.count(made.recovery_key) == 1
    assert "RECOVERY KEY" in out
    assert "shown only now" in out
    assert "Write this down" in out
    assert "passphrase is forgotten or the keyring" in out
    assert len(parse_recovery_key(made.recovery_key)) == 32
    assert made.path.exists() and made.path.with_name("lab.airlock.keys").exists()


def test_init_refuses_an_existing_workspace(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    before = made.path.read_bytes()
    result = run("workspace", "init", made.path)
    assert result.code == 2
    assert "already exists" in result.err
    assert "Traceback" not in result.err
    assert made.path.read_bytes() == before


def test_full_flow_init_to_restore(made: Made, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)

    info = run(*ws, "workspace", "info")
    assert info.code == 0, info.err
    assert "Lab (qa)" in info.out
    assert str(made.path) in info.out
    assert "MB" in info.out
    assert "2 entries, head #2" in info.out
    assert "never — run `airlock workspace backup" in info.out

    added = run(*ws, "users", "add", "bob", "--role", "analyst", "--role", "reviewer")
    assert added.code == 0, added.err
    assert "bob: analyst, reviewer" in added.out
    changed = run(*ws, "users", "role", "bob", "--role", "reviewer")
    assert changed.code == 0, changed.err
    assert "bob: reviewer" in changed.out
    listed = run(*ws, "users", "list")
    assert [line.split()[0] for line in listed.out.splitlines() if line.startswith("bob")] == ["bob"]
    assert "reviewer" in listed.out

    log = run(*ws, "audit", "log", "--action", "user.")
    assert log.code == 0, log.err
    assert "user.roles_changed" in log.out and "user.added" in log.out
    assert "workspace.created" not in log.out
    assert "3 of 3 matching" in log.out
    limited = run(*ws, "audit", "log", "--limit", "1")
    assert "1 of 4 matching" in limited.out
    assert "user.roles_changed" in limited.out

    verify = run(*ws, "audit", "verify")
    assert verify.code == 0, verify.err
    assert "intact: 4 entries" in verify.out

    backup = tmp_path / "lab-backup.airlock"
    made_backup = run(*ws, "workspace", "backup", backup)
    assert made_backup.code == 0, made_backup.err
    assert backup.exists() and backup.with_name(backup.name + ".keys").exists()
    assert "Result:               ok" in made_backup.out
    after = run(*ws, "workspace", "info")
    assert str(backup) in after.out and "never" not in after.out

    verified = run("workspace", "verify-backup", backup)
    assert verified.code == 0, verified.err
    assert "found: #4" in verified.out

    restored_path = tmp_path / "restored.airlock"
    restored = run("workspace", "restore", backup, restored_path)
    assert restored.code == 0, restored.err
    assert restored_path.exists()

    check = run("--workspace", restored_path, "workspace", "check")
    assert check.code == 0, check.err
    assert "Result:               ok" in check.out
    users = run("--workspace", restored_path, "users", "list")
    assert "bob" in users.out


def test_backup_never_overwrites(made: Made, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dest = tmp_path / "taken.airlock"
    dest.write_bytes(b"precious")
    result = run("--workspace", made.path, "workspace", "backup", dest)
    assert result.code == 2
    assert "already exists" in result.err
    assert dest.read_bytes() == b"precious"


def test_restore_into_an_existing_file_is_refused(made: Made, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backup = tmp_path / "b.airlock"
    assert run("--workspace", made.path, "workspace", "backup", backup).code == 0
    result = run("workspace", "restore", backup, made.path)
    assert result.code == 2
    assert "already exists" in result.err


def test_workspace_from_environment_and_option_after_subcommand(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert run("workspace", "info").code == 2  # no workspace named anywhere
    after = run("workspace", "info", "--workspace", made.path)
    assert after.code == 0 and "Lab (qa)" in after.out
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(made.path))
    from_env = run("workspace", "info")
    assert from_env.code == 0 and "Lab (qa)" in from_env.out


def test_missing_workspace_is_named_and_not_created(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nothing.airlock"
    result = run("--workspace", missing, "workspace", "info")
    assert result.code == 2
    assert "No workspace at" in result.err
    assert not missing.exists()
    assert os.listdir(tmp_path) == []


def test_passwd_changes_the_passphrase(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRLOCK_NEW_PASSPHRASE", "a brand new one")
    changed = run("--workspace", made.path, "workspace", "passwd")
    assert changed.code == 0, changed.err
    assert "Passphrase changed" in changed.out
    old = run("--workspace", made.path, "workspace", "info")
    assert old.code == 2 and "passphrase is wrong" in old.err
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "a brand new one")
    assert run("--workspace", made.path, "workspace", "info").code == 0


def test_recovery_key_opens_when_the_passphrase_is_lost(made: Made, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    monkeypatch.setenv("AIRLOCK_RECOVERY_KEY", made.recovery_key.lower())
    result = run("--workspace", made.path, "--recovery-key", "workspace", "info")
    assert result.code == 0, result.err
    assert "Lab (qa)" in result.out


def test_in_use_names_the_holder_and_suggests_read_only(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    with Engine.open(made.path, Unlock.with_passphrase(PASSPHRASE)):
        busy = run("--workspace", made.path, "users", "add", "eve", "--role", "analyst")
        assert busy.code == 2
        assert f"pid {os.getpid()}" in busy.err
        assert "--read-only" in busy.err
        as_json = run("--json", "--workspace", made.path, "workspace", "info")
        error = json.loads(as_json.out)["error"]
        assert error["code"] == "workspace_in_use" and error["pid"] == os.getpid()
        looked = run("--workspace", made.path, "--read-only", "workspace", "info")
        assert looked.code == 0, looked.err
        assert "[read-only]" in looked.out
        refused = run("--workspace", made.path, "--read-only", "users", "add", "eve", "--role", "analyst")
        assert refused.code == 2 and "read-only" in refused.err


def test_the_last_admin_cannot_drop_admin(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    me = Engine.open(made.path, Unlock.with_passphrase(PASSPHRASE))
    try:
        name = me.actor
    finally:
        me.close()
    result = run("--workspace", made.path, "users", "role", name, "--role", "analyst")
    assert result.code == 2
    assert "last admin" in result.err


def test_deactivate_and_activate(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    assert run(*ws, "users", "add", "carol", "--role", "analyst").code == 0
    off = run(*ws, "users", "deactivate", "carol")
    assert off.code == 0 and "(deactivated)" in off.out
    listed = json.loads(run(*ws, "--json", "users", "list").out)
    assert {u["name"]: u["active"] for u in listed["users"]}["carol"] is False
    on = run(*ws, "users", "activate", "carol")
    assert on.code == 0 and "(deactivated)" not in on.out
    unknown = run(*ws, "users", "deactivate", "nobody")
    assert unknown.code == 2 and "nobody" in unknown.err
