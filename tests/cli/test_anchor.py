"""A cut or rewritten audit log is caught against the head a backup recorded; edited backup
headers are refused; backups work beside another instance; a full disk is not "corruption".

Each attack is staged with the raw key (what someone holding it can do) and first shown to
pass the log's own check, then shown caught.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlcipher3

from core.api import Engine, Unlock
from core.audit.chain import entry_hash
from core.errors import BackupInvalid, DiskFull
from core.store import backup as backup_module
from core.store import keys
from core.store.db import translate_error
from tests.cli.conftest import PASSPHRASE
from tests.core.helpers import tamper_connection


def _with_backup(tmp_path: Path) -> tuple[Path, Path, bytes, int]:
    path = tmp_path / "w.airlock"
    engine, recovery = Engine.create(path, name="Anchor", passphrase=PASSPHRASE, use_keyring=False)
    with engine:
        for i in range(3):
            engine.users.add(f"before{i}", {"analyst"})
        result = engine.workspace.backup(tmp_path / "b.airlock").value
        for i in range(4):
            engine.users.add(f"after{i}", {"analyst"})
    return path, result.path, keys.parse_recovery_key(recovery), result.audit_head.seq


def _cut(path: Path, key: bytes, keep: int) -> None:
    conn = tamper_connection(path, key)
    conn.execute("DELETE FROM audit_event WHERE seq > ?", (keep,))
    seq, digest = conn.execute("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE workspace SET audit_head_seq = ?, audit_head_hash = ?", (seq, digest))
    conn.close()


def test_a_cut_log_with_a_rewritten_head_is_caught_against_the_backup(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    path, backup, key, head_seq = _with_backup(tmp_path)
    _cut(path, key, head_seq - 2)
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        assert engine.audit.verify().ok, "the attack did not reproduce: the log alone should look intact"
        anchor = engine.workspace.compare_with_backup(backup)
        assert anchor.compared and not anchor.ok and "cut off" in anchor.detail
        report = engine.workspace.check()  # compares with the last backup by default
        assert not report.ok and report.anchor is not None and not report.anchor.ok
    verify = run("--workspace", path, "audit", "verify", "--against", backup)
    assert verify.code == 1 and "cut off" in verify.out, verify.out + verify.err
    check = run("--workspace", path, "workspace", "check")
    assert check.code == 1 and "PROBLEM FOUND" in check.out


def test_a_rewritten_entry_is_caught_against_the_backup(tmp_path: Path) -> None:
    path, backup, key, head_seq = _with_backup(tmp_path)
    conn = tamper_connection(path, key)
    conn.execute("DELETE FROM audit_event WHERE seq >= ?", (head_seq,))
    prev = conn.execute("SELECT hash FROM audit_event WHERE seq = ?", (head_seq - 1,)).fetchone()[0]
    at, actor, action, subject, details = "2020-01-01T00:00:00+00:00", "mallory", "user.added", "user:x", "{}"
    digest = entry_hash(head_seq, at, actor, action, subject, details, prev)
    conn.execute(
        "INSERT INTO audit_event (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        (head_seq, at, actor, action, subject, details, prev, digest),
    )
    conn.execute("UPDATE workspace SET audit_head_seq = ?, audit_head_hash = ?", (head_seq, digest))
    conn.close()
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        assert engine.audit.verify().ok
        anchor = engine.workspace.compare_with_backup(backup)
        assert not anchor.ok and "rewritten" in anchor.detail


def test_an_intact_log_agrees_with_its_backup(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    path, backup, _, head_seq = _with_backup(tmp_path)
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        anchor = engine.workspace.compare_with_backup(backup)
        assert anchor.ok and anchor.authenticated is True and anchor.head is not None and anchor.head.seq == head_seq
        assert engine.workspace.check().ok
    assert run("--workspace", path, "audit", "verify", "--against", backup).code == 0


def test_an_edited_backup_header_is_refused(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    path, backup, key, head_seq = _with_backup(tmp_path)
    # the attack: cut the backup's own log, rewrite its head row, and edit its header to match
    _cut(backup, key, head_seq - 2)
    header_file = keys.header_path(backup)
    body = json.loads(header_file.read_text())
    with Engine.open(backup, Unlock.with_passphrase(PASSPHRASE), read_only=True) as opened:
        body["backup"]["audit_head"] = {"seq": opened.audit.head().seq, "hash": opened.audit.head().hash}
    header_file.write_text(json.dumps(body))
    with pytest.raises(BackupInvalid, match="was edited"):
        backup_module.verify_backup(backup, Unlock.with_passphrase(PASSPHRASE))
    result = run("workspace", "verify-backup", backup)
    assert result.code != 0 and "edited" in result.err
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as engine:
        assert not engine.workspace.compare_with_backup(backup).ok


def test_a_backup_works_while_another_instance_has_the_workspace_open(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.airlock"
    engine, _ = Engine.create(path, name="Busy", passphrase=PASSPHRASE, use_keyring=False)
    with engine:
        engine.users.add("bob", {"analyst"})
        with Engine.open(path, Unlock.with_passphrase(PASSPHRASE), read_only=True) as reader:
            result = reader.workspace.backup(tmp_path / "online.airlock").value
        verification = backup_module.verify_backup(result.path, Unlock.with_passphrase(PASSPHRASE))
        assert verification.ok and verification.head_authenticated is True
        cli = run("--workspace", path, "workspace", "backup", tmp_path / "cli.airlock")
        assert cli.code == 0, cli.err
        assert "read transaction" in cli.out
        engine.users.add("carol", {"analyst"})  # the writer is unaffected


def test_disk_full_is_its_own_error_and_the_workspace_stays_intact(workspace, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, _ = workspace
    with engine._opened.store.raw_connection() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(sqlcipher3.DatabaseError) as info:
            conn.execute("CREATE TABLE filler(x)")
            conn.execute("INSERT INTO filler VALUES (randomblob(1000000))")
        conn.execute("PRAGMA max_page_count = 1073741823")
    err = translate_error(info.value)
    assert isinstance(err, DiskFull) and "intact" in str(err)
    real_attach = backup_module.attach_encrypted

    def small_disk(conn, path, alias, key):  # type: ignore[no-untyped-def]
        real_attach(conn, path, alias, key)
        conn.execute(f"PRAGMA {alias}.max_page_count = 2")

    monkeypatch.setattr(backup_module, "attach_encrypted", small_disk)
    with pytest.raises(DiskFull, match="full"):
        engine.workspace.backup(tmp_path / "full.airlock")
    assert not [p for p in tmp_path.iterdir() if "full.airlock" in p.name], "a partial backup was left"
    assert engine.workspace.check().ok


def test_check_and_verify_agree_on_a_workspace_with_one_damaged_page(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "d.airlock"
    engine, _ = Engine.create(path, name="Damaged", passphrase=PASSPHRASE, use_keyring=False)
    with engine:
        for i in range(120):
            engine.users.add(f"user{i}", {"analyst"}, display_name="Analyst " * 25)
    data = bytearray(path.read_bytes())
    pages = len(data) // 16384
    verdicts = set()
    for page in range(2, pages):
        damaged = bytearray(data)
        damaged[page * 16384 + 200] ^= 0xFF
        path.write_bytes(bytes(damaged))
        check = run("--workspace", path, "--read-only", "workspace", "check")
        verify = run("--workspace", path, "--read-only", "audit", "verify")
        # both report the damage the same way: exit 1 with findings, or exit 2 if it cannot even open
        assert check.code == verify.code != 0, f"page {page}: check {check.code}, verify {verify.code}: {verify.out}{verify.err}"
        verdicts.add(("intact" in verify.out, "damaged pages" in verify.out))
    path.write_bytes(bytes(data))
    assert (True, True) in verdicts, "no page outside the log was tried: the test proves less than it says"
