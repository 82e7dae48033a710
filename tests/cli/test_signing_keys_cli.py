"""``airlock keys new|list|export|import``: no workspace needed, clear refusals, and no command ever
prints a private key (checked on stdout and stderr of every command, file and keyring storage)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from core.promotion.keys import KEYRING_SERVICE, KeyStore
from tests.conftest import MemoryKeyring

SIGNING_PASS = "signing pass 1"


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own key store folder, and the signing passphrase in the environment."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("AIRLOCK_SIGNING_PASSPHRASE", SIGNING_PASS)
    return tmp_path / "cfg" / "airlock" / "signing-keys"


def _secrets_of(store: KeyStore, keyid: str, passphrase: str | None) -> list[str]:
    """Strings that would give the private key away: PEM lines, the scalar, the encrypted file's lines."""
    private = store.signer(keyid, passphrase).private_key
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    scalar = private.private_numbers().private_value
    found = [line for line in pem.splitlines()[1:-1] if len(line) >= 16]
    found += [format(scalar, "x"), format(scalar, "X"), str(scalar)]
    file = store.private_path(keyid)
    if file.exists():
        found += [line for line in file.read_text().splitlines()[1:-1] if len(line) >= 16]
    return found


def _assert_never_printed(outputs: list[str], secrets: list[str]) -> None:
    for text in outputs:
        for secret in secrets:
            assert secret not in text
        assert "PRIVATE KEY" not in text


def test_new_list_export_import_with_a_file_key(run, key_home: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    outputs = []
    made = run("keys", "new", "--owner", "Ann Smith")
    assert made.code == 0, made.err
    outputs += [made.out, made.err]
    assert "No safe OS keyring here" in made.err  # said, not silent
    store = KeyStore()
    (info,) = store.list()
    assert info.mine and info.storage.value == "file"
    assert info.public.keyid in made.out and info.public.fingerprint in made.out
    assert str(store.private_path(info.public.keyid)) in made.out
    assert (key_home / f"{info.public.keyid}.key.pem").exists()

    listed = run("keys", "list")
    assert listed.code == 0 and "Ann Smith" in listed.out and info.public.fingerprint in listed.out
    outputs += [listed.out, listed.err]

    dest = tmp_path / "ann.pub"
    exported = run("keys", "export", info.public.keyid[:10], "--out", dest)
    assert exported.code == 0, exported.err
    assert info.public.fingerprint in exported.out
    assert dest.read_text().endswith("-----END PUBLIC KEY-----\n")
    outputs += [exported.out, exported.err]

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "bob-cfg"))  # Bob's machine
    imported = run("keys", "import", dest)
    assert imported.code == 0, imported.err
    assert info.public.fingerprint in imported.out and "reads out to you" in imported.out
    assert "Imported" in imported.out
    again = run("keys", "import", dest)
    assert again.code == 0 and "Already here" in again.out
    bob_list = run("--json", "keys", "list")
    (entry,) = json.loads(bob_list.out)["keys"]
    assert entry["mine"] is False and entry["storage"] is None
    outputs += [imported.out, imported.err, again.out, bob_list.out]

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    _assert_never_printed(outputs, _secrets_of(store, info.public.keyid, SIGNING_PASS))


