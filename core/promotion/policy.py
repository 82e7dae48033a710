"""Trust policies: the signed envelope, its verification, and the checks every policy must pass.

Pure functions and values. The TOML draft administrators edit is :mod:`core.promotion.drafts`;
the evaluation of approvals, rubric and formats is :mod:`core.promotion.evaluation`. The signed
form is a DSSE envelope (payload type :data:`POLICY_PAYLOAD_TYPE`) over ``formats.dumps(TrustPolicy)``,
which several administrators sign in turn (:func:`sign_policy`). :func:`verify_policy` decides whether a site
may install an envelope, the way TUF decides a root rotation: signatures count over distinct
persons among unrevoked administrator keys within their validity; a new version must be signed by
a threshold of the current administrators and of its own; an older or equal version is a
rollback; an expired policy is refused.

This module must not touch the store, a workspace, a key store, the file system or the network:
the caller passes the installed policy, the nonces already used, the clock and the function that
checks an approval's signature, and stores what it decides.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NoReturn, Protocol

# securesystemslib.signer re-exports without __all__ (mypy --strict does not count it); see envelopes.py.
from securesystemslib.signer._signer import Signer as SslibSigner

from core import formats
from core.errors import AirlockError, InvalidInput, MalformedRecord, UnknownFormat
from core.promotion import envelopes
from core.promotion.models import (
    POLICY_FORMAT_VERSION,
    Environment,
    EnvironmentRule,
    KeyRole,
    PolicyKey,
    TrustPolicy,
)

#: The DSSE payload type of a signed trust policy.
POLICY_PAYLOAD_TYPE = "application/vnd.airlock.trust-policy+json"
#: Limits on a signed policy read from a file.
MAX_ENVELOPE_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_SIGNATURES = 64
MAX_SIGNATURE_BYTES = 512
#: How far an approval's signing time may lie ahead of this site's clock.
CLOCK_SKEW = timedelta(minutes=5)
#: The artefact formats Airlock knows; a policy allows a subset.
KNOWN_FORMATS = ("xgboost-ubj", "joblib")
DEFAULT_FORMATS = ("xgboost-ubj", "joblib")

_KEYID = re.compile(r"[0-9a-f]{64}")
_NONCE = re.compile(r"[0-9a-f]{32,128}")
_APPROVER_ROLES = (KeyRole.QA_REVIEWER, KeyRole.PROD_APPROVER)
_DEFAULT_ROLE = {Environment.QA: KeyRole.QA_REVIEWER, Environment.PROD: KeyRole.PROD_APPROVER}


# --- errors --------------------------------------------------------------------------------


class PolicyDraftError(InvalidInput):
    """A policy draft (TOML) does not read: its file, line or key path, and what is wrong."""

    code = "policy_draft"


class PolicyRefusal(StrEnum):
    """Why a signed policy was refused (stable; the message says it for people)."""

    MALFORMED = "malformed"  # not a strict DSSE envelope of a trust policy
    INVALID = "invalid"  # the payload reads but breaks a rule a policy must keep
    ROLLBACK = "rollback"  # version older than or equal to the installed one
    THRESHOLD_CURRENT = "threshold-current"  # too few current administrators signed
    THRESHOLD_NEW = "threshold-new"  # too few of the new policy's own administrators signed
    EXPIRED = "expired"
    NOT_YET_ISSUED = "not-yet-issued"  # issued in the future of this site's clock
    SITE_CHANGED = "site-changed"
    ENVIRONMENT_CHANGED = "environment-changed"
    ALREADY_SIGNED = "already-signed"  # sign_policy: this key signed the envelope already
    DIFFERENT_PAYLOAD = "different-payload"  # sign_policy: the envelope holds another policy


class PolicyRefused(AirlockError):
    """A signed trust policy cannot be installed (or signed); ``reason`` says which check failed."""

    code = "policy_refused"

    def __init__(self, message: str, *, reason: PolicyRefusal) -> None:
        super().__init__(message)
        self.reason = reason


# --- small helpers -------------------------------------------------------------------------


def _person(name: str) -> str:
    """How names are compared: case and runs of white space do not make another person."""
    return " ".join(name.split()).casefold()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a time zone (datetime.now(UTC))")
    return now


def parse_time(text: str) -> datetime:
    """An ISO 8601 date-time with a time zone (``Z`` or an offset); ``ValueError`` otherwise."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone (add Z for UTC or an offset such as +01:00)")
    return moment


