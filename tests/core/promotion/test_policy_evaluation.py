"""Approvals, rubric and formats against the trust policy: every verdict has its own test and message.

Approvals are signed with real P-256 keys and checked with the keys engineer's
``approvals.verify_approval`` (a lenient local check only where the strict reader would refuse a
field before the policy's own check is reached).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from core.promotion.approvals import verify_approval
from core.promotion.evaluation import (
    ApprovalTally,
    Verdict,
    check_formats,
    check_rubric,
    evaluate_approvals,
    qa_approver_persons,
)
from core.promotion.models import (
    ArtefactEntry,
    Decision,
    Environment,
    EnvironmentRule,
    KeyRole,
    RubricSummary,
    SignedApproval,
    TrustPolicy,
)
from tests.core.promotion.policy_helpers import (
    DIGEST,
    KEYS,
    MODEL,
    NOW,
    VERSION,
    approval,
    iso,
    keyid,
    make_policy,
    pkey,
    reviewer_keys,
    rules,
    sign_approval,
    verify_local,
)

POLICY = make_policy()


def tally(approvals: Sequence[SignedApproval], *, policy: TrustPolicy = POLICY,
          environment: Environment = Environment.PROD, author: str = "author", author_name: str = "",
          nonces_seen: Sequence[str] = (), qa_persons: Sequence[str] = (),
          verify: Callable[[SignedApproval, str], None] = verify_approval) -> ApprovalTally:
    return evaluate_approvals(
        policy, environment, approvals, package_digest=DIGEST, model=MODEL, version=VERSION,
        author_keyid=keyid(KEYS[author]), author_name=author_name, now=NOW, nonces_seen=nonces_seen,
        qa_approver_persons=qa_persons, verify_signature=verify,
    )


def ok(name: str, person: str, **changes: object) -> SignedApproval:
    return sign_approval(approval(name, person, **changes))  # type: ignore[arg-type]


# --- happy paths ---------------------------------------------------------------------------


def test_exactly_the_threshold() -> None:
    result = tally([ok("prod2", "Ravi"), ok("prod3", "Sun")])
    assert result.satisfied and result.reason == ""
    assert result.approvers == ("Ravi", "Sun") and result.count == result.required == 2
    assert [v.verdict for v in result.verdicts] == [Verdict.COUNTED, Verdict.COUNTED]
    assert all(v.counted for v in result.verdicts)


def test_more_than_the_threshold() -> None:
    result = tally([ok("prod1", "Pat"), ok("prod2", "Ravi"), ok("prod3", "Sun"), ok("prod4", "Tess")])
    assert result.satisfied and result.approvers == ("Pat", "Ravi", "Sun", "Tess")


def test_one_short_names_the_count_and_the_refusals() -> None:
    result = tally([ok("prod2", "Ravi"), ok("qa1", "Quinn")])
    assert not result.satisfied
    assert result.reason.startswith("1 of 2 approvals from distinct production approvers (prod-approver); "
                                    "refused: Quinn (")
    assert "holds qa-reviewer, not prod-approver" in result.reason


def test_no_approvals_at_all() -> None:
    result = tally([])
    assert not result.satisfied and result.reason == "0 of 2 approvals from distinct production approvers " \
                                                      "(prod-approver)."


def test_a_qa_site() -> None:
    policy = make_policy(environment=Environment.QA)
    result = tally([ok("qa1", "Quinn", environment=Environment.QA)], policy=policy, environment=Environment.QA)
    assert result.satisfied and result.approvers == ("Quinn",)


def test_approvals_under_an_older_policy_version_count_while_the_key_is_still_trusted() -> None:
    policy = make_policy(4)
    result = tally([ok("prod2", "Ravi", policy_version=1), ok("prod3", "Sun", policy_version=4)], policy=policy)
    assert result.satisfied
    revoked = make_policy(5, revoked=(keyid(KEYS["prod2"]),))
    assert tally([ok("prod2", "Ravi", policy_version=4), ok("prod3", "Sun")], policy=revoked).verdicts[0].verdict \
        == Verdict.REVOKED


def test_clock_skew_of_five_minutes_is_allowed() -> None:
    result = tally([ok("prod2", "Ravi", signed_at=iso(NOW + timedelta(minutes=4, seconds=59))), ok("prod3", "Sun")])
    assert result.satisfied


# --- one verdict per way to be wrong -------------------------------------------------------


def _policy_with(name: str, **changes: object) -> TrustPolicy:
    keys = tuple(dataclasses.replace(k, **changes) if k.keyid == keyid(KEYS[name]) else k  # type: ignore[arg-type]
                 for k in reviewer_keys())
    return make_policy(keys=keys)


def _tampered() -> SignedApproval:
    good = ok("prod2", "Ravi")
    return dataclasses.replace(good, approval=dataclasses.replace(good.approval, comment="edited after signing"))


def _other_envelope() -> SignedApproval:
    good = ok("prod2", "Ravi")
    return dataclasses.replace(good, envelope=ok("prod2", "Ravi", version=VERSION + 1).envelope)


def _relabelled() -> SignedApproval:
    # the statement names Ravi's key, the envelope is signed with Sun's key
    return sign_approval(approval("prod2", "Ravi"), "prod3")


CASES: list[tuple[str, Callable[[], SignedApproval], dict[str, object], Verdict, str]] = [
    ("untrusted", lambda: ok("outsider", "Mallory"), {}, Verdict.UNTRUSTED,
     r"key .* is not trusted by this site's policy \(version 1\)"),
    ("revoked", lambda: ok("prod2", "Ravi"), {"policy": make_policy(revoked=(keyid(KEYS["prod2"]),))},
     Verdict.REVOKED, r"key .* is revoked by trust policy version 1"),
    ("revoked-unlisted", lambda: ok("outsider", "Mallory"),
     {"policy": make_policy(revoked=(keyid(KEYS["outsider"]),))}, Verdict.REVOKED, r"is revoked"),
    ("not-yet-valid", lambda: ok("prod2", "Ravi"),
     {"policy": _policy_with("prod2", valid_from=iso(NOW + timedelta(hours=1)))}, Verdict.NOT_YET_VALID,
     r"Ravi's key .* is valid only from 2027-03-01T13:00:00"),
    ("signed-before-key-valid", lambda: ok("prod2", "Ravi", signed_at=iso(NOW - timedelta(days=2))),
     {"policy": _policy_with("prod2", valid_from=iso(NOW - timedelta(days=1)))}, Verdict.NOT_YET_VALID,
     r"signed at 2027-02-27T12:00:00\+00:00, before Ravi's key .* became valid"),
    ("no-longer-valid", lambda: ok("prod2", "Ravi"),
     {"policy": _policy_with("prod2", valid_until=iso(NOW))}, Verdict.NO_LONGER_VALID,
     r"Ravi's key .* was valid until 2027-03-01T12:00:00"),
    ("wrong-role", lambda: ok("qa1", "Quinn"), {}, Verdict.WRONG_ROLE,
     r"Quinn's key .* holds qa-reviewer, not prod-approver which production approvals need"),
    ("author-role-only", lambda: ok("author", "Dana Author"), {}, Verdict.WRONG_ROLE, r"holds author, not"),
    ("bad-signature-edited", _tampered, {}, Verdict.BAD_SIGNATURE,
     r"the signature does not verify against Ravi's key"),
    ("bad-signature-swapped-envelope", _other_envelope, {}, Verdict.BAD_SIGNATURE, r"does not verify"),
    ("relabelled", _relabelled, {}, Verdict.SIGNER_MISMATCH, r"signed by key .* but names reviewer key .*relabelled"),
    ("wrong-environment", lambda: ok("prod4", "Tess", environment=Environment.QA), {}, Verdict.WRONG_ENVIRONMENT,
     r"approved for qa, not prod: QA approvals never count for production"),
    ("wrong-site", lambda: ok("prod2", "Ravi", site="Clinic-South"), {}, Verdict.WRONG_SITE,
     r"made for site 'Clinic-South', not 'Clinic-North'"),
    ("wrong-package", lambda: ok("prod2", "Ravi", package_digest="cd" * 32), {}, Verdict.WRONG_PACKAGE,
     r"approves package cdcdcdcdcdcdcdcd…, not this package abababababababab…"),
    ("wrong-model", lambda: ok("prod2", "Ravi", model="diabetes"), {}, Verdict.WRONG_MODEL,
     r"approves model 'diabetes', not 'cancer'"),
    ("wrong-version", lambda: ok("prod2", "Ravi", version=VERSION - 1), {}, Verdict.WRONG_VERSION,
     r"approves cancer@2, not cancer@3"),
    ("newer-policy", lambda: ok("prod2", "Ravi", policy_version=2), {}, Verdict.POLICY_VERSION,
     r"made under trust policy version 2, newer than this site's version 1"),
    ("future", lambda: ok("prod2", "Ravi", signed_at=iso(NOW + timedelta(minutes=5, seconds=1))), {},
     Verdict.FUTURE, r"signed at 2027-03-01T12:05:01.*later than this computer's clock allows \(5 minutes\)"),
    ("expired-now", lambda: ok("prod2", "Ravi", expires_at=iso(NOW)), {}, Verdict.EXPIRED,
     r"the approval expired at 2027-03-01T12:00:00\+00:00; ask Ravi to approve again"),
    ("expired-long-ago", lambda: ok("prod2", "Ravi", signed_at=iso(NOW - timedelta(days=25)),
                                    expires_at=iso(NOW - timedelta(days=1))), {}, Verdict.EXPIRED, r"expired at"),
    ("malformed-nonce", lambda: ok("prod2", "Ravi", nonce="not-hex"), {"verify": verify_local}, Verdict.MALFORMED,
     r"its nonce is not 32 or more lower-case hex digits"),
    ("malformed-time", lambda: ok("prod2", "Ravi", signed_at="yesterday"), {"verify": verify_local},
     Verdict.MALFORMED, r"its time does not read"),
    ("expires-before-signed", lambda: ok("prod2", "Ravi", signed_at=iso(NOW), expires_at=iso(NOW - timedelta(1))),
     {"verify": verify_local}, Verdict.EXPIRED, r"expired at"),
    ("self-by-key", lambda: ok("prod2", "Ravi"), {"author": "prod2"}, Verdict.SELF_APPROVAL,
     r"Ravi is the package's author; the author never counts"),
    ("self-by-person", lambda: ok("prod1b", "Pat"), {"author": "prod1"}, Verdict.SELF_APPROVAL,
     r"Pat is the package's author"),
    ("self-by-name", lambda: ok("prod2", "Ravi"), {"author": "outsider", "author_name": " ravi "},
     Verdict.SELF_APPROVAL, r"Ravi is the package's author"),
    ("approved-for-qa", lambda: ok("prod1", "Pat"), {"policy": make_policy(rule_set=rules(differ=True)),
                                                      "qa_persons": ["pat"]},
     Verdict.APPROVED_FOR_QA, r"Pat approved this package for QA; production approvers must be other people"),
]


@pytest.mark.parametrize(("name", "make", "options", "verdict", "message"), CASES, ids=[c[0] for c in CASES])
def test_each_way_an_approval_fails_has_its_verdict(name: str, make: Callable[[], SignedApproval],
                                                    options: dict[str, object], verdict: Verdict,
                                                    message: str) -> None:
    offered = make()
    result = tally([ok("prod3", "Sun"), offered], **options)  # type: ignore[arg-type]
    first, second = result.verdicts
    assert first.verdict == Verdict.COUNTED, first.message
    assert second.verdict == verdict, second.message
    assert not second.counted
    assert re.search(message, second.message), second.message
    assert not result.satisfied and result.approvers == ("Sun",)
    assert second.message in result.reason and offered.source in result.reason


def test_every_verdict_has_its_own_message() -> None:
    """Alone in a batch, each case gets its verdict; no two verdicts share a message (key ids aside)."""
    by_verdict: dict[Verdict, set[str]] = {}
    for _, make, options, verdict, _ in CASES:
        found = tally([make()], **options).verdicts[0]  # type: ignore[arg-type]
        assert found.verdict == verdict, found.message
        by_verdict.setdefault(verdict, set()).add(re.sub(r"[0-9a-f]{12,}…?|\d{4}-\d\d-\d\dT[\d:+]+", "#",
                                                         found.message))
    for verdict, messages in by_verdict.items():
        others = set().union(*(m for v, m in by_verdict.items() if v != verdict))
        assert not messages & others, verdict
    untested = set(Verdict) - set(by_verdict) - {Verdict.COUNTED, Verdict.NO_RULE, Verdict.REPLAY,
                                                 Verdict.REPEATED, Verdict.REJECTED, Verdict.DUPLICATE_PERSON}
    assert not untested  # those six have their own tests below


def test_a_replayed_nonce_does_not_count() -> None:
    again = ok("prod2", "Ravi")
    result = tally([ok("prod3", "Sun"), again], nonces_seen=[again.approval.nonce])
    assert result.verdicts[1].verdict == Verdict.REPLAY
    assert "was already used at this site: a replayed approval" in result.verdicts[1].message
    assert not result.satisfied


def test_the_same_approval_twice_in_one_batch() -> None:
    one = ok("prod2", "Ravi")
    result = tally([one, one])
    assert [v.verdict for v in result.verdicts] == [Verdict.COUNTED, Verdict.REPEATED]
    assert "is offered twice in this batch" in result.verdicts[1].message
    assert not result.satisfied and result.count == 1


def test_one_persons_two_keys_count_once() -> None:
    result = tally([ok("prod1", "Pat"), ok("prod1b", "Pat")])
    assert [v.verdict for v in result.verdicts] == [Verdict.COUNTED, Verdict.DUPLICATE_PERSON]
    assert "Pat is counted once already (one person, however many keys)" in result.verdicts[1].message
    assert not result.satisfied and result.reason.startswith("1 of 2 approvals")


def test_one_person_approving_twice_with_one_key_counts_once() -> None:
    result = tally([ok("prod2", "Ravi"), ok("prod2", "Ravi")])
    assert [v.verdict for v in result.verdicts] == [Verdict.COUNTED, Verdict.DUPLICATE_PERSON]
    assert not result.satisfied


def test_a_valid_rejection_blocks_even_with_enough_approvals() -> None:
    result = tally([ok("prod1", "Pat"), ok("prod2", "Ravi"), ok("prod3", "Sun", decision=Decision.REJECT,
                                                                  comment="calibration drifts")])
    assert result.verdicts[2].verdict == Verdict.REJECTED
    assert result.verdicts[2].message == "Sun rejected it: calibration drifts"
    assert result.count == 2 and not result.satisfied and result.rejected_by == ("Sun",)
    assert result.reason.startswith("Rejected for production by Sun (") and "blocks admission" in result.reason


@pytest.mark.parametrize(("make", "options", "verdict"), [
    (lambda: ok("outsider", "Mallory", decision=Decision.REJECT), {}, Verdict.UNTRUSTED),
    (lambda: ok("qa1", "Quinn", decision=Decision.REJECT), {}, Verdict.WRONG_ROLE),
    (lambda: ok("prod3", "Sun", decision=Decision.REJECT, package_digest="cd" * 32), {}, Verdict.WRONG_PACKAGE),
    (lambda: ok("prod3", "Sun", decision=Decision.REJECT, expires_at=iso(NOW)), {}, Verdict.EXPIRED),
    (lambda: ok("prod3", "Sun", decision=Decision.REJECT),
     {"policy": make_policy(revoked=(keyid(KEYS["prod3"]),))}, Verdict.REVOKED),
])
def test_a_rejection_that_is_not_valid_does_not_block(make: Callable[[], SignedApproval], options: dict[str, object],
                                                       verdict: Verdict) -> None:
    result = tally([ok("prod1", "Pat"), ok("prod2", "Ravi"), make()], **options)  # type: ignore[arg-type]
    assert result.verdicts[2].verdict == verdict
    assert result.satisfied and result.rejected_by == ()


def test_qa_approvers_in_the_batch_are_excluded_from_production_when_the_rule_says_so() -> None:
    qa = ok("qa3", "Pat", environment=Environment.QA)  # Pat approved for QA with the QA key
    policy = make_policy(rule_set=rules(differ=True))
    result = tally([qa, ok("prod1", "Pat"), ok("prod2", "Ravi")], policy=policy)
    assert [v.verdict for v in result.verdicts] == [Verdict.WRONG_ENVIRONMENT, Verdict.APPROVED_FOR_QA,
                                                    Verdict.COUNTED]
    assert not result.satisfied
    assert qa_approver_persons(policy, [qa], package_digest=DIGEST, verify_signature=verify_approval) == {"pat"}
    # a QA approval of another package, or a forged one, does not exclude anyone
    other = ok("qa3", "Pat", environment=Environment.QA, package_digest="cd" * 32)
    assert qa_approver_persons(policy, [other, _tampered()], package_digest=DIGEST,
                               verify_signature=verify_approval) == frozenset()
    # without the rule, Pat counts for production
    assert tally([qa, ok("prod1", "Pat"), ok("prod2", "Ravi")]).satisfied


def test_no_rule_for_the_environment_admits_nothing() -> None:
    result = tally([ok("qa1", "Quinn", environment=Environment.QA)], environment=Environment.QA)
    assert not result.satisfied and result.verdicts[0].verdict == Verdict.NO_RULE
    assert result.reason == "Nothing is admitted: this site's trust policy is for prod, not qa."


def test_the_author_never_counts_even_with_an_approver_role() -> None:
    policy = make_policy(keys=(*reviewer_keys(), pkey("admin_d", "Dana Author", [KeyRole.PROD_APPROVER])))
    result = tally([ok("admin_d", "Dana Author"), ok("prod2", "Ravi")], policy=policy)  # person of the author key
    assert result.verdicts[0].verdict == Verdict.SELF_APPROVAL and not result.satisfied


# --- rubric and formats --------------------------------------------------------------------

PROD_RULE = EnvironmentRule(Environment.PROD, 2, KeyRole.PROD_APPROVER, 3.0, ("Infra 1", "Model 2"))


def summary(score: float = 3.5, passed: tuple[str, ...] = ("Infra 1", "Model 2", "Data 1"),
            failed: tuple[str, ...] = (), not_done: tuple[str, ...] = ()) -> RubricSummary:
    return RubricSummary("rr-1", score, "reasonably tested", passed, failed, not_done)


@pytest.mark.parametrize(("rubric", "expected"), [
    (summary(), None),
    (summary(score=3.0), None),
    (summary(score=2.5), r"^Rubric result rr-1: rubric score 2\.5 is below the minimum 3\.$"),
    (summary(score=float("nan")), r"rubric score nan is below the minimum 3"),
    (summary(passed=("Infra 1",), failed=("Model 2",)), r"required tests did not pass: Model 2 \(failed\)\.$"),
    (summary(passed=(), not_done=("Infra 1",)), r"Infra 1 \(not done\), Model 2 \(absent\)"),
    (summary(score=1.0, passed=()), r"below the minimum 3; required tests did not pass"),
    (None, r"^The package carries no rubric result, but production requires a score of at least 3 and the tests "
           r"Infra 1, Model 2\.$"),
])
def test_check_rubric(rubric: RubricSummary | None, expected: str | None) -> None:
    found = check_rubric(PROD_RULE, rubric)
    if expected is None:
        assert found is None
    else:
        assert found is not None and re.search(expected, found), found


def test_check_rubric_without_requirements_needs_no_result() -> None:
    assert check_rubric(EnvironmentRule(Environment.QA, 1, KeyRole.QA_REVIEWER, 0.0, ()), None) is None


@pytest.mark.parametrize(("allowed", "artefacts", "expected"), [
    (("xgboost-ubj", "joblib"), [ArtefactEntry("model/pipeline.joblib", "joblib")], None),
    (("xgboost-ubj",), [ArtefactEntry("model/model.ubj", "xgboost-ubj")], None),
    (("xgboost-ubj",), [ArtefactEntry("model/model.ubj", "xgboost-ubj"),
                        ArtefactEntry("model/pipeline.joblib", "joblib")],
     "Trust policy version 1 allows only xgboost-ubj; the package holds model/pipeline.joblib (joblib)."),
    (("joblib",), [ArtefactEntry("model/x.onnx", "onnx")], "the package holds model/x.onnx (onnx)"),
    (("joblib",), [], "The package lists no model artefact."),
])
def test_check_formats(allowed: tuple[str, ...], artefacts: list[ArtefactEntry], expected: str | None) -> None:
    found = check_formats(make_policy(allowed_formats=allowed), artefacts)
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found, found
