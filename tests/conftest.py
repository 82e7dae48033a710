"""Shared fixtures: a real encrypted workspace in a temporary folder, and a keyring twin.

The keyring is off by default (``AIRLOCK_NO_KEYRING=1``) so no test ever touches the
developer's real keyring; keyring tests install :class:`MemoryKeyring` explicitly.

Two guards hold for the whole session:

- **No network.** An audit hook (:func:`sys.addaudithook`) refuses, before the system call, any
  ``socket.connect``/``sendto`` to an address other than loopback or a Unix socket, and any
  name lookup other than ``localhost`` or a numeric address; the test that tried fails even if
  its code swallowed the error. It sees Python's sockets only: a C library's own sockets
  (libpq under psycopg) and child processes are not watched.
- **No real home.** ``HOME`` and the ``XDG_*`` folders point into a temporary folder made at
  start-up and removed at the end, so nothing (QSettings, matplotlib, keyring files) is left in
  the developer's home. ``real_home`` gives the real one, for tests that prove it untouched.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

PASSPHRASE = "correct horse"


class NetworkBlocked(RuntimeError):
    """A test's code tried to reach a host other than this machine (not an ``OSError``, so
    code that tolerates network failures cannot mistake it for one and carry on)."""


_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_CONNECT_EVENTS = frozenset({"socket.connect", "socket.sendto"})
_LOOKUP_EVENTS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"})
#: What the guard refused since the running test started (checked after each test).
network_refusals: list[str] = []


def _is_local_host(host: object, *, numeric_is_fine: bool) -> bool:
    if host is None or host in ("", b""):
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False  # a name to resolve: that may already send a DNS query
    if numeric_is_fine:
        return True  # resolving a numeric address sends nothing; connect is checked on its own
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _network_guard(event: str, args: tuple[object, ...]) -> None:
    if event in _CONNECT_EVENTS:
        sock, address = args[0], args[-1]
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return  # Unix sockets, netlink: never leave the machine
        host = address[0] if isinstance(address, tuple) and address else address
        if _is_local_host(host, numeric_is_fine=False):
            return
        what = f"{event.split('.')[1]} to {address!r}"
    elif event in _LOOKUP_EVENTS:
        if _is_local_host(args[0], numeric_is_fine=True):
            return
        what = f"{event.split('.')[1]} of {args[0]!r}"
    else:
        return
    network_refusals.append(what)
    raise NetworkBlocked(f"tests must not use the network: refused {what} (only loopback and Unix sockets)")


sys.addaudithook(_network_guard)


def _take_refusals(item: pytest.Item) -> list[str]:
    refused, network_refusals[:] = list(network_refusals), []
    return [] if "expects_network_refusal" in getattr(item, "fixturenames", ()) else refused


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail the test (not just error) when its body tried the network, caught or not."""
    network_refusals.clear()
    result = yield
    refused = _take_refusals(item)
    if refused:
        pytest.fail(f"the test tried to use the network: {refused}", pytrace=False)
    return result


@pytest.fixture(autouse=True)
def _no_network_in_fixtures(request: pytest.FixtureRequest) -> Iterator[None]:
    network_refusals.clear()
    yield
    refused = _take_refusals(request.node)
    if refused:
        pytest.fail(f"a fixture of the test tried to use the network: {refused}", pytrace=False)


@pytest.fixture
def expects_network_refusal() -> list[str]:
    """For the guard's own tests: the refusals so far (the test does not fail for them)."""
    return network_refusals


_REAL_HOME = Path.home()
_HOME_VARIABLES = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
_saved_home: dict[str, str | None] = {}
_session_home: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    home = Path(tempfile.mkdtemp(prefix="airlock-test-home-")).resolve()
    _session_home.append(home)
    _saved_home.update({name: os.environ.get(name) for name in _HOME_VARIABLES})
    os.environ["HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / ".config")
    os.environ["XDG_DATA_HOME"] = str(home / ".local" / "share")
    os.environ["XDG_CACHE_HOME"] = str(home / ".cache")
    os.environ["XDG_STATE_HOME"] = str(home / ".local" / "state")


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _saved_home.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for home in _session_home:
        shutil.rmtree(home, ignore_errors=True)
    _session_home.clear()


@pytest.fixture(scope="session")
def real_home() -> Path:
    """The developer's home folder as it was before the session pointed ``HOME`` elsewhere."""
    return _REAL_HOME


@pytest.fixture(scope="session")
def session_home() -> Path:
    """The temporary folder that ``HOME`` (and the XDG folders) point into for this session."""
    return _session_home[-1]


@pytest.fixture(autouse=True)
def _no_real_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")


@pytest.fixture(autouse=True)
def _fast_passphrase_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """New passphrase slots use 2,000 PBKDF2 rounds instead of 256,000 (0.7 s each here).

    The slot records its own count, so opening follows whatever the slot says; the database
    encryption (raw key) is untouched. ``real_kdf`` restores the production cost.
    """
    from core.promotion import keys as signing_keys
    from core.store import keys

    monkeypatch.setattr(keys, "KDF_ITERATIONS", 2_000)
    monkeypatch.setattr(signing_keys, "SCRYPT_N", 1 << 10)  # signing-key files likewise (the file records its cost)


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
    from core.store import keys

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    # Airlock builds its keyring from an allowlist and ignores keyring's own choice:
    monkeypatch.setattr(keys, "backend_override", backend)
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