def key_is_valid(key: PolicyKey, now: datetime) -> bool:
    """Whether ``now`` lies within the key's validity window (from inclusive, until exclusive)."""
    return parse_time(key.valid_from) <= _aware(now) < parse_time(key.valid_until)


def is_expired(policy: TrustPolicy, now: datetime) -> bool:
    """Whether the policy has expired at ``now``: an expired policy admits nothing."""
    return parse_time(policy.expires_at) <= _aware(now)


def keyid_of_pem(pem: str) -> str:
    """The securesystemslib key id of an ECDSA P-256 public key PEM.

    Raises
    ------
    ValueError
        Not a public key PEM, or a key of another algorithm or curve (only P-256 is trusted).
    """
    try:
        return envelopes.keyid_of(pem, "key")
    except envelopes.KeyRefused as exc:
        raise ValueError(exc.problem.rstrip(".")) from None


def person_of(policy: TrustPolicy, keyid: str) -> str | None:
    """The person the policy names for a key id (reviewer keys first, then administrators)."""
    for key in (*policy.keys, *policy.administrators):
        if key.keyid == keyid:
            return key.person
    return None


# --- validation shared by drafts and signed policies ---------------------------------------


def _check_policy(policy: TrustPolicy, fail: Callable[[str, str], NoReturn]) -> None:
    """Every rule a policy must keep; ``fail(path, what)`` raises."""
    if policy.version < 1:
        fail("version", f"must be a whole number of at least 1, found {policy.version}")
    if not policy.site.strip() or len(policy.site) > 200:
        fail("site", "must name the site (1 to 200 characters)")
    times: dict[str, datetime] = {}
    for path, text in (("issued", policy.issued_at), ("expires", policy.expires_at)):
        try:
            times[path] = parse_time(text)
        except ValueError as exc:
            fail(path, f"is not an ISO 8601 date-time: {exc}")
    if times["expires"] <= times["issued"]:
        fail("expires", f"must be after issued ({policy.issued_at})")
    revoked = set(policy.revoked)
    for i, keyid in enumerate(policy.revoked):
        if not _KEYID.fullmatch(keyid):
            fail(f"revoked[{i}]", f"{keyid!r} is not a key id (64 lower-case hex digits)")
    if len(revoked) != len(policy.revoked):
        fail("revoked", "lists a key id twice")
    if not policy.administrators:
        fail("administrators", "the policy needs at least one administrator")
    persons_by_keyid: dict[str, str] = {}
    for group, keys in (("administrators", policy.administrators), ("keys", policy.keys)):
        seen: set[str] = set()
        for i, key in enumerate(keys):
            where = f"{group}[{i}]"
            _check_key(key, where, fail, admin=group == "administrators")
            if key.keyid in seen:
                fail(f"{where}.key", f"key {key.keyid[:16]}… is listed twice among the {group}")
            seen.add(key.keyid)
            other = persons_by_keyid.setdefault(key.keyid, key.person)
            if _person(other) != _person(key.person):
                fail(f"{where}.person", f"key {key.keyid[:16]}… belongs to {other!r} elsewhere in the policy")
    admins = {_person(k.person) for k in policy.administrators if k.keyid not in revoked}
    if not 1 <= policy.admin_threshold <= len(admins):
        fail("threshold", f"must be between 1 and {len(admins)} (the distinct administrators whose keys are "
             f"not revoked), found {policy.admin_threshold}")
    seen_envs: set[Environment] = set()
    for rule in policy.rules:
        _check_rule(policy, rule, revoked, fail)
        if rule.environment in seen_envs:
            fail(f"rules.{rule.environment}", "is given twice")
        seen_envs.add(rule.environment)
    if policy.rule(policy.environment) is None:
        fail(f"rules.{policy.environment}", f"is missing: a {policy.environment} policy needs a rule for "
             f"{policy.environment}, or it admits nothing")
    if not policy.allowed_formats:
        fail("allowed_formats", f"must allow at least one format ({', '.join(KNOWN_FORMATS)})")
    for i, name in enumerate(policy.allowed_formats):
        if name not in KNOWN_FORMATS:
            fail(f"allowed_formats[{i}]", f"unknown format {name!r}; the formats are {', '.join(KNOWN_FORMATS)}")
    if len(set(policy.allowed_formats)) != len(policy.allowed_formats):
        fail("allowed_formats", "lists a format twice")


