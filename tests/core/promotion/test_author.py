"""The author's model-signing bundle: deterministic signing, strict verification, the public verifier agrees."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core.promotion import author
from core.promotion.archive import read_package, write_package
from core.promotion.author import SignatureInvalid

FILES: dict[str, bytes] = {
    "manifest.json": b'{"model":"cancer","version":1}',
    "model/pipeline.joblib": bytes(range(256)) * 64,
    "model_card.md": b"# Model card\n\nA model.\n",
    "model_card.json": b'{"title":"cancer"}',
    "evidence/evidence.json": b"[]",
    "evidence/roc.png": b"\x89PNG fake",
    "rubric/result.json": b'{"score":7.5}',
}


def pem_of(key: ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def bundle(key: ec.EllipticCurvePrivateKey) -> bytes:
    return author.sign_content(FILES, key)


def digests(files: dict[str, bytes] = FILES) -> dict[str, str]:
    return author.content_digests(files)


def resign(bundle: bytes, key: ec.EllipticCurvePrivateKey, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The bundle with its statement changed by ``change`` and signed again by ``key`` (a valid signature)."""
    doc = json.loads(bundle)
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    change(statement)
    payload = json.dumps(statement).encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(author.PAYLOAD_TYPE), author.PAYLOAD_TYPE.encode(), len(payload), payload)
    doc["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    doc["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(key.sign(pae, ec.ECDSA(hashes.SHA256()))).decode()
    return json.dumps(doc).encode()


def edit_json(bundle: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(bundle)
    change(doc)
    return json.dumps(doc).encode()


# --- signing ---------------------------------------------------------------------------------


def test_our_pae_is_model_signings(bundle: bytes) -> None:
    from model_signing._signing import sign_sigstore_pb

    for payload in (b"", b"{}", base64.b64decode(json.loads(bundle)["dsseEnvelope"]["payload"])):
        assert author._pae(payload) == sign_sigstore_pb.pae(payload)


def test_verifying_does_not_import_model_signing(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    code = ("import sys; from core.promotion import author, archive; "
            "assert not [m for m in sys.modules if m.startswith(('model_signing', 'google', 'sigstore'))]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])


def test_verify_returns_the_root_digest(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    digest = author.verify_content(bundle, pem_of(key), digests())
    assert digest == author.root_digest(digests()) == author.statement_digest(bundle)
    assert author.author_key_hint(bundle) == author.public_key_hint(pem_of(key))


def test_the_bundle_has_model_signings_shape(bundle: bytes) -> None:
    doc = json.loads(bundle)
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert doc["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    assert [s["name"] for s in statement["subject"]] == ["content"]
    assert statement["predicate"]["serialization"] == {
        "method": "files", "hash_type": "sha256", "allow_symlinks": False,
        "ignore_paths": [".git", ".gitattributes", ".github", ".gitignore"]}
    assert {r["name"] for r in statement["predicate"]["resources"]} == set(FILES)


def test_signing_is_deterministic_across_processes(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    """protobuf's JSON printer orders keys differently per process; the bundle must not change."""
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    code = (
        "import sys, json\n"
        "from cryptography.hazmat.primitives import serialization\n"
        "from core.promotion import author\n"
        "data = json.loads(sys.stdin.read())\n"
        "k = serialization.load_pem_private_key(data['key'].encode(), None)\n"
        "files = {n: bytes.fromhex(v) for n, v in data['files'].items()}\n"
        "sys.stdout.write(author.sign_content(files, k).decode())\n"
    )
    data = json.dumps({"key": private.decode(), "files": {n: v.hex() for n, v in FILES.items()}})
    others = {subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, text=True,
                             check=True, cwd=Path(__file__).parents[3]).stdout for _ in range(2)}
    assert others == {bundle.decode()}


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", "a\x00b",
                                  ".git/config", ".gitignore", "e\u0301.txt"])
def test_signing_refuses_names_a_package_cannot_carry(name: str, key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match="cannot be signed"):
        author.sign_content({name: b"x"}, key)


@pytest.mark.parametrize("make", [lambda: ec.generate_private_key(ec.SECP384R1()),
                                  lambda: ec.generate_private_key(ec.SECP521R1())])
def test_signing_refuses_other_curves(make: Callable[[], ec.EllipticCurvePrivateKey]) -> None:
    with pytest.raises(SignatureInvalid, match="P-256 only"):
        author.sign_content(FILES, make())


# --- verification: keys ----------------------------------------------------------------------


def test_another_p256_key_is_refused(bundle: bytes) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SignatureInvalid, match="different public key"):
        author.verify_content(bundle, pem_of(other), digests())


def test_a_relabelled_hint_does_not_help(bundle: bytes) -> None:
    """Someone else's key with the hint rewritten to it: the signature still fails."""
    other = ec.generate_private_key(ec.SECP256R1())
    hint = author.public_key_hint(pem_of(other))
    forged = edit_json(bundle, lambda d: d["verificationMaterial"]["publicKey"].update(hint=hint))
    with pytest.raises(SignatureInvalid, match="does not verify"):
        author.verify_content(forged, pem_of(other), digests())


@pytest.mark.parametrize("kind", ["p384", "rsa"])
def test_wrong_algorithm_keys_are_refused(bundle: bytes, kind: str) -> None:
    private: Any = (ec.generate_private_key(ec.SECP384R1()) if kind == "p384"
                    else rsa.generate_private_key(public_exponent=65537, key_size=2048))
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(SignatureInvalid, match="P-256 only"):
        author.verify_content(bundle, pem, digests())


def test_a_public_key_file_with_comment_lines_is_read(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    pem = "# owner: Ada\n# fingerprint: ABCD\n" + pem_of(key)
    assert author.verify_content(bundle, pem, digests()) == author.root_digest(digests())


def test_garbage_instead_of_a_key(bundle: bytes) -> None:
    with pytest.raises(SignatureInvalid, match="not a PEM public key"):
        author.verify_content(bundle, "hello", digests())


# --- verification: the files -----------------------------------------------------------------


def test_an_edited_model_card_is_named(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    files = {**FILES, "model_card.md": b"# Model card\n\nA better model.\n"}
    with pytest.raises(SignatureInvalid, match=r"changed since the author signed them: model_card\.md"):
        author.verify_content(bundle, pem_of(key), digests(files))


@pytest.mark.parametrize("victim", ["evidence/evidence.json", "manifest.json", "model/pipeline.joblib"])
def test_edited_files_are_named(bundle: bytes, key: ec.EllipticCurvePrivateKey, victim: str) -> None:
    files = {**FILES, victim: FILES[victim] + b" "}
    with pytest.raises(SignatureInvalid, match=f"changed since the author signed them: {victim}"):
        author.verify_content(bundle, pem_of(key), digests(files))


def test_an_added_file_is_named(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    files = {**FILES, "evidence/extra.png": b"x"}
    with pytest.raises(SignatureInvalid, match=r"did not sign: evidence/extra\.png"):
        author.verify_content(bundle, pem_of(key), digests(files))


@pytest.mark.parametrize("victim", ["evidence/evidence.json", "model_card.json", "manifest.json"])
def test_a_removed_file_is_named(bundle: bytes, key: ec.EllipticCurvePrivateKey, victim: str) -> None:
    files = {n: v for n, v in FILES.items() if n != victim}
    with pytest.raises(SignatureInvalid, match=f"signed are missing: {victim}"):
        author.verify_content(bundle, pem_of(key), digests(files))


def test_a_renamed_file_is_both_missing_and_unsigned(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    files = {("evidence/card.md" if n == "model_card.md" else n): v for n, v in FILES.items()}
    with pytest.raises(SignatureInvalid) as caught:
        author.verify_content(bundle, pem_of(key), digests(files))
    assert "did not sign: evidence/card.md" in str(caught.value)
    assert "signed are missing: model_card.md" in str(caught.value)


# --- verification: a malformed bundle --------------------------------------------------------


def _set_signatures(count: int) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        sig = doc["dsseEnvelope"]["signatures"][0]
        doc["dsseEnvelope"]["signatures"] = [sig] * count
    return change


MALFORMED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "zero signatures": (_set_signatures(0), "0 signatures"),
    "two signatures": (_set_signatures(2), "2 signatures"),
    "signatures not a list": (lambda d: d["dsseEnvelope"].update(signatures={"sig": "x"}), "must be a list"),
    "sig a number": (lambda d: d["dsseEnvelope"]["signatures"][0].update(sig=5), "must be a string"),
    "sig not base64": (lambda d: d["dsseEnvelope"]["signatures"][0].update(sig="@@@@"), "not base64"),
    "payload not base64": (lambda d: d["dsseEnvelope"].update(payload="a b"), "not base64"),
    "payload a list": (lambda d: d["dsseEnvelope"].update(payload=[]), "must be a string"),
    "payload type": (lambda d: d["dsseEnvelope"].update(payloadType="text/plain"), "payloadType"),
    "media type": (lambda d: d.update(mediaType="application/json"), "mediaType"),
    "media type a number": (lambda d: d.update(mediaType=3), "must be a string"),
    "extra field": (lambda d: d.update(extra=1), "unexpected fields extra"),
    "no envelope": (lambda d: d.pop("dsseEnvelope"), "lacks dsseEnvelope"),
    "envelope a string": (lambda d: d.update(dsseEnvelope="x"), "must be a JSON object"),
    "no hint": (lambda d: d["verificationMaterial"]["publicKey"].pop("hint"), "lacks hint"),
    "hint a bool": (lambda d: d["verificationMaterial"]["publicKey"].update(hint=True), "must be a string"),
    "hint not hex": (lambda d: d["verificationMaterial"]["publicKey"].update(hint="zz"), "not a SHA-256"),
    "tlog entries": (lambda d: d["verificationMaterial"].update(tlogEntries=[{}]), "tlogEntries"),
    "certificate": (lambda d: d["verificationMaterial"].update(certificate={"rawBytes": "AA=="}), "unexpected"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bundles_are_refused(bundle: bytes, key: ec.EllipticCurvePrivateKey, case: str) -> None:
    change, message = MALFORMED[case]
    with pytest.raises(SignatureInvalid, match=message):
        author.verify_content(edit_json(bundle, change), pem_of(key), digests())


@pytest.mark.parametrize("data, message", [
    (b"", "not valid JSON"), (b"\xff\xfe", "not UTF-8"), (b"[]", "must be a JSON object"),
    (b"null", "must be a JSON object"), (b'{"a": NaN}', "not JSON"),
    (b"[" * 100 + b"]" * 100, "nested deeper"), (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"mediaType": "a", "mediaType": "b"}', "appears twice"),
    (b'{"x": "' + b"a" * (1 << 20) + b'"}', "more than the"),
])
def test_broken_json_is_refused(data: bytes, message: str, key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        author.verify_content(data, pem_of(key), digests())
    with pytest.raises(SignatureInvalid, match=message):
        author.author_key_hint(data)


def test_truncated_bundles_are_refused(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    for cut in range(0, len(bundle), max(1, len(bundle) // 60)):
        with pytest.raises(SignatureInvalid):
            author.verify_content(bundle[:cut], pem_of(key), digests())


def _respell(text: str) -> str:
    """The same bytes in non-canonical base64: the last character's unused low bit set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stripped = text.rstrip("=")
    index = alphabet.index(stripped[-1])
    return stripped[:-1] + alphabet[index ^ 1] + text[len(stripped):]


def test_non_canonical_base64_is_refused() -> None:
    """A base64 text whose unused low bits are set decodes to the same bytes: another package file."""
    fixed = ec.derive_private_key(20261213, ec.SECP256R1())  # deterministic ECDSA: a fixed signature length
    pem = pem_of(fixed)
    doc = json.loads(author.sign_content(FILES, fixed))
    cases = [(doc["dsseEnvelope"]["signatures"][0], "sig"), (doc["dsseEnvelope"], "payload")]
    padded = [(holder, name) for holder, name in cases if holder[name].endswith("=")]
    assert padded, "pick another fixed key: neither base64 field is padded"
    for holder, name in padded:
        original = holder[name]
        holder[name] = _respell(original)
        assert base64.b64decode(holder[name]) == base64.b64decode(original)
        with pytest.raises(SignatureInvalid, match="canonical base64"):
            author.verify_content(json.dumps(doc).encode(), pem, digests())
        holder[name] = original
    assert author.verify_content(json.dumps(doc).encode(), pem, digests())


STATEMENTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "predicate type": (lambda s: s.update(predicateType="https://model_signing/Digests/v0.1"), "predicate type"),
    "statement type": (lambda s: s.update(_type="https://in-toto.io/Statement/v0.1"), "_type"),
    "two subjects": (lambda s: s.update(subject=s["subject"] * 2), "exactly one subject"),
    "no subject": (lambda s: s.update(subject=[]), "exactly one subject"),
    "subject name": (lambda s: s["subject"][0].update(name="model"), "named 'model'"),
    "subject digest type": (lambda s: s["subject"][0].update(digest={"sha512": "0" * 128}), "lacks sha256"),
    "root digest": (lambda s: s["subject"][0]["digest"].update(sha256="0" * 64), "root digest does not match"),
    "symlinks allowed": (lambda s: s["predicate"]["serialization"].update(allow_symlinks=True), "serialization"),
    "shards": (lambda s: s["predicate"]["serialization"].update(method="shards", shard_size=1), "serialization"),
    "no ignore paths": (lambda s: s["predicate"]["serialization"].pop("ignore_paths"), "serialization"),
    "algorithm": (lambda s: s["predicate"]["resources"][0].update(algorithm="blake2b"), "algorithm"),
    "digest a number": (lambda s: s["predicate"]["resources"][0].update(digest=1), "must be a string"),
    "traversal name": (lambda s: s["predicate"]["resources"][0].update(name="../etc/passwd"), "'..'"),
    "absolute name": (lambda s: s["predicate"]["resources"][0].update(name="/etc/passwd"), "absolute"),
    "duplicate resource": (lambda s: s["predicate"]["resources"].insert(0, s["predicate"]["resources"][0]),
                           "out of order or listed twice"),
    "out of order": (lambda s: s["predicate"]["resources"].reverse(), "out of order"),
    "no resources": (lambda s: s["predicate"].update(resources=[]), "no resources"),
    "extra predicate field": (lambda s: s["predicate"].update(comment="hi"), "unexpected fields comment"),
}


@pytest.mark.parametrize("case", sorted(STATEMENTS))
def test_bad_statements_are_refused_even_when_signed(bundle: bytes, key: ec.EllipticCurvePrivateKey,
                                                     case: str) -> None:
    change, message = STATEMENTS[case]
    with pytest.raises(SignatureInvalid, match=message):
        author.verify_content(resign(bundle, key, change), pem_of(key), digests())


def test_resigning_helper_makes_valid_bundles(bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    """The helper above is sound: an unchanged statement signed again verifies."""
    assert author.verify_content(resign(bundle, key, lambda s: None), pem_of(key), digests())


# --- the public verifier ---------------------------------------------------------------------


def public_verify(tmp: Path, package: Path, public_pem: str, tamper: Callable[[Path], None] | None = None) -> int:
    folder = tmp / "unpacked"
    with tarfile.open(package, mode="r:") as tar:
        tar.extractall(folder, filter="data")
    if tamper:
        tamper(folder / "content")
    (tmp / "author.pub").write_text(public_pem)
    done = subprocess.run(
        [sys.executable, "-m", "model_signing", "verify", "key", str(folder / "content"),
         "--signature", str(folder / "author.sig"), "--public_key", str(tmp / "author.pub")],
        capture_output=True, text=True, timeout=120)
    return done.returncode


def test_the_public_verifier_accepts_a_package(tmp_path: Path, bundle: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    write_package(tmp_path / "p.airpkg", FILES, bundle)
    assert public_verify(tmp_path, tmp_path / "p.airpkg", "# owner: Ada\n" + pem_of(key)) == 0


def _edit(folder: Path) -> None:
    (folder / "model_card.md").write_bytes(b"# edited\n")


def _add(folder: Path) -> None:
    (folder / "evidence" / "new.png").write_bytes(b"x")


def _remove(folder: Path) -> None:
    (folder / "evidence" / "evidence.json").unlink()


@pytest.mark.parametrize("tamper", [None, _edit, _add, _remove], ids=["untouched", "edit", "add", "remove"])
def test_ours_and_the_public_verifier_agree(tmp_path: Path, bundle: bytes, key: ec.EllipticCurvePrivateKey,
                                            tamper: Callable[[Path], None] | None) -> None:
    write_package(tmp_path / "p.airpkg", FILES, bundle)
    public_ok = public_verify(tmp_path, tmp_path / "p.airpkg", pem_of(key), tamper) == 0
    content = tmp_path / "unpacked" / "content"
    files = {p.relative_to(content).as_posix(): p.read_bytes() for p in content.rglob("*") if p.is_file()}
    try:
        author.verify_content(read_package(tmp_path / "p.airpkg").bundle, pem_of(key), digests(files))
        ours_ok = True
    except SignatureInvalid:
        ours_ok = False
    assert ours_ok == public_ok == (tamper is None)
