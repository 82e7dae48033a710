"""Trust policy drafts: the TOML file an administrator writes and edits before anyone signs.

:func:`draft_template` writes a first draft (``airlock policy new``), :func:`policy_to_draft` the
draft of an installed policy's next version (``airlock policy next``), and :func:`read_draft` reads
one into the :class:`~core.promotion.models.TrustPolicy` the administrators sign, refusing every
mistake with its line and key path. Signing and verifying the signed form is
:mod:`core.promotion.policy`; nothing here signs, stores or touches the network.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

import tomli_w

from core.errors import AirlockError
from core.promotion import envelopes
from core.promotion.models import (
    Environment,
    EnvironmentRule,
    KeyRole,
    PolicyKey,
    TrustPolicy,
    fingerprint,
)
from core.promotion.policy import (
    _DEFAULT_ROLE,
    _KEYID,
    DEFAULT_FORMATS,
    PolicyDraftError,
    _check_policy,
    _iso,
    _person,
    parse_time,
)

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


__all__ = ["draft_template", "policy_to_draft", "read_draft"]
