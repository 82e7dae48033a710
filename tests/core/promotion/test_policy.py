"""Trust policies: the TOML draft, signing, and the verification that tries hard to be fooled.

Real ECDSA P-256 keys throughout (``policy_helpers.KEYS``); a fixed clock, never the wall clock.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from securesystemslib.signer._crypto_signer import CryptoSigner

from core import formats
from core.errors import AirlockError, NotFound
from core.promotion import envelopes
from core.promotion.drafts import draft_template, policy_to_draft, read_draft
from core.promotion.keys import Signer
from core.promotion.models import Environment, KeyRole, PublicKey, TrustPolicy
from core.promotion.policy import (
    POLICY_PAYLOAD_TYPE,
    PolicyDraftError,
    PolicyRefusal,
    PolicyRefused,
    check_policy_envelope,
    is_expired,
    keyid_of_pem,
    policy_payload,
    read_policy_envelope,
    sign_policy,
    verify_policy,
)
from tests.core.promotion.policy_helpers import (
    KEYS,
    NOW,
    SITE,
    admins,
    iso,
    keyid,
    make_policy,
    pem_of,
    pkey,
    signed,
)

# --- drafts --------------------------------------------------------------------------------

PUB_FILES = {f"{name}.pub": name for name in KEYS}


def resolve(ref: str) -> tuple[str, str]:
    """What the CLI does: a .pub path or the key id of an imported key."""
    name = PUB_FILES.get(ref) or next((n for n, s in KEYS.items() if keyid(s) == ref), None)
    if name is None:
        raise NotFound(f"no imported key {ref!r}")
    return keyid(KEYS[name]), pem_of(KEYS[name])


REVIEWERS = """
[[keys]]
person = "Pat"
key = "prod1.pub"
roles = ["prod-approver"]