def test_keyring_key_is_never_printed(run, memory_keyring: MemoryKeyring, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = run("keys", "new", "--owner", "Ann")
    assert made.code == 0, made.err
    store = KeyStore()
    (info,) = store.list()
    assert info.storage.value == "keyring"
    assert "OS keyring" in made.out and KEYRING_SERVICE in made.out
    entry = memory_keyring.entries[(KEYRING_SERVICE, info.public.keyid)]
    outputs = [made.out, made.err]
    for argv in (("keys", "list"), ("--json", "keys", "list"),
                 ("keys", "export", info.public.keyid, "--out", tmp_path / "a.pub"),
                 ("--json", "keys", "export", info.public.keyid, "--out", tmp_path / "b.pub"),
                 ("keys", "import", tmp_path / "a.pub"), ("--json", "keys", "import", tmp_path / "a.pub")):
        result = run(*argv)
        assert result.code == 0, (argv, result.err)
        outputs += [result.out, result.err]
    secrets = _secrets_of(store, info.public.keyid, None)
    secrets += [line for line in entry.splitlines()[1:-1] if len(line) >= 16]
    _assert_never_printed(outputs, secrets)
    assert "PRIVATE" not in (tmp_path / "a.pub").read_text()


def test_file_by_choice_with_a_keyring(run, memory_keyring: MemoryKeyring) -> None:  # type: ignore[no-untyped-def]
    made = run("--json", "keys", "new", "--owner", "Ann", "--file")
    assert made.code == 0, made.err
    body = json.loads(made.out)
    assert body["key"]["storage"] == "file" and "encrypted" in body["private_part"]
    assert memory_keyring.entries == {}
    keyid = body["key"]["public"]["keyid"]
    assert KeyStore().signer(keyid, SIGNING_PASS).keyid == keyid
    _assert_never_printed([made.out, made.err], _secrets_of(KeyStore(), keyid, SIGNING_PASS))


def test_json_output_of_new(run) -> None:  # type: ignore[no-untyped-def]
    made = run("--json", "keys", "new", "--owner", "Ann")
    assert made.code == 0, made.err
    body = json.loads(made.out)
    assert set(body) == {"key", "private_part", "public_file"}
    assert body["key"]["mine"] is True and body["key"]["public"]["owner"] == "Ann"
    assert body["key"]["public"]["pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_no_passphrase_and_no_terminal(run, monkeypatch, key_home: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIRLOCK_SIGNING_PASSPHRASE")
    result = run("keys", "new", "--owner", "Ann")
    assert result.code == 2
    assert "set AIRLOCK_SIGNING_PASSPHRASE or run in a terminal" in result.err
    assert not key_home.exists() or not list(key_home.iterdir())


def test_no_owner_and_no_terminal(run) -> None:  # type: ignore[no-untyped-def]
    result = run("keys", "new")
    assert result.code == 2 and "--owner NAME" in result.err


def test_short_passphrase_is_refused(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRLOCK_SIGNING_PASSPHRASE", "short")
    result = run("keys", "new", "--owner", "Ann")
    assert result.code == 2 and "at least 8 characters" in result.err
    assert KeyStore().list() == []


def test_no_workspace_is_needed(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIRLOCK_PASSPHRASE")
    assert run("keys", "list").code == 0
    assert "No signing keys" in run("keys", "list").out
    assert run("keys", "new", "--owner", "Ann").code == 0


def test_unknown_and_bad_ids(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("keys", "new", "--owner", "Ann").code == 0
    (info,) = KeyStore().list()
    unknown = "0" * 12 if not info.public.keyid.startswith("0" * 12) else "1" * 12
    result = run("keys", "export", unknown, "--out", tmp_path / "x.pub")
    assert result.code == 2 and "airlock keys list" in result.err and "Traceback" not in result.err
    result = run("--json", "keys", "export", unknown, "--out", tmp_path / "x.pub")
    assert json.loads(result.out)["error"]["code"] == "signing_key_not_found"
    result = run("keys", "export", "abc", "--out", tmp_path / "x.pub")
    assert result.code == 2 and "at least 8" in result.err
    assert not (tmp_path / "x.pub").exists()


def test_import_refusals(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    cases = {
        "p384.pub": "# owner: Eve\n" + ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "ed.pub": "# owner: Eve\n" + ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "junk.pub": "not a key at all\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = run("keys", "import", path)
        assert result.code == 2, name
        assert result.err.startswith(f"airlock: {path}:"), result.err
        assert "Traceback" not in result.err
    assert "P-256" in run("keys", "import", tmp_path / "p384.pub").err
    assert run("keys", "import", tmp_path / "missing.pub").code == 2
    assert KeyStore().list() == []


def test_export_requires_out(run) -> None:  # type: ignore[no-untyped-def]
    result = run("keys", "export", "abcdef12")
    assert result.code == 2 and "--out" in result.err