def _check_key(key: PolicyKey, where: str, fail: Callable[[str, str], NoReturn], *, admin: bool) -> None:
    if not key.person.strip():
        fail(f"{where}.person", "must name the person who holds the key")
    if not _KEYID.fullmatch(key.keyid):
        fail(f"{where}.key", f"{key.keyid!r} is not a key id (64 lower-case hex digits)")
    try:
        computed = keyid_of_pem(key.pem)
    except ValueError as exc:
        fail(f"{where}.key", f"is refused: {exc}")
    if computed != key.keyid:
        fail(f"{where}.key", f"the key id {key.keyid[:16]}… does not match its public key (which is "
             f"{computed[:16]}…): the key file was swapped or the id mistyped")
    if admin and key.roles:
        fail(f"{where}.roles", "administrator keys sign the policy only; list reviewer keys under [[keys]]")
    if not admin and not key.roles:
        fail(f"{where}.roles", f"must give at least one role ({', '.join(r.value for r in KeyRole)})")
    if len(set(key.roles)) != len(key.roles):
        fail(f"{where}.roles", "lists a role twice")
    try:
        start, end = parse_time(key.valid_from), parse_time(key.valid_until)
    except ValueError as exc:
        fail(f"{where}.valid_from", f"is not an ISO 8601 date-time: {exc}")
    if end <= start:
        fail(f"{where}.valid_until", f"must be after valid_from ({key.valid_from})")


def _check_rule(policy: TrustPolicy, rule: EnvironmentRule, revoked: set[str],
                fail: Callable[[str, str], NoReturn]) -> None:
    where = f"rules.{rule.environment}"
    if rule.approver_role not in _APPROVER_ROLES:
        fail(f"{where}.approver_role", f"must be one of {', '.join(r.value for r in _APPROVER_ROLES)}, "
             f"found {rule.approver_role.value!r}")
    holders = {_person(k.person) for k in policy.keys
               if rule.approver_role in k.roles and k.keyid not in revoked}
    if rule.approvals_required < 1:
        fail(f"{where}.approvals_required", f"must be at least 1, found {rule.approvals_required}")
    if rule.approvals_required > len(holders):
        fail(f"{where}.approvals_required", f"asks for {rule.approvals_required} distinct people but only "
             f"{len(holders)} hold the role {rule.approver_role.value} (unrevoked): it could never be met")
    if not math.isfinite(rule.min_rubric_score) or rule.min_rubric_score < 0:
        fail(f"{where}.min_rubric_score", f"must be a number of at least 0, found {rule.min_rubric_score}")
    for i, test in enumerate(rule.required_tests):
        if not test.strip():
            fail(f"{where}.required_tests[{i}]", "is empty; name an ML Test Score test such as \"Infra 1\"")
    if len(set(rule.required_tests)) != len(rule.required_tests):
        fail(f"{where}.required_tests", "lists a test twice")
    if rule.environment == Environment.QA and (rule.approvers_differ_from_qa or rule.require_qa_attestation):
        fail(where, "approvers_differ_from_qa and require_qa_attestation apply to production only")


