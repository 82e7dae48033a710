"""Personal signing keys (ECDSA P-256): generate, list, export and import public parts, sign.

Each person has their own key pair, kept on their own machine, outside every workspace, in the
key store folder (``$XDG_CONFIG_HOME/airlock/signing-keys``, else ``~/.config/airlock/signing-keys``;
mode 0700):

* ``<keyid>.pub`` — the public part: comment lines (``# owner: …``, ``# fingerprint: …``,
  ``# created: …``; a key of mine also ``# private: keyring|file``) and then the
  SubjectPublicKeyInfo PEM. PEM readers skip the comments, so the file works as it is with
  ``model_signing verify key --public_key`` and ``openssl``. Keys imported from other people
  live here too, without a ``private`` line.
* the private part, either in the OS keyring (service ``airlock-signing-key``, user = key id,
  PKCS#8 PEM text: the keyring protects it) or in ``<keyid>.key.pem``, PKCS#8 encrypted under
  the owner's passphrase (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC, what
  ``BestAvailableEncryption`` writes; readable by ``openssl`` and ``model_signing --password``),
  mode 0600. The keyring is built from the same allowlist as the workspace keys
  (:func:`core.store.keys.choose_backend`): never a plaintext backend, never what ``keyring``'s
  own configuration names; with no safe keyring the passphrase file is the only choice.

A key is named by its securesystemslib key id (64 hex digits); a unique prefix of at least 8
hex digits, or the fingerprint as read aloud (spaces ignored), also names it.

This module never prints, returns as text, logs or writes unencrypted a private key, and never
touches a workspace or the network.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.signer._crypto_signer import CryptoSigner
from securesystemslib.signer._key import SSlibKey

from core.errors import AirlockError, InvalidInput
from core.promotion.envelopes import KeyRefused, load_public_key
from core.promotion.models import KeyStorage, PublicKey, SigningKeyInfo, fingerprint
from core.store import keys as store_keys

#: The keyring service name of signing keys (the user name is the key id).
KEYRING_SERVICE = "airlock-signing-key"
#: The environment variable that holds the passphrase of a key kept in a file (CLI, scripts).
ENV_SIGNING_PASSPHRASE = "AIRLOCK_SIGNING_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = store_keys.MIN_PASSPHRASE_LENGTH
#: A ``.pub`` file larger than this is not one.
MAX_PUB_BYTES = 64 * 1024
MAX_OWNER_CHARS = 200
MIN_PREFIX = 8

_HEX = re.compile(r"[0-9a-f]+")
_COMMENT = re.compile(r"#\s*([a-z][a-z-]*)\s*:\s*(.*)")
_BEGIN = "-----BEGIN PUBLIC KEY-----"
_END = "-----END PUBLIC KEY-----"


class SigningKeyNotFound(AirlockError):
    """No key in the store matches what was given."""

    code = "signing_key_not_found"


class SigningKeyUnavailable(AirlockError):
    """The key is listed but its private part cannot be reached (keyring gone, file missing)."""

    code = "signing_key_unavailable"


class PassphraseRequired(AirlockError):
    """The private key is in a passphrase-protected file (or must be) and no passphrase was given."""

    code = "passphrase_required"


class WrongSigningPassphrase(AirlockError):
    code = "wrong_passphrase"


def default_root() -> Path:
    """Where the signing keys live unless told otherwise (never inside a workspace)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "airlock" / "signing-keys"


#: scrypt's cost for a new key file. PKCS#8 alone (``BestAvailableEncryption``) stretches a passphrase
#: with only 2,048 PBKDF2 rounds, and cryptography offers no way to raise them; so the PKCS#8 password
#: is scrypt(passphrase) with the parameters and salt on the file's first line. ``openssl pkcs8`` still
#: reads the file given that derived password (hex), never the bare passphrase.
SCRYPT_N = 1 << 17
_SCRYPT_R, _SCRYPT_P = 8, 1
_KDF_TAG = "# airlock-kdf: scrypt"
_KDF_LINE = re.compile(r"# airlock-kdf: scrypt n=(\d+) r=(\d+) p=(\d+) salt=([0-9a-f]{32})")


