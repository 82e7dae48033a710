"""A signing key's file: scrypt in front of PKCS#8, at the production cost, and tampering with its settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.promotion import keys
from core.promotion.models import KeyStorage


def test_a_new_key_file_stretches_the_passphrase_with_scrypt_at_full_cost(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "SCRYPT_N", 1 << 17)
    store = keys.KeyStore(tmp_path)
    info = store.generate("Ada", storage=KeyStorage.FILE, passphrase="a long passphrase")
    text = store.private_path(info.public.keyid).read_text()
    first = text.splitlines()[0]
    assert first.startswith("# airlock-kdf: scrypt n=131072 r=8 p=1 salt=")
    assert "-----BEGIN ENCRYPTED PRIVATE KEY-----" in text
    assert store.signer(info.public.keyid, "a long passphrase").keyid == info.public.keyid
    with pytest.raises(keys.WrongSigningPassphrase):
        store.signer(info.public.keyid, "another passphrase")
    # The bare passphrase does not open the PKCS#8 part: a thief must pay scrypt for every guess.
    pem = tmp_path / "part.pem"
    pem.write_text(text.split("\n", 1)[1])
    bare = subprocess.run(["openssl", "pkcs8", "-in", str(pem), "-passin", "pass:a long passphrase"],
                          capture_output=True, text=True)
    assert bare.returncode != 0


@pytest.mark.parametrize("line", [
    "# airlock-kdf: scrypt n=2 r=8 p=1 salt=" + "00" * 16,  # a cost too small to mean anything
    "# airlock-kdf: scrypt n=1000 r=8 p=1 salt=" + "00" * 16,  # not a power of two
    "# airlock-kdf: scrypt n=1024 r=8 p=1 salt=zz",
    "# airlock-kdf: scrypt",
])
def test_edited_scrypt_settings_are_refused_by_name(tmp_path: Path, line: str) -> None:
    store = keys.KeyStore(tmp_path)
    info = store.generate("Ada", storage=KeyStorage.FILE, passphrase="a long passphrase")
    path = store.private_path(info.public.keyid)
    path.write_text(line + "\n" + path.read_text().split("\n", 1)[1])
    with pytest.raises(keys.SigningKeyUnavailable, match="scrypt"):
        store.signer(info.public.keyid, "a long passphrase")