def check_policy(policy: TrustPolicy, *, source: str) -> None:
    """Raise :class:`PolicyRefused` (``INVALID``) when the policy breaks a rule a policy must keep."""
    def fail(path: str, what: str) -> NoReturn:
        raise PolicyRefused(f"{source}: the trust policy's {path} {what}.", reason=PolicyRefusal.INVALID)
    _check_policy(policy, fail)


# --- the signed form -----------------------------------------------------------------------


class _HoldsCryptoSigner(Protocol):
    """The keys engineer's ``Signer``: it holds a securesystemslib signer."""

    @property
    def crypto_signer(self) -> SslibSigner: ...


def policy_payload(policy: TrustPolicy) -> bytes:
    """The bytes administrators sign: the policy's canonical JSON (``formats.dumps``)."""
    return formats.dumps(policy)


def _read_envelope(data: bytes, source: str) -> envelopes.DsseEnvelope:
    """A strict DSSE envelope of a trust policy (:func:`envelopes.read_envelope`; at most 64 signatures)."""
    try:
        env = envelopes.read_envelope(data, source, payload_type=POLICY_PAYLOAD_TYPE, signatures=None)
    except envelopes.EnvelopeInvalid as exc:
        raise PolicyRefused(f"{source}: not a signed trust policy: {exc.problem}", reason=PolicyRefusal.MALFORMED) \
            from None
    if len(env.signatures) > MAX_SIGNATURES:
        raise PolicyRefused(f"{source}: not a signed trust policy: {len(env.signatures)} signatures, more than "
                            f"the {MAX_SIGNATURES} allowed.", reason=PolicyRefusal.MALFORMED)
    if any(len(sig) > MAX_SIGNATURE_BYTES for _, sig in env.signatures):
        raise PolicyRefused(f"{source}: not a signed trust policy: a signature is longer than "
                            f"{MAX_SIGNATURE_BYTES} bytes.", reason=PolicyRefusal.MALFORMED)
    return env


def _policy_of(payload: bytes, source: str) -> TrustPolicy:
    try:
        body = envelopes.parse_json(payload, source, what="signed policy")
    except envelopes.EnvelopeInvalid as exc:
        raise PolicyRefused(f"{source}: not a signed trust policy: {exc.problem}", reason=PolicyRefusal.MALFORMED) \
            from None
    try:
        policy = formats.loads(TrustPolicy, payload, source=source)
    except (MalformedRecord, UnknownFormat) as exc:
        raise PolicyRefused(str(exc), reason=PolicyRefusal.MALFORMED) from None
    if isinstance(body, dict) and body.get("format_version") == POLICY_FORMAT_VERSION \
            and policy_payload(policy) != payload:
        raise PolicyRefused(f"{source}: the signed policy is not in its canonical form (extra fields, spacing "
                            "or order differ): it was not written by Airlock.", reason=PolicyRefusal.MALFORMED)
    check_policy(policy, source=source)
    return policy


def read_policy_envelope(data: bytes, *, source: str) -> tuple[TrustPolicy, tuple[str, ...]]:
    """The policy inside an envelope and the key ids that signed it, WITHOUT checking any signature.

    For showing a policy that is being signed; never for trusting one (use :func:`verify_policy`).
    """
    envelope = _read_envelope(data, source)
    return _policy_of(envelope.payload, source), envelope.keyids


