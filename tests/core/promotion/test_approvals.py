"""Signed approvals and site attestations: moved, relabelled, re-wrapped, edited or malformed ones are refused.

Real keys from a real :class:`KeyStore` in a temporary folder; no mocks.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core import formats
from core.errors import InvalidInput
from core.promotion import approvals as ap
from core.promotion import envelopes as env
from core.promotion.envelopes import EnvelopeInvalid, KeyRefused, SignatureInvalid
from core.promotion.keys import KeyStore, Signer
from core.promotion.models import (
    APPROVAL_PREDICATE,
    IN_TOTO_PAYLOAD_TYPE,
    SITE_ATTESTATION_PREDICATE,
    Approval,
    Decision,
    Environment,
    SiteAttestation,
)

PASS = "correct horse"
DIGEST = "5a" * 32
OTHER_DIGEST = "a5" * 32
NOW = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Signer]:
    store = KeyStore(tmp_path_factory.mktemp("keys"))
    out = {}
    for name in ("Ann", "Bob", "Site"):
        info = store.generate(name, passphrase=PASS)
        out[name] = store.signer(info.public.keyid, PASS)
    return out


@pytest.fixture
def ann(people: dict[str, Signer]) -> Signer:
    return people["Ann"]


@pytest.fixture
def bob(people: dict[str, Signer]) -> Signer:
    return people["Bob"]


def _approval(signer: Signer, **kw: Any) -> Approval:
    args: dict[str, Any] = dict(
        package_digest=DIGEST, model="loans", version=3, environment=Environment.PROD, site="Clinic-North",
        decision=Decision.APPROVE, policy_version=3, reviewer=signer.public, comment="Looked at the card.",
        now=NOW,
    )
    args.update(kw)
    return ap.new_approval(**args)


def _parts(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.loads(data)
    return body, json.loads(base64.b64decode(body["payload"]))


def _rewrap(statement: dict[str, Any], signer: Signer) -> bytes:
    """A statement as given, signed properly by ``signer`` (what a forger with a key can make)."""
    return env.write_envelope(formats.canonical_json(statement), IN_TOTO_PAYLOAD_TYPE, [signer.crypto_signer])


def _same_sig(body: dict[str, Any], statement: dict[str, Any]) -> bytes:
    """The statement edited, the original signature kept (what a forger without the key can make)."""
    return json.dumps(dict(body, payload=base64.b64encode(formats.canonical_json(statement)).decode())).encode()


# --- building and the round trip -----------------------------------------------------------


def test_new_approval_fields(ann: Signer) -> None:
    approval = _approval(ann)
    assert approval.meaning == "Approved for production at site Clinic-North under trust policy 3"
    assert approval.signed_at == "2026-12-01T09:30:15+00:00"
    assert approval.expires_at == "2026-12-31T09:30:15+00:00"
    assert approval.reviewer == "Ann" and approval.reviewer_keyid == ann.keyid
    assert len(approval.nonce) == 32 and int(approval.nonce, 16) >= 0
    assert _approval(ann).nonce != approval.nonce
    reject = _approval(ann, decision=Decision.REJECT, environment=Environment.QA, site="QA-1", policy_version=1)
    assert reject.meaning == "Rejected for QA at site QA-1 under trust policy 1"
    later = _approval(ann, valid_days=7, now=None)
    signed = datetime.fromisoformat(later.signed_at)
    assert datetime.fromisoformat(later.expires_at) - signed == timedelta(days=7)
    assert abs(datetime.now(UTC) - signed) < timedelta(days=1)


@pytest.mark.parametrize("changes", [
    {"package_digest": "xyz"}, {"package_digest": DIGEST.upper()}, {"site": ""}, {"model": " "}, {"version": 0},
    {"policy_version": 0}, {"valid_days": 0}, {"valid_days": 367}, {"comment": "x" * 4001},
    {"comment": "bell\x07"}, {"site": "two\nlines"},
])
def test_new_approval_refuses_bad_input(ann: Signer, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        _approval(ann, **changes)


def test_round_trip(ann: Signer) -> None:
    approval = _approval(ann)
    data = ap.sign_approval(approval, ann)
    signed = ap.read_approval(data, "loans.approval.json")
    assert signed.approval == approval
    assert signed.signer_keyid == ann.keyid
    assert signed.envelope == data and signed.source == "loans.approval.json"
    ap.verify_approval(signed, ann.public.pem)
    body, statement = _parts(data)
    assert body["payloadType"] == IN_TOTO_PAYLOAD_TYPE
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": "loans@3", "digest": {"sha256": DIGEST}}]
    assert statement["predicateType"] == APPROVAL_PREDICATE
    assert statement["predicate"]["reviewer_keyid"] == ann.keyid
    assert statement["predicate"]["format"] == "airlock.approval"


def test_signing_with_a_key_the_approval_does_not_name(ann: Signer, bob: Signer) -> None:
    with pytest.raises(InvalidInput, match="sign with the key it names"):
        ap.sign_approval(_approval(ann), bob)


# --- moved, relabelled, re-wrapped ---------------------------------------------------------


def test_moved_to_another_package(ann: Signer) -> None:
    body, statement = _parts(ap.sign_approval(_approval(ann), ann))
    statement["subject"][0]["digest"]["sha256"] = OTHER_DIGEST
    statement["predicate"]["package_digest"] = OTHER_DIGEST
    moved = ap.read_approval(_same_sig(body, statement), "moved.json")  # reads (no key needed)…
    with pytest.raises(SignatureInvalid, match="does not verify"):  # …but its signature breaks
        ap.verify_approval(moved, ann.public.pem)
    statement["predicate"]["package_digest"] = DIGEST  # subject moved, predicate not
    with pytest.raises(EnvelopeInvalid, match="subject digest is not the package digest"):
        ap.read_approval(_same_sig(body, statement), "moved.json")


def test_moved_to_another_model_version(ann: Signer) -> None:
    body, statement = _parts(ap.sign_approval(_approval(ann), ann))
    statement["subject"][0]["name"] = "loans@4"
    with pytest.raises(EnvelopeInvalid, match="subject is 'loans@4' but its predicate is about 'loans@3'"):
        ap.read_approval(_same_sig(body, statement), "x")
    statement["predicate"]["version"] = 4
    with pytest.raises(SignatureInvalid):
        ap.verify_approval(ap.read_approval(_same_sig(body, statement), "x"), ann.public.pem)


def test_relabelled_to_another_reviewer(ann: Signer, bob: Signer) -> None:
    body, statement = _parts(ap.sign_approval(_approval(ann), ann))
    statement["predicate"]["reviewer_keyid"] = bob.keyid
    statement["predicate"]["reviewer"] = "Bob"
    with pytest.raises(EnvelopeInvalid, match="re-signed or relabelled"):  # envelope still says Ann
        ap.read_approval(_same_sig(body, statement), "x")
    body["signatures"][0]["keyid"] = bob.keyid  # relabel the envelope too
    relabelled = ap.read_approval(_same_sig(body, statement), "x")
    with pytest.raises(SignatureInvalid, match="does not verify"):
        ap.verify_approval(relabelled, bob.public.pem)
    with pytest.raises(SignatureInvalid, match="names key"):
        ap.verify_approval(relabelled, ann.public.pem)


def test_envelope_keyid_edited(ann: Signer, bob: Signer) -> None:
    body, statement = _parts(ap.sign_approval(_approval(ann), ann))
    body["signatures"][0]["keyid"] = bob.keyid
    with pytest.raises(EnvelopeInvalid, match="signature is by key .* but the statement names reviewer_keyid"):
        ap.read_approval(json.dumps(body).encode(), "x")


def test_rewrapped_under_another_key(ann: Signer, bob: Signer) -> None:
    _, statement = _parts(ap.sign_approval(_approval(ann), ann))
    forged = _rewrap(statement, bob)  # Bob signs a statement that says Ann approved
    with pytest.raises(EnvelopeInvalid, match="re-signed or relabelled"):
        ap.read_approval(forged, "x")


def test_verified_with_the_wrong_key(ann: Signer, bob: Signer) -> None:
    signed = ap.read_approval(ap.sign_approval(_approval(ann), ann), "x")
    with pytest.raises(SignatureInvalid, match="names key"):
        ap.verify_approval(signed, bob.public.pem)
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(KeyRefused, match="secp384r1"):
        ap.verify_approval(signed, p384)


def test_tampered_signed_value_is_not_trusted(ann: Signer) -> None:
    signed = ap.read_approval(ap.sign_approval(_approval(ann), ann), "x")
    forged = dataclasses.replace(signed, approval=dataclasses.replace(signed.approval, environment=Environment.QA))
    with pytest.raises(SignatureInvalid, match="does not match its own envelope"):
        ap.verify_approval(forged, ann.public.pem)


def test_two_signatures_are_refused(ann: Signer, bob: Signer) -> None:
    data = ap.sign_approval(_approval(ann), ann)
    both = env.add_signature(env.read_envelope(data, "x", payload_type=IN_TOTO_PAYLOAD_TYPE), bob.crypto_signer)
    with pytest.raises(EnvelopeInvalid, match="carries 2 signature"):
        ap.read_approval(both, "x")
    body = json.loads(data)
    body["signatures"] = body["signatures"] * 2  # the same signature twice
    with pytest.raises(EnvelopeInvalid, match="carries 2 signature"):
        ap.read_approval(json.dumps(body).encode(), "x")
    body["signatures"] = []
    with pytest.raises(EnvelopeInvalid, match="carries 0 signature"):
        ap.read_approval(json.dumps(body).encode(), "x")


def test_every_bit_flip_of_an_approval_is_refused(ann: Signer) -> None:
    data = ap.sign_approval(_approval(ann), ann)
    accepted = []
    for i in range(len(data)):
        for bit in (0, 6):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            try:
                ap.verify_approval(ap.read_approval(bytes(flipped), "x"), ann.public.pem)
            except (EnvelopeInvalid, SignatureInvalid):
                continue
            accepted.append((i, bit))
    assert accepted == []


def test_truncated_approvals(ann: Signer) -> None:
    data = ap.sign_approval(_approval(ann), ann)
    for length in range(0, len(data), 7):
        with pytest.raises(EnvelopeInvalid):
            ap.read_approval(data[:length], "x")


# --- the predicate, strictly ---------------------------------------------------------------


def _edit(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(predicate: dict[str, Any]) -> None:
        if value is ...:
            predicate.pop(name)
        else:
            predicate[name] = value

    return apply


PREDICATE_CASES: list[tuple[str, Any, str]] = [
    ("version", "3", "does not fit its layout"),
    ("version", True, "does not fit its layout"),
    ("version", 3.5, "does not fit its layout"),
    ("environment", "staging", "does not fit its layout"),
    ("decision", "maybe", "does not fit its layout"),
    ("policy_version", None, "does not fit its layout"),
    ("policy_version", 0, "policy_version must be 1 or more"),
    ("site", 5, "does not fit its layout"),
    ("comment", ["x"], "does not fit its layout"),
    ("nonce", "abc", "nonce is not 32"),
    ("nonce", "G" * 32, "nonce is not 32"),
    ("reviewer", "", "reviewer's name is empty"),
    ("meaning", "Approved for QA at site Clinic-North under trust policy 3", "does not say what its fields say"),
    ("meaning", "", "does not say what its fields say"),
    ("signed_at", "2026-12-01T09:30:15Z", "YYYY-MM-DDTHH:MM:SS\\+00:00"),
    ("signed_at", "2026-12-01T09:30:15.5+00:00", "YYYY-MM-DDTHH:MM:SS"),
    ("signed_at", "2026-12-01T09:30:15", "YYYY-MM-DDTHH:MM:SS"),
    ("signed_at", "2026-12-01T10:30:15+01:00", "YYYY-MM-DDTHH:MM:SS"),
    ("signed_at", "2026-12-01 09:30:15+00:00", "YYYY-MM-DDTHH:MM:SS"),
    ("signed_at", "2026-02-30T09:30:15+00:00", "not a real date"),
    ("signed_at", 1_764_581_415, "does not fit its layout"),
    ("expires_at", "2026-11-30T09:30:15+00:00", "expires before it was signed"),
    ("expires_at", "2026-12-01T09:30:15+00:00", "expires before it was signed"),
    ("expires_at", "soon", "YYYY-MM-DDTHH:MM:SS"),
    ("format_version", 99, "format 99"),
    ("format", "airlock.trust_policy", "not a approval|not an approval|This is a"),
    ("surprise", "field", "unexpected field"),
    ("comment", ..., "does not fit its layout"),
    ("reviewer_keyid", ..., "does not fit its layout"),
    ("package_digest", "zz" * 32, "package_digest is not 64"),
    ("package_digest", OTHER_DIGEST, "subject digest is not the package digest"),
]


@pytest.mark.parametrize("name, value, message", PREDICATE_CASES)
def test_malformed_predicates_are_refused_even_when_properly_signed(
    ann: Signer, name: str, value: Any, message: str
) -> None:
    _, statement = _parts(ap.sign_approval(_approval(ann), ann))
    _edit(name, value)(statement["predicate"])
    with pytest.raises(EnvelopeInvalid, match=message):
        ap.read_approval(_rewrap(statement, ann), "x")


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(predicateType=SITE_ATTESTATION_PREDICATE), "not the expected"),
    (lambda s: s["subject"].append(s["subject"][0]), "exactly one subject"),
    (lambda s: s.update(predicate=[]), "predicate must be an object"),
    (lambda s: s["subject"][0]["digest"].update(sha512="00"), "unexpected member"),
])
def test_malformed_statements_are_refused(ann: Signer, change: Callable[[dict[str, Any]], None], message: str) -> None:
    _, statement = _parts(ap.sign_approval(_approval(ann), ann))
    change(statement)
    with pytest.raises(EnvelopeInvalid, match=message):
        ap.read_approval(_rewrap(statement, ann), "x")


@pytest.mark.parametrize("respell", [
    lambda b: b.replace(b'"version":3', b'"version":3.0'),
    lambda b: b.replace(b'"version":3', b'"version":3e0'),
    lambda b: b.replace(b',', b', ', 1),
    lambda b: b + b"\n",
    lambda b: b.replace(b'"version":3', b'"version":1152921504606846976'),  # beyond what JCS carries
    lambda b: b.replace(b'"Ann"', b'"\\u0041nn"'),
])
def test_non_canonical_payloads_are_refused_even_when_signed(ann: Signer, respell: Callable[[bytes], bytes]) -> None:
    payload = json.loads(ap.sign_approval(_approval(ann), ann))["payload"]
    respelled = respell(base64.b64decode(payload))
    assert respelled != base64.b64decode(payload)
    data = env.write_envelope(respelled, IN_TOTO_PAYLOAD_TYPE, [ann.crypto_signer])
    with pytest.raises(EnvelopeInvalid, match="canonical JSON"):
        ap.read_approval(data, "x")


def test_other_payload_type_is_refused(ann: Signer) -> None:
    _, statement = _parts(ap.sign_approval(_approval(ann), ann))
    data = env.write_envelope(formats.canonical_json(statement), "application/json", [ann.crypto_signer])
    with pytest.raises(EnvelopeInvalid, match="not the expected 'application/vnd.in-toto\\+json'"):
        ap.read_approval(data, "x")


def test_times_parse_strictly() -> None:
    assert ap.parse_time("2026-12-01T09:30:15+00:00", "x", "t") == datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
    assert ap.iso_utc(NOW) == "2026-12-01T09:30:15+00:00"
    with pytest.raises(ValueError):
        ap.iso_utc(datetime(2026, 1, 1))  # a time without a zone is a mistake, not UTC


# --- site attestations ---------------------------------------------------------------------


def _attestation(site: Signer, **kw: Any) -> SiteAttestation:
    args: dict[str, Any] = dict(
        package_digest=DIGEST, model="loans", version=3, site="QA-1", environment=Environment.QA,
        admitted_at="2026-12-01T09:30:15+00:00", canary_rows=50, canary_max_difference=0.0, policy_version=2,
        site_keyid=site.keyid,
    )
    args.update(kw)
    return SiteAttestation(**args)


def test_attestation_round_trip(people: dict[str, Signer]) -> None:
    site = people["Site"]
    attestation = _attestation(site, canary_max_difference=1.5e-9)
    data = ap.sign_attestation(attestation, site)
    signed = ap.read_attestation(data, "qa.attestation.json")
    assert signed.attestation == attestation and signed.signer_keyid == site.keyid
    ap.verify_attestation(signed, site.public.pem)
    _, statement = _parts(data)
    assert statement["predicateType"] == SITE_ATTESTATION_PREDICATE
    with pytest.raises(SignatureInvalid):
        ap.verify_attestation(signed, people["Ann"].public.pem)


def test_approval_and_attestation_are_not_interchangeable(people: dict[str, Signer]) -> None:
    ann, site = people["Ann"], people["Site"]
    with pytest.raises(EnvelopeInvalid, match="not the expected"):
        ap.read_attestation(ap.sign_approval(_approval(ann), ann), "x")
    with pytest.raises(EnvelopeInvalid, match="not the expected"):
        ap.read_approval(ap.sign_attestation(_attestation(site), site), "x")


def test_attestation_forgeries(people: dict[str, Signer]) -> None:
    site, bob = people["Site"], people["Bob"]
    with pytest.raises(InvalidInput):
        ap.sign_attestation(_attestation(site), bob)
    body, statement = _parts(ap.sign_attestation(_attestation(site), site))
    with pytest.raises(EnvelopeInvalid, match="site_keyid"):
        ap.read_attestation(_rewrap(statement, bob), "x")  # re-wrapped under another key
    statement["subject"][0]["digest"]["sha256"] = OTHER_DIGEST
    statement["predicate"]["package_digest"] = OTHER_DIGEST
    with pytest.raises(SignatureInvalid):  # moved to another package
        ap.verify_attestation(ap.read_attestation(_same_sig(body, statement), "x"), site.public.pem)


@pytest.mark.parametrize("name, value, message", [
    ("canary_rows", -1, "must not be negative"),
    ("canary_rows", "50", "does not fit"),
    ("canary_max_difference", -0.5, "finite number"),
    ("canary_max_difference", "0", "does not fit"),
    ("admitted_at", "2026-12-01T09:30:15Z", "YYYY-MM-DDTHH:MM:SS"),
    ("environment", "dev", "does not fit"),
    ("policy_version", 0, "policy_version"),
    ("approver_keyids", "abc", "does not fit"),
    ("extra", 1, "unexpected field"),
])
def test_malformed_attestations(people: dict[str, Signer], name: str, value: Any, message: str) -> None:
    site = people["Site"]
    _, statement = _parts(ap.sign_attestation(_attestation(site), site))
    _edit(name, value)(statement["predicate"])
    with pytest.raises(EnvelopeInvalid, match=message):
        ap.read_attestation(_rewrap(statement, site), "x")


def test_every_bit_flip_of_an_attestation_is_refused(people: dict[str, Signer]) -> None:
    site = people["Site"]
    data = ap.sign_attestation(_attestation(site), site)
    for i in range(0, len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x01
        with pytest.raises((EnvelopeInvalid, SignatureInvalid)):
            ap.verify_attestation(ap.read_attestation(bytes(flipped), "x"), site.public.pem)


def test_files_round_trip_through_disk(ann: Signer, tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(ap.sign_approval(_approval(ann), ann))
    ap.verify_approval(ap.read_approval(path.read_bytes(), str(path)), ann.public.pem)
