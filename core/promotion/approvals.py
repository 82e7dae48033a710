"""Signed approvals and site attestations: a person's (or a QA site's) statement about one package.

An approval is a DSSE envelope (payload type ``application/vnd.in-toto+json``) over an in-toto
Statement v1 whose single subject is the package (``name`` ``model@N``, ``digest.sha256`` the
package digest) and whose predicate is the :class:`~core.promotion.models.Approval` record
(``formats.to_builtins``: the decision, the environment and site, the policy version, the
reviewer's key id, times, nonce and comment). A site attestation is the same over a
:class:`~core.promotion.models.SiteAttestation` ("admitted and canaried at this QA site").

Reading (:func:`read_approval`, :func:`read_attestation`) is strict and needs no key: exactly one
signature, the predicate's every field of the right type and form, nothing extra, times in one
form (``YYYY-MM-DDTHH:MM:SS+00:00``), the subject equal to what the predicate names, the
envelope's key id equal to the predicate's. Verifying (:func:`verify_approval`,
:func:`verify_attestation`) checks the signature against a given public key. Whether that key is
trusted, for which role, and whether the approval has expired or its nonce was seen is the trust
policy's business (:mod:`core.promotion.policy`), not this module's.

Approvals travel beside the package; this module never touches the package, the store or the
network.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core import formats
from core.errors import InvalidInput
from core.promotion.envelopes import (
    DsseEnvelope,
    EnvelopeInvalid,
    SignatureInvalid,
    keyid_of,
    read_envelope,
    read_statement,
    statement_bytes,
    verify_signature,
    write_envelope,
)
from core.promotion.keys import Signer
from core.promotion.models import (
    APPROVAL_PREDICATE,
    IN_TOTO_PAYLOAD_TYPE,
    SITE_ATTESTATION_PREDICATE,
    Approval,
    Decision,
    Environment,
    PublicKey,
    SignedApproval,
    SiteAttestation,
)

#: How long an approval is valid unless the reviewer says otherwise.
DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 366
MAX_COMMENT_CHARS = 4000
MAX_NAME_CHARS = 200

_HEX64 = re.compile(r"[0-9a-f]{64}")
_NONCE = re.compile(r"[0-9a-f]{32}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
_ENV_WORDS = {Environment.QA: "QA", Environment.PROD: "production"}


def iso_utc(moment: datetime) -> str:
    """The one time form approvals use: UTC to the second, ``+00:00`` (``2026-12-01T09:30:00+00:00``)."""
    if moment.tzinfo is None:
        raise ValueError("a time in an approval must carry its time zone")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_time(text: object, source: str, field: str) -> datetime:
    """Parse a time written by :func:`iso_utc`, strictly (any other form is refused)."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise EnvelopeInvalid(source, f"{field} is not a time of the form YYYY-MM-DDTHH:MM:SS+00:00 ({text!r}).")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise EnvelopeInvalid(source, f"{field} is not a real date and time ({text!r}).") from None


def meaning_of(decision: Decision, environment: Environment, site: str, policy_version: int) -> str:
    """The sentence a reviewer signs, e.g. "Approved for production at site Clinic-North under trust policy 3"."""
    verb = "Approved" if decision == Decision.APPROVE else "Rejected"
    return f"{verb} for {_ENV_WORDS[environment]} at site {site} under trust policy {policy_version}"


def _clean_text(text: str, what: str, limit: int, *, lines: bool = False) -> str:
    value = unicodedata.normalize("NFC", text).strip()
    if len(value) > limit:
        raise InvalidInput(f"The {what} is longer than {limit} characters.")
    allowed = {"\n", "\t"} if lines else set()
    if any(unicodedata.category(ch).startswith("C") and ch not in allowed for ch in value):
        raise InvalidInput(f"The {what} must not contain control characters.")
    return value


def new_approval(
    *,
    package_digest: str,
    model: str,
    version: int,
    environment: Environment,
    site: str,
    decision: Decision,
    policy_version: int,
    reviewer: PublicKey,
    comment: str = "",
    valid_days: int = DEFAULT_VALID_DAYS,
    now: datetime | None = None,
) -> Approval:
    """A new, unsigned approval (or rejection) of one package by ``reviewer``.

    Parameters
    ----------
    package_digest
        The package's root digest (64 hex digits).
    valid_days
        How long it is valid from now (1 to 366 days).
    now
        The signing time (default: the current time), with a time zone.

    Raises
    ------
    InvalidInput
        A malformed digest, an empty site or model, a version or policy version below 1, a validity
        out of range, or a comment that is too long or holds control characters.
    """
    if not _HEX64.fullmatch(package_digest):
        raise InvalidInput(f"{package_digest!r} is not a package digest (64 lower-case hex digits).")
    site = _clean_text(site, "site name", MAX_NAME_CHARS)
    model = _clean_text(model, "model name", MAX_NAME_CHARS)
    if not site or not model:
        raise InvalidInput("An approval needs the model's and the site's names.")
    if version < 1 or policy_version < 1:
        raise InvalidInput("The model version and the trust policy version start at 1.")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(f"An approval is valid for 1 to {MAX_VALID_DAYS} days, not {valid_days}.")
    comment = _clean_text(comment, "comment", MAX_COMMENT_CHARS, lines=True)
    signed = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    environment, decision = Environment(environment), Decision(decision)
    return Approval(
        package_digest=package_digest, model=model, version=version, environment=environment, site=site,
        decision=decision, meaning=meaning_of(decision, environment, site, policy_version),
        policy_version=policy_version, reviewer=reviewer.owner, reviewer_keyid=reviewer.keyid,
        signed_at=iso_utc(signed), expires_at=iso_utc(signed + timedelta(days=valid_days)),
        nonce=secrets.token_hex(16), comment=comment,
    )