def sign_policy(envelope: bytes | None, policy: TrustPolicy | bytes,
                signer: SslibSigner | _HoldsCryptoSigner, *, source: str = "policy") -> bytes:
    """Add one administrator's signature; returns the DSSE envelope JSON.

    Parameters
    ----------
    envelope
        The envelope signed so far, or None for the first signature.
    policy
        The policy (or its payload bytes); with an envelope it must be the envelope's own payload.
    signer
        A securesystemslib signer, or an Airlock ``Signer`` holding one as ``crypto_signer``.

    Raises
    ------
    PolicyRefused
        ``DIFFERENT_PAYLOAD`` when the envelope holds another policy, ``ALREADY_SIGNED`` when this
        key signed it already, ``MALFORMED`` / ``INVALID`` when envelope or policy do not read.
    """
    payload = policy_payload(policy) if isinstance(policy, TrustPolicy) else policy
    _policy_of(payload, source)
    sslib_signer: SslibSigner = signer if isinstance(signer, SslibSigner) else signer.crypto_signer
    try:
        if envelope is None:
            return envelopes.write_envelope(payload, POLICY_PAYLOAD_TYPE, [sslib_signer])
        env = _read_envelope(envelope, source)
        if env.payload != payload:
            raise PolicyRefused(f"{source}: the envelope holds another policy than the one given; sign the "
                                "envelope as it is, or start a new one.", reason=PolicyRefusal.DIFFERENT_PAYLOAD)
        keyid = sslib_signer.public_key.keyid
        if keyid in env.keyids:
            raise PolicyRefused(f"{source}: key {keyid[:16]}… has signed this policy already.",
                                reason=PolicyRefusal.ALREADY_SIGNED)
        return envelopes.add_signature(env, sslib_signer)
    except envelopes.KeyRefused as exc:
        raise PolicyRefused(f"{source}: cannot sign: {exc.problem}", reason=PolicyRefusal.INVALID) from None


@dataclass(frozen=True, slots=True)
class PolicyVerification:
    """A policy that may be installed, and whose signatures made it so (people, by printed name)."""

    policy: TrustPolicy
    signed_by: tuple[str, ...]  # persons among the new policy's administrators whose signatures count
    signed_by_current: tuple[str, ...]  # the same among the current policy's (empty at bootstrap)
    bootstrap: bool  # no current policy: only its own threshold was checked


def _verified(envelope: envelopes.DsseEnvelope, keys: Iterable[PolicyKey]) -> set[str]:
    """Key ids among ``keys`` whose signature over the envelope verifies."""
    ok = set()
    for key in keys:
        if key.keyid not in envelope.keyids:
            continue
        try:
            envelopes.verify_signature(envelope, key.pem)
        except (envelopes.SignatureInvalid, envelopes.KeyRefused):
            continue
        ok.add(key.keyid)
    return ok


def _threshold(envelope: envelopes.DsseEnvelope, admins: tuple[PolicyKey, ...], threshold: int, revoked: set[str],
               now: datetime, *, whose: str, version: int, source: str, reason: PolicyRefusal) -> tuple[str, ...]:
    verified = _verified(envelope, admins)
    persons: dict[str, str] = {}
    notes: list[str] = []
    for key in admins:
        if key.keyid not in envelope.keyids:
            continue
        label = f"{key.person} (key {key.keyid[:16]}…)"
        if key.keyid not in verified:
            notes.append(f"{label}: signature does not verify")
        elif key.keyid in revoked:
            notes.append(f"{label}: key revoked")
        elif not key_is_valid(key, now):
            notes.append(f"{label}: key outside its validity ({key.valid_from} to {key.valid_until})")
        elif _person(key.person) in persons:
            notes.append(f"{label}: the same person as {persons[_person(key.person)]}, counted once already")
        else:
            persons[_person(key.person)] = key.person
    admin_ids = {k.keyid for k in admins}
    others = sum(1 for k in envelope.keyids if k not in admin_ids)
    if others:
        notes.append(f"{others} signature(s) by keys that are not among these administrators")
    if len(persons) < threshold:
        counted = ", ".join(persons.values()) or "nobody"
        raise PolicyRefused(
            f"{source}: policy version {version} needs signatures from {threshold} distinct {whose}; it has "
            f"{len(persons)} (counted: {counted}"
            + (f"; not counted: {'; '.join(notes)}" if notes else "") + ").",
            reason=reason,
        )
    return tuple(persons.values())


