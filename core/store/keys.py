"""Workspace keys: the random database key, its key slots, the keyring and the recovery key.

Every workspace is encrypted by SQLCipher with one random 256-bit key used in raw-key mode.
That key is reachable three ways:

* the OS keyring, where a working (non-plaintext) backend exists;
* a passphrase slot: the key wrapped with AES-256-GCM under a key derived from the
  passphrase by PBKDF2-HMAC-SHA512 at 256,000 iterations (SQLCipher 4's own KDF and cost);
* the recovery key: the database key itself, shown once at creation.

The slots live in a small JSON *key header* beside the workspace (``NAME.airlock.keys``).
It holds no secret in the clear. Changing the passphrase rewrites only that header, through
a temporary file and an atomic rename, so an interrupted change leaves the old passphrase
working and a multi-gigabyte workspace is never rewritten. A passphrase change first adds
the new slot marked *pending* beside the old one; only once its audit entry has committed
is the old slot dropped (:mod:`core.store.rekey`), so a change and its record are one outcome.

Passphrases are normalised to Unicode NFC before the KDF (keyboards and systems differ in
the form they type); slots made before that are also tried as typed and as NFD.

The keyring is never asked to choose a backend: Airlock builds one of an allowlist of exact
OS keyring classes itself, so ``PYTHON_KEYRING_BACKEND`` and ``keyringrc.cfg`` (which can
name any module and put any folder on ``sys.path``) are never read for Airlock's key.

This module must not open the database; it deals only in keys.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from core.errors import AirlockError, InvalidInput, KeyUnavailable, NotAWorkspace, UnsafeEnvironment, WrongKey

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

KEY_BYTES = 32
#: A new passphrase must be at least this long (existing ones keep working whatever they are).
MIN_PASSPHRASE_LENGTH = 8
KDF_ITERATIONS = 256_000
HEADER_FORMAT = "airlock-key-header"
HEADER_FORMAT_VERSION = 1
KEYRING_SERVICE = "airlock-ml"
_CHECK_LABEL = b"airlock key check v1"
_BACKUP_MAC_LABEL = b"airlock backup header mac v1"
#: How new slots normalise the passphrase (recorded in the slot, so the reader knows).
NORMALIZATION: Final = "NFC"
_RECOVERY_CHECK_BYTES = 2


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def header_path(workspace: Path) -> Path:
    return workspace.with_name(workspace.name + ".keys")


def key_check(key: bytes, workspace_id: str) -> str:
    """A value that tells a right key from a wrong one without touching the database."""
    return hmac.new(key, _CHECK_LABEL + workspace_id.encode(), hashlib.sha256).hexdigest()


# --- recovery key ---------------------------------------------------------------------


def format_recovery_key(key: bytes) -> str:
    """The key with a 2-byte checksum, base32 in groups of five, easy to write down."""
    check = hashlib.sha256(key).digest()[:_RECOVERY_CHECK_BYTES]
    text = base64.b32encode(key + check).decode().rstrip("=")
    return "-".join(text[i : i + 5] for i in range(0, len(text), 5))


def parse_recovery_key(text: str) -> bytes:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as exc:  # binascii.Error (bad padding or characters) is a ValueError
        raise InvalidInput("The recovery key has characters that cannot be in one; check for typos.") from exc
    if len(raw) != KEY_BYTES + _RECOVERY_CHECK_BYTES:
        raise InvalidInput(
            f"The recovery key has the wrong length ({len(cleaned)} characters, expected 55)."
        )
    key, check = raw[:KEY_BYTES], raw[KEY_BYTES:]
    if hashlib.sha256(key).digest()[:_RECOVERY_CHECK_BYTES] != check:
        raise InvalidInput("The recovery key's checksum does not match: a character is mistyped.")
    return key


# --- passphrase slots -----------------------------------------------------------------


def _pbkdf2(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, iterations, KEY_BYTES)


#: Passphrase key derivations started ahead of an open (:func:`deriving_ahead`), by their inputs.
_ahead: dict[tuple[str, bytes, int], Future[bytes]] = {}


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    started = _ahead.pop((passphrase, salt, iterations), None)
    return started.result() if started is not None else _pbkdf2(passphrase, salt, iterations)


@contextlib.contextmanager
def deriving_ahead(path: Path, unlock: Unlock) -> Iterator[None]:
    """Start the key derivation of the workspace's first passphrase slot on a thread, for the
    open inside the block.

    PBKDF2 (a tenth of a second, by design) releases the GIL, so the opening's own imports
    (SQLAlchemy, the store) run meanwhile. The open takes the result through :func:`_derive`
    only where its inputs are the ones it would derive from; nothing is decided here (a
    missing or damaged header is the open's to report, as before). Whatever the block did not
    use is dropped when it ends.
    """
    inputs = _first_slot_inputs(path, unlock)
    if inputs is None:
        yield
        return
    future: Future[bytes] = Future()

    def derive() -> None:
        try:
            future.set_result(_pbkdf2(*inputs))
        except BaseException as exc:  # handed to whoever waits for it
            future.set_exception(exc)

    _ahead[inputs] = future
    threading.Thread(target=derive, name="airlock-key-derivation", daemon=True).start()
    try:
        yield
    finally:
        _ahead.pop(inputs, None)


def _first_slot_inputs(path: Path, unlock: Unlock) -> tuple[str, bytes, int] | None:
    """What the open of ``path`` with ``unlock`` derives a key from first, or None (no passphrase,
    no readable header)."""
    if unlock.passphrase is None:
        return None
    try:
        header = KeyHeader.read(header_path(Path(os.path.realpath(path.expanduser()))))
        slots = sorted((s for s in header.slots if s.get("type") == "passphrase"), key=lambda s: bool(s.get("pending")))
        if not slots:
            return None
        slot = slots[0]
        return _candidate_forms(slot, unlock.passphrase)[0], base64.b64decode(slot["salt"]), int(slot["iterations"])
    except (AirlockError, OSError, KeyError, ValueError, TypeError):
        return None  # the open says what is wrong


def normalize_passphrase(passphrase: str) -> str:
    """The form a new slot is made from: NFC, whatever form the keyboard produced."""
    return unicodedata.normalize(NORMALIZATION, passphrase)


def wrap_with_passphrase(key: bytes, passphrase: str, workspace_id: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    passphrase = normalize_passphrase(passphrase)
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise InvalidInput(f"The passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters.")
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = _derive(passphrase, salt, KDF_ITERATIONS)
    wrapped = AESGCM(kek).encrypt(nonce, key, workspace_id.encode())
    return {
        "type": "passphrase",
        "kdf": "pbkdf2-hmac-sha512",
        "iterations": KDF_ITERATIONS,
        "normalization": NORMALIZATION,
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "wrapped": base64.b64encode(wrapped).decode(),
    }


def _candidate_forms(slot: dict[str, Any], passphrase: str) -> list[str]:
    """The forms to try: the slot's own normalisation, or (older slots) as typed, NFC, NFD."""
    if slot.get("normalization") == NORMALIZATION:
        return [normalize_passphrase(passphrase)]
    forms: list[str] = []
    for form in (passphrase, unicodedata.normalize("NFC", passphrase), unicodedata.normalize("NFD", passphrase)):
        if form not in forms:
            forms.append(form)
    return forms


def unwrap_with_passphrase(slot: dict[str, Any], passphrase: str, workspace_id: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        salt = base64.b64decode(slot["salt"])
        nonce = base64.b64decode(slot["nonce"])
        wrapped = base64.b64decode(slot["wrapped"])
        iterations = int(slot["iterations"])
    except (KeyError, ValueError, TypeError) as exc:
        raise NotAWorkspace("The key header's passphrase slot is damaged.") from exc
    for form in _candidate_forms(slot, passphrase):
        kek = _derive(form, salt, iterations)
        try:
            return AESGCM(kek).decrypt(nonce, wrapped, workspace_id.encode())
        except InvalidTag:
            continue
    raise WrongKey("The passphrase is wrong.")


# --- the key header file --------------------------------------------------------------


@dataclass
class KeyHeader:
    """The plaintext header beside a workspace or backup: ids, a key check and key slots.

    ``file_salt`` is the database file's own 16-byte SQLCipher salt (hex), so a header can
    tell "this file is another workspace's" from "this file is damaged". A passphrase slot
    with a ``pending`` change id was added by a passphrase change whose audit entry may not
    have committed; :mod:`core.store.rekey` settles it.
    """

    workspace_id: str
    check: str
    keyring: bool = False
    slots: list[dict[str, Any]] = field(default_factory=list)
    backup: dict[str, Any] | None = None
    file_salt: str | None = None
    #: The pending change whose slot the last passphrase unlock used (not stored).
    opened_by_pending: str | None = field(default=None, compare=False, repr=False)

    @property
    def has_passphrase(self) -> bool:
        return any(s.get("type") == "passphrase" for s in self.slots)

    @property
    def pending_changes(self) -> list[str]:
        return [str(s["pending"]) for s in self.slots if s.get("type") == "passphrase" and s.get("pending")]

    def verify(self, key: bytes) -> None:
        if not hmac.compare_digest(key_check(key, self.workspace_id), self.check):
            raise WrongKey("That key does not open this workspace.")

    def unlock_with_passphrase(self, passphrase: str) -> bytes:
        """Settled slots first; a pending slot only after them (and its change is checked later)."""
        self.opened_by_pending = None
        slots = [s for s in self.slots if s.get("type") == "passphrase"]
        if not slots:
            raise KeyUnavailable(
                "This workspace has no passphrase; open it through the keyring or the recovery key."
            )
        slots.sort(key=lambda s: bool(s.get("pending")))
        for slot in slots:
            try:
                key = unwrap_with_passphrase(slot, passphrase, self.workspace_id)
            except WrongKey:
                continue
            self.verify(key)
            self.opened_by_pending = str(slot["pending"]) if slot.get("pending") else None
            return key
        raise WrongKey("The passphrase is wrong.")

    def _copy(self, **changes: Any) -> KeyHeader:
        values: dict[str, Any] = {
            "workspace_id": self.workspace_id, "check": self.check, "keyring": self.keyring,
            "slots": [dict(s) for s in self.slots], "backup": self.backup, "file_salt": self.file_salt,
        }
        values.update(changes)
        return KeyHeader(**values)

    def with_passphrase(self, key: bytes, passphrase: str) -> KeyHeader:
        """Only the new passphrase (creation, recovery of a lost header)."""
        slots = [s for s in self.slots if s.get("type") != "passphrase"]
        slots.append(wrap_with_passphrase(key, passphrase, self.workspace_id))
        return self._copy(slots=slots)

    def with_pending_passphrase(self, key: bytes, passphrase: str, change: str) -> KeyHeader:
        """The old slots kept, the new one added as pending ``change``."""
        slot = wrap_with_passphrase(key, passphrase, self.workspace_id)
        slot["pending"] = change
        slots = [s for s in self.slots if s.get("pending") != change]
        return self._copy(slots=[*slots, slot])

    def settled(self, change: str) -> KeyHeader:
        """``change`` committed: its slot is the passphrase now, the others go."""
        slots = []
        for slot in self.slots:
            if slot.get("type") != "passphrase":
                slots.append(slot)
            elif slot.get("pending") == change:
                slots.append({k: v for k, v in slot.items() if k != "pending"})
        return self._copy(slots=slots)

    def without_pending(self, change: str) -> KeyHeader:
        """``change`` never committed: its slot goes, the old passphrase stays."""
        return self._copy(slots=[s for s in self.slots if s.get("pending") != change])

    # --- backup metadata, authenticated under the database key ----------------------

    def with_backup(self, key: bytes, meta: dict[str, Any], file_salt: str | None) -> KeyHeader:
        """A backup's header: these slots, ``meta`` and a MAC over both under ``key``."""
        header = self._copy(slots=[s for s in self.slots if not s.get("pending")], file_salt=file_salt)
        body = {k: v for k, v in meta.items() if k != "mac"}
        header.backup = {**body, "mac": backup_mac(key, header, body)}
        return header

    def backup_authentic(self, key: bytes) -> bool | None:
        """Whether the backup metadata carries a valid MAC (None: no MAC at all)."""
        if not isinstance(self.backup, dict) or "mac" not in self.backup:
            return None
        body = {k: v for k, v in self.backup.items() if k != "mac"}
        return hmac.compare_digest(backup_mac(key, self, body), str(self.backup["mac"]))

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "format": HEADER_FORMAT,
            "format_version": HEADER_FORMAT_VERSION,
            "workspace_id": self.workspace_id,
            "key_check": self.check,
            "keyring": self.keyring,
            "slots": self.slots,
        }
        if self.backup is not None:
            body["backup"] = self.backup
        if self.file_salt is not None:
            body["file_salt"] = self.file_salt
        return json.dumps(body, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: Path) -> KeyHeader:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NotAWorkspace(
                f"{where}: not an Airlock key header (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from None
        if not isinstance(body, dict) or body.get("format") != HEADER_FORMAT:
            raise NotAWorkspace(f"{where}: not an Airlock key header.")
        version = body.get("format_version")
        if version != HEADER_FORMAT_VERSION:
            raise NotAWorkspace(
                f"{where}: key header format {version!r} is not one this version reads "
                f"(it reads {HEADER_FORMAT_VERSION}); a newer Airlock wrote it?"
            )
        try:
            salt = body.get("file_salt")
            return cls(
                workspace_id=str(body["workspace_id"]),
                check=str(body["key_check"]),
                keyring=bool(body.get("keyring", False)),
                slots=list(body.get("slots", [])),
                backup=body.get("backup"),
                file_salt=str(salt) if salt is not None else None,
            )
        except KeyError as exc:
            raise NotAWorkspace(f"{where}: the key header lacks {exc.args[0]!r}.") from None

    @classmethod
    def read(cls, path: Path) -> KeyHeader:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyUnavailable(f"No key header at {path}.") from None
        except UnicodeDecodeError:
            raise NotAWorkspace(f"{path}: not an Airlock key header.") from None
        return cls.from_json(text, path)

    def write(self, path: Path) -> None:
        """Write atomically: a temporary file in the same folder, fsync, rename, fsync folder."""
        write_atomically(path, self.to_json().encode())


def backup_mac(key: bytes, header: KeyHeader, meta: dict[str, Any]) -> str:
    """HMAC-SHA256, under a key derived from the database key, of a backup's metadata and ids."""
    mac_key = hmac.new(key, _BACKUP_MAC_LABEL, hashlib.sha256).digest()
    body = json.dumps(
        {"workspace_id": header.workspace_id, "key_check": header.check, "file_salt": header.file_salt, "backup": meta},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hmac.new(mac_key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def read_file_salt(path: Path) -> str | None:
    """The SQLCipher salt of a database file (its first 16 bytes), or None if unreadable."""
    try:
        with open(path, "rb") as fh:
            salt = fh.read(16)
    except OSError:
        return None
    return salt.hex() if len(salt) == 16 else None


def temp_prefix(path: Path) -> str:
    """Temporary files for ``path`` start with this: the name and the writer's pid."""
    return f".{path.name}.{os.getpid()}."


def write_atomically(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``; a symbolic link at ``path`` keeps pointing at the new file.

    The temporary file lives beside the *real* file (links resolved), so the rename replaces
    that file and never the link in front of it. It is created 0600 and given ``mode`` (when
    set) before anything is written, so it never holds the data with wider rights.
    """
    path = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# --- OS keyring -----------------------------------------------------------------------

#: The only keyrings Airlock keeps its own key in: (module, class, what it is). Exact
#: classes, built here; never what keyring's own configuration would choose.
ALLOWED_BACKENDS: tuple[tuple[str, str, str], ...] = (
    ("keyring.backends.SecretService", "Keyring", "Secret Service (GNOME Keyring, KeePassXC)"),
    ("keyring.backends.libsecret", "Keyring", "Secret Service through libsecret"),
    ("keyring.backends.kwallet", "DBusKeyring", "KDE Wallet"),
    ("keyring.backends.macOS", "Keyring", "macOS Keychain"),
    ("keyring.backends.Windows", "WinVaultKeyring", "Windows Credential Locker"),
)

#: Set only by the test suite (an in-memory keyring); nothing at run time sets it.
backend_override: KeyringBackend | None = None


def _backend_name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def choose_backend() -> tuple[KeyringBackend | None, str]:
    """The first allowlisted OS keyring that works here, or None and why not.

    Each module is imported by its exact name and its class built directly; ``sys.path`` is
    restored afterwards in case anything imported touched it.
    """
    if os.environ.get("AIRLOCK_NO_KEYRING") == "1":
        return None, "disabled by AIRLOCK_NO_KEYRING=1"
    if backend_override is not None:
        return backend_override, _backend_name(backend_override)
    import importlib

    saved_path = list(sys.path)
    tried: list[str] = []
    try:
        for module_name, class_name, label in ALLOWED_BACKENDS:
            try:
                module = importlib.import_module(module_name)
                cls: Any = getattr(module, class_name)
                if not isinstance(cls, type) or cls.__module__ != module_name or not getattr(cls, "viable", False):
                    tried.append(f"{label}: not available")
                    continue
                backend = cls()
            except Exception as exc:  # a broken backend must not stop the passphrase path
                tried.append(f"{label}: {exc}")
                continue
            return backend, f"{module_name}.{class_name} ({label})"
    finally:
        sys.path[:] = saved_path
    return None, "no OS keyring here (" + "; ".join(tried) + ")"


def configured_elsewhere() -> list[str]:
    """Keyring settings on this machine that Airlock ignores for its own key (read, never run)."""
    import configparser

    found: list[str] = []
    env = os.environ.get("PYTHON_KEYRING_BACKEND")
    if env:
        found.append(f"PYTHON_KEYRING_BACKEND={env}")
    try:
        from keyring.util import platform_

        cfg = Path(platform_.config_root()) / "keyringrc.cfg"
    except Exception:
        cfg = None
    if cfg is not None and cfg.is_file():
        parser = configparser.RawConfigParser()
        try:
            parser.read(cfg, encoding="utf-8")
            default = parser.get("backend", "default-keyring", fallback="")
            extra = parser.get("backend", "keyring-path", fallback="")
        except (configparser.Error, UnicodeDecodeError):
            default, extra = "(unreadable)", ""
        detail = f"{cfg}: default-keyring={default.strip() or '-'}"
        if extra.strip():
            detail += f", keyring-path={extra.strip()} (would be put on sys.path)"
        found.append(detail)
    try:
        import keyring.core

        current = keyring.core._keyring_backend  # set only if something already asked keyring
    except Exception:
        current = None
    if current is not None and current is not backend_override:
        found.append(f"in-process keyring backend {_backend_name(current)}")
    return found


def keyring_status() -> tuple[bool, str]:
    """Whether an allowlisted OS keyring works here, and its name or why not.

    ``AIRLOCK_NO_KEYRING=1`` turns the keyring off deliberately (CI, shared accounts).
    Anything else configured for the ``keyring`` package (environment, ``keyringrc.cfg``,
    plaintext or file backends) is ignored and named in the reason.
    """
    backend, why = choose_backend()
    if backend is not None:
        return True, why
    others = configured_elsewhere()
    if others:
        why += "; ignoring the keyring configured elsewhere: " + "; ".join(others)
    return False, why


def keyring_store(workspace_id: str, key: bytes) -> None:
    backend, why = choose_backend()
    if backend is None:
        raise UnsafeEnvironment(f"Cannot use the keyring: {keyring_status()[1]}.")
    backend.set_password(KEYRING_SERVICE, workspace_id, key.hex())


def keyring_load(workspace_id: str) -> bytes:
    """The key from the keyring; a missing entry is an error, never a reason to create."""
    backend, why = choose_backend()
    if backend is None:
        raise KeyUnavailable(f"The keyring is not available: {keyring_status()[1]}.")
    try:
        value = backend.get_password(KEYRING_SERVICE, workspace_id)
    except Exception as exc:
        raise KeyUnavailable(f"The keyring refused the request: {exc}") from exc
    if value is None:
        raise KeyUnavailable(
            "The keyring has no key for this workspace (was it created under another account?). "
            "Open it with its passphrase or recovery key."
        )
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise KeyUnavailable("The keyring entry for this workspace is damaged.") from None
    if len(key) != KEY_BYTES:
        raise KeyUnavailable("The keyring entry for this workspace is damaged.")
    return key


def keyring_delete(workspace_id: str) -> None:
    backend, _ = choose_backend()
    if backend is None:
        return
    try:
        backend.delete_password(KEYRING_SERVICE, workspace_id)
    except Exception:  # nothing to delete: fine here
        pass


# --- how the caller unlocks -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unlock:
    """How to obtain the key: exactly one of passphrase, recovery key, or the keyring."""

    passphrase: str | None = None
    recovery_key: str | None = None
    use_keyring: bool = False

    @classmethod
    def with_passphrase(cls, passphrase: str) -> Unlock:
        return cls(passphrase=passphrase)

    @classmethod
    def with_recovery_key(cls, recovery_key: str) -> Unlock:
        return cls(recovery_key=recovery_key)

    @classmethod
    def with_keyring(cls) -> Unlock:
        return cls(use_keyring=True)

    def __repr__(self) -> str:  # never print secrets
        kind = (
            "passphrase" if self.passphrase is not None
            else "recovery_key" if self.recovery_key is not None
            else "keyring"
        )
        return f"Unlock({kind})"


def resolve_key(unlock: Unlock, header: KeyHeader | None) -> bytes:
    """The database key for ``unlock``, checked against ``header`` where there is one."""
    if unlock.recovery_key is not None:
        key = parse_recovery_key(unlock.recovery_key)
        if header is not None:
            header.verify(key)
        return key
    if header is None:
        raise KeyUnavailable("The key header is missing: only the recovery key can open this file.")
    if unlock.passphrase is not None:
        return header.unlock_with_passphrase(unlock.passphrase)
    key = keyring_load(header.workspace_id)
    header.verify(key)
    return key