[[keys]]
person = "Ravi"
key = "prod2.pub"
roles = ["prod-approver", "qa-reviewer"]
valid_from = "2027-01-01T00:00:00Z"
valid_until = 2028-01-01T00:00:00+01:00
"""


def template() -> str:
    return draft_template(SITE, "prod", [("Alice", keyid(KEYS["admin_a"])), ("Bob", "admin_b.pub"),
                                         ("Carol", "admin_c.pub")], now=NOW)


def test_template_needs_approvers_then_reads() -> None:
    with pytest.raises(PolicyDraftError, match=r"rules\.prod\.approvals_required asks for 2 distinct people but "
                                              r"only 0 hold the role prod-approver") as err:
        read_draft(template(), "draft.toml", resolve)
    assert "draft.toml, line " in str(err.value)
    policy = read_draft(template() + REVIEWERS, "draft.toml", resolve)
    assert policy.site == SITE and policy.environment == Environment.PROD and policy.version == 1
    assert policy.admin_threshold == 2
    assert [k.person for k in policy.administrators] == ["Alice", "Bob", "Carol"]
    assert policy.administrators[1].keyid == keyid(KEYS["admin_b"])
    assert policy.administrators[0].valid_from == policy.issued_at == iso(NOW)
    assert policy.keys[1].roles == (KeyRole.PROD_APPROVER, KeyRole.QA_REVIEWER)
    assert policy.keys[1].valid_until == "2027-12-31T23:00:00+00:00"
    assert policy.keys[0].valid_until == policy.expires_at
    rule = policy.rule(Environment.PROD)
    assert rule is not None and rule.approvers_differ_from_qa and rule.approver_role == KeyRole.PROD_APPROVER
    assert policy.allowed_formats == ("xgboost-ubj", "joblib")


def test_policy_to_draft_round_trips_as_the_next_version() -> None:
    policy = make_policy(4, revoked=(keyid(KEYS["outsider"]),))
    again = read_draft(policy_to_draft(policy), "next.toml", resolve)
    assert again == dataclasses.replace(policy, version=5)


def test_toml_syntax_error_gives_line_and_column() -> None:
    text = template() + REVIEWERS + "\n[rules.qa\napprovals_required = 1\n"
    with pytest.raises(PolicyDraftError, match=r"draft\.toml: the draft is not valid TOML: .*line \d+, column \d+"):
        read_draft(text, "draft.toml", resolve)


def _edit(old: str, new: str) -> str:
    """The draft with ``old`` replaced once, on the first line that is not a comment."""
    lines = (template() + REVIEWERS).splitlines()
    i = next(i for i, line in enumerate(lines) if old in line and not line.lstrip().startswith("#"))
    lines[i] = lines[i].replace(old, new, 1)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('roles = ["prod-approver"]', 'roles = ["prod-aprover"]',
     r"line \d+: keys\[0\]\.roles\[0\] 'prod-aprover' is not a role; the roles are author, qa-reviewer, "
     r"prod-approver, site"),
    ('roles = ["prod-approver"]', 'roles = "prod-approver"', r"keys\[0\]\.roles must be a list of roles"),
    ('valid_from = "2027-01-01T00:00:00Z"', 'valid_from = "next tuesday"',
     r"line \d+: keys\[1\]\.valid_from is not an ISO 8601 date-time"),
    ('valid_from = "2027-01-01T00:00:00Z"', 'valid_from = 2027-01-01T00:00:00',
     r"keys\[1\]\.valid_from has no time zone"),
    ('valid_from = "2027-01-01T00:00:00Z"', 'valid_from = "2027-01-01T00:00:00"',
     r"keys\[1\]\.valid_from is not an ISO 8601 date-time: .* has no time zone"),
    ('valid_from = "2027-01-01T00:00:00Z"', 'valid_from = 2027-01-01', r"keys\[1\]\.valid_from is a date without"),
    ('valid_from = "2027-01-01T00:00:00Z"', 'valid_from = "2029-01-01T00:00:00Z"',
     r"keys\[1\]\.valid_until must be after valid_from"),
    ("threshold = 2", "threshold = 0", r"line \d+: threshold must be between 1 and 3"),
    ("threshold = 2", "threshold = 4", r"threshold must be between 1 and 3 .*found 4"),
    ("threshold = 2", "threshold = true", r"threshold must be a whole number, found true/false"),
    ("threshold = 2", "", r"threshold is missing"),
    ("version = 1", "version = 0", r"version must be a whole number of at least 1"),
    ('environment = "prod"', 'environment = "staging"', r"environment must be one of qa, prod, found 'staging'"),
    ("expires = ", "expiry = ", r"expiry is not a field of the policy draft here \(the fields are site, "),
    ('person = "Pat"', 'persn = "Pat"', r"keys\[0\]\.persn is not a field"),
    ('key = "prod1.pub"', 'key = "nobody.pub"',
     r"keys\[0\]\.key 'nobody\.pub' cannot be resolved to a public key: no imported key"),
    ('key = "prod1.pub"', 'key = "prod2.pub"', r"keys\[1\]\.key key .* is listed twice among the keys"),
    ('key = "prod1.pub"', 'key = "admin_a.pub"', r"keys\[0\]\.person key .* belongs to 'Alice' elsewhere"),
    ("approvals_required = 2", "approvals_required = 3",
     r"rules\.prod\.approvals_required asks for 3 distinct people but only 2"),
    ('approver_role = "prod-approver"', 'approver_role = "site"', r"rules\.prod\.approver_role must be one of"),
    ("min_rubric_score = 0.0", "min_rubric_score = -1.0", r"rules\.prod\.min_rubric_score must be a number of"),
    ("min_rubric_score = 0.0", "min_rubric_score = nan", r"rules\.prod\.min_rubric_score must be a number of"),
    ("min_rubric_score = 0.0", 'min_rubric_score = "high"', r"min_rubric_score must be a number, found a string"),
    ("[rules.prod]", "[rules.production]", r"rules\.production is not a field .*qa, prod"),
    ("[rules.prod]", "[rules.qa]", r"rules\.qa approvers_differ_from_qa and require_qa_attestation apply to "
                                   r"production only"),
    ('allowed_formats = ["xgboost-ubj", "joblib"]', 'allowed_formats = ["pickle"]',
     r"allowed_formats\[0\] unknown format 'pickle'"),
    ('allowed_formats = ["xgboost-ubj", "joblib"]', "allowed_formats = []", r"allowed_formats must allow at least"),
    ("revoked = []", 'revoked = ["abc"]', r"revoked\[0\] 'abc' is not a key id"),
    ("revoked = []", f'revoked = ["{keyid(KEYS["admin_b"])}", "{keyid(KEYS["admin_c"])}"]',
     r"threshold must be between 1 and 1 \(the distinct administrators whose keys are not revoked\)"),
    ('site = "Clinic-North"', 'site = ""', r"site must be a non-empty string"),
    ("expires = ", "expires = '2026-01-01T00:00:00Z'\nold_expires = ", r"old_expires is not a field"),
])
def test_draft_mistakes_are_named(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyDraftError, match=message) as err:
        read_draft(_edit(old, new), "draft.toml", resolve)
    assert str(err.value).startswith("draft.toml")


def test_expires_before_issued_is_refused() -> None:
    text = _edit('expires = "', 'expires = "2020-01-01T00:00:00Z"\n#')
    with pytest.raises(PolicyDraftError, match=r"draft\.toml, line 8: expires must be after issued"):
        read_draft(text, "draft.toml", resolve)


def test_one_person_two_admin_keys_does_not_raise_the_reachable_threshold() -> None:
    text = draft_template(SITE, "qa", [("Alice", "admin_a.pub"), ("Alice", "admin_a2.pub"), ("Bob", "admin_b.pub")],
                          now=NOW).replace("threshold = 2", "threshold = 3")
    text += '[[keys]]\nperson = "Quinn"\nkey = "qa1.pub"\nroles = ["qa-reviewer"]\n'
    with pytest.raises(PolicyDraftError, match=r"threshold must be between 1 and 2"):
        read_draft(text, "d.toml", resolve)
    assert read_draft(text.replace("threshold = 3", "threshold = 2"), "d.toml", resolve).admin_threshold == 2


def _other_pem(kind: str) -> str:
    private = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
               else ec.generate_private_key(ec.SECP384R1()))
    return private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize(("kind", "message"), [
    ("rsa", r"keys\[0\]\.key is refused: this is an RSA-2048 key; Airlock accepts only ECDSA P-256"),
    ("p384", r"keys\[0\]\.key is refused: this is an ECDSA key on secp384r1; Airlock accepts only ECDSA P-256"),
    ("swap", r"keys\[0\]\.key the key id .* does not match its public key"),
    ("garbage", r"keys\[0\]\.key is refused: this is not a PEM public key"),
])
def test_keys_must_be_p256_and_match_their_id(kind: str, message: str) -> None:
    def lying(ref: str) -> tuple[str, str]:
        kid, pem = resolve(ref)
        if ref != "prod1.pub":
            return kid, pem
        if kind == "swap":
            return kid, pem_of(KEYS["outsider"])
        if kind == "garbage":
            return kid, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        return kid, _other_pem(kind)

    with pytest.raises(PolicyDraftError, match=message):
        read_draft(template() + REVIEWERS, "draft.toml", lying)


def test_a_key_id_reference_must_resolve_to_that_key() -> None:
    text = _edit('key = "prod1.pub"', f'key = "{keyid(KEYS["prod1"])}"')
    assert read_draft(text, "d.toml", resolve).keys[0].keyid == keyid(KEYS["prod1"])
    with pytest.raises(PolicyDraftError, match=r"keys\[0\]\.key names key .* but resolved to key"):
        read_draft(text, "d.toml", lambda ref: resolve("prod3.pub" if ref == keyid(KEYS["prod1"]) else ref))


def test_keyid_of_pem_is_securesystemslibs() -> None:
    assert keyid_of_pem(pem_of(KEYS["qa1"])) == KEYS["qa1"].public_key.keyid


# --- signing -------------------------------------------------------------------------------


def test_signing_adds_one_signature_over_the_identical_payload() -> None:
    policy = make_policy()
    first = sign_policy(None, policy, KEYS["admin_a"])
    second = sign_policy(first, policy_payload(policy), KEYS["admin_b"])
    doc = json.loads(second)
    assert doc["payloadType"] == POLICY_PAYLOAD_TYPE
    assert base64.b64decode(doc["payload"]) == formats.dumps(policy) == policy_payload(policy)
    assert [s["keyid"] for s in doc["signatures"]] == [keyid(KEYS["admin_a"]), keyid(KEYS["admin_b"])]
    assert read_policy_envelope(second, source="p.json") == (policy, (keyid(KEYS["admin_a"]), keyid(KEYS["admin_b"])))
    with pytest.raises(PolicyRefused, match="has signed this policy already") as err:
        sign_policy(second, policy, KEYS["admin_a"])
    assert err.value.reason == PolicyRefusal.ALREADY_SIGNED
    with pytest.raises(PolicyRefused, match="holds another policy") as err:
        sign_policy(second, make_policy(2), KEYS["admin_c"])
    assert err.value.reason == PolicyRefusal.DIFFERENT_PAYLOAD


def test_signing_with_an_airlock_signer() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    crypto = CryptoSigner(private)
    public = PublicKey(str(crypto.public_key.keyid), str(crypto.public_key.keyval["public"]), "Alice", iso(NOW))
    mine = Signer(public=public, crypto_signer=crypto, private_key=private)
    alice = dataclasses.replace(DEFAULT_ADMIN_A, keyid=public.keyid, pem=public.pem)
    policy = make_policy(administrators=(alice, DEFAULT_ADMIN_C), threshold=2)
    envelope = sign_policy(sign_policy(None, policy, mine), policy, KEYS["admin_c"])
    assert verify_policy(envelope, current=None, now=NOW, source="p") == policy


def test_signing_refuses_an_invalid_policy() -> None:
    with pytest.raises(PolicyRefused, match=r"threshold must be between 1 and 3") as err:
        sign_policy(None, make_policy(threshold=5), KEYS["admin_a"])
    assert err.value.reason == PolicyRefusal.INVALID


# --- verification --------------------------------------------------------------------------


def _refused(envelope: bytes, reason: PolicyRefusal, match: str, *, current: TrustPolicy | None = None,
             **kwargs: object) -> PolicyRefused:
    with pytest.raises(PolicyRefused, match=match) as err:
        verify_policy(envelope, current=current, now=kwargs.pop("now", NOW), source="policy.json",  # type: ignore[arg-type]
                      **kwargs)  # type: ignore[arg-type]
    assert err.value.reason == reason, str(err.value)
    assert str(err.value).startswith("policy.json")
    return err.value


def test_bootstrap_with_its_own_threshold() -> None:
    policy = make_policy()
    check = check_policy_envelope(signed(policy, "admin_a", "admin_c"), current=None, now=NOW, source="p")
    assert check.policy == policy and check.bootstrap and set(check.signed_by) == {"Alice", "Carol"}
    _refused(signed(policy, "admin_a"), PolicyRefusal.THRESHOLD_NEW,
             r"version 1 needs signatures from 2 distinct administrators of its own; it has 1 \(counted: Alice\)")


def test_one_persons_two_keys_count_once() -> None:
    policy = make_policy(administrators=admins(("admin_a", "Alice"), ("admin_a2", "alice "), ("admin_b", "Bob")))
    err = _refused(signed(policy, "admin_a", "admin_a2"), PolicyRefusal.THRESHOLD_NEW,
                   r"needs signatures from 2 distinct administrators of its own; it has 1 .*the same person as Alice")
    assert "Alice" in str(err)
    assert verify_policy(signed(policy, "admin_a2", "admin_b"), current=None, now=NOW, source="p") == policy


def test_a_revoked_admin_keys_signature_never_counts() -> None:
    policy = make_policy(revoked=(keyid(KEYS["admin_b"]),))
    _refused(signed(policy, "admin_a", "admin_b"), PolicyRefusal.THRESHOLD_NEW, r"Bob \(key .*\): key revoked")
    assert verify_policy(signed(policy, "admin_a", "admin_c"), current=None, now=NOW, source="p") == policy


def test_a_key_revoked_by_the_current_policy_does_not_count_for_the_new_one() -> None:
    current = make_policy(1, revoked=(keyid(KEYS["admin_c"]),))
    new = make_policy(2)  # forgets the revocation
    _refused(signed(new, "admin_a", "admin_c"), PolicyRefusal.THRESHOLD_CURRENT, r"Carol .*key revoked",
             current=current)


@pytest.mark.parametrize(("start", "end", "word"), [
    (NOW + timedelta(hours=1), NOW + timedelta(days=10), "outside its validity"),
    (NOW - timedelta(days=10), NOW - timedelta(seconds=1), "outside its validity"),
    (NOW - timedelta(days=10), NOW, "outside its validity"),
])
def test_an_admin_key_outside_its_validity_does_not_count(start: object, end: object, word: str) -> None:
    admin_b = pkey("admin_b", "Bob", valid_from=start, valid_until=end)  # type: ignore[arg-type]
    policy = make_policy(administrators=(DEFAULT_ADMIN_A, admin_b, DEFAULT_ADMIN_C))
    _refused(signed(policy, "admin_a", "admin_b"), PolicyRefusal.THRESHOLD_NEW, word)


DEFAULT_ADMIN_A = pkey("admin_a", "Alice")
DEFAULT_ADMIN_C = pkey("admin_c", "Carol")


def test_signatures_by_non_administrators_do_not_count() -> None:
    policy = make_policy()
    _refused(signed(policy, "admin_a", "outsider", "prod2"), PolicyRefusal.THRESHOLD_NEW,
             r"it has 1 .*2 signature\(s\) by keys that are not among these administrators")


@pytest.mark.parametrize("expires_in", [timedelta(0), -timedelta(seconds=1), -timedelta(days=400)])
def test_an_expired_policy_is_refused(expires_in: timedelta) -> None:
    policy = make_policy(issued=NOW - timedelta(days=500), expires=NOW + expires_in)
    assert is_expired(policy, NOW)
    _refused(signed(policy, "admin_a", "admin_b"), PolicyRefusal.EXPIRED, r"policy version 1 expired at")
    assert not is_expired(policy, NOW + expires_in - timedelta(seconds=1))


def test_a_policy_issued_in_the_future_is_refused() -> None:
    policy = make_policy(issued=NOW + timedelta(minutes=6))
    _refused(signed(policy, "admin_a", "admin_b"), PolicyRefusal.NOT_YET_ISSUED, r"in the future of this computer")
    assert verify_policy(signed(policy, "admin_a", "admin_b"), current=None, now=NOW + timedelta(minutes=1),
                         source="p") == policy


@pytest.mark.parametrize(("old", "new", "match"), [
    (5, 4, r"version 4 is older than the installed version 5: a rollback"),
    (5, 1, r"version 1 is older than the installed version 5: a rollback"),
    (5, 5, r"version 5 is the installed version"),
])
def test_rollback_older_or_equal_version_is_refused(old: int, new: int, match: str) -> None:
    current = make_policy(old)
    offered = make_policy(new, expires=NOW + timedelta(days=99))  # even with different content
    _refused(signed(offered, "admin_a", "admin_b", "admin_c"), PolicyRefusal.ROLLBACK, match, current=current)


def test_the_installed_envelope_itself_is_refused_again() -> None:
    current = make_policy(3)
    _refused(signed(current, "admin_a", "admin_b"), PolicyRefusal.ROLLBACK, "is the installed version",
             current=current)


NEW_ADMINS = admins(("admin_d", "Dev"), ("admin_e", "Eve"), ("admin_c", "Carol"))


def test_rotation_needs_the_old_and_the_new_threshold() -> None:
    current = make_policy(1)  # Alice, Bob, Carol; 2
    new = make_policy(2, administrators=NEW_ADMINS, threshold=2)  # Dev, Eve, Carol; 2
    check = check_policy_envelope(signed(new, "admin_a", "admin_c", "admin_d"), current=current, now=NOW,
                                  source="p")
    assert set(check.signed_by_current) == {"Alice", "Carol"} and set(check.signed_by) == {"Carol", "Dev"}
    assert not check.bootstrap


def test_rotation_without_the_old_threshold_is_refused() -> None:
    current = make_policy(1)
    new = make_policy(2, administrators=NEW_ADMINS)
    _refused(signed(new, "admin_d", "admin_e"), PolicyRefusal.THRESHOLD_CURRENT,
             r"needs signatures from 2 distinct current administrators \(of version 1\); it has 0", current=current)
    _refused(signed(new, "admin_d", "admin_e", "admin_c"), PolicyRefusal.THRESHOLD_CURRENT,
             r"2 distinct current administrators \(of version 1\); it has 1 \(counted: Carol", current=current)


def test_rotation_without_the_new_threshold_is_refused() -> None:
    current = make_policy(1)
    new = make_policy(2, administrators=NEW_ADMINS, threshold=3)
    _refused(signed(new, "admin_a", "admin_b", "admin_d"), PolicyRefusal.THRESHOLD_NEW,
             r"needs signatures from 3 distinct administrators of its own; it has 1", current=current)


def test_a_lowered_threshold_still_needs_the_old_one() -> None:
    current = make_policy(1, threshold=3)
    new = make_policy(2, threshold=1)
    _refused(signed(new, "admin_a"), PolicyRefusal.THRESHOLD_CURRENT,
             r"3 distinct current administrators \(of version 1\); it has 1", current=current)
    assert verify_policy(signed(new, "admin_a", "admin_b", "admin_c"), current=current, now=NOW,
                         source="p").version == 2


def test_an_expired_current_policy_can_still_be_rotated() -> None:
    current = make_policy(1, issued=NOW - timedelta(days=400), expires=NOW - timedelta(days=1))
    assert verify_policy(signed(make_policy(2), "admin_a", "admin_b"), current=current, now=NOW,
                         source="p").version == 2


def test_site_and_environment_changes() -> None:
    current = make_policy(1)
    renamed = make_policy(2, site="Clinic-South")
    _refused(signed(renamed, "admin_a", "admin_b"), PolicyRefusal.SITE_CHANGED, r"for site 'Clinic-South'",
             current=current)
    assert verify_policy(signed(renamed, "admin_a", "admin_b"), current=current, now=NOW, source="p",
                         allow_site_change=True).site == "Clinic-South"
    same = make_policy(2, site=" clinic-north ")  # case and spacing are the same site
    assert verify_policy(signed(same, "admin_a", "admin_b"), current=current, now=NOW, source="p").version == 2
    qa = make_policy(2, environment=Environment.QA)
    _refused(signed(qa, "admin_a", "admin_b"), PolicyRefusal.ENVIRONMENT_CHANGED, "never changes environment",
             current=current, allow_site_change=True)


def _fields(envelope: bytes) -> dict[str, object]:
    doc: dict[str, object] = json.loads(envelope)
    return doc


def _rebuild(envelope: bytes, payload: bytes) -> bytes:
    doc = _fields(envelope)
    doc["payload"] = base64.b64encode(payload).decode()
    return json.dumps(doc).encode()


GOOD = signed(make_policy(2), "admin_a", "admin_b")
GOOD_PAYLOAD = policy_payload(make_policy(2))


@pytest.mark.parametrize("bit", [0, 7, 8 * 17 + 3, 8 * 100, 8 * 500 + 6, 8 * (len(GOOD_PAYLOAD) // 2),
                                 8 * (len(GOOD_PAYLOAD) - 2) + 1, 8 * len(GOOD_PAYLOAD) - 1])
def test_payload_edited_after_signing_is_refused(bit: int) -> None:
    flipped = bytearray(GOOD_PAYLOAD)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(PolicyRefused) as err:
        verify_policy(_rebuild(GOOD, bytes(flipped)), current=None, now=NOW, source="policy.json")
    assert err.value.reason in (PolicyRefusal.MALFORMED, PolicyRefusal.INVALID, PolicyRefusal.THRESHOLD_NEW)
    if err.value.reason == PolicyRefusal.THRESHOLD_NEW:
        assert "signature does not verify" in str(err.value)


@pytest.mark.parametrize("position", list(range(0, len(GOOD), max(1, len(GOOD) // 60))))
def test_bit_flips_anywhere_in_the_envelope_are_refused(position: int) -> None:
    flipped = bytearray(GOOD)
    flipped[position] ^= 0x04
    with pytest.raises(AirlockError) as err:
        verify_policy(bytes(flipped), current=None, now=NOW, source="policy.json")
    assert isinstance(err.value, PolicyRefused)


def test_an_edited_policy_with_its_old_signatures_is_refused() -> None:
    edited = dataclasses.replace(make_policy(2), admin_threshold=1)
    _refused(_rebuild(GOOD, policy_payload(edited)), PolicyRefusal.THRESHOLD_NEW,
             r"1 distinct administrators of its own; it has 0 .*signature does not verify")


def test_signatures_copied_from_another_version_are_refused() -> None:
    v3 = make_policy(3)
    v2_signatures = _fields(GOOD)["signatures"]
    doc = _fields(signed(v3, "admin_c"))
    doc["signatures"] = v2_signatures
    _refused(json.dumps(doc).encode(), PolicyRefusal.THRESHOLD_NEW, r"it has 0 .*signature does not verify")
    doc["signatures"] = [*v2_signatures, *_fields(signed(v3, "admin_c"))["signatures"]]  # type: ignore[misc]
    _refused(json.dumps(doc).encode(), PolicyRefusal.THRESHOLD_NEW, r"it has 1 \(counted: Carol")


def _with(**changes: object) -> bytes:
    doc = _fields(GOOD)
    doc.update(changes)
    return json.dumps(doc).encode()


SIG: dict[str, str] = json.loads(GOOD)["signatures"][0]


@pytest.mark.parametrize(("envelope", "match"), [
    (b"", "empty"),
    (b"not json", "not valid JSON"),
    (b"[]", "JSON object"),
    (b"null", "JSON object"),
    (b'{"payload": 1}', r"lacks"),
    (_with(payload=12), r"'payload' must be a string"),
    (_with(payload="%%%"), r"not valid base64"),
    (_with(payload=_fields(GOOD)["payload"] + "="), r"base64"),  # type: ignore[operator]
    (_with(payloadType="application/vnd.in-toto+json"), r"not the expected 'application/vnd\.airlock\.trust"),
    (_with(payloadType=None), r"'payloadType' must be a string"),
    (_with(signatures={}), r"'signatures' must be an array"),
    (_with(signatures=[]), r"0 signature\(s\); at least 1 expected"),
    (_with(signatures=["sig"]), r"signature 1 must be an object"),
    (_with(signatures=[{"keyid": SIG["keyid"]}]), r"signature 1 lacks 'sig'"),
    (_with(signatures=[{**SIG, "extra": 1}]), r"unexpected member"),
    (_with(signatures=[{**SIG, "keyid": 5}]), r"'keyid' must be a string"),
    (_with(signatures=[{**SIG, "keyid": "ABC"}]), r"'keyid' is not a key id"),
    (_with(signatures=[{**SIG, "sig": ""}]), r"signature 1 is empty"),
    (_with(signatures=[SIG, SIG]), r"two signatures name the key"),
    (_with(signatures=[{"keyid": f"{i:064x}", "sig": "AAAA"} for i in range(65)]), r"65 signatures, more than"),
    (_with(signatures=[{**SIG, "sig": base64.b64encode(b"x" * 600).decode()}]),
     r"longer than 512 bytes"),
    (_with(extra=True), r"unexpected member"),
    (b'{"payload": "a", "payload": "b", "payloadType": "x", "signatures": []}', r"twice"),
    (b"[" * 33 + b"]" * 33, r"nests 33 levels deep"),
    (b"[" * 100_000, r"nests 100000 levels deep"),
    (_with(signatures=[{"keyid": "a" * 64, "sig": "AAAA", "x": json.loads("[" * 33 + "]" * 33)}]),
     r"nests"),
    (b" " * (1024 * 1024 + 1), r"more than the 1,048,576 allowed"),
    (_with(payload=base64.b64encode(b"x" * 800_000).decode()), r"more than the 1,048,576 allowed"),
    (b'{"payload": NaN}', r"NaN"),
    (b"\xff\xfe{}", r"not UTF-8"),
])
def test_malformed_envelopes_are_refused(envelope: bytes, match: str) -> None:
    _refused(envelope, PolicyRefusal.MALFORMED, match)


@pytest.mark.parametrize("cut", [1, 2, 10, 50, 100, len(GOOD) // 2, len(GOOD) - 40, len(GOOD) - 2])
def test_truncated_envelopes_are_refused(cut: int) -> None:
    _refused(GOOD[:cut], PolicyRefusal.MALFORMED, r"not valid JSON|JSON object")


def _payload_envelope(payload: bytes, *names: str) -> bytes:
    return envelopes.write_envelope(payload, POLICY_PAYLOAD_TYPE, [KEYS[n] for n in names])


@pytest.mark.parametrize(("payload", "match"), [
    (b"[]", r"is not a JSON object"),
    (b'{"format": "airlock.approval", "format_version": 1}', r"not a trust policy"),
    (b'{"format": "airlock.trust_policy", "format_version": 99}', r"format 99"),
    (GOOD_PAYLOAD.replace(b'"version":2', b'"version":"2"'), r"does not fit its layout"),
    (GOOD_PAYLOAD[:-1] + b',"smuggled":true}', r"not in its canonical form"),
    (GOOD_PAYLOAD.replace(b",", b", ", 1), r"not in its canonical form"),
    (b"[" * 40 + b"]" * 40, r"nests 40 levels deep"),
])
def test_signed_payloads_that_are_not_airlock_policies_are_refused(payload: bytes, match: str) -> None:
    _refused(_payload_envelope(payload, "admin_a", "admin_b"), PolicyRefusal.MALFORMED, match)


def test_a_signed_policy_that_breaks_the_rules_is_refused() -> None:
    bad = dataclasses.replace(make_policy(2), admin_threshold=9)
    _refused(_payload_envelope(policy_payload(bad), "admin_a", "admin_b"), PolicyRefusal.INVALID,
             r"the trust policy's threshold must be between 1 and 3")
    swapped = dataclasses.replace(make_policy(2), administrators=(
        dataclasses.replace(DEFAULT_ADMIN_A, pem=pem_of(KEYS["outsider"])), DEFAULT_ADMIN_C))
    _refused(_payload_envelope(policy_payload(swapped), "admin_a", "outsider", "admin_c"), PolicyRefusal.INVALID,
             r"administrators\[0\]\.key the key id .* does not match its public key")


def test_now_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        verify_policy(GOOD, current=None, now=NOW.replace(tzinfo=None), source="p")