def check_policy_envelope(envelope: bytes, *, current: TrustPolicy | None, now: datetime, source: str,
                          allow_site_change: bool = False) -> PolicyVerification:
    """:func:`verify_policy` with who signed (for the audit entry of the install)."""
    now = _aware(now)
    env = _read_envelope(envelope, source)
    policy = _policy_of(env.payload, source)
    if current is not None:
        if policy.version < current.version:
            raise PolicyRefused(
                f"{source}: policy version {policy.version} is older than the installed version "
                f"{current.version}: a rollback, refused.", reason=PolicyRefusal.ROLLBACK)
        if policy.version == current.version:
            raise PolicyRefused(
                f"{source}: policy version {policy.version} is the installed version; a new policy needs a "
                f"higher version (a re-signed or altered version {policy.version} is a rollback, refused).",
                reason=PolicyRefusal.ROLLBACK)
        if policy.environment != current.environment:
            raise PolicyRefused(
                f"{source}: the policy is for a {policy.environment} workspace but this one is "
                f"{current.environment}; a workspace never changes environment.",
                reason=PolicyRefusal.ENVIRONMENT_CHANGED)
        if _person(policy.site) != _person(current.site) and not allow_site_change:
            raise PolicyRefused(
                f"{source}: the policy is for site {policy.site!r} but this workspace is {current.site!r}; a "
                "site is renamed only by an explicit administrator act.", reason=PolicyRefusal.SITE_CHANGED)
    if is_expired(policy, now):
        raise PolicyRefused(f"{source}: policy version {policy.version} expired at {policy.expires_at}; the "
                            "administrators must issue a new version.", reason=PolicyRefusal.EXPIRED)
    if parse_time(policy.issued_at) > now + CLOCK_SKEW:
        raise PolicyRefused(f"{source}: policy version {policy.version} is issued at {policy.issued_at}, in "
                            "the future of this computer's clock; check the clock.",
                            reason=PolicyRefusal.NOT_YET_ISSUED)
    revoked = set(policy.revoked) | (set(current.revoked) if current else set())
    signed_current: tuple[str, ...] = ()
    if current is not None:
        signed_current = _threshold(env, current.administrators, current.admin_threshold, revoked, now,
                                    whose=f"current administrators (of version {current.version})",
                                    version=policy.version, source=source,
                                    reason=PolicyRefusal.THRESHOLD_CURRENT)
    signed_new = _threshold(env, policy.administrators, policy.admin_threshold, revoked, now,
                            whose="administrators of its own", version=policy.version,
                            source=source, reason=PolicyRefusal.THRESHOLD_NEW)
    return PolicyVerification(policy, signed_new, signed_current, current is None)


def verify_policy(envelope: bytes, *, current: TrustPolicy | None, now: datetime, source: str,
                  allow_site_change: bool = False) -> TrustPolicy:
    """The policy in ``envelope``, when this site may install it.

    Parameters
    ----------
    envelope
        The DSSE envelope JSON as read from the file.
    current
        The installed policy, or None for a first install (a bootstrap: the caller makes it an
        explicit, audited administrator act; only the policy's own threshold is checked).
    now
        This site's clock (time-zone aware).
    source
        The file, for messages.
    allow_site_change
        Accept a new site name (an explicit administrator act); the environment never changes.

    Raises
    ------
    PolicyRefused
        With ``reason``: malformed, invalid, rollback (older or equal version), environment or
        site changed, expired, not yet issued, threshold-current or threshold-new not met.
    """
    return check_policy_envelope(envelope, current=current, now=now, source=source,
                                 allow_site_change=allow_site_change).policy


__all__ = [
    "CLOCK_SKEW", "DEFAULT_FORMATS", "KNOWN_FORMATS", "MAX_ENVELOPE_BYTES", "MAX_JSON_DEPTH", "POLICY_PAYLOAD_TYPE",
    "PolicyDraftError", "PolicyRefusal", "PolicyRefused", "PolicyVerification",
    "check_policy", "check_policy_envelope",
    "is_expired", "key_is_valid", "keyid_of_pem", "parse_time", "person_of", "policy_payload",
    "read_policy_envelope", "sign_policy", "verify_policy",
]
