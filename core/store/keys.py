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
working and a multi-gigabyte workspace is never rewritten.

This module must not open the database; it deals only in keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InvalidInput, KeyUnavailable, NotAWorkspace, UnsafeEnvironment, WrongKey

KEY_BYTES = 32
#: A new passphrase must be at least this long (existing ones keep working whatever they are).
MIN_PASSPHRASE_LENGTH = 8
KDF_ITERATIONS = 256_000
HEADER_FORMAT = "airlock-key-header"
HEADER_FORMAT_VERSION = 1
KEYRING_SERVICE = "airlock-ml"
_CHECK_LABEL = b"airlock key check v1"
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
    except (ValueError, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
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


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, iterations, KEY_BYTES)


def wrap_with_passphrase(key: bytes, passphrase: str, workspace_id: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "wrapped": base64.b64encode(wrapped).decode(),
    }


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
    kek = _derive(passphrase, salt, iterations)
    try:
        return AESGCM(kek).decrypt(nonce, wrapped, workspace_id.encode())
    except InvalidTag:
        raise WrongKey("The passphrase is wrong.") from None


# --- the key header file --------------------------------------------------------------


@dataclass
class KeyHeader:
    """The plaintext header beside a workspace or backup: ids, a key check and key slots."""

    workspace_id: str
    check: str
    keyring: bool = False
    slots: list[dict[str, Any]] = field(default_factory=list)
    backup: dict[str, Any] | None = None

    @property
    def has_passphrase(self) -> bool:
        return any(s.get("type") == "passphrase" for s in self.slots)

    def verify(self, key: bytes) -> None:
        if not hmac.compare_digest(key_check(key, self.workspace_id), self.check):
            raise WrongKey("That key does not open this workspace.")

    def unlock_with_passphrase(self, passphrase: str) -> bytes:
        for slot in self.slots:
            if slot.get("type") == "passphrase":
                key = unwrap_with_passphrase(slot, passphrase, self.workspace_id)
                self.verify(key)
                return key
        raise KeyUnavailable(
            "This workspace has no passphrase; open it through the keyring or the recovery key."
        )

    def with_passphrase(self, key: bytes, passphrase: str) -> KeyHeader:
        slots = [s for s in self.slots if s.get("type") != "passphrase"]
        slots.append(wrap_with_passphrase(key, passphrase, self.workspace_id))
        return KeyHeader(self.workspace_id, self.check, self.keyring, slots, self.backup)

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
            return cls(
                workspace_id=str(body["workspace_id"]),
                check=str(body["key_check"]),
                keyring=bool(body.get("keyring", False)),
                slots=list(body.get("slots", [])),
                backup=body.get("backup"),
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


def write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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


def keyring_status() -> tuple[bool, str]:
    """Whether a safe keyring backend works here, and its name or why not.

    ``AIRLOCK_NO_KEYRING=1`` turns the keyring off deliberately (CI, shared accounts).
    Plaintext and null backends are refused: a key in a plaintext file protects nothing.
    """
    if os.environ.get("AIRLOCK_NO_KEYRING") == "1":
        return False, "disabled by AIRLOCK_NO_KEYRING=1"
    try:
        import keyring
        from keyring.backends import chainer, fail
    except Exception as exc:  # a broken keyring install must not stop the passphrase path
        return False, f"keyring unavailable ({exc})"
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return False, "no keyring backend (no Secret Service / D-Bus session)"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False, "no keyring backend"
    lowered = name.lower()
    if any(word in lowered for word in ("plaintext", "null", "keyrings.alt", "file")):
        return False, f"refusing unsafe keyring backend {name}"
    return True, name


def keyring_store(workspace_id: str, key: bytes) -> None:
    import keyring

    ok, why = keyring_status()
    if not ok:
        raise UnsafeEnvironment(f"Cannot use the keyring: {why}.")
    keyring.set_password(KEYRING_SERVICE, workspace_id, key.hex())


def keyring_load(workspace_id: str) -> bytes:
    """The key from the keyring; a missing entry is an error, never a reason to create."""
    import keyring

    ok, why = keyring_status()
    if not ok:
        raise KeyUnavailable(f"The keyring is not available: {why}.")
    try:
        value = keyring.get_password(KEYRING_SERVICE, workspace_id)
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
    import keyring

    try:
        keyring.delete_password(KEYRING_SERVICE, workspace_id)
    except Exception:  # nothing to delete, or no backend: both are fine here
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
