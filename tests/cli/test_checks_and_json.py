"""Checks that find a problem exit 1 and name it; ``--json`` is parseable everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import sqlcipher3

from core.store.db import CIPHER_PRAGMAS
from core.store.keys import parse_recovery_key
from tests.cli.conftest import Made


def tamper_first_audit_entry(path: Path, recovery_key: str) -> None:
    """Edit audit entry #1 behind Airlock's back, as someone with the raw key could."""
    key = parse_recovery_key(recovery_key)
    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        for pragma in CIPHER_PRAGMAS:  # the workspace format's published settings
            conn.execute(pragma)
        conn.execute("UPDATE audit_event SET details='{}' WHERE seq=1")
        conn.commit()
    finally:
        conn.close()


def test_check_and_verify_pass_then_fail_after_tampering(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    assert run(*ws, "workspace", "check").code == 0
    assert run(*ws, "audit", "verify").code == 0

    tamper_first_audit_entry(made.path, made.recovery_key)

    check = run(*ws, "workspace", "check")
    assert check.code == 1
    assert "broken at entry #1" in check.out
    assert "PROBLEM FOUND" in check.out
    verify = run(*ws, "audit", "verify")
    assert verify.code == 1
    assert "Audit chain broken at entry #1: its content was changed" in verify.out
    as_json = json.loads(run(*ws, "--json", "audit", "verify").out)
    assert as_json["ok"] is False and as_json["first_bad_seq"] == 1
    check_json = json.loads(run(*ws, "--json", "workspace", "check").out)
    assert check_json["ok"] is False and check_json["chain"]["first_bad_seq"] == 1


def test_a_tampered_workspace_refuses_to_make_a_backup_that_hides_it(made: Made, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tamper_first_audit_entry(made.path, made.recovery_key)
    dest = tmp_path / "backup.airlock"
    result = run("--workspace", made.path, "workspace", "backup", dest)
    assert result.code == 2
    assert "failed its own check" in result.err
    assert not dest.exists()
    leftovers = [p.name for p in tmp_path.iterdir() if "backup" in p.name]
    assert leftovers == []


def test_json_output_parses_for_every_read_command(made: Made, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = ("--json", "--workspace", made.path)
    info = json.loads(run(*ws, "workspace", "info").out)
    assert info["name"] == "Lab" and info["role"] == "qa" and info["path"] == str(made.path)
    assert info["audit_head"]["seq"] == 2 and info["last_backup_at"] is None

    added = json.loads(run(*ws, "users", "add", "dora", "--role", "reviewer").out)
    assert added["name"] == "dora" and added["roles"] == ["reviewer"]
    users = json.loads(run(*ws, "users", "list").out)
    assert "dora" in {u["name"] for u in users["users"]}

    log = json.loads(run(*ws, "audit", "log", "--actor", users["you"], "--grep", "dora").out)
    assert log["total"] == 1 and log["events"][0]["action"] == "user.added"
    assert log["events"][0]["details"] == {"roles": ["reviewer"]}

    verify = json.loads(run(*ws, "audit", "verify").out)
    assert verify["ok"] is True and verify["checked"] == 3

    backup = json.loads(run(*ws, "workspace", "backup", tmp_path / "b.airlock").out)
    assert backup["path"] == str(tmp_path / "b.airlock") and backup["report"]["ok"] is True

    doctor = json.loads(run("--json", "doctor").out)
    assert doctor["ok"] is True
    assert "sqlcipher" in {c["name"] for c in doctor["checks"]}


def test_json_init_carries_the_recovery_key(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "j.airlock"
    result = run("--json", "workspace", "init", path)
    body = json.loads(result.out)
    assert result.code == 0
    assert body["workspace"]["name"] == "j"
    assert len(parse_recovery_key(body["recovery_key"])) == 32


def test_internal_errors_are_one_line_unless_debug(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.cli import doctor

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor.api, "doctor", broken)
    quiet = run("doctor")
    assert quiet.code == 70
    assert "internal error (RuntimeError: boom)" in quiet.err
    assert "Traceback" not in quiet.err
    loud = run("--debug", "doctor")
    assert loud.code == 70
    assert "Traceback" in loud.err
