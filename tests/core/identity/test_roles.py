"""Who may do what: refusals are clear, the last admin stays, every change is in the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.api import Engine, Unlock
from core.errors import InvalidInput, PermissionDenied, WorkspaceExists
from tests.conftest import PASSPHRASE


def _as(path: Path, actor: str) -> Engine:
    return Engine.open(path, Unlock.with_passphrase(PASSPHRASE), actor=actor)


def test_analyst_cannot_administer(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    engine.users.add("alice", {"analyst"})
    path = engine.path
    head = engine.audit.head()
    engine.close()
    with _as(path, "alice") as alice:
        with pytest.raises(PermissionDenied):
            alice.users.add("eve", {"admin"})
        with pytest.raises(PermissionDenied):
            alice.users.set_roles("alice", {"admin"})
        with pytest.raises(PermissionDenied):
            alice.users.set_active(engine.actor, False)
        with pytest.raises(PermissionDenied):
            alice.workspace.backup(tmp_path / "b.airlock")
        with pytest.raises(PermissionDenied):
            alice.workspace.change_passphrase("mine now")
        assert [u.name for u in alice.users.list()] == sorted([engine.actor, "alice"])
        assert alice.audit.head() == head
    assert not (tmp_path / "b.airlock").exists()
    with _as(path, "alice"):  # the passphrase did not change
        pass


def test_stranger_and_deactivated_user_are_refused(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    engine.users.add("bob", {"admin"})
    engine.users.set_active("bob", False)
    path = engine.path
    engine.close()
    for who in ("stranger", "bob"):
        with _as(path, who) as other:
            with pytest.raises(PermissionDenied):
                other.users.add("eve", {"analyst"})


def test_last_admin_cannot_drop_admin(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    me = engine.actor
    with pytest.raises(InvalidInput, match="last admin"):
        engine.users.set_roles(me, {"analyst"})
    with pytest.raises(InvalidInput):
        engine.users.set_active(me, False)
    assert engine.users.current() is not None and "admin" in engine.users.current().roles  # type: ignore[union-attr]
    engine.users.add("bob", {"admin"})
    engine.users.set_roles(me, {"analyst"})  # now allowed: bob is admin
    path = engine.path
    engine.close()
    with _as(path, "bob") as bob:
        with pytest.raises(InvalidInput, match="last admin"):
            bob.users.set_roles("bob", {"reviewer"})
        # A deactivated admin is no longer counted, so taking its role away is allowed.
        bob.users.add("carol", {"admin"})
        bob.users.set_active("carol", False)
        assert bob.users.set_roles("carol", {"analyst"}).value.roles == frozenset({"analyst"})


def test_bad_user_input_is_refused(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    for bad in ("", "has space", "x" * 65, "semi;colon", "ünïcode"):
        with pytest.raises(InvalidInput):
            engine.users.add(bad, {"analyst"})
    with pytest.raises(InvalidInput):
        engine.users.add("ok", {"superuser"})
    with pytest.raises(InvalidInput):
        engine.users.add("ok", set())
    engine.users.add("ok", {"analyst"})
    with pytest.raises(WorkspaceExists):
        engine.users.add("ok", {"reviewer"})


def test_every_mutation_is_audited_with_its_actor(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    me = engine.actor
    start = engine.audit.head().seq
    outcomes = [
        engine.users.add("alice", {"analyst"}, display_name="Alice A."),
        engine.users.set_roles("alice", {"analyst", "reviewer"}),
        engine.users.set_active("alice", False),
        engine.users.set_active("alice", True),
        engine.workspace.change_passphrase("battery staple"),
        engine.workspace.backup(tmp_path / "b.airlock"),
    ]
    assert all("audit" in o.changes for o in outcomes)
    events, total = engine.audit.events(limit=100)
    new = sorted((e for e in events if e.seq > start), key=lambda e: e.seq)
    assert [e.action for e in new] == [
        "user.added", "user.roles_changed", "user.deactivated", "user.activated",
        "workspace.passphrase_changed", "workspace.backed_up",
    ]
    assert all(e.actor == me for e in new)
    assert new[1].details == {"before": ["analyst"], "after": ["analyst", "reviewer"]}
    assert engine.audit.verify().ok
