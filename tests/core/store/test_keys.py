"""Key slots, the keyring and the recovery key: every way in works, and only those."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import keyring.backend
import pytest

from core.api import Engine, Unlock, keyring_status
from core.errors import AirlockError, InvalidInput, KeyUnavailable, UnsafeEnvironment, WrongKey
from core.store import keys
from tests.conftest import PASSPHRASE
from tests.core.helpers import snapshot_dir


def test_passphrase_change_takes_effect(workspace: tuple[Engine, str]) -> None:
    engine, recovery = workspace
    path = engine.path
    engine.workspace.change_passphrase("battery staple")
    engine.close()
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_passphrase(PASSPHRASE))
    with Engine.open(path, Unlock.with_passphrase("battery staple")) as again:
        events, _ = again.audit.events(action="workspace.passphrase_changed")
        assert len(events) == 1
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
        assert again.audit.verify().ok


def test_interrupted_passphrase_change_keeps_the_old_one(workspace: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch) -> None:
    engine, recovery = workspace
    path = engine.path
    head = engine.audit.head()
    header_before = keys.header_path(path).read_bytes()

    def power_cut(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error (simulated power cut)")

    monkeypatch.setattr(keys.os, "replace", power_cut)
    with pytest.raises(InvalidInput, match="old passphrase still works"):
        engine.workspace.change_passphrase("battery staple")
    monkeypatch.undo()
    assert keys.header_path(path).read_bytes() == header_before
    assert engine.audit.head() == head, "the audit entry of a change that did not happen was kept"
    expected = ["w.airlock", "w.airlock-shm", "w.airlock-wal", "w.airlock.keys", "w.airlock.lock"]
    assert sorted(p.name for p in path.parent.iterdir()) == expected
    engine.close()
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as again:
        assert again.audit.verify().ok
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_passphrase("battery staple"))
    with Engine.open(path, Unlock.with_recovery_key(recovery)):
        pass


def test_unlock_repr_never_shows_the_secret() -> None:
    for unlock, secret in (
        (Unlock.with_passphrase("hunter2-secret"), "hunter2-secret"),
        (Unlock.with_recovery_key("ABCDE-FGHIJ-KLMNO"), "ABCDE"),
    ):
        for text in (repr(unlock), str(unlock), f"{unlock}", f"{unlock!r}", repr([unlock]), repr({"u": unlock})):
            assert secret not in text
    assert "keyring" in repr(Unlock.with_keyring())
    assert "passphrase" in repr(Unlock.with_passphrase(""))  # an empty passphrase is still one


def test_key_header_holds_no_key_in_the_clear(workspace: tuple[Engine, str]) -> None:
    engine, recovery = workspace
    key = keys.parse_recovery_key(recovery)
    text = keys.header_path(engine.path).read_bytes()
    for form in (key, key.hex().encode(), key.hex().upper().encode(), recovery.encode(), PASSPHRASE.encode()):
        assert form not in text
    import base64

    assert base64.b64encode(key) not in text


def test_keyring_mode_with_a_safe_backend(memory_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert keyring_status()[0]
    path = tmp_path / "k.airlock"
    engine, recovery = Engine.create(path, name="Keyring", use_keyring=True)
    engine.close()
    assert len(memory_keyring.entries) == 1
    assert not keys.KeyHeader.read(keys.header_path(path)).has_passphrase
    with Engine.open(path, Unlock.with_keyring()) as again:
        info = again.workspace.info()
        assert info.keyring and not info.passphrase
    with pytest.raises(KeyUnavailable):
        Engine.open(path, Unlock.with_passphrase("anything"))
    memory_keyring.entries.clear()
    with pytest.raises(KeyUnavailable):
        Engine.open(path, Unlock.with_keyring())
    with Engine.open(path, Unlock.with_recovery_key(recovery)):
        pass


def test_keyring_entry_for_another_key_is_wrong_key(memory_keyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k.airlock"
    engine, _ = Engine.create(path, name="Keyring", use_keyring=True)
    engine.close()
    (entry,) = memory_keyring.entries
    memory_keyring.entries[entry] = keys.new_database_key().hex()
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_keyring())


class PlaintextKeyring(keyring.backend.KeyringBackend):
    """Stands in for keyrings.alt's file backends: stores the secret readable on disk."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


