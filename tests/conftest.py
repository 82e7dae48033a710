"""Shared fixtures: a real encrypted workspace in a temporary folder, and a keyring twin.

The keyring is off by default (``AIRLOCK_NO_KEYRING=1``) so no test ever touches the
developer's real keyring; keyring tests install :class:`MemoryKeyring` explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

PASSPHRASE = "correct horse"


@pytest.fixture(autouse=True)
def _no_real_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")


@pytest.fixture(autouse=True)
def _fast_passphrase_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """New passphrase slots use 2,000 PBKDF2 rounds instead of 256,000 (0.7 s each here).

    The slot records its own count, so opening follows whatever the slot says; the database
    encryption (raw key) is untouched. ``real_kdf`` restores the production cost.
    """
    from core.store import keys

    monkeypatch.setattr(keys, "KDF_ITERATIONS", 2_000)


@pytest.fixture
def real_kdf(monkeypatch: pytest.MonkeyPatch) -> int:
    from core.store import keys

    monkeypatch.setattr(keys, "KDF_ITERATIONS", 256_000)
    return 256_000


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in this process only. ``answer_none`` simulates a lost entry."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.answer_none = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.answer_none:
            return None
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring (and turn the keyring on); restore the old one after."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("AIRLOCK_NO_KEYRING", raising=False)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[tuple[object, str]]:
    """A fresh encrypted workspace opened with a passphrase: ``(engine, recovery_key)``."""
    from core.api import Engine

    engine, recovery = Engine.create(tmp_path / "w.airlock", name="Test", passphrase=PASSPHRASE, use_keyring=False)
    try:
        yield engine, recovery
    finally:
        engine.close()