def _subject(model: str, version: int) -> str:
    return f"{model}@{version}"


def _sign(record: Approval | SiteAttestation, keyid: str, predicate_type: str, signer: Signer) -> bytes:
    if signer.keyid != keyid:
        raise InvalidInput(
            f"The statement names key {keyid[:16]}… but is being signed with {signer.keyid[:16]}…; "
            "sign with the key it names."
        )
    payload = statement_bytes(
        _subject(record.model, record.version), record.package_digest, predicate_type,
        formats.to_builtins(record),
    )
    return write_envelope(payload, IN_TOTO_PAYLOAD_TYPE, [signer.crypto_signer])


def sign_approval(approval: Approval, signer: Signer) -> bytes:
    """The approval signed by ``signer`` (whose key id the approval must name): DSSE envelope JSON bytes."""
    return _sign(approval, approval.reviewer_keyid, APPROVAL_PREDICATE, signer)


def sign_attestation(attestation: SiteAttestation, signer: Signer) -> bytes:
    """The site attestation signed by the site's key ``signer``: DSSE envelope JSON bytes."""
    return _sign(attestation, attestation.site_keyid, SITE_ATTESTATION_PREDICATE, signer)


# --- reading -------------------------------------------------------------------------------


def _record(kind: type[Any], predicate: dict[str, Any], source: str, what: str) -> Any:
    """The predicate as the record ``kind``, exactly: types checked, nothing missing or extra."""
    try:
        record = formats.loads(kind, formats.canonical_json(predicate), source=source)
    except EnvelopeInvalid:
        raise
    except Exception as exc:  # MalformedRecord, UnknownFormat, or a value JCS cannot carry
        raise EnvelopeInvalid(source, f"the {what} does not read: {exc}") from None
    if formats.canonical_json(formats.to_builtins(record)) != formats.canonical_json(predicate):
        extra = sorted(set(predicate) - set(formats.to_builtins(record)))
        detail = f"unexpected field(s) {', '.join(extra)}" if extra else "a field is not in its one written form"
        raise EnvelopeInvalid(source, f"the {what} has {detail}; refused.")
    return record


def _check_common(
    source: str, *, package_digest: str, model: str, version: int, site: str, keyid: str, subject: str,
    subject_digest: str, envelope_keyid: str, keyid_field: str,
) -> None:
    if not _HEX64.fullmatch(package_digest):
        raise EnvelopeInvalid(source, "package_digest is not 64 lower-case hex digits.")
    if not _HEX64.fullmatch(keyid):
        raise EnvelopeInvalid(source, f"{keyid_field} is not a key id (64 lower-case hex digits).")
    if not model or not site:
        raise EnvelopeInvalid(source, "the model and site must not be empty.")
    if version < 1:
        raise EnvelopeInvalid(source, f"version {version} is not a model version (they start at 1).")
    if subject != _subject(model, version):
        raise EnvelopeInvalid(
            source, f"the statement's subject is {subject!r} but its predicate is about {_subject(model, version)!r}."
        )
    if subject_digest != package_digest:
        raise EnvelopeInvalid(
            source, "the statement's subject digest is not the package digest its predicate names; refused."
        )
    if envelope_keyid != keyid:
        raise EnvelopeInvalid(
            source, f"the signature is by key {envelope_keyid[:16]}… but the statement names {keyid_field} "
            f"{keyid[:16]}…: it was re-signed or relabelled; refused."
        )


