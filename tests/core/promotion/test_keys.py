"""The signing-key store: keyring and passphrase-file round trips, permissions, imports that must be refused,
and the public ``model_signing`` verifier accepting our ``.pub`` files. Real keys, no mocks.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from core.errors import InvalidInput
from core.promotion import keys as keys_module
from core.promotion.envelopes import KeyRefused
from core.promotion.keys import (
    KEYRING_SERVICE,
    KeyStore,
    PassphraseRequired,
    SigningKeyNotFound,
    SigningKeyUnavailable,
    WrongSigningPassphrase,
    pub_file_text,
)
from core.promotion.models import KeyStorage, PublicKey
from tests.conftest import MemoryKeyring

PASS = "correct horse"


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys")


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


# --- passphrase files ----------------------------------------------------------------------


def test_file_round_trip(store: KeyStore) -> None:
    info = store.generate("Ann Smith", passphrase=PASS)
    assert info.mine and info.storage == KeyStorage.FILE
    assert len(info.public.keyid) == 64
    signer = store.signer(info.public.keyid, PASS)
    assert signer.keyid == info.public.keyid
    assert signer.public == info.public
    assert signer.crypto_signer.public_key.keyid == info.public.keyid
    data = b"hello"
    signature = signer.crypto_signer.sign(data)
    signer.crypto_signer.public_key.verify_signature(signature, data)
    ecdsa = ec.ECDSA(hashes.SHA256())
    signer.private_key.public_key().verify(signer.private_key.sign(data, ecdsa), data, ecdsa)
    assert store.list() == [info]
    assert store.needs_passphrase(info.public.keyid)


def test_file_is_encrypted_pkcs8_with_tight_modes(store: KeyStore) -> None:
    info = store.generate("Ann", passphrase=PASS)
    path = store.private_path(info.public.keyid)
    settings, _, data = path.read_bytes().partition(b"\n")
    assert settings.startswith(b"# airlock-kdf: scrypt ") and data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, None)
    with pytest.raises(ValueError):  # the bare passphrase is not the PKCS#8 password: scrypt stands in front
        serialization.load_pem_private_key(data, PASS.encode())
    salt = bytes.fromhex(settings.decode().rsplit("salt=", 1)[1])
    n = int(settings.decode().split("n=")[1].split()[0])
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    derived = Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(PASS.encode()).hex().encode()
    serialization.load_pem_private_key(data, derived)  # openssl-compatible PKCS#8 under the derived password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert not [p for p in store.root.iterdir() if p.name.endswith(".tmp")]


def test_an_existing_open_folder_is_tightened(tmp_path: Path) -> None:
    root = tmp_path / "keys"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    KeyStore(root).generate("Ann", passphrase=PASS)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


@pytest.mark.parametrize("wrong", ["correct horsE", "correct horse ", "", "x" * 100, "correct"])
def test_wrong_passphrase_is_a_clear_error(store: KeyStore, wrong: str) -> None:
    info = store.generate("Ann", passphrase=PASS)
    with pytest.raises(WrongSigningPassphrase, match="passphrase for signing key .* is wrong"):
        store.signer(info.public.keyid, wrong)


def test_passphrase_needed_for_a_file_key(store: KeyStore) -> None:
    info = store.generate("Ann", passphrase=PASS)
    with pytest.raises(PassphraseRequired, match="passphrase is needed"):
        store.signer(info.public.keyid)


def test_passphrase_normalised_to_nfc(store: KeyStore) -> None:
    info = store.generate("Zoë", passphrase="cafe\u0301 au lait")  # typed as NFD
    assert store.signer(info.public.keyid, "caf\u00e9 au lait").keyid == info.public.keyid


def test_without_keyring_a_passphrase_is_required_and_said_why(store: KeyStore) -> None:
    with pytest.raises(PassphraseRequired, match="No safe OS keyring here .*AIRLOCK_NO_KEYRING"):
        store.generate("Ann")
    with pytest.raises(SigningKeyUnavailable, match="No safe OS keyring"):
        store.generate("Ann", storage=KeyStorage.KEYRING)
    assert store.list() == []


@pytest.mark.parametrize("owner", ["", "   ", "Ann\nSmith", "A\x00B", "x" * 201])
def test_bad_owner_names_are_refused(store: KeyStore, owner: str) -> None:
    with pytest.raises(InvalidInput):
        store.generate(owner, passphrase=PASS)


def test_short_passphrase_is_refused(store: KeyStore) -> None:
    with pytest.raises(InvalidInput, match="at least 8"):
        store.generate("Ann", passphrase="short")
    assert not store.root.exists() or store.list() == []


def test_unencrypted_key_file_is_never_used(store: KeyStore) -> None:
    info = store.generate("Ann", passphrase=PASS)
    path = store.private_path(info.public.keyid)
    plain = _private_pem(store.signer(info.public.keyid, PASS).private_key)
    path.write_bytes(plain)
    with pytest.raises(SigningKeyUnavailable, match="not an encrypted PKCS#8 key"):
        store.signer(info.public.keyid, PASS)


def test_missing_or_swapped_private_file(store: KeyStore) -> None:
    a = store.generate("Ann", passphrase=PASS)
    b = store.generate("Bob", passphrase=PASS)
    store.private_path(a.public.keyid).write_bytes(store.private_path(b.public.keyid).read_bytes())
    with pytest.raises(SigningKeyUnavailable, match="belongs to another key"):
        store.signer(a.public.keyid, PASS)
    store.private_path(a.public.keyid).unlink()
    with pytest.raises(SigningKeyUnavailable, match="missing"):
        store.signer(a.public.keyid, PASS)


def test_signer_repr_shows_no_private_material(store: KeyStore) -> None:
    info = store.generate("Ann", passphrase=PASS)
    signer = store.signer(info.public.keyid, PASS)
    body = b"".join(_private_pem(signer.private_key).splitlines()[1:-1]).decode()
    scalar = format(signer.private_key.private_numbers().private_value, "x")
    text = repr(signer) + str(signer)
    assert body[:40] not in text and scalar not in text


# --- the keyring ---------------------------------------------------------------------------


def test_keyring_round_trip(store: KeyStore, memory_keyring: MemoryKeyring) -> None:
    info = store.generate("Ann")  # a safe keyring works: it is the default
    assert info.storage == KeyStorage.KEYRING
    assert not store.private_path(info.public.keyid).exists()
    entry = memory_keyring.entries[(KEYRING_SERVICE, info.public.keyid)]
    assert entry.startswith("-----BEGIN PRIVATE KEY-----")
    signer = store.signer(info.public.keyid)
    assert signer.keyid == info.public.keyid
    assert not store.needs_passphrase(info.public.keyid)
    assert [i.storage for i in store.list()] == [KeyStorage.KEYRING]
    assert sorted(p.name for p in store.root.iterdir()) == [f"{info.public.keyid}.pub"]


def test_file_by_choice_even_with_a_keyring(store: KeyStore, memory_keyring: MemoryKeyring) -> None:
    info = store.generate("Ann", storage=KeyStorage.FILE, passphrase=PASS)
    assert info.storage == KeyStorage.FILE
    assert memory_keyring.entries == {}
    assert store.signer(info.public.keyid, PASS).keyid == info.public.keyid


def test_keyring_entry_lost_or_damaged(store: KeyStore, memory_keyring: MemoryKeyring) -> None:
    info = store.generate("Ann")
    memory_keyring.answer_none = True
    with pytest.raises(SigningKeyUnavailable, match="keyring has no private key"):
        store.signer(info.public.keyid)
    memory_keyring.answer_none = False
    memory_keyring.entries[(KEYRING_SERVICE, info.public.keyid)] = "garbage"
    with pytest.raises(SigningKeyUnavailable, match="damaged"):
        store.signer(info.public.keyid)
    other = ec.generate_private_key(ec.SECP256R1())
    memory_keyring.entries[(KEYRING_SERVICE, info.public.keyid)] = _private_pem(other).decode()
    with pytest.raises(SigningKeyUnavailable, match="belongs to another key"):
        store.signer(info.public.keyid)
    p384 = ec.generate_private_key(ec.SECP384R1())
    memory_keyring.entries[(KEYRING_SERVICE, info.public.keyid)] = _private_pem(p384).decode()
    with pytest.raises(SigningKeyUnavailable, match="not an ECDSA P-256"):
        store.signer(info.public.keyid)


def test_keyring_key_when_the_keyring_is_gone(store: KeyStore, memory_keyring: MemoryKeyring,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    info = store.generate("Ann")
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")
    with pytest.raises(SigningKeyUnavailable, match="OS keyring, which is not available"):
        store.signer(info.public.keyid)


# --- naming keys ---------------------------------------------------------------------------


def test_get_by_id_prefix_and_fingerprint(store: KeyStore) -> None:
    info = store.generate("Ann", passphrase=PASS)
    keyid = info.public.keyid
    assert store.get(keyid) == info
    assert store.get(keyid[:8]) == info
    assert store.get(keyid.upper()[:12]) == info
    assert store.get(info.public.fingerprint) == info
    assert store.get(" ".join(info.public.fingerprint.split()[:3])) == info


@pytest.mark.parametrize("ref, message", [
    ("abc", "at least 8"), ("1234567", "at least 8"), ("", "not a key id"), ("xyz12345", "not a key id"),
    ("g" * 64, "not a key id"), ("a" * 65, "not a key id"),
])
def test_bad_references(store: KeyStore, ref: str, message: str) -> None:
    store.generate("Ann", passphrase=PASS)
    with pytest.raises(InvalidInput, match=message):
        store.get(ref)


def test_missing_key_names_keys_list(store: KeyStore) -> None:
    info = store.generate("Ann", passphrase=PASS)
    other = "0" * 8 if not info.public.keyid.startswith("0" * 8) else "1" * 8
    with pytest.raises(SigningKeyNotFound, match="airlock keys list"):
        store.get(other)
    with pytest.raises(SigningKeyNotFound, match="airlock keys list"):
        KeyStore(store.root / "empty").signer(info.public.keyid, PASS)


def test_default_root_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert KeyStore().root == tmp_path / "cfg" / "airlock" / "signing-keys"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert keys_module.default_root() == Path.home() / ".config" / "airlock" / "signing-keys"


# --- export and import ---------------------------------------------------------------------


def test_export_import_between_two_people(store: KeyStore, tmp_path: Path) -> None:
    ann = store.generate("Ann Smith", passphrase=PASS)
    exported = store.export_public(ann.public.keyid, tmp_path / "ann.pub")
    text = exported.read_text()
    assert "# owner: Ann Smith" in text and f"# fingerprint: {ann.public.fingerprint}" in text
    assert "private" not in text and "PRIVATE" not in text
    bobs = KeyStore(tmp_path / "bob-keys")
    imported, new = bobs.import_public(exported)
    assert new and not imported.mine and imported.storage is None
    assert imported.public == ann.public
    again, new = bobs.import_public(exported)
    assert not new and again == imported
    with pytest.raises(SigningKeyNotFound, match="imported: only its public part"):
        bobs.signer(ann.public.keyid, PASS)
    # importing my own key's .pub changes nothing
    mine, new = store.import_public(exported)
    assert not new and mine.mine


def test_export_into_a_folder(store: KeyStore, tmp_path: Path) -> None:
    ann = store.generate("Ann", passphrase=PASS)
    written = store.export_public(ann.public.keyid[:10], tmp_path)
    assert written.parent == tmp_path and written.suffix == ".pub"


def _write(tmp_path: Path, text: str | bytes, name: str = "x.pub") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _foreign(public: object, owner: str = "Eve") -> str:
    pem = public.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return f"# owner: {owner}\n{pem}"


@pytest.mark.parametrize("make, name", [
    (lambda: ec.generate_private_key(ec.SECP384R1()).public_key(), "secp384r1"),
    (lambda: ec.generate_private_key(ec.SECP521R1()).public_key(), "secp521r1"),
    (lambda: ed25519.Ed25519PrivateKey.generate().public_key(), "Ed25519"),
    (lambda: rsa.generate_private_key(65537, 2048).public_key(), "RSA-2048"),
])
def test_import_of_other_algorithms_is_refused(store: KeyStore, tmp_path: Path, make: object, name: str) -> None:
    path = _write(tmp_path, _foreign(make()))  # type: ignore[operator]
    with pytest.raises(KeyRefused, match=f"{name}.*only ECDSA P-256"):
        store.import_public(path)
    assert store.list() == []


def test_malformed_pub_files_are_refused(store: KeyStore, tmp_path: Path) -> None:
    ann = KeyStore(tmp_path / "ann").generate("Ann", passphrase=PASS)
    good = pub_file_text(ann.public)
    pem = ann.public.pem
    cases = {
        "empty": "",
        "garbage": "hello world\n",
        "binary": b"\xff\xfe\x00\x01",
        "huge": "# owner: x\n" * 10_000,
        "no pem": "# owner: Ann\n",
        "truncated pem": good[: len(good) - 30],
        "no end": good.replace("-----END PUBLIC KEY-----", ""),
        "trailing text": good + "and more\n",
        "two pems": good + pem,
        "bad base64": good.replace(pem.splitlines()[1], "!!!!" + pem.splitlines()[1][4:]),
        "text before pem": "# owner: Ann\nhello\n" + pem,
        "no owner": pem,
        "owner twice": "# owner: Ann\n# owner: Eve\n" + pem,
        "private key": "# owner: Ann\n" + _private_pem(ec.generate_private_key(ec.SECP256R1())).decode(),
        "bad private line": "# owner: Ann\n# private: usb-stick\n" + pem,
    }
    for name, text in cases.items():
        with pytest.raises(KeyRefused):
            store.import_public(_write(tmp_path, text))
        assert store.list() == [], name
    with pytest.raises(KeyRefused, match="cannot read"):
        store.import_public(tmp_path / "missing.pub")


def test_fingerprint_line_that_does_not_match_is_refused(store: KeyStore, tmp_path: Path) -> None:
    ann = KeyStore(tmp_path / "ann").generate("Ann", passphrase=PASS)
    eve = KeyStore(tmp_path / "eve").generate("Eve", passphrase=PASS)
    spliced = pub_file_text(ann.public).replace(ann.public.pem, eve.public.pem)  # Ann's comments, Eve's key
    with pytest.raises(KeyRefused, match="says fingerprint .* but the key in it has"):
        store.import_public(_write(tmp_path, spliced))


def test_a_private_line_in_an_imported_file_is_not_copied(store: KeyStore, tmp_path: Path) -> None:
    ann = KeyStore(tmp_path / "ann").generate("Ann", passphrase=PASS)
    claim = pub_file_text(ann.public, private=KeyStorage.KEYRING)
    info, _ = store.import_public(_write(tmp_path, claim))
    assert not info.mine and not store.get(ann.public.keyid).mine


def test_collisions_with_a_stored_key_are_refused(store: KeyStore, tmp_path: Path) -> None:
    ann = KeyStore(tmp_path / "ann").generate("Ann", passphrase=PASS)
    eve = KeyStore(tmp_path / "eve").generate("Eve", passphrase=PASS)
    exported = _write(tmp_path, pub_file_text(ann.public), "ann.pub")
    store.import_public(exported)
    # another owner name for the same key
    renamed = _write(tmp_path, pub_file_text(ann.public).replace("owner: Ann", "owner: Mallory"), "m.pub")
    with pytest.raises(KeyRefused, match="already here as 'Ann'"):
        store.import_public(renamed)
    # the stored file was tampered with: Eve's key under Ann's key id
    stored = store.pub_path(ann.public.keyid)
    stored.write_text(pub_file_text(PublicKey(ann.public.keyid, eve.public.pem, "Ann", ann.public.created_at)))
    with pytest.raises(KeyRefused):
        store.import_public(exported)
    assert all(i.public.keyid != ann.public.keyid for i in store.list())  # the damaged file is not listed


def test_list_orders_mine_first(store: KeyStore, tmp_path: Path) -> None:
    zed = KeyStore(tmp_path / "z").generate("Aaron", passphrase=PASS)
    store.import_public(_write(tmp_path, pub_file_text(zed.public)))
    mine = store.generate("Zoe", passphrase=PASS)
    assert [i.public.keyid for i in store.list()] == [mine.public.keyid, zed.public.keyid]


# --- the public model-signing verifier accepts our .pub files ------------------------------


def _model_signing(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "model_signing", *map(str, args)], cwd=cwd, capture_output=True, text=True,
        timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )


def test_model_signing_verifies_with_our_pub_files(store: KeyStore, tmp_path: Path) -> None:
    info = store.generate("Ann Smith", passphrase=PASS)
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(bytes(range(256)) * 4)
    (model / "sub" / "config.json").write_text('{"layers": 2}')
    # A plaintext private key is written only here, in the test's own temporary folder, for the
    # public tool to sign with (its --password option does not work in 1.1.1).
    private = tmp_path / "ann-private.pem"
    private.write_bytes(_private_pem(store.signer(info.public.keyid, PASS).private_key))
    signed = _model_signing("sign", "key", model, "--private_key", private, "--signature", tmp_path / "s.sig",
                            cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr + signed.stdout
    exported = store.export_public(info.public.keyid, tmp_path / "ann.pub")
    assert exported.read_text().startswith("# ")  # the comments stay before the PEM
    for pub in (exported, store.pub_path(info.public.keyid)):
        result = _model_signing("verify", "key", model, "--signature", tmp_path / "s.sig", "--public_key", pub,
                                cwd=tmp_path)
        assert result.returncode == 0, result.stderr + result.stdout
        assert "Verification succeeded" in result.stdout
    # and it is a real check: another person's key does not verify
    eve = KeyStore(tmp_path / "eve").generate("Eve", passphrase=PASS)
    wrong = KeyStore(tmp_path / "eve").export_public(eve.public.keyid, tmp_path / "eve.pub")
    result = _model_signing("verify", "key", model, "--signature", tmp_path / "s.sig", "--public_key", wrong,
                            cwd=tmp_path)
    assert result.returncode != 0
