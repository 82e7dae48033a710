"""Trust policies: the TOML draft administrators edit, the signed envelope, its verification, and
the evaluation of approvals, rubric and artefact formats against the installed policy.

Pure functions and values. A draft (:func:`draft_template`, :func:`read_draft`,
:func:`policy_to_draft`) is TOML an administrator edits; the signed form is a DSSE envelope
(payload type :data:`POLICY_PAYLOAD_TYPE`) over ``formats.dumps(TrustPolicy)``, which several
administrators sign in turn (:func:`sign_policy`). :func:`verify_policy` decides whether a site
may install an envelope, the way TUF decides a root rotation: signatures count over distinct
persons among unrevoked administrator keys within their validity; a new version must be signed by
a threshold of the current administrators and of its own; an older or equal version is a
rollback; an expired policy is refused. :func:`evaluate_approvals` gives one verdict per
approval and says whether the rule of the environment is met.

This module must not touch the store, a workspace, a key store, the file system or the network:
the caller passes the installed policy, the nonces already used, the clock and the function that
checks an approval's signature, and stores what it decides.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, NoReturn, Protocol

import tomli_w

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
    fingerprint,
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


# --- authoring: the TOML draft -------------------------------------------------------------

_TOP_FIELDS = ("site", "environment", "version", "issued", "expires", "threshold", "administrators",
               "keys", "revoked", "rules", "allowed_formats")
_ADMIN_FIELDS = ("person", "key", "fingerprint", "valid_from", "valid_until")
_KEY_FIELDS = ("person", "key", "fingerprint", "roles", "valid_from", "valid_until")
_RULE_FIELDS = ("approvals_required", "approver_role", "min_rubric_score", "required_tests",
                "approvers_differ_from_qa", "require_qa_attestation")


def _toml_value(value: object) -> str:
    """One value as TOML (strings escaped by tomli_w)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    line = tomli_w.dumps({"v": value})
    return line.split("=", 1)[1].strip()


