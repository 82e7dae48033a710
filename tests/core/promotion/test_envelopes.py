"""Strict DSSE reading: every way a signed envelope can be damaged, forged or oversized is refused.

Real ECDSA keys throughout (securesystemslib's CryptoSigner); no mocks.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib.signer import CryptoSigner

from core.promotion import envelopes as env
from core.promotion.envelopes import EnvelopeInvalid, KeyRefused, SignatureInvalid

PT = "application/vnd.in-toto+json"
DIGEST = "3f" * 32


def _signer() -> CryptoSigner:
    return CryptoSigner.generate_ecdsa()


def _pem(signer: CryptoSigner) -> str:
    return str(signer.public_key.keyval["public"])


@pytest.fixture(scope="module")
def alice() -> CryptoSigner:
    return _signer()


@pytest.fixture(scope="module")
def bob() -> CryptoSigner:
    return _signer()


@pytest.fixture(scope="module")
def payload() -> bytes:
    return env.statement_bytes("loans@3", DIGEST, "https://example.test/p", {"decision": "approve", "n": 1})


@pytest.fixture(scope="module")
def signed(alice: CryptoSigner, payload: bytes) -> bytes:
    return env.write_envelope(payload, PT, [alice])


def _body(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(data)
    return out


def _dump(body: Any) -> bytes:
    return json.dumps(body).encode()


def _read(data: bytes, **kw: Any) -> env.DsseEnvelope:
    return env.read_envelope(data, "approval.json", payload_type=kw.pop("payload_type", PT), **kw)


def _accepted(data: bytes, pem: str) -> bool:
    try:
        envelope = _read(data)
        env.verify_signature(envelope, pem)
    except (EnvelopeInvalid, SignatureInvalid):
        return False
    return True


# --- what goes right -----------------------------------------------------------------------


def test_round_trip(alice: CryptoSigner, signed: bytes, payload: bytes) -> None:
    envelope = _read(signed)
    assert envelope.payload == payload
    assert envelope.keyids == (alice.public_key.keyid,)
    assert env.verify_signature(envelope, _pem(alice)) == alice.public_key.keyid
    statement = env.read_statement(envelope.payload, "x", predicate_type="https://example.test/p")
    assert (statement.subject_name, statement.sha256, statement.predicate) == (
        "loans@3", DIGEST, {"decision": "approve", "n": 1}
    )
    # securesystemslib agrees with our reading
    sslib = envelope.to_sslib()
    assert set(sslib.verify([alice.public_key], 1)) == {alice.public_key.keyid}


def test_written_envelope_is_canonical_json(signed: bytes) -> None:
    assert signed == json.dumps(_body(signed), sort_keys=True, separators=(",", ":")).encode()


def test_several_signers_for_policies(alice: CryptoSigner, bob: CryptoSigner, payload: bytes) -> None:
    data = env.write_envelope(payload, PT, [alice, bob])
    with pytest.raises(EnvelopeInvalid, match="exactly 1 expected"):
        _read(data)
    envelope = _read(data, signatures=None, min_signatures=2)
    assert set(envelope.keyids) == {alice.public_key.keyid, bob.public_key.keyid}
    env.verify_signature(envelope, _pem(alice))
    env.verify_signature(envelope, _pem(bob))
    with pytest.raises(EnvelopeInvalid, match="at least 3 expected"):
        _read(data, signatures=None, min_signatures=3)


def test_add_signature(alice: CryptoSigner, bob: CryptoSigner, signed: bytes) -> None:
    both = env.add_signature(_read(signed), bob)
    envelope = _read(both, signatures=2)
    env.verify_signature(envelope, _pem(alice))
    env.verify_signature(envelope, _pem(bob))
    with pytest.raises(EnvelopeInvalid, match="signed it already"):
        env.add_signature(envelope, alice)


# --- bit flips -----------------------------------------------------------------------------


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


@pytest.mark.parametrize("position", [0, 1, 7, 30, 64, 100, 150, 199, -40, -2, -1])
@pytest.mark.parametrize("bit", [0, 3, 7])
def test_flipped_payload_bit_breaks_the_signature(
    alice: CryptoSigner, signed: bytes, position: int, bit: int
) -> None:
    body = _body(signed)
    payload = base64.b64decode(body["payload"])
    body["payload"] = base64.b64encode(_flip(payload, position, bit)).decode()
    envelope = _read(_dump(body))  # a well-formed envelope…
    with pytest.raises(SignatureInvalid, match="does not verify"):  # …whose signature no longer holds
        env.verify_signature(envelope, _pem(alice))


@pytest.mark.parametrize("position", [0, 1, 2, 4, 10, 20, 35, 50, 60, -3, -1])
def test_flipped_signature_bit_is_refused(alice: CryptoSigner, signed: bytes, position: int) -> None:
    body = _body(signed)
    sig = base64.b64decode(body["signatures"][0]["sig"])
    for bit in range(8):
        body["signatures"][0]["sig"] = base64.b64encode(_flip(sig, position, bit)).decode()
        with pytest.raises(SignatureInvalid):
            env.verify_signature(_read(_dump(body)), _pem(alice))


@pytest.mark.parametrize("position", [0, 5, 31, 32, 63])
def test_edited_keyid_is_refused(alice: CryptoSigner, signed: bytes, position: int) -> None:
    body = _body(signed)
    keyid = body["signatures"][0]["keyid"]
    changed = keyid[:position] + ("0" if keyid[position] != "0" else "1") + keyid[position + 1:]
    body["signatures"][0]["keyid"] = changed
    with pytest.raises(SignatureInvalid, match="not signed by the key"):
        env.verify_signature(_read(_dump(body)), _pem(alice))


def test_every_single_bit_flip_of_the_file_is_refused(alice: CryptoSigner, signed: bytes) -> None:
    accepted = [
        (i, bit) for i in range(len(signed)) for bit in (0, 1, 5, 7) if _accepted(_flip(signed, i, bit), _pem(alice))
    ]
    assert accepted == []
    assert _accepted(signed, _pem(alice))  # the untouched file passes the same check


def test_signature_swapped_from_another_envelope(alice: CryptoSigner, payload: bytes) -> None:
    other = env.write_envelope(payload + b" ", PT, [alice])
    body = _body(env.write_envelope(payload, PT, [alice]))
    body["signatures"] = _body(other)["signatures"]
    with pytest.raises(SignatureInvalid):
        env.verify_signature(_read(_dump(body)), _pem(alice))


def test_payload_type_is_signed(alice: CryptoSigner, payload: bytes) -> None:
    body = _body(env.write_envelope(payload, "application/other", [alice]))
    body["payloadType"] = PT
    with pytest.raises(SignatureInvalid):
        env.verify_signature(_read(_dump(body)), _pem(alice))


def test_another_key_does_not_verify(bob: CryptoSigner, signed: bytes) -> None:
    with pytest.raises(SignatureInvalid, match="not signed by the key"):
        env.verify_signature(_read(signed), _pem(bob))


# --- truncation, size, depth ---------------------------------------------------------------


def test_truncated_at_every_length_is_refused(signed: bytes) -> None:
    for length in range(len(signed)):
        with pytest.raises(EnvelopeInvalid):
            _read(signed[:length])


def test_huge_input_is_refused_unread(signed: bytes) -> None:
    body = _body(signed)
    body["padding"] = "x" * (1 << 20)
    with pytest.raises(EnvelopeInvalid, match="more than the 1,048,576 allowed"):
        _read(_dump(body))
    with pytest.raises(EnvelopeInvalid, match="more than the 100 allowed"):
        _read(signed, max_bytes=100)


@pytest.mark.parametrize("depth", [33, 100, 10_000, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_before_parsing(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    data = (opener * depth + "1" + closer * depth).encode()
    with pytest.raises(EnvelopeInvalid, match=f"nests {depth} levels deep"):
        _read(data)
    with pytest.raises(EnvelopeInvalid, match="nests"):  # unbalanced: still no RecursionError
        _read((opener * depth).encode())


def test_deep_nesting_inside_the_payload_is_refused(alice: CryptoSigner) -> None:
    deep = b'{"_type":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    envelope = _read(env.write_envelope(deep, PT, [alice]))
    with pytest.raises(EnvelopeInvalid, match="statement's JSON nests 50001 levels"):
        env.read_statement(envelope.payload, "x", predicate_type="p")


def test_depth_ignores_brackets_inside_strings() -> None:
    assert env.json_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') == 1
    assert env.json_depth(b'["\\"[[[[", [[1]]]') == 3
    assert env.json_depth(b"1") == 0
    deep_string = b'["' + b"[" * 100 + b'"]'
    assert env.parse_json(deep_string, "x") == ["[" * 100]


def test_nesting_at_the_limit_is_read() -> None:
    data = b"[" * 32 + b"]" * 32
    assert env.parse_json(data, "x") is not None


# --- wrong JSON and wrong types ------------------------------------------------------------


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"null", "a JSON object, this is null"),
    (b"[]", "a JSON object, this is an array"),
    (b'"text"', "a JSON object, this is a string"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{'payload': 1}", "not valid JSON"),
    (b'{"payload":"", "payload":""}', "member 'payload' twice"),
    (b'{"a": NaN}', "NaN"),
    (b'{"a": Infinity}', "Infinity"),
    (b'{} {}', "not valid JSON"),
])
def test_not_an_envelope(data: bytes, message: str) -> None:
    with pytest.raises(EnvelopeInvalid, match=message):
        _read(data)


def _mutations(signed: bytes) -> list[tuple[str, dict[str, Any], str]]:
    def edit(change: Any) -> dict[str, Any]:
        body = _body(signed)
        change(body)
        return body

    sig = _body(signed)["signatures"][0]
    return [
        ("payload null", edit(lambda b: b.update(payload=None)), "'payload' must be a string, not null"),
        ("payload number", edit(lambda b: b.update(payload=12)), "'payload' must be a string, not a number"),
        ("payload list", edit(lambda b: b.update(payload=[b["payload"]])), "'payload' must be a string"),
        ("type number", edit(lambda b: b.update(payloadType=1)), "'payloadType' must be a string"),
        ("type other", edit(lambda b: b.update(payloadType="text/plain")), "not the expected"),
        ("sigs object", edit(lambda b: b.update(signatures=sig)), "'signatures' must be an array"),
        ("sigs string", edit(lambda b: b.update(signatures="x")), "'signatures' must be an array"),
        ("sigs empty", edit(lambda b: b.update(signatures=[])), "carries 0 signature"),
        ("sig not object", edit(lambda b: b.update(signatures=["abc"])), "signature 1 must be an object"),
        ("sig null", edit(lambda b: b.update(signatures=[None])), "signature 1 must be an object"),
        ("keyid number", edit(lambda b: b["signatures"][0].update(keyid=5)), "'keyid' must be a string"),
        ("keyid null", edit(lambda b: b["signatures"][0].update(keyid=None)), "'keyid' must be a string"),
        ("keyid empty", edit(lambda b: b["signatures"][0].update(keyid="")), "not a key id"),
        ("keyid upper", edit(lambda b: b["signatures"][0].update(keyid=sig["keyid"].upper())), "not a key id"),
        ("keyid short", edit(lambda b: b["signatures"][0].update(keyid=sig["keyid"][:-1])), "not a key id"),
        ("sig number", edit(lambda b: b["signatures"][0].update(sig=1)), "'sig' must be a string"),
        ("sig bytes list", edit(lambda b: b["signatures"][0].update(sig=[1, 2])), "'sig' must be a string"),
        ("sig empty", edit(lambda b: b["signatures"][0].update(sig="")), "signature 1 is empty"),
        ("no keyid", edit(lambda b: b["signatures"][0].pop("keyid")), "lacks 'keyid'"),
        ("no sig", edit(lambda b: b["signatures"][0].pop("sig")), "lacks 'sig'"),
        ("extra sig member", edit(lambda b: b["signatures"][0].update(cert="x")), "unexpected member"),
        ("no payload", edit(lambda b: b.pop("payload")), "lacks 'payload'"),
        ("no type", edit(lambda b: b.pop("payloadType")), "lacks 'payloadType'"),
        ("no signatures", edit(lambda b: b.pop("signatures")), "lacks 'signatures'"),
        ("extra member", edit(lambda b: b.update(note="hi")), "unexpected member"),
        ("two signatures", edit(lambda b: b["signatures"].append(dict(sig, keyid="ab" * 32))), "carries 2"),
    ]


def test_wrong_types_and_members(signed: bytes) -> None:
    for name, body, message in _mutations(signed):
        with pytest.raises(EnvelopeInvalid, match=message):
            _read(_dump(body))
        assert name


def test_duplicate_keyids_are_refused(signed: bytes) -> None:
    body = _body(signed)
    body["signatures"] = body["signatures"] * 2
    with pytest.raises(EnvelopeInvalid, match="carries 2"):
        _read(_dump(body))
    with pytest.raises(EnvelopeInvalid, match="duplicate"):
        _read(_dump(body), signatures=None)  # even where several are allowed, one key signs once


@pytest.mark.parametrize("field", ["payload", "sig"])
@pytest.mark.parametrize("change", ["not base64 !", "abc", "YWJj\n", " YWJj", "YW Jj", "YWJj===", "YWJ=", "-_-_"])
def test_bad_base64_is_refused(signed: bytes, field: str, change: str) -> None:
    body = _body(signed)
    if field == "payload":
        body["payload"] = change
    else:
        body["signatures"][0]["sig"] = change
    with pytest.raises(EnvelopeInvalid, match="base64"):
        _read(_dump(body))


@pytest.mark.parametrize("payload_bytes", [b"abcd", b"abcde"])  # two "=" and one "=" of padding
def test_non_canonical_base64_padding_bits_are_refused(alice: CryptoSigner, payload_bytes: bytes) -> None:
    body = _body(env.write_envelope(payload_bytes, PT, [alice]))
    text = body["payload"]
    assert text.endswith("=")  # the padding leaves unused bits in the last character
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stem = text.rstrip("=")
    last = alphabet.index(stem[-1])
    for other in range(64):
        if other == last:
            continue
        body["payload"] = stem[:-1] + alphabet[other] + text[len(stem):]
        same_bytes = base64.b64decode(body["payload"]) == base64.b64decode(text)
        with pytest.raises((EnvelopeInvalid, SignatureInvalid)) as caught:
            env.verify_signature(_read(_dump(body)), _pem(alice))
        if same_bytes:  # decodes to the very same payload: only canonical base64 tells them apart
            assert caught.type is EnvelopeInvalid and "canonical base64" in str(caught.value)


def test_url_safe_base64_is_refused(signed: bytes) -> None:
    body = _body(signed)
    raw = base64.b64decode(body["signatures"][0]["sig"])
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    if urlsafe == body["signatures"][0]["sig"]:
        pytest.skip("this signature has no + or / to tell the alphabets apart")
    body["signatures"][0]["sig"] = urlsafe
    with pytest.raises(EnvelopeInvalid, match="base64"):
        _read(_dump(body))


# --- keys of other algorithms --------------------------------------------------------------


def _pem_of(public: Any) -> str:
    return str(public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode())


@pytest.mark.parametrize("make, name", [
    (lambda: ec.generate_private_key(ec.SECP384R1()).public_key(), "an ECDSA key on secp384r1"),
    (lambda: ec.generate_private_key(ec.SECP521R1()).public_key(), "an ECDSA key on secp521r1"),
    (lambda: ec.generate_private_key(ec.SECP256K1()).public_key(), "an ECDSA key on secp256k1"),
    (lambda: ed25519.Ed25519PrivateKey.generate().public_key(), "an Ed25519 key"),
    (lambda: rsa.generate_private_key(65537, 2048).public_key(), "an RSA-2048 key"),
])
def test_other_algorithms_are_refused_by_name(signed: bytes, make: Any, name: str) -> None:
    pem = _pem_of(make())
    with pytest.raises(KeyRefused, match=f"this is {name}; Airlock accepts only ECDSA P-256"):
        env.load_public_key(pem, "bob.pub")
    with pytest.raises(KeyRefused, match=name):
        env.verify_signature(_read(signed), pem)


@pytest.mark.parametrize("scheme", ["ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"])
def test_other_curves_are_refused_as_signers(payload: bytes, scheme: str) -> None:
    with pytest.raises(KeyRefused, match="ECDSA P-256 keys only"):
        env.write_envelope(payload, PT, [CryptoSigner.generate_ecdsa(scheme=scheme)])


def test_ed25519_and_rsa_signers_are_refused(payload: bytes) -> None:
    for signer in (CryptoSigner.generate_ed25519(), CryptoSigner.generate_rsa()):
        with pytest.raises(KeyRefused, match="ECDSA P-256 keys only"):
            env.write_envelope(payload, PT, [signer])


@pytest.mark.parametrize("pem", [
    "", "hello", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "x" * 20_000,
])
def test_malformed_public_keys_are_refused(pem: str) -> None:
    with pytest.raises(KeyRefused):
        env.load_public_key(pem, "bob.pub")


def test_keyid_is_securesystemslib_keyid(alice: CryptoSigner) -> None:
    assert env.keyid_of(_pem(alice)) == alice.public_key.keyid


# --- in-toto statements --------------------------------------------------------------------


def _statement(**changes: Any) -> bytes:
    body: dict[str, Any] = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "loans@3", "digest": {"sha256": DIGEST}}],
        "predicateType": "p", "predicate": {"a": 1},
    }
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize("changes, message", [
    ({"_type": "https://in-toto.io/Statement/v0.1"}, "_type"),
    ({"_type": ...}, "lacks '_type'"),
    ({"extra": 1}, "unexpected member"),
    ({"predicateType": "q"}, "not the expected 'p'"),
    ({"predicateType": 5}, "not the expected"),
    ({"subject": []}, "exactly one subject \\(found 0\\)"),
    ({"subject": [{"name": "a", "digest": {"sha256": DIGEST}}] * 2}, "found 2"),
    ({"subject": {"name": "a"}}, "exactly one subject"),
    ({"subject": ["a"]}, "subject must be an object"),
    ({"subject": [{"name": "", "digest": {"sha256": DIGEST}}]}, "non-empty string"),
    ({"subject": [{"name": 3, "digest": {"sha256": DIGEST}}]}, "non-empty string"),
    ({"subject": [{"name": "a", "digest": {"sha512": DIGEST}}]}, "lacks 'sha256'"),
    ({"subject": [{"name": "a", "digest": {"sha256": DIGEST, "md5": "x"}}]}, "unexpected member"),
    ({"subject": [{"name": "a", "digest": {"sha256": DIGEST.upper()}}]}, "64 lower-case hex"),
    ({"subject": [{"name": "a", "digest": {"sha256": DIGEST[:-2]}}]}, "64 lower-case hex"),
    ({"subject": [{"name": "a", "digest": "x"}]}, "digest must be an object"),
    ({"subject": [{"name": "a"}]}, "lacks 'digest'"),
    ({"predicate": []}, "predicate must be an object"),
    ({"predicate": None}, "predicate must be an object"),
    ({"predicate": ...}, "lacks 'predicate'"),
])
def test_malformed_statements(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvelopeInvalid, match=message):
        env.read_statement(_statement(**changes), "x", predicate_type="p")


def test_statement_reads_back() -> None:
    assert env.read_statement(_statement(), "x", predicate_type="p").predicate == {"a": 1}
    with pytest.raises(EnvelopeInvalid, match="statement must be a JSON object"):
        env.read_statement(b"[]", "x", predicate_type="p")