def _stretch(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8")).hex().encode("ascii")


def _kdf_header(data: bytes, path: Path) -> tuple[bytes, Callable[[str], bytes]]:
    """The PEM after the key file's KDF line, and how to turn a passphrase into its PKCS#8 password."""
    first, _, rest = data.partition(b"\n")
    if not first.startswith(_KDF_TAG.encode("ascii")):
        return data, lambda passphrase: passphrase.encode("utf-8")  # a file without the line: the bare passphrase
    match = _KDF_LINE.fullmatch(first.decode("ascii", "replace").strip())
    if match is None:
        raise SigningKeyUnavailable(f"{path}: its first line (the passphrase's scrypt settings) is damaged.")
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    if not (1 << 10 <= n <= 1 << 22 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise SigningKeyUnavailable(f"{path}: scrypt settings out of range (n={n}, r={r}, p={p}).")
    salt = bytes.fromhex(match.group(4))
    return rest, lambda passphrase: _stretch(passphrase, salt, n, r, p)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _clean_owner(owner: str) -> str:
    text = unicodedata.normalize("NFC", owner).strip()
    if not text:
        raise InvalidInput("Give the key's owner: the person's name as others know it (e.g. --owner 'Ann Smith').")
    if len(text) > MAX_OWNER_CHARS:
        raise InvalidInput(f"The owner's name is longer than {MAX_OWNER_CHARS} characters.")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInput("The owner's name must not contain control characters or line breaks.")
    return text


def _public_pem(key: ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def pub_file_text(public: PublicKey, *, private: KeyStorage | None = None) -> str:
    """The ``.pub`` file: comment lines, then the PEM (``private`` only in the store's own copy)."""
    lines = [
        "# Airlock signing key (ECDSA P-256), public part",
        f"# owner: {public.owner}",
        f"# fingerprint: {public.fingerprint}",
        f"# created: {public.created_at}",
    ]
    if private is not None:
        lines.append(f"# private: {private.value}")
    return "\n".join(lines) + "\n" + public.pem.strip() + "\n"


@dataclass(frozen=True, slots=True)
class _PubFile:
    public: PublicKey
    private: KeyStorage | None


def parse_pub_file(data: bytes, source: str) -> _PubFile:
    """Read a ``.pub`` file strictly: comment lines, one P-256 PEM public key, nothing else.

    Raises
    ------
    KeyRefused
        Too large, not text, malformed, not P-256, or a fingerprint line that is not this key's.
    """
    if len(data) > MAX_PUB_BYTES:
        raise KeyRefused(source, f"{len(data):,} bytes is too large for a public key file.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyRefused(source, "not a public key file (not UTF-8 text).") from None
    fields: dict[str, str] = {}
    pem_lines: list[str] = []
    state = "comments"
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if state == "comments":
            if not stripped:
                continue
            if stripped.startswith("#"):
                found = _COMMENT.fullmatch(stripped)
                if found and found.group(1) not in fields:
                    fields[found.group(1)] = found.group(2).strip()
                elif found:
                    raise KeyRefused(source, f"line {number}: '{found.group(1)}' is given twice.")
                continue
            if stripped != _BEGIN:
                raise KeyRefused(source, f"line {number}: expected {_BEGIN!r} after the comments.")
            state = "pem"
            pem_lines.append(stripped)
        elif state == "pem":
            pem_lines.append(stripped)
            if stripped == _END:
                state = "end"
            elif stripped.startswith("-----"):
                raise KeyRefused(source, f"line {number}: not part of a public key PEM.")
        elif stripped:
            raise KeyRefused(source, f"line {number}: nothing may follow the public key.")
    if state != "end":
        raise KeyRefused(source, f"no complete public key PEM ({_BEGIN} … {_END}) in the file.")
    key = load_public_key("\n".join(pem_lines) + "\n", source)
    given = fields.get("fingerprint")
    if given is not None and given.replace(" ", "").lower() != key.keyid:
        raise KeyRefused(
            source, f"the file says fingerprint {given} but the key in it has {fingerprint(key.keyid)}; "
            "it was edited or put together from two keys. Ask its owner for a fresh export."
        )
    try:
        owner = _clean_owner(fields.get("owner", ""))
    except InvalidInput:
        raise KeyRefused(source, "the file names no owner (a '# owner: NAME' line) or an unreadable one.") from None
    private: KeyStorage | None = None
    if "private" in fields:
        try:
            private = KeyStorage(fields["private"])
        except ValueError:
            raise KeyRefused(source, f"'# private: {fields['private']}' is neither keyring nor file.") from None
    public = PublicKey(keyid=key.keyid, pem=str(key.keyval["public"]), owner=owner, created_at=fields.get("created", ""))
    return _PubFile(public, private)


@dataclass(frozen=True, slots=True)
class Signer:
    """One of my keys, unlocked: sign with ``crypto_signer`` (securesystemslib) or ``private_key``."""

    public: PublicKey
    crypto_signer: CryptoSigner = field(repr=False)
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def keyid(self) -> str:
        return self.public.keyid


class KeyStore:
    """The signing keys on this machine: mine (with a private part) and other people's public keys.

    Parameters
    ----------
    root
        The folder; :func:`default_root` when None. Created 0700 on first write.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    # --- where things are ------------------------------------------------------------

    @staticmethod
    def keyring_status() -> tuple[bool, str]:
        """Whether a safe OS keyring works here for private keys, and its name or why not."""
        return store_keys.keyring_status()

    def pub_path(self, keyid: str) -> Path:
        return self.root / f"{keyid}.pub"

    def private_path(self, keyid: str) -> Path:
        return self.root / f"{keyid}.key.pem"

    def where_private(self, info: SigningKeyInfo) -> str:
        """Where the private part of one of my keys is, in words (never the key itself)."""
        if info.storage == KeyStorage.KEYRING:
            return f"the OS keyring (service {KEYRING_SERVICE}, entry {info.public.keyid})"
        if info.storage == KeyStorage.FILE:
            return f"{self.private_path(info.public.keyid)} (encrypted under your passphrase)"
        return "nowhere here (an imported public key)"

    def _ensure_root(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.root.stat().st_mode & 0o077:
            os.chmod(self.root, 0o700)

    def _write(self, path: Path, data: bytes, mode: int) -> None:
        """Write atomically with ``mode`` from the start (a temporary file never has wider rights)."""
        self._ensure_root()
        store_keys.write_atomically(path, data, mode=mode)

    # --- reading ---------------------------------------------------------------------

    def list(self) -> list[SigningKeyInfo]:
        """Every key here, mine first, then by owner; a damaged ``.pub`` file is skipped."""
        found: list[SigningKeyInfo] = []
        if not self.root.is_dir():
            return found
        for path in sorted(self.root.glob("*.pub")):
            try:
                info = self._read_info(path)
            except (KeyRefused, OSError):
                continue
            found.append(info)
        found.sort(key=lambda i: (not i.mine, i.public.owner.casefold(), i.public.keyid))
        return found

    def _read_info(self, path: Path) -> SigningKeyInfo:
        parsed = parse_pub_file(path.read_bytes(), str(path))
        if path.name != f"{parsed.public.keyid}.pub":
            raise KeyRefused(str(path), "the file's name is not the key id of the key in it.")
        return SigningKeyInfo(parsed.public, mine=parsed.private is not None, storage=parsed.private)

    def get(self, ref: str) -> SigningKeyInfo:
        """The key named by ``ref``: its key id, a unique prefix (≥ 8 hex digits) or its fingerprint.

        Raises
        ------
        InvalidInput
            ``ref`` is not hex, too short, or matches several keys.
        SigningKeyNotFound
            No key matches.
        """
        wanted = "".join(ref.split()).lower()
        if not _HEX.fullmatch(wanted or "-") or len(wanted) > 64:
            raise InvalidInput(f"{ref!r} is not a key id (hex digits, as `airlock keys list` shows them).")
        if len(wanted) < MIN_PREFIX:
            raise InvalidInput(f"Give at least {MIN_PREFIX} hex digits of the key id ({ref!r} is too short).")
        matches = [i for i in self.list() if i.public.keyid.startswith(wanted)]
        if not matches:
            raise SigningKeyNotFound(
                f"No signing key {ref!r} in {self.root}. See `airlock keys list` for the keys here, "
                "or `airlock keys import FILE.pub` for someone else's."
            )
        if len(matches) > 1:
            names = ", ".join(f"{m.public.keyid[:16]} ({m.public.owner})" for m in matches)
            raise InvalidInput(f"{ref!r} matches {len(matches)} keys ({names}); give more digits.")
        return matches[0]

    def public_key(self, ref: str) -> PublicKey:
        return self.get(ref).public

    # --- writing ---------------------------------------------------------------------

    def generate(
        self, owner: str, *, storage: KeyStorage | None = None, passphrase: str | None = None,
    ) -> SigningKeyInfo:
        """Make a new ECDSA P-256 key pair for ``owner``.

        Parameters
        ----------
        owner
            The person's name, as it will appear on approvals and in trust policies.
        storage
            Where the private part goes; None: the keyring if a safe one works here, else a
            passphrase-protected file.
        passphrase
            For a file: the passphrase (at least 8 characters) it is encrypted under.

        Raises
        ------
        InvalidInput
            No owner, or a passphrase too short.
        PassphraseRequired
            The key goes to a file (by choice, or because no safe keyring works here) and no
            passphrase was given; the message says why no keyring.
        SigningKeyUnavailable
            The keyring was asked for but none that is safe works here.
        """
        owner = _clean_owner(owner)
        ok, why = self.keyring_status()
        if storage is None:
            storage = KeyStorage.KEYRING if ok else KeyStorage.FILE
        if storage == KeyStorage.KEYRING and not ok:
            raise SigningKeyUnavailable(
                f"No safe OS keyring here ({why}); keep the key in a passphrase-protected file instead."
            )
        if storage == KeyStorage.FILE:
            if passphrase is None:
                reason = "" if ok else f"No safe OS keyring here ({why}), so the key goes to a file. "
                raise PassphraseRequired(
                    f"{reason}Give a passphrase to encrypt it (at least {MIN_PASSPHRASE_LENGTH} characters)."
                )
            passphrase = store_keys.normalize_passphrase(passphrase)
            if len(passphrase) < MIN_PASSPHRASE_LENGTH:
                raise InvalidInput(f"The passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters.")
        private_key = ec.generate_private_key(ec.SECP256R1())
        sslib = SSlibKey.from_crypto(private_key.public_key())
        public = PublicKey(sslib.keyid, _public_pem(private_key.public_key()), owner, _now())
        if storage == KeyStorage.KEYRING:
            self._ensure_root()
            self._keyring_put(public.keyid, private_key)
        else:
            assert passphrase is not None
            salt = os.urandom(16)
            header = f"{_KDF_TAG} n={SCRYPT_N} r={_SCRYPT_R} p={_SCRYPT_P} salt={salt.hex()}\n".encode("ascii")
            encrypted = private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(_stretch(passphrase, salt, SCRYPT_N, _SCRYPT_R, _SCRYPT_P)),
            )
            self._write(self.private_path(public.keyid), header + encrypted, 0o600)
        try:
            self._write(self.pub_path(public.keyid), pub_file_text(public, private=storage).encode("utf-8"), 0o644)
        except BaseException:
            self._forget_private(public.keyid, storage)
            raise
        return SigningKeyInfo(public, mine=True, storage=storage)

    def _keyring_put(self, keyid: str, private_key: ec.EllipticCurvePrivateKey) -> None:
        backend, _ = store_keys.choose_backend()
        if backend is None:
            raise SigningKeyUnavailable(f"No safe OS keyring here ({self.keyring_status()[1]}).")
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        try:
            backend.set_password(KEYRING_SERVICE, keyid, pem)
        except Exception as exc:
            raise SigningKeyUnavailable(f"The keyring refused to store the key: {type(exc).__name__}.") from None

    def _forget_private(self, keyid: str, storage: KeyStorage) -> None:
        if storage == KeyStorage.FILE:
            self.private_path(keyid).unlink(missing_ok=True)
            return
        backend, _ = store_keys.choose_backend()
        if backend is not None:
            try:
                backend.delete_password(KEYRING_SERVICE, keyid)
            except Exception:  # nothing stored: nothing to forget
                pass

    def export_public(self, ref: str, dest: Path) -> Path:
        """Write the public part of key ``ref`` to ``dest`` (a ``.pub`` file, no private line)."""
        info = self.get(ref)
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / f"{info.public.keyid[:16]}.pub"
        dest.write_text(pub_file_text(info.public), encoding="utf-8")
        return dest

    def import_public(self, path: Path) -> tuple[SigningKeyInfo, bool]:
        """Add someone's public key from their ``.pub`` file; returns it and whether it was new.

        Raises
        ------
        KeyRefused
            Not a P-256 public key file, a fingerprint line that does not match, or a key id
            already here with a different key or owner (someone is passing off a key).
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyRefused(str(path), f"cannot read it ({exc.strerror or exc}).") from None
        parsed = parse_pub_file(data, str(path))
        public = parsed.public
        if not public.created_at:
            public = PublicKey(public.keyid, public.pem, public.owner, "")
        existing_path = self.pub_path(public.keyid)
        if existing_path.exists():
            existing = self._read_info(existing_path)
            if existing.public.pem != public.pem:
                raise KeyRefused(
                    str(path), f"a different key is already stored under key id {public.keyid[:16]}…; refused."
                )
            if existing.public.owner != public.owner:
                raise KeyRefused(
                    str(path), f"key {public.fingerprint} is already here as {existing.public.owner!r}, "
                    f"this file says {public.owner!r}; refused (check with the key's owner)."
                )
            return existing, False
        self._write(existing_path, pub_file_text(public).encode("utf-8"), 0o644)
        return SigningKeyInfo(public, mine=False, storage=None), True

    # --- signing ---------------------------------------------------------------------

    def needs_passphrase(self, ref: str) -> bool:
        """Whether unlocking key ``ref`` needs its passphrase (its private part is in a file)."""
        return self.get(ref).storage == KeyStorage.FILE

    def signer(self, ref: str, passphrase: str | None = None) -> Signer:
        """Unlock one of my keys for signing.

        Raises
        ------
        SigningKeyNotFound
            No such key, or it is someone else's (imported, no private part here).
        PassphraseRequired
            The key is in a file and no passphrase was given.
        WrongSigningPassphrase
            The passphrase does not decrypt it.
        SigningKeyUnavailable
            The keyring or the file no longer has the private part, or it is damaged.
        """
        info = self.get(ref)
        keyid = info.public.keyid
        if not info.mine:
            raise SigningKeyNotFound(
                f"Key {info.public.fingerprint} ({info.public.owner}) was imported: only its public part is "
                "here, so it cannot sign. See `airlock keys list` for your own keys."
            )
        if info.storage == KeyStorage.FILE:
            if passphrase is None:
                raise PassphraseRequired(f"The key {keyid[:16]}… is in a file: its passphrase is needed.")
            loaded = self._load_file(keyid, passphrase)
        else:
            loaded = self._load_keyring(keyid)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(loaded.curve, ec.SECP256R1):
            raise SigningKeyUnavailable(f"The private part of key {keyid[:16]}… is not an ECDSA P-256 key.")
        sslib = SSlibKey.from_crypto(loaded.public_key())
        if sslib.keyid != keyid:
            raise SigningKeyUnavailable(
                f"The private part stored for key {keyid[:16]}… belongs to another key; it was swapped."
            )
        return Signer(info.public, CryptoSigner(loaded, sslib), loaded)

    def _load_file(self, keyid: str, passphrase: str) -> object:
        path = self.private_path(keyid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SigningKeyUnavailable(f"The private key file {path} is missing.") from None
        data, stretch = _kdf_header(data, path)
        if not data.lstrip().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"):
            # Airlock never writes a private key unencrypted; one found there is refused, not used.
            raise SigningKeyUnavailable(
                f"{path} is not an encrypted PKCS#8 key; Airlock does not use private keys kept unencrypted."
            )
        tried = [passphrase, store_keys.normalize_passphrase(passphrase)]
        for form in dict.fromkeys(tried):
            if not form:
                continue
            try:
                return serialization.load_pem_private_key(data, stretch(form))
            except (ValueError, TypeError):
                continue
        raise WrongSigningPassphrase(f"The passphrase for signing key {keyid[:16]}… is wrong ({path}).")

    def _load_keyring(self, keyid: str) -> object:
        backend, _ = store_keys.choose_backend()
        if backend is None:
            raise SigningKeyUnavailable(
                f"Key {keyid[:16]}… is in the OS keyring, which is not available here ({self.keyring_status()[1]})."
            )
        try:
            pem = backend.get_password(KEYRING_SERVICE, keyid)
        except Exception as exc:
            raise SigningKeyUnavailable(f"The keyring refused the request: {type(exc).__name__}.") from None
        if pem is None:
            raise SigningKeyUnavailable(
                f"The keyring has no private key for {keyid[:16]}… (another account or machine?). "
                "See `airlock keys list`."
            )
        try:
            return serialization.load_pem_private_key(pem.encode("ascii"), None)
        except (ValueError, TypeError, UnicodeEncodeError):
            raise SigningKeyUnavailable(f"The keyring entry for key {keyid[:16]}… is damaged.") from None


__all__ = [
    "ENV_SIGNING_PASSPHRASE", "KEYRING_SERVICE", "KeyStore", "PassphraseRequired", "Signer", "SigningKeyNotFound",
    "SigningKeyUnavailable", "WrongSigningPassphrase", "default_root", "parse_pub_file", "pub_file_text",
]