def read_approval(data: bytes, source: str) -> SignedApproval:
    """Read a signed approval strictly (its signature is checked by :func:`verify_approval`).

    Raises
    ------
    EnvelopeInvalid
        Not an envelope, not exactly one signature, not an approval statement, a field missing,
        extra or malformed, times not in their one form or out of order, a meaning that is not
        the sentence its fields say, a subject that differs from the predicate, or an envelope
        key id that is not the predicate's reviewer_keyid.
    """
    envelope = read_envelope(data, source, payload_type=IN_TOTO_PAYLOAD_TYPE, signatures=1)
    statement = read_statement(envelope.payload, source, predicate_type=APPROVAL_PREDICATE, canonical=True)
    approval: Approval = _record(Approval, statement.predicate, source, "approval")
    _check_common(
        source, package_digest=approval.package_digest, model=approval.model, version=approval.version,
        site=approval.site, keyid=approval.reviewer_keyid, subject=statement.subject_name,
        subject_digest=statement.sha256, envelope_keyid=envelope.keyids[0], keyid_field="reviewer_keyid",
    )
    signed_at = parse_time(approval.signed_at, source, "signed_at")
    expires_at = parse_time(approval.expires_at, source, "expires_at")
    if expires_at <= signed_at:
        raise EnvelopeInvalid(source, "the approval expires before it was signed.")
    if approval.policy_version < 1:
        raise EnvelopeInvalid(source, "policy_version must be 1 or more.")
    if not _NONCE.fullmatch(approval.nonce):
        raise EnvelopeInvalid(source, "the nonce is not 32 lower-case hex digits.")
    if not approval.reviewer:
        raise EnvelopeInvalid(source, "the reviewer's name is empty.")
    expected = meaning_of(approval.decision, approval.environment, approval.site, approval.policy_version)
    if approval.meaning != expected:
        raise EnvelopeInvalid(
            source, f"the signed meaning {approval.meaning!r} does not say what its fields say ({expected!r})."
        )
    return SignedApproval(approval=approval, signer_keyid=envelope.keyids[0], envelope=envelope.raw, source=source)


def _verify(envelope_bytes: bytes, source: str, public_pem: str | bytes, keyid: str, what: str) -> None:
    envelope: DsseEnvelope = read_envelope(envelope_bytes, source, payload_type=IN_TOTO_PAYLOAD_TYPE, signatures=1)
    pem_keyid = keyid_of(public_pem)
    if pem_keyid != keyid or envelope.keyids[0] != keyid:
        raise SignatureInvalid(
            source, f"the {what} names key {keyid[:16]}…, but the key given is {pem_keyid[:16]}…."
        )
    verify_signature(envelope, public_pem)


def verify_approval(signed: SignedApproval, public_pem: str | bytes) -> None:
    """Check the approval's signature with ``public_pem``, the key its predicate names.

    Raises
    ------
    KeyRefused
        ``public_pem`` is not an ECDSA P-256 public key.
    SignatureInvalid
        The key is not the one the approval names, or the signature does not verify.
    EnvelopeInvalid
        The envelope bytes are not a well-formed approval (re-read here, not trusted from ``signed``).
    """
    again = read_approval(signed.envelope, signed.source)
    if again.approval != signed.approval or again.signer_keyid != signed.signer_keyid:
        raise SignatureInvalid(signed.source, "the approval does not match its own envelope; refused.")
    _verify(signed.envelope, signed.source, public_pem, signed.approval.reviewer_keyid, "approval")


# --- site attestations ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedAttestation:
    """A QA site's attestation as read: the statement, the key that signed it and the raw envelope."""

    attestation: SiteAttestation
    signer_keyid: str
    envelope: bytes
    source: str


def read_attestation(data: bytes, source: str) -> SignedAttestation:
    """Read a signed site attestation strictly (see :func:`read_approval` for what is checked).

    Raises
    ------
    EnvelopeInvalid
        As :func:`read_approval`, for a site attestation.
    """
    envelope = read_envelope(data, source, payload_type=IN_TOTO_PAYLOAD_TYPE, signatures=1)
    statement = read_statement(envelope.payload, source, predicate_type=SITE_ATTESTATION_PREDICATE, canonical=True)
    attestation: SiteAttestation = _record(SiteAttestation, statement.predicate, source, "site attestation")
    _check_common(
        source, package_digest=attestation.package_digest, model=attestation.model, version=attestation.version,
        site=attestation.site, keyid=attestation.site_keyid, subject=statement.subject_name,
        subject_digest=statement.sha256, envelope_keyid=envelope.keyids[0], keyid_field="site_keyid",
    )
    parse_time(attestation.admitted_at, source, "admitted_at")
    if attestation.canary_rows < 0:
        raise EnvelopeInvalid(source, "canary_rows must not be negative.")
    difference = attestation.canary_max_difference
    if not math.isfinite(difference) or difference < 0:
        raise EnvelopeInvalid(source, "canary_max_difference must be a finite number ≥ 0.")
    if attestation.policy_version < 1:
        raise EnvelopeInvalid(source, "policy_version must be 1 or more.")
    return SignedAttestation(attestation, envelope.keyids[0], envelope.raw, source)


def verify_attestation(signed: SignedAttestation, public_pem: str | bytes) -> None:
    """Check the attestation's signature with ``public_pem``, the site key its predicate names.

    Raises
    ------
    KeyRefused, SignatureInvalid, EnvelopeInvalid
        As :func:`verify_approval`.
    """
    again = read_attestation(signed.envelope, signed.source)
    if again.attestation != signed.attestation or again.signer_keyid != signed.signer_keyid:
        raise SignatureInvalid(signed.source, "the attestation does not match its own envelope; refused.")
    _verify(signed.envelope, signed.source, public_pem, signed.attestation.site_keyid, "attestation")


__all__ = [
    "DEFAULT_VALID_DAYS", "SignedAttestation", "iso_utc", "meaning_of", "new_approval", "parse_time",
    "read_approval", "read_attestation", "sign_approval", "sign_attestation", "verify_approval",
    "verify_attestation",
]