def draft_template(site: str, environment: Environment | str, admin_keys: Sequence[tuple[str, str]], *,
                   now: datetime | None = None, version: int = 1) -> str:
    """A first policy draft for an administrator to edit (``airlock policy new``).

    Parameters
    ----------
    site, environment
        The site's name and the environment of its workspace (``qa`` or ``prod``).
    admin_keys
        ``(person, key)`` for each administrator: a key id or a path to a ``.pub`` file.
    now
        When it is issued (default: now); it expires a year later.
    version
        The version the draft will carry.
    """
    env = Environment(environment)
    issued = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    persons = {_person(p) for p, _ in admin_keys}
    threshold = max(1, len(persons) // 2 + 1)
    lines = [
        f"# Airlock trust policy draft for {site} ({env.value}). Edit it, then sign it:",
        "#   airlock policy sign DRAFT.toml --signer KEYID   (each administrator in turn)",
        "# Times are ISO 8601 with a time zone (Z = UTC). Keys: a key id of an imported key or a .pub file.",
        f"site = {_toml_value(site)}",
        f"environment = {_toml_value(env.value)}",
        f"version = {version}",
        f"issued = {_toml_value(_iso(issued))}",
        f"expires = {_toml_value(_iso(issued + timedelta(days=365)))}",
        "# Distinct administrators (people, not keys) who must sign the next version of this policy.",
        f"threshold = {threshold}",
        f"allowed_formats = {_toml_value(list(DEFAULT_FORMATS))}",
        "# Key ids never to trust again, whatever else this policy says.",
        "revoked = []",
        "",
    ]
    for person, key in admin_keys:
        lines += ["[[administrators]]", f"person = {_toml_value(person)}", f"key = {_toml_value(key)}", ""]
    lines += [
        "# Reviewer, approver, author and site keys. Roles: " + ", ".join(r.value for r in KeyRole) + ".",
        "# [[keys]]",
        '# person = "Ada Reviewer"',
        '# key = "ada.pub"',
        f'# roles = ["{_DEFAULT_ROLE[env].value}"]',
        f"# valid_from = {_toml_value(_iso(issued))}",
        f"# valid_until = {_toml_value(_iso(issued + timedelta(days=365)))}",
        "",
        f"[rules.{env.value}]",
        "# Distinct people holding approver_role who must approve; the author never counts.",
        f"approvals_required = {1 if env == Environment.QA else 2}",
        f"approver_role = {_toml_value(_DEFAULT_ROLE[env].value)}",
        "min_rubric_score = 0.0",
        'required_tests = []  # e.g. ["Infra 1", "Model 2"]',
    ]
    if env == Environment.PROD:
        lines += ["approvers_differ_from_qa = true", "require_qa_attestation = false"]
    return "\n".join(lines) + "\n"


def policy_to_draft(policy: TrustPolicy, *, version: int | None = None) -> str:
    """A policy as an editable draft, e.g. to prepare its next version.

    Keys are written as their PEM text (with the person and fingerprint beside them), so the draft
    signs on an administrator's machine that never imported every reviewer's ``.pub`` file.

    ``version`` defaults to the policy's version plus one.
    """
    def key_table(key: PolicyKey, admin: bool) -> dict[str, Any]:
        table: dict[str, Any] = {"person": key.person, "key": key.pem, "fingerprint": fingerprint(key.keyid)}
        if not admin:
            table["roles"] = [r.value for r in key.roles]
        table["valid_from"] = key.valid_from
        table["valid_until"] = key.valid_until
        return table

    rules: dict[str, Any] = {}
    for rule in policy.rules:
        table: dict[str, Any] = {
            "approvals_required": rule.approvals_required, "approver_role": rule.approver_role.value,
            "min_rubric_score": rule.min_rubric_score, "required_tests": list(rule.required_tests),
        }
        if rule.environment == Environment.PROD:
            table["approvers_differ_from_qa"] = rule.approvers_differ_from_qa
            table["require_qa_attestation"] = rule.require_qa_attestation
        rules[rule.environment.value] = table
    doc: dict[str, Any] = {
        "site": policy.site, "environment": policy.environment.value,
        "version": policy.version + 1 if version is None else version,
        "issued": policy.issued_at, "expires": policy.expires_at, "threshold": policy.admin_threshold,
        "allowed_formats": list(policy.allowed_formats), "revoked": list(policy.revoked),
        "administrators": [key_table(k, True) for k in policy.administrators],
        "keys": [key_table(k, False) for k in policy.keys], "rules": rules,
    }
    if not doc["keys"]:
        del doc["keys"]
    return tomli_w.dumps(doc)


def _line_of(text: str, path: str) -> int | None:
    """The line a key path such as ``keys[2].roles`` or ``rules.prod.approver_role`` is on, if found."""
    lines = text.splitlines()
    parts = path.split(".")
    match = re.fullmatch(r"(administrators|keys)\[(\d+)\]", parts[0])
    if match:
        header, nth, field = re.compile(rf"\s*\[\[\s*{match.group(1)}\s*\]\]"), int(match.group(2)), parts[1:2]
    elif parts[0] == "rules" and len(parts) > 1:
        header, nth, field = re.compile(rf"\s*\[\s*rules\s*\.\s*{re.escape(parts[1])}\s*\]"), 0, parts[2:3]
    else:
        header, nth, field = None, 0, parts[:1]
    start, stop = 0, len(lines)
    if header is not None:
        hits = [i for i, line in enumerate(lines) if header.match(line)]
        if nth >= len(hits):
            return None
        start = hits[nth]
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    name = re.sub(r"\[\d+\]$", "", field[0]) if field else ""
    for i in range(start, stop):
        if name and re.match(rf"\s*{re.escape(name)}\s*=", lines[i]):
            return i + 1
    return start + 1 if header is not None else None


class _Draft:
    """Reads one draft's tables with messages that name the file, line and key path."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def fail(self, path: str, what: str) -> NoReturn:
        line = _line_of(self.text, path)
        where = f"{self.source}, line {line}" if line else self.source
        raise PolicyDraftError(f"{where}: {path} {what}.")

    def table(self, value: object, path: str, fields: Sequence[str], required: Sequence[str]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"must be a table, found {_type_name(value)}")
        for name in value:
            if name not in fields:
                self.fail(f"{path}.{name}" if path else name,
                          f"is not a field of the policy draft here (the fields are {', '.join(fields)})")
        for name in required:
            if name not in value:
                self.fail(f"{path}.{name}" if path else name, "is missing")
        return value

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"must be a non-empty string, found {_type_name(value)}")
        return value

    def integer(self, value: object, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be a whole number, found {_type_name(value)}")
        return value

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, found {_type_name(value)}")
        return value

    def number(self, value: object, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, found {_type_name(value)}")
        return float(value)

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(path, f"must be a list of strings, found {_type_name(value)}")
        return tuple(self.string(v, f"{path}[{i}]") for i, v in enumerate(value))

    def time(self, value: object, path: str) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                self.fail(path, "has no time zone (add Z for UTC or an offset such as +01:00)")
            return _iso(value)
        if isinstance(value, date):
            self.fail(path, "is a date without a time; write a date-time such as 2027-01-31T00:00:00Z")
        text = self.string(value, path)
        try:
            return _iso(parse_time(text))
        except ValueError as exc:
            self.fail(path, f"is not an ISO 8601 date-time: {exc}")

    def environment(self, value: object, path: str) -> Environment:
        text = self.string(value, path)
        try:
            return Environment(text)
        except ValueError:
            self.fail(path, f"must be one of {', '.join(e.value for e in Environment)}, found {text!r}")

    def role(self, value: object, path: str) -> KeyRole:
        text = self.string(value, path)
        try:
            return KeyRole(text)
        except ValueError:
            self.fail(path, f"{text!r} is not a role; the roles are {', '.join(r.value for r in KeyRole)}")


def _type_name(value: object) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true/false",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def read_draft(text: str, source: str, resolve_key: Callable[[str], tuple[str, str]]) -> TrustPolicy:
    """Read a policy draft (TOML) into the :class:`TrustPolicy` the administrators will sign.

    Parameters
    ----------
    text
        The draft's TOML text.
    source
        Where it was read from, for messages (the file path).
    resolve_key
        ``resolve_key(ref) -> (keyid, pem)`` for a draft's ``key`` value (a key id or a path to
        a ``.pub`` file); it raises :class:`~core.errors.AirlockError` or ``OSError`` when it
        cannot. The key id it gives must be the PEM's own.

    Raises
    ------
    PolicyDraftError
        The TOML does not parse (line and column), a field is missing, unknown or of the wrong
        type, a time does not parse, a role is unknown (the valid ones are listed), a key is not
        P-256 or its key id does not match its PEM, the threshold cannot be met, ….
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyDraftError(f"{source}: the draft is not valid TOML: {exc}.") from None
    d = _Draft(text, source)
    d.table(doc, "", _TOP_FIELDS, ("site", "environment", "version", "issued", "expires", "threshold",
                                   "administrators", "rules"))
    issued = d.time(doc["issued"], "issued")
    expires = d.time(doc["expires"], "expires")

    def resolve(ref: str, path: str) -> tuple[str, str]:
        if ref.lstrip().startswith("-----BEGIN PUBLIC KEY-----"):  # inline, as policy_to_draft writes keys
            try:
                return envelopes.keyid_of(ref, path), ref
            except AirlockError as exc:
                d.fail(path, f"is not a usable public key: {exc}")
        try:
            keyid, pem = resolve_key(ref)
        except (AirlockError, OSError) as exc:
            d.fail(path, f"{ref!r} cannot be resolved to a public key: {exc}")
        if _KEYID.fullmatch(ref.lower()) and ref.lower() != keyid:
            d.fail(path, f"names key {ref[:16]}… but resolved to key {keyid[:16]}…")
        return keyid, pem

    def key_list(name: str, fields: Sequence[str], admin: bool) -> tuple[PolicyKey, ...]:
        items = doc.get(name, [])
        if not isinstance(items, list):
            d.fail(name, f"must be an array of tables ([[{name}]]), found {_type_name(items)}")
        keys = []
        for i, item in enumerate(items):
            where = f"{name}[{i}]"
            t = d.table(item, where, fields, ("person", "key") if admin else ("person", "key", "roles"))
            keyid, pem = resolve(d.string(t["key"], f"{where}.key"), f"{where}.key")
            if "fingerprint" in t:  # written beside a key so people can compare it with what its owner reads out
                said = "".join(d.string(t["fingerprint"], f"{where}.fingerprint").split()).lower()
                if said != keyid:
                    d.fail(f"{where}.fingerprint", f"is not the fingerprint of the key beside it ({fingerprint(keyid)})")
            roles: tuple[KeyRole, ...] = ()
            if not admin:
                raw_roles = t["roles"]
                if not isinstance(raw_roles, list):
                    d.fail(f"{where}.roles", f"must be a list of roles, found {_type_name(raw_roles)}")
                roles = tuple(d.role(r, f"{where}.roles[{j}]") for j, r in enumerate(raw_roles))
            keys.append(PolicyKey(
                keyid=keyid, pem=pem, person=" ".join(d.string(t["person"], f"{where}.person").split()),
                roles=roles,
                valid_from=d.time(t["valid_from"], f"{where}.valid_from") if "valid_from" in t else issued,
                valid_until=d.time(t["valid_until"], f"{where}.valid_until") if "valid_until" in t else expires,
            ))
        return tuple(keys)

    administrators = key_list("administrators", _ADMIN_FIELDS, True)
    keys = key_list("keys", _KEY_FIELDS, False)
    raw_rules = d.table(doc["rules"], "rules", tuple(e.value for e in Environment), ())
    rules = []
    for env_name, raw in raw_rules.items():
        env = Environment(env_name)
        where = f"rules.{env_name}"
        t = d.table(raw, where, _RULE_FIELDS, ("approvals_required",))
        rules.append(EnvironmentRule(
            environment=env,
            approvals_required=d.integer(t["approvals_required"], f"{where}.approvals_required"),
            approver_role=d.role(t["approver_role"], f"{where}.approver_role") if "approver_role" in t
            else _DEFAULT_ROLE[env],
            min_rubric_score=d.number(t.get("min_rubric_score", 0.0), f"{where}.min_rubric_score"),
            required_tests=d.strings(t.get("required_tests", []), f"{where}.required_tests"),
            approvers_differ_from_qa=d.boolean(t.get("approvers_differ_from_qa", False),
                                               f"{where}.approvers_differ_from_qa"),
            require_qa_attestation=d.boolean(t.get("require_qa_attestation", False),
                                             f"{where}.require_qa_attestation"),
        ))
    revoked = tuple(r.lower() for r in d.strings(doc.get("revoked", []), "revoked"))
    policy = TrustPolicy(
        version=d.integer(doc["version"], "version"),
        site=" ".join(d.string(doc["site"], "site").split()),
        environment=d.environment(doc["environment"], "environment"),
        issued_at=issued, expires_at=expires, administrators=administrators,
        admin_threshold=d.integer(doc["threshold"], "threshold"), keys=keys, revoked=revoked,
        rules=tuple(rules),
        allowed_formats=d.strings(doc.get("allowed_formats", list(DEFAULT_FORMATS)), "allowed_formats"),
    )
    _check_policy(policy, d.fail)
    return policy


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
    "check_policy", "check_policy_envelope", "draft_template",
    "is_expired", "key_is_valid", "keyid_of_pem", "parse_time", "person_of", "policy_payload",
    "policy_to_draft", "read_draft", "read_policy_envelope", "sign_policy", "verify_policy",
]
