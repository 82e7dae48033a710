"""Real ECDSA P-256 keys, policies and signed approvals for the trust-policy tests (no mocks).

The clock is a fixed ``NOW``; keys are generated once per test session (``KEYS``), and each
person of the tests holds one or more of them.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from securesystemslib.signer._crypto_signer import CryptoSigner

from core import formats
from core.promotion import envelopes
from core.promotion.approvals import meaning_of
from core.promotion.models import (
    APPROVAL_PREDICATE,
    IN_TOTO_PAYLOAD_TYPE,
    Approval,
    Decision,
    Environment,
    EnvironmentRule,
    KeyRole,
    PolicyKey,
    SignedApproval,
    TrustPolicy,
)
from core.promotion.policy import sign_policy

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SITE = "Clinic-North"
DIGEST = "ab" * 32
MODEL = "cancer"
VERSION = 3


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def pem_of(signer: CryptoSigner) -> str:
    return str(signer.public_key.keyval["public"])


def keyid(signer: CryptoSigner) -> str:
    return str(signer.public_key.keyid)


#: Enough keys for every role in the tests, generated once.
KEYS: dict[str, CryptoSigner] = {name: CryptoSigner.generate_ecdsa() for name in (
    "admin_a", "admin_a2", "admin_b", "admin_c", "admin_d", "admin_e",
    "author", "qa1", "qa2", "qa3", "prod1", "prod1b", "prod2", "prod3", "prod4", "outsider",
)}


def pkey(name: str, person: str, roles: Sequence[KeyRole] = (), *, valid_from: datetime | None = None,
         valid_until: datetime | None = None) -> PolicyKey:
    signer = KEYS[name]
    return PolicyKey(keyid(signer), pem_of(signer), person, tuple(roles),
                     iso(valid_from or NOW - timedelta(days=30)), iso(valid_until or NOW + timedelta(days=300)))


def admins(*pairs: tuple[str, str]) -> tuple[PolicyKey, ...]:
    return tuple(pkey(name, person) for name, person in pairs)


DEFAULT_ADMINS = admins(("admin_a", "Alice"), ("admin_b", "Bob"), ("admin_c", "Carol"))


def reviewer_keys() -> tuple[PolicyKey, ...]:
    return (
        pkey("author", "Dana Author", [KeyRole.AUTHOR]),
        pkey("qa1", "Quinn", [KeyRole.QA_REVIEWER]),
        pkey("qa2", "Quentin", [KeyRole.QA_REVIEWER]),
        pkey("qa3", "Pat", [KeyRole.QA_REVIEWER]),
        pkey("prod1", "Pat", [KeyRole.PROD_APPROVER]),
        pkey("prod1b", "Pat", [KeyRole.PROD_APPROVER]),  # Pat's second key
        pkey("prod2", "Ravi", [KeyRole.PROD_APPROVER]),
        pkey("prod3", "Sun", [KeyRole.PROD_APPROVER]),
        pkey("prod4", "Tess", [KeyRole.PROD_APPROVER, KeyRole.QA_REVIEWER]),
    )


def rules(prod_required: int = 2, *, qa_required: int = 1, differ: bool = False) -> tuple[EnvironmentRule, ...]:
    return (
        EnvironmentRule(Environment.QA, qa_required, KeyRole.QA_REVIEWER, 0.0, ()),
        EnvironmentRule(Environment.PROD, prod_required, KeyRole.PROD_APPROVER, 3.0, ("Infra 1",),
                        approvers_differ_from_qa=differ),
    )


def make_policy(version: int = 1, *, administrators: tuple[PolicyKey, ...] = DEFAULT_ADMINS, threshold: int = 2,
                environment: Environment = Environment.PROD, site: str = SITE,
                keys: tuple[PolicyKey, ...] | None = None, revoked: tuple[str, ...] = (),
                rule_set: tuple[EnvironmentRule, ...] | None = None, issued: datetime | None = None,
                expires: datetime | None = None, allowed_formats: tuple[str, ...] = ("xgboost-ubj", "joblib"),
                ) -> TrustPolicy:
    return TrustPolicy(
        version=version, site=site, environment=environment,
        issued_at=iso(issued or NOW - timedelta(days=1)), expires_at=iso(expires or NOW + timedelta(days=180)),
        administrators=administrators, admin_threshold=threshold,
        keys=reviewer_keys() if keys is None else keys, revoked=revoked,
        rules=rules() if rule_set is None else rule_set, allowed_formats=allowed_formats,
    )


def signed(policy: TrustPolicy | bytes, *names: str) -> bytes:
    """The policy's envelope signed by each named key in turn."""
    envelope: bytes | None = None
    for name in names:
        envelope = sign_policy(envelope, policy, KEYS[name])
    assert envelope is not None
    return envelope


def approval(reviewer_key: str, reviewer: str, *, environment: Environment = Environment.PROD,
             decision: Decision = Decision.APPROVE, **changes: object) -> Approval:
    base = Approval(
        package_digest=DIGEST, model=MODEL, version=VERSION, environment=environment, site=SITE,
        decision=decision, meaning="", policy_version=1,
        reviewer=reviewer, reviewer_keyid=keyid(KEYS[reviewer_key]), signed_at=iso(NOW - timedelta(hours=2)),
        expires_at=iso(NOW + timedelta(days=14)), nonce=secrets.token_hex(16), comment="looks right",
    )
    made = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    if "meaning" in changes:
        return made
    return dataclasses.replace(made, meaning=meaning_of(made.decision, made.environment, made.site,
                                                        made.policy_version))


def sign_approval(item: Approval, signer_name: str | None = None, *, source: str | None = None) -> SignedApproval:
    """Sign as the design says: DSSE over an in-toto statement whose predicate is the approval."""
    name = signer_name or next(n for n, s in KEYS.items() if keyid(s) == item.reviewer_keyid)
    payload = envelopes.statement_bytes(f"{item.model}@{item.version}", item.package_digest, APPROVAL_PREDICATE,
                                        formats.to_builtins(item))
    raw = envelopes.write_envelope(payload, IN_TOTO_PAYLOAD_TYPE, [KEYS[name]])
    return SignedApproval(item, keyid(KEYS[name]), raw, source or f"{item.reviewer}-{item.nonce[:6]}.json")


def verify_local(signed_approval: SignedApproval, pem: str) -> None:
    """A lenient stand-in for approvals.verify_approval (no strict reading of times and nonce), so
    that evaluate_approvals' own checks of those fields can be reached."""
    env = envelopes.read_envelope(signed_approval.envelope, signed_approval.source, payload_type=IN_TOTO_PAYLOAD_TYPE)
    envelopes.verify_signature(env, pem)
    statement = envelopes.read_statement(env.payload, signed_approval.source, predicate_type=APPROVAL_PREDICATE)
    if statement.predicate != formats.to_builtins(signed_approval.approval):
        raise envelopes.SignatureInvalid(signed_approval.source, "the approval differs from what was signed.")
    if statement.sha256 != signed_approval.approval.package_digest:
        raise envelopes.SignatureInvalid(signed_approval.source, "the subject is another package.")
