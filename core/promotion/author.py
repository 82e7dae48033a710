"""The author's signature over a package's content: an OpenSSF model-signing bundle, made and checked.

Signing builds the statement with model-signing's own classes (its ``manifest`` items, its
``Payload``, the Sigstore bundle models and DSSE PAE it uses), from digests of files held in
memory, and signs with an ECDSA P-256 private key object held in memory (never written
anywhere) using deterministic ECDSA (RFC 6979), so the same content gives the same bytes. The
statement is what ``model_signing sign key content`` writes for a folder named ``content``
(``method: files``, ``sha256``, ``allow_symlinks: false``, the git paths it ignores), so the
public ``model_signing verify key content --signature author.sig --public_key author.pub``
accepts the unpacked package.

Verification here is Airlock's own and strict, over bytes already in memory (admission never
re-reads files from disk): size and depth limits, exact structure and types, exactly one
signature, the key hint, the ECDSA signature over the DSSE PAE with a P-256 key, the statement,
the root digest, then every file's digest against what the package holds.

This module must not touch the file system, the network, a key store or the workspace.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.errors import AirlockError
from core.promotion.archive import VERIFIER_IGNORED, content_name_problem, content_order

#: What model-signing writes and reads (checked against model-signing 1.1.1).
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
#: The subject's name: the folder the public verifier is pointed at.
CONTENT_FOLDER = "content"
#: The paths ``model_signing`` ignores in a folder by default (``--ignore-git-paths``); the
#: signer records them, sorted, and the package may hold no file under them.
IGNORED_PATHS = VERIFIER_IGNORED
SERIALIZATION: dict[str, Any] = {
    "method": "files", "hash_type": "sha256", "allow_symlinks": False, "ignore_paths": list(IGNORED_PATHS),
}
MAX_BUNDLE_BYTES = 1 << 20
MAX_JSON_DEPTH = 16

_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")

BytesLike = bytes | bytearray | memoryview


class SignatureInvalid(AirlockError):
    """The author's bundle is malformed, not signed by the given key, or does not match the files."""

    code = "signature_invalid"


# --- signing -------------------------------------------------------------------------------


def content_digests(files: Mapping[str, BytesLike]) -> dict[str, str]:
    """SHA-256 (hex) of each file, by its path inside the content folder."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def root_digest(digests: Mapping[str, str]) -> str:
    """The package digest: SHA-256 over every file's digest in model-signing's resource order."""
    hasher = hashlib.sha256()
    for name in sorted(digests, key=content_order):
        hasher.update(bytes.fromhex(digests[name]))
    return hasher.hexdigest()


def check_content_name(name: str) -> None:
    """Refuse a path (inside the content folder) that a package cannot carry or the public verifier reads otherwise.

    Raises
    ------
    SignatureInvalid
        See :func:`core.promotion.archive.content_name_problem` for the rules.
    """
    problem = content_name_problem(name)
    if problem:
        raise SignatureInvalid(f"{name!r} cannot be signed into a package: {problem}")


def sign_content(files: Mapping[str, BytesLike], private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign the content folder's files; returns the bundle JSON (``author.sig``).

    Parameters
    ----------
    files
        Path inside the content folder (``"model/pipeline.joblib"``) to the file's bytes.
    private_key
        The author's ECDSA P-256 private key (``KeyStore.signer(keyid).private_key``).
    """
    return sign_digests(content_digests(files), private_key)


