"""Evaluating approvals against a trust policy, and the rubric and format checks admission makes.

Pure functions over values (no store, no workspace, no file system): :func:`evaluate_approvals`
gives one verdict per approval that came with a package, in a fixed order of checks, and says
whether the environment's rule is met by distinct people; :func:`check_rubric` and
:func:`check_formats` say why a package's rubric result or artefact formats do not meet the
policy. The policy document itself (drafts, signing, verification, rotation) is
:mod:`core.promotion.policy`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from securesystemslib import exceptions as sslib_exceptions

from core.errors import AirlockError
from core.promotion.models import ArtefactEntry as _ArtefactEntry
from core.promotion.models import (
    Decision,
    Environment,
    EnvironmentRule,
    PolicyKey,
    RubricSummary,
    SignedApproval,
    TrustPolicy,
)
from core.promotion.policy import _NONCE, CLOCK_SKEW, _aware, _person, parse_time, person_of

# --- evaluation: approvals, rubric, formats ------------------------------------------------


class Verdict(StrEnum):
    """What became of one approval (stable codes; the verdict's message says it for people)."""

    COUNTED = "counted"
    NO_RULE = "no-rule"
    SIGNER_MISMATCH = "signer-mismatch"  # the signing key is not the reviewer key the approval names
    UNTRUSTED = "untrusted"
    REVOKED = "revoked"
    BAD_SIGNATURE = "bad-signature"
    NOT_YET_VALID = "key-not-yet-valid"
    NO_LONGER_VALID = "key-no-longer-valid"
    WRONG_ROLE = "wrong-role"
    WRONG_ENVIRONMENT = "wrong-environment"
    WRONG_SITE = "wrong-site"
    WRONG_PACKAGE = "wrong-package"
    WRONG_MODEL = "wrong-model"
    WRONG_VERSION = "wrong-version"
    POLICY_VERSION = "policy-version"  # made under a policy newer than the installed one
    MALFORMED = "malformed"  # a time or nonce that does not read
    FUTURE = "future"  # signed later than this site's clock allows
    EXPIRED = "expired"
    REPLAY = "replay"  # nonce already used at this site
    REPEATED = "repeated"  # nonce offered twice in this batch
    REJECTED = "rejected"  # a valid rejection: blocks admission
    SELF_APPROVAL = "self-approval"
    APPROVED_FOR_QA = "approved-for-qa"  # production approver who approved this package for QA
    DUPLICATE_PERSON = "duplicate-person"


@dataclass(frozen=True, slots=True)
class ApprovalVerdict:
    """One approval and what became of it."""

    source: str
    keyid: str
    reviewer: str  # the printed name the approval carries
    person: str | None  # the person the policy names for the key, if it is listed
    verdict: Verdict
    message: str  # why it counted or not, for people

    @property
    def counted(self) -> bool:
        return self.verdict == Verdict.COUNTED


@dataclass(frozen=True, slots=True)
class ApprovalTally:
    """The approvals of one package against one environment's rule."""

    environment: Environment
    verdicts: tuple[ApprovalVerdict, ...]
    approvers: tuple[str, ...]  # distinct persons whose approval counted, in the order offered
    required: int
    rejected_by: tuple[str, ...]  # persons whose valid rejection blocks admission
    satisfied: bool
    reason: str  # one line; empty when satisfied

    @property
    def count(self) -> int:
        return len(self.approvers)


#: How an environment is named in sentences.
ENV_WORD = {Environment.QA: "QA", Environment.PROD: "production"}


def qa_approver_persons(policy: TrustPolicy, approvals: Sequence[SignedApproval], *, package_digest: str,
                        verify_signature: Callable[[SignedApproval, str], None]) -> frozenset[str]:
    """Persons (normalised) who validly signed a QA approval of this package with a key the policy lists."""
    found = set()
    for signed in approvals:
        a = signed.approval
        if a.environment != Environment.QA or a.decision != Decision.APPROVE or a.package_digest != package_digest:
            continue
        key = next((k for k in policy.keys if k.keyid == signed.signer_keyid), None)
        if key is None or signed.signer_keyid != a.reviewer_keyid:
            continue
        try:
            verify_signature(signed, key.pem)
        except (AirlockError, ValueError, sslib_exceptions.Error):
            continue
        found.add(_person(key.person))
    return frozenset(found)


_qa_persons = qa_approver_persons


def evaluate_approvals(
    policy: TrustPolicy,
    environment: Environment,
    approvals: Sequence[SignedApproval],
    *,
    package_digest: str,
    model: str,
    version: int,
    author_keyid: str,
    now: datetime,
    nonces_seen: Collection[str],
    qa_approver_persons: Collection[str] = (),
    verify_signature: Callable[[SignedApproval, str], None],
    author_name: str = "",
) -> ApprovalTally:
    """One verdict per approval, and whether the environment's rule is met.

    Parameters
    ----------
    policy, environment
        The installed policy and the environment admitted into (the policy's own).
    approvals
        The approvals that came with the package, as read (signature not yet checked).
    package_digest, model, version
        What the package is; an approval bound to anything else does not count.
    author_keyid, author_name
        The author's key and printed name: the author never counts (by key, by the policy's
        person for that key, or by name when the key is not listed).
    now
        This site's clock (time-zone aware).
    nonces_seen
        Nonces of approvals already used at this site (a replay does not count).
    qa_approver_persons
        People who approved this package for QA (production with ``approvers_differ_from_qa``);
        QA approvals in ``approvals`` that verify against a listed key are added to them.
    verify_signature
        ``verify_signature(signed, pem)`` raises when the approval's signature does not verify
        against the public key PEM (``approvals.verify_approval``).

    Returns
    -------
    ApprovalTally
        ``satisfied`` only when no valid rejection is present and enough distinct people counted.
    """
    now = _aware(now)
    env = Environment(environment)
    rule = policy.rule(env) if env == policy.environment else None
    if rule is None:
        why = (f"trust policy version {policy.version} has no rule for {env.value}" if env == policy.environment
               else f"this site's trust policy is for {policy.environment.value}, not {env.value}")
        verdicts = tuple(ApprovalVerdict(s.source, s.signer_keyid, s.approval.reviewer, person_of(policy, s.signer_keyid),
                                         Verdict.NO_RULE, f"not counted: {why}") for s in approvals)
        return ApprovalTally(env, verdicts, (), 0, (), False, f"Nothing is admitted: {why}.")
    revoked = set(policy.revoked)
    by_keyid = {k.keyid: k for k in policy.keys}
    author_key = by_keyid.get(author_keyid)
    authors = {_person(n) for n in (author_name, author_key.person if author_key else "") if n.strip()}
    qa_persons = {_person(p) for p in qa_approver_persons}
    if env == Environment.PROD and rule.approvers_differ_from_qa:
        qa_persons |= _qa_persons(policy, approvals, package_digest=package_digest, verify_signature=verify_signature)
    seen = set(nonces_seen)
    batch: set[str] = set()
    counted: dict[str, str] = {}
    rejected: dict[str, str] = {}
    verdicts_list: list[ApprovalVerdict] = []
    for signed in approvals:
        key = by_keyid.get(signed.signer_keyid)
        verdict, message = _judge(
            signed, key, policy, env, rule, revoked=revoked, package_digest=package_digest, model=model,
            version=version, author_keyid=author_keyid, authors=authors, now=now, seen=seen, batch=batch,
            qa_persons=qa_persons, counted=counted, verify_signature=verify_signature,
        )
        person = key.person if key else None
        if verdict == Verdict.COUNTED and key is not None:
            counted[_person(key.person)] = key.person
        elif verdict == Verdict.REJECTED and key is not None:
            rejected.setdefault(_person(key.person), key.person)
        verdicts_list.append(ApprovalVerdict(signed.source, signed.signer_keyid, signed.approval.reviewer,
                                             person, verdict, message))
    verdicts = tuple(verdicts_list)
    required = rule.approvals_required
    approvers = tuple(counted.values())
    satisfied = not rejected and len(approvers) >= required
    reason = ""
    if rejected:
        first = next(v for v in verdicts if v.verdict == Verdict.REJECTED)
        reason = (f"Rejected for {ENV_WORD[env]} by {', '.join(rejected.values())} ({first.source}): a valid "
                  "rejection blocks admission.")
    elif not satisfied:
        refused = "; ".join(f"{v.reviewer} ({v.source}): {v.message}" for v in verdicts if not v.counted)
        reason = (f"{len(approvers)} of {required} approvals from distinct {ENV_WORD[env]} approvers "
                  f"({rule.approver_role.value})" + (f"; refused: {refused}" if refused else "") + ".")
    return ApprovalTally(env, verdicts, approvers, required, tuple(rejected.values()), satisfied, reason)


def _judge(signed: SignedApproval, key: PolicyKey | None, policy: TrustPolicy, env: Environment,
           rule: EnvironmentRule, *, revoked: set[str], package_digest: str, model: str, version: int,
           author_keyid: str, authors: set[str], now: datetime, seen: set[str], batch: set[str],
           qa_persons: set[str], counted: Mapping[str, str],
           verify_signature: Callable[[SignedApproval, str], None]) -> tuple[Verdict, str]:
    a = signed.approval
    keyid = signed.signer_keyid
    short = f"key {keyid[:16]}…"
    if a.reviewer_keyid != keyid:
        return Verdict.SIGNER_MISMATCH, (f"signed by {short} but names reviewer key {a.reviewer_keyid[:16]}…: "
                                         "relabelled or re-wrapped")
    if keyid in revoked:
        return Verdict.REVOKED, f"{short} is revoked by trust policy version {policy.version}"
    if key is None:
        return Verdict.UNTRUSTED, f"{short} is not trusted by this site's policy (version {policy.version})"
    try:
        verify_signature(signed, key.pem)
    except (AirlockError, ValueError, sslib_exceptions.Error) as exc:
        return Verdict.BAD_SIGNATURE, f"the signature does not verify against {key.person}'s {short} ({exc})"
    if parse_time(key.valid_from) > now:
        return Verdict.NOT_YET_VALID, f"{key.person}'s {short} is valid only from {key.valid_from}"
    if parse_time(key.valid_until) <= now:
        return Verdict.NO_LONGER_VALID, f"{key.person}'s {short} was valid until {key.valid_until}"
    if a.environment != env:
        return Verdict.WRONG_ENVIRONMENT, (f"approved for {a.environment.value}, not {env.value}: "
                                           f"{ENV_WORD[a.environment]} approvals never count for "
                                           f"{ENV_WORD[env]}")
    if rule.approver_role not in key.roles:
        held = ", ".join(r.value for r in key.roles)
        return Verdict.WRONG_ROLE, (f"{key.person}'s {short} holds {held}, not {rule.approver_role.value} "
                                    f"which {ENV_WORD[env]} approvals need")
    if _person(a.site) != _person(policy.site):
        return Verdict.WRONG_SITE, f"made for site {a.site!r}, not {policy.site!r}"
    if a.package_digest != package_digest:
        return Verdict.WRONG_PACKAGE, (f"approves package {a.package_digest[:16]}…, not this package "
                                       f"{package_digest[:16]}…")
    if a.model != model:
        return Verdict.WRONG_MODEL, f"approves model {a.model!r}, not {model!r}"
    if a.version != version:
        return Verdict.WRONG_VERSION, f"approves {a.model}@{a.version}, not {model}@{version}"
    if a.policy_version > policy.version:
        return Verdict.POLICY_VERSION, (f"made under trust policy version {a.policy_version}, newer than this "
                                        f"site's version {policy.version}: install that policy first")
    try:
        signed_at, expires_at = parse_time(a.signed_at), parse_time(a.expires_at)
    except ValueError as exc:
        return Verdict.MALFORMED, f"its time does not read: {exc}"
    if not _NONCE.fullmatch(a.nonce):
        return Verdict.MALFORMED, "its nonce is not 32 or more lower-case hex digits"
    if signed_at < parse_time(key.valid_from):
        return Verdict.NOT_YET_VALID, (f"signed at {a.signed_at}, before {key.person}'s {short} became valid "
                                       f"({key.valid_from})")
    if signed_at > now + CLOCK_SKEW:
        return Verdict.FUTURE, (f"signed at {a.signed_at}, later than this computer's clock allows "
                                f"({int(CLOCK_SKEW.total_seconds() // 60)} minutes); check the clocks")
    if expires_at <= now or expires_at <= signed_at:
        return Verdict.EXPIRED, f"the approval expired at {a.expires_at}; ask {a.reviewer} to approve again"
    if a.nonce in seen:
        return Verdict.REPLAY, f"nonce {a.nonce[:12]}… was already used at this site: a replayed approval"
    if a.nonce in batch:
        return Verdict.REPEATED, f"nonce {a.nonce[:12]}… is offered twice in this batch"
    batch.add(a.nonce)
    if a.decision == Decision.REJECT:
        return Verdict.REJECTED, f"{key.person} rejected it: {a.comment or '(no comment)'}"
    if keyid == author_keyid or _person(key.person) in authors or _person(a.reviewer) in authors:
        return Verdict.SELF_APPROVAL, f"{key.person} is the package's author; the author never counts"
    if env == Environment.PROD and rule.approvers_differ_from_qa and _person(key.person) in qa_persons:
        return Verdict.APPROVED_FOR_QA, (f"{key.person} approved this package for QA; production approvers must "
                                         "be other people")
    if _person(key.person) in counted:
        return Verdict.DUPLICATE_PERSON, f"{key.person} is counted once already (one person, however many keys)"
    return Verdict.COUNTED, f"counted: {key.person}, {rule.approver_role.value}"


def check_rubric(rule: EnvironmentRule, summary: RubricSummary | None) -> str | None:
    """None when the package's rubric meets the rule's minimum score and required tests, else why not."""
    needs = rule.min_rubric_score > 0 or bool(rule.required_tests)
    if summary is None:
        if not needs:
            return None
        return (f"The package carries no rubric result, but {ENV_WORD[rule.environment]} requires a score of "
                f"at least {rule.min_rubric_score:g}" + (f" and the tests {', '.join(rule.required_tests)}"
                                                        if rule.required_tests else "") + ".")
    problems = []
    if not math.isfinite(summary.score) or summary.score < rule.min_rubric_score:
        problems.append(f"rubric score {summary.score:g} is below the minimum {rule.min_rubric_score:g}")
    passed = set(summary.passed)
    missing = [t for t in rule.required_tests if t not in passed]
    if missing:
        def state(test: str) -> str:
            if test in summary.failed:
                return f"{test} (failed)"
            if test in summary.not_done:
                return f"{test} (not done)"
            return f"{test} (absent)"
        problems.append("required tests did not pass: " + ", ".join(state(t) for t in missing))
    if not problems:
        return None
    return f"Rubric result {summary.result_id}: " + "; ".join(problems) + "."


def check_formats(policy: TrustPolicy, artefacts: Sequence[_ArtefactEntry]) -> str | None:
    """None when every artefact's format is one the policy allows, else why not."""
    if not artefacts:
        return "The package lists no model artefact."
    bad = [f"{a.path} ({a.format})" for a in artefacts if a.format not in policy.allowed_formats]
    if bad:
        return (f"Trust policy version {policy.version} allows only {', '.join(policy.allowed_formats)}; "
                f"the package holds {', '.join(bad)}.")
    return None


__all__ = [
    "ENV_WORD", "ApprovalTally", "ApprovalVerdict", "Verdict", "check_formats", "check_rubric", "evaluate_approvals",
    "qa_approver_persons",
]
