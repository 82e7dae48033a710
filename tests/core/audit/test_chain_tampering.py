"""Someone with the raw key edits the audit log behind Airlock's back: verify() must say where."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlcipher3

from core.api import Engine, Unlock
from core.store import keys
from tests.core.helpers import tamper_connection


def _edit_details(conn: sqlcipher3.Connection) -> int:
    row = conn.execute("SELECT details FROM audit_event WHERE seq = 4").fetchone()
    details = json.loads(row[0])
    details["roles"] = ["admin"]
    edited = json.dumps(details, sort_keys=True, separators=(",", ":"))
    conn.execute("UPDATE audit_event SET details = ? WHERE seq = 4", (edited,))
    return 4


def _edit_actor(conn: sqlcipher3.Connection) -> int:
    conn.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 6")
    return 6


def _delete_middle(conn: sqlcipher3.Connection) -> int:
    conn.execute("DELETE FROM audit_event WHERE seq = 5")
    return 5


def _delete_and_renumber(conn: sqlcipher3.Connection) -> int:
    conn.execute("DELETE FROM audit_event WHERE seq = 5")
    conn.execute("UPDATE audit_event SET seq = seq - 1 WHERE seq > 5")
    conn.execute("UPDATE workspace SET audit_head_seq = audit_head_seq - 1")
    return 5


def _swap(conn: sqlcipher3.Connection) -> int:
    conn.execute("UPDATE audit_event SET seq = -1 WHERE seq = 3")
    conn.execute("UPDATE audit_event SET seq = 3 WHERE seq = 4")
    conn.execute("UPDATE audit_event SET seq = 4 WHERE seq = -1")
    return 3


def _truncate_tail(conn: sqlcipher3.Connection) -> int:
    last = conn.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
    conn.execute("DELETE FROM audit_event WHERE seq > ?", (last - 2,))
    return last - 1


def _rewrite_head(conn: sqlcipher3.Connection) -> int:
    conn.execute("UPDATE workspace SET audit_head_hash = ?", ("0" * 64,))
    return conn.execute("SELECT audit_head_seq FROM workspace").fetchone()[0]


@pytest.fixture
def logged(workspace: tuple[Engine, str]) -> tuple[Path, bytes, str]:
    """A closed workspace with ten audit entries; ``(path, raw_key, recovery_key)``."""
    engine, recovery = workspace
    for i in range(8):
        engine.users.add(f"user{i}", {"analyst"})
    assert engine.audit.head().seq == 10
    assert engine.audit.verify().ok
    engine.close()
    return engine.path, keys.parse_recovery_key(recovery), recovery


@pytest.mark.parametrize(
    "tamper",
    [_edit_details, _edit_actor, _delete_middle, _delete_and_renumber, _swap, _truncate_tail, _rewrite_head],
    ids=lambda f: f.__name__.strip("_"),
)
def test_tampering_is_detected_at_the_first_bad_entry(
    logged: tuple[Path, bytes, str], tamper: Callable[[sqlcipher3.Connection], int]
) -> None:
    path, key, recovery = logged
    conn = tamper_connection(path, key)
    first_bad = tamper(conn)
    conn.close()
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as engine:
        report = engine.audit.verify()
        assert not report.ok
        assert report.first_bad_seq == first_bad, report.describe()
        assert f"#{first_bad}" in report.describe()
        check = engine.workspace.check()
        assert not check.ok and check.integrity == "ok" and check.cipher_integrity == "ok"


def test_intact_chain_verifies_after_reopen(logged: tuple[Path, bytes, str]) -> None:
    path, _, recovery = logged
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as engine:
        report = engine.audit.verify()
        assert report.ok and report.checked == 10 and report.head == engine.audit.head()
        assert engine.workspace.check().ok


def test_chain_cannot_be_moved_to_another_workspace(logged: tuple[Path, bytes, str], tmp_path: Path) -> None:
    path, key, _ = logged
    other, other_recovery = Engine.create(tmp_path / "o.airlock", name="Other", passphrase="other-passphrase", use_keyring=False)
    other.close()
    src = tamper_connection(path, key)
    rows = src.execute("SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_event").fetchall()
    head = src.execute("SELECT audit_head_seq, audit_head_hash FROM workspace").fetchone()
    src.close()
    dst = tamper_connection(tmp_path / "o.airlock", keys.parse_recovery_key(other_recovery))
    dst.execute("DELETE FROM audit_event")
    dst.executemany("INSERT INTO audit_event VALUES (?,?,?,?,?,?,?,?)", rows)
    dst.execute("UPDATE workspace SET audit_head_seq = ?, audit_head_hash = ?", head)
    dst.close()
    with Engine.open(tmp_path / "o.airlock", Unlock.with_recovery_key(other_recovery)) as engine:
        report = engine.audit.verify()
        assert not report.ok and report.first_bad_seq == 1