def test_unsafe_keyring_backend_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("AIRLOCK_NO_KEYRING", raising=False)
    try:
        ok, why = keyring_status()
        assert not ok and "PlaintextKeyring" in why
        with pytest.raises(UnsafeEnvironment):
            Engine.create(tmp_path / "u.airlock", name="U", passphrase=PASSPHRASE, use_keyring=True)
        assert backend.stored == {}
        assert list(tmp_path.iterdir()) == [], "a refused creation left files behind"
        engine, _ = Engine.create(tmp_path / "p.airlock", name="P", passphrase=PASSPHRASE)
        engine.close()
        assert backend.stored == {}, "use_keyring=None chose an unsafe backend"
    finally:
        keyring.set_keyring(previous)


def test_keyring_disabled_by_environment(memory_keyring, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")
    ok, why = keyring_status()
    assert not ok and "AIRLOCK_NO_KEYRING" in why


def test_creation_without_passphrase_or_keyring_is_refused(tmp_path: Path) -> None:
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        Engine.create(tmp_path / "x.airlock", name="X", use_keyring=False)
    assert list(tmp_path.iterdir()) == []


def test_recovery_key_round_trip_and_checksum() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from core.errors import InvalidInput

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(
        st.binary(min_size=32, max_size=32), st.integers(min_value=0, max_value=54),
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    )
    def check(key: bytes, position: int, replacement: str) -> None:
        text = keys.format_recovery_key(key)
        assert keys.parse_recovery_key(text) == key
        chars = [c for c in text if c != "-"]
        if chars[position] == replacement:
            return
        chars[position] = replacement
        try:
            parsed = keys.parse_recovery_key("".join(chars))
        except InvalidInput:
            return
        # a typo in the last character's spare bits still means the same key; any other typo
        # must be caught (16 checksum bits: a miss about once in 65,536, never with this seed)
        assert parsed == key, "a mistyped recovery key silently became another key"

    check()


def test_files_are_private(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    for path in (engine.path, keys.header_path(engine.path)):
        assert os.stat(path).st_mode & 0o077 == 0, f"{path.name} is readable by others"


def test_creation_never_overwrites(workspace: tuple[Engine, str]) -> None:
    from core.errors import WorkspaceExists

    engine, _ = workspace
    before = snapshot_dir(engine.path.parent)
    with pytest.raises(WorkspaceExists):
        Engine.create(engine.path, name="Again", passphrase="other-passphrase", use_keyring=False)
    assert snapshot_dir(engine.path.parent) == before


def test_passphrase_slot_uses_the_production_kdf_cost(real_kdf: int, tmp_path: Path) -> None:
    import json

    engine, _ = Engine.create(tmp_path / "k.airlock", name="K", passphrase=PASSPHRASE, use_keyring=False)
    engine.close()
    (slot,) = json.loads(keys.header_path(tmp_path / "k.airlock").read_text())["slots"]
    assert slot["kdf"] == "pbkdf2-hmac-sha512" and slot["iterations"] == real_kdf == keys.KDF_ITERATIONS
    with Engine.open(tmp_path / "k.airlock", Unlock.with_passphrase(PASSPHRASE)):
        pass


def test_a_new_passphrase_must_be_long_enough(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        engine.workspace.change_passphrase("short")
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        Engine.create(tmp_path / "n.airlock", name="N", passphrase="1234567", use_keyring=False)
    assert not (tmp_path / "n.airlock").exists()


def test_the_open_derives_the_passphrase_key_once_ahead_and_keeps_nothing(
    workspace: tuple[Engine, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Engine.open starts PBKDF2 on a thread while the store imports; the open uses that result
    (one derivation, not two), a wrong passphrase is still refused, and nothing derived stays."""
    import threading

    engine, _ = workspace
    path = engine.path
    engine.close()
    derived: list[str] = []
    real = keys._pbkdf2

    def counted(passphrase: str, salt: bytes, iterations: int) -> bytes:
        derived.append(threading.current_thread().name)
        return real(passphrase, salt, iterations)

    monkeypatch.setattr(keys, "_pbkdf2", counted)
    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as again:
        assert again.audit.verify().ok
    assert derived == ["airlock-key-derivation"] and keys._ahead == {}
    derived.clear()
    with pytest.raises(WrongKey):
        Engine.open(path, Unlock.with_passphrase("not the passphrase"))
    assert derived == ["airlock-key-derivation"] and keys._ahead == {}
    # A header that cannot be read is the open's to report, as before: nothing starts ahead.
    keys.header_path(path).write_text("{ not json")
    derived.clear()
    with pytest.raises(AirlockError):
        Engine.open(path, Unlock.with_passphrase(PASSPHRASE))
    assert derived == [] and keys._ahead == {}