def sign_digests(digests: Mapping[str, str], private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """Sign already computed file digests (path inside the content folder to SHA-256 hex).

    The same digests and key give the same bytes (RFC 6979 ECDSA, canonical JSON).

    Raises
    ------
    SignatureInvalid
        A name the package cannot carry, a digest that is not 64 lower-case hex digits, no
        file at all, or a key that is not ECDSA P-256.
    """
    from model_signing import manifest
    from model_signing._hashing import hashing

    if not digests:
        raise SignatureInvalid("nothing to sign: the package content is empty")
    for name, digest in digests.items():
        check_content_name(name)
        if not _HEX64.fullmatch(digest):
            raise SignatureInvalid(f"{name!r}: digest {digest!r} is not a SHA-256 in hex")
    _check_p256(private_key.public_key(), "the signing key")
    items = [manifest.FileManifestItem(path=PurePosixPath(name), digest=hashing.Digest("sha256", bytes.fromhex(d)))
             for name, d in digests.items()]
    serialization_type = manifest._FileSerialization("sha256", False, [Path(p) for p in IGNORED_PATHS])  # noqa: SLF001
    return _DeterministicKeySigner(private_key).sign_manifest(manifest.Manifest(CONTENT_FOLDER, items,
                                                                               serialization_type))


def _pae(payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding of an in-toto payload (what the signature covers).

    Written out here (it is one line of the DSSE spec, and equal to model-signing's
    ``sign_sigstore_pb.pae``, a test checks) so that verifying does not import model-signing,
    which costs a fifth of a second at admission.
    """
    kind = PAYLOAD_TYPE.encode("ascii")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _key_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """model-signing's public key hint: SHA-256 of the key's SubjectPublicKeyInfo PEM."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


class _DeterministicKeySigner:
    """model-signing's EC key signer, with a key object instead of a file and RFC 6979 ECDSA.

    It makes the bundle the way ``model_signing._signing.sign_ec_key.Signer.sign`` does, with
    one change besides the key: the statement is written as RFC 8785 canonical JSON, because
    protobuf's JSON printer orders the keys of each resource differently from one process to
    the next and the package must come out the same every time.
    """

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._private_key = private_key

    def sign_manifest(self, manifest: Any) -> bytes:
        import rfc8785
        from google.protobuf import json_format  # type: ignore[import-untyped,unused-ignore]
        from model_signing._signing import sign_sigstore_pb, signing
        from sigstore_models import intoto as intoto_pb
        from sigstore_models.bundle import v1 as bundle_pb
        from sigstore_models.common import v1 as common_pb

        payload = signing.Payload(manifest)
        raw_payload = rfc8785.dumps(json_format.MessageToDict(payload.statement.pb))
        signature = self._private_key.sign(_pae(raw_payload), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        envelope = intoto_pb.Envelope(
            payload=base64.b64encode(raw_payload),
            payload_type=PAYLOAD_TYPE,
            signatures=[intoto_pb.Signature(sig=base64.b64encode(signature), keyid="")],
        )
        bundle = bundle_pb.Bundle(
            media_type="application/vnd.dev.sigstore.bundle.v0.3+json",
            verification_material=bundle_pb.VerificationMaterial(
                public_key=common_pb.PublicKeyIdentifier(hint=_key_hint(self._private_key.public_key())),
                tlog_entries=[],
            ),
            dsse_envelope=envelope,
        )
        return sign_sigstore_pb.Signature(bundle).bundle.to_json().encode("utf-8")


# --- reading and verifying -----------------------------------------------------------------


def _refuse(what: str) -> SignatureInvalid:
    return SignatureInvalid(f"author signature (author.sig): {what}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _refuse(f"the key {key!r} appears twice in one JSON object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _refuse(f"{name} is not JSON")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _strict_json(data: bytes, what: str) -> Any:
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise _refuse(f"{what} is not UTF-8 text") from None
    except RecursionError:
        raise _refuse(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise _refuse(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise _refuse(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _object(value: Any, where: str, required: set[str], optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(f"{where} must be a JSON object, not {type(value).__name__}")
    missing, extra = required - value.keys(), value.keys() - required - optional
    if missing:
        raise _refuse(f"{where} lacks {', '.join(sorted(missing))}")
    if extra:
        raise _refuse(f"{where} has unexpected fields {', '.join(sorted(extra))}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _refuse(f"{where} must be a string, not {type(value).__name__}")
    return value


def _base64(value: Any, where: str) -> bytes:
    text = _string(value, where)
    if len(text) % 4 or not _B64.fullmatch(text):
        raise _refuse(f"{where} is not base64")
    try:
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _refuse(f"{where} is not base64") from None
    if base64.b64encode(decoded).decode("ascii") != text:  # unused low bits set: another spelling of the bytes
        raise _refuse(f"{where} is not in canonical base64")
    return decoded


def _bundle_parts(bundle: bytes, max_bytes: int) -> tuple[str, bytes, bytes]:
    """Structure of the bundle, checked strictly: (key hint, payload, signature)."""
    if not isinstance(bundle, bytes | bytearray | memoryview):
        raise _refuse(f"expected bytes, got {type(bundle).__name__}")
    if len(bundle) > max_bytes:
        raise _refuse(f"{len(bundle):,} bytes, more than the {max_bytes:,} allowed")
    top = _object(_strict_json(bytes(bundle), "the bundle"), "the bundle",
                  {"mediaType", "verificationMaterial", "dsseEnvelope"})
    if _string(top["mediaType"], "mediaType") != BUNDLE_MEDIA_TYPE:
        raise _refuse(f"mediaType is {top['mediaType']!r}, expected {BUNDLE_MEDIA_TYPE!r}")
    material = _object(top["verificationMaterial"], "verificationMaterial", {"publicKey"}, frozenset({"tlogEntries"}))
    if material.get("tlogEntries", []) != []:
        raise _refuse("verificationMaterial.tlogEntries must be empty (key signing has no transparency log)")
    key = _object(material["publicKey"], "verificationMaterial.publicKey", {"hint"})
    hint = _string(key["hint"], "verificationMaterial.publicKey.hint")
    if not _HEX64.fullmatch(hint):
        raise _refuse("verificationMaterial.publicKey.hint is not a SHA-256 in hex")
    envelope = _object(top["dsseEnvelope"], "dsseEnvelope", {"payload", "payloadType", "signatures"})
    if _string(envelope["payloadType"], "dsseEnvelope.payloadType") != PAYLOAD_TYPE:
        raise _refuse(f"dsseEnvelope.payloadType is {envelope['payloadType']!r}, expected {PAYLOAD_TYPE!r}")
    signatures = envelope["signatures"]
    if not isinstance(signatures, list):
        raise _refuse("dsseEnvelope.signatures must be a list")
    if len(signatures) != 1:
        raise _refuse(f"the envelope carries {len(signatures)} signatures; a model-signing bundle has exactly one")
    entry = _object(signatures[0], "dsseEnvelope.signatures[0]", {"sig"}, frozenset({"keyid"}))
    if "keyid" in entry:
        _string(entry["keyid"], "dsseEnvelope.signatures[0].keyid")
    sig = _base64(entry["sig"], "dsseEnvelope.signatures[0].sig")
    payload = _base64(envelope["payload"], "dsseEnvelope.payload")
    return hint, payload, sig


def _statement(payload: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The statement, checked strictly: (root digest, [(name, digest)] in the order listed)."""
    st = _object(_strict_json(payload, "the signed statement"), "the statement",
                 {"_type", "subject", "predicateType", "predicate"})
    if st["_type"] != STATEMENT_TYPE:
        raise _refuse(f"the statement's _type is {st['_type']!r}, expected {STATEMENT_TYPE!r}")
    if st["predicateType"] != PREDICATE_TYPE:
        raise _refuse(f"the predicate type is {st['predicateType']!r}, expected {PREDICATE_TYPE!r}")
    subjects = st["subject"]
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise _refuse("the statement must have exactly one subject")
    subject = _object(subjects[0], "the subject", {"name", "digest"})
    if subject["name"] != CONTENT_FOLDER:
        raise _refuse(f"the subject is named {subject['name']!r}, expected {CONTENT_FOLDER!r}")
    digest = _object(subject["digest"], "the subject's digest", {"sha256"})
    root = _string(digest["sha256"], "the subject's sha256")
    if not _HEX64.fullmatch(root):
        raise _refuse("the subject's sha256 is not a SHA-256 in hex")
    predicate = _object(st["predicate"], "the predicate", {"serialization", "resources"})
    if predicate["serialization"] != SERIALIZATION:
        raise _refuse(f"the serialization settings are {predicate['serialization']!r}, expected {SERIALIZATION!r}")
    resources = predicate["resources"]
    if not isinstance(resources, list) or not resources:
        raise _refuse("the predicate lists no resources")
    listed: list[tuple[str, str]] = []
    for i, item in enumerate(resources):
        res = _object(item, f"resource {i}", {"name", "digest", "algorithm"})
        name = _string(res["name"], f"resource {i} name")
        if res["algorithm"] != "sha256":
            raise _refuse(f"resource {name!r}: algorithm {res['algorithm']!r}, expected 'sha256'")
        value = _string(res["digest"], f"resource {name!r} digest")
        if not _HEX64.fullmatch(value):
            raise _refuse(f"resource {name!r}: digest is not a SHA-256 in hex")
        try:
            check_content_name(name)
        except SignatureInvalid as exc:
            raise _refuse(str(exc)) from None
        if listed and content_order(name) <= content_order(listed[-1][0]):
            raise _refuse(f"resource {name!r} is out of order or listed twice")
        listed.append((name, value))
    return root, listed


def author_key_hint(bundle: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES) -> str:
    """The bundle's public key hint (SHA-256 of the signer's PEM), read before any verification.

    It only says which trusted key to try (:func:`public_key_hint` of each); it proves nothing.
    """
    return _bundle_parts(bundle, max_bytes)[0]


def public_key_hint(public_pem: str) -> str:
    """The hint model-signing records for this public key (SHA-256 of its canonical PEM)."""
    return _key_hint(_load_public(public_pem))


def statement_digest(bundle: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES) -> str:
    """The package digest the bundle claims, UNVERIFIED (use :func:`verify_content`'s result to trust it)."""
    return _statement(_bundle_parts(bundle, max_bytes)[1])[0]


def _check_p256(public_key: object, what: str) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignatureInvalid(f"{what} is not an ECDSA key ({type(public_key).__name__}); "
                               "Airlock signs with ECDSA P-256 only")
    if not isinstance(public_key.curve, ec.SECP256R1):
        raise SignatureInvalid(f"{what} is on curve {public_key.curve.name}; Airlock signs with ECDSA P-256 only")


def _load_public(public_pem: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(public_pem.encode("utf-8"))
    except (ValueError, TypeError):
        raise SignatureInvalid("the author's public key is not a PEM public key") from None
    _check_p256(key, "the author's public key")
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def verify_content(bundle: bytes, author_public_pem: str, digests: Mapping[str, str], *,
                   max_bytes: int = MAX_BUNDLE_BYTES) -> str:
    """Check the author's bundle against their key and the package's files; returns the package digest.

    Parameters
    ----------
    bundle
        ``author.sig`` as read from the package.
    author_public_pem
        The trusted author's public key (PEM; comment lines before it are fine).
    digests
        SHA-256 (hex) of every file the package holds, by path inside the content folder.

    Raises
    ------
    SignatureInvalid
        Naming the first thing wrong: the bundle's structure, the key (not P-256, not the one
        the bundle names), the signature, the statement, the root digest, or the files (added,
        missing, changed: each named).
    """
    key = _load_public(author_public_pem)
    hint, payload, sig = _bundle_parts(bundle, max_bytes)
    if hint != _key_hint(key):
        raise _refuse("it names a different public key than the author's (key hint mismatch)")
    try:
        key.verify(sig, _pae(payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _refuse("the signature does not verify with the author's public key") from None
    root, listed = _statement(payload)
    hasher = hashlib.sha256()
    for _, value in listed:
        hasher.update(bytes.fromhex(value))
    if hasher.hexdigest() != root:
        raise _refuse("the root digest does not match the listed files' digests")
    signed = dict(listed)
    problems = []
    extra = sorted(set(digests) - signed.keys())
    missing = sorted(signed.keys() - set(digests))
    changed = sorted(n for n in signed.keys() & set(digests) if digests[n] != signed[n])
    if extra:
        problems.append(f"files the author did not sign: {', '.join(extra)}")
    if missing:
        problems.append(f"files the author signed are missing: {', '.join(missing)}")
    if changed:
        problems.append(f"files changed since the author signed them: {', '.join(changed)}")
    if problems:
        raise SignatureInvalid("the package's content does not match its author signature: " + "; ".join(problems))
    return root


__all__ = [
    "BUNDLE_MEDIA_TYPE", "CONTENT_FOLDER", "IGNORED_PATHS", "MAX_BUNDLE_BYTES", "PREDICATE_TYPE",
    "SignatureInvalid", "author_key_hint", "check_content_name", "content_digests", "public_key_hint",
    "content_order", "root_digest", "sign_content", "sign_digests", "statement_digest", "verify_content",
]
