"""Scoring the rubric exactly as the 2017 paper does, merging attestations, and what to do next.

Each test scores 0 (not done), 0.5 (done by hand: a reviewer's unexpired attestation) or 1 (run
automatically by Airlock); the points are summed per section and the final score is the
**minimum** of the four sums, placed in the paper's bands. Whether a test passed does not change
its points: the score counts having the test (Breck et al., IEEE BigData 2017, section VI).

Everything here is pure: values in, values out. It never reads the store or the clock (the
caller passes ``now``), so every rule is tested on worked examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.rubric.catalogue import Catalogue
from core.rubric.models import (
    SOURCE,
    Attestation,
    NextStep,
    RubricComparison,
    RubricResult,
    RubricScore,
    RubricTest,
    Section,
    SectionScore,
    TestDifference,
    TestOutcome,
    TestResult,
    TestStatus,
)

#: Points per status (the paper's 0 / 0.5 / 1).
POINTS: Mapping[TestStatus, float] = {TestStatus.NOT_DONE: 0.0, TestStatus.MANUAL: 0.5, TestStatus.AUTOMATED: 1.0}

#: The paper's bands of the final score: (upper bound inclusive, name); above the last: exceptional.
BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "research project"),
    (1.0, "serious reliability holes likely"),
    (2.0, "first pass at production"),
    (3.0, "reasonably tested, more could be automated"),
    (5.0, "strong automated testing and monitoring"),
)
EXCEPTIONAL = "exceptional"


def points(result: TestResult) -> float:
    """The points one test earns: 0 not done, 0.5 manual, 1 automated (whatever its outcome)."""
    return POINTS[result.status]


def band(final: float) -> str:
    """The paper's band for a final score (0 · (0,1] · (1,2] · (2,3] · (3,5] · above 5)."""
    for upper, name in BANDS:
        if final <= upper:
            return name
    return EXCEPTIONAL


def rule_text() -> str:
    """The scoring rule in one paragraph, printed next to every score."""
    return (
        "ML Test Score (2017): each of the 28 tests scores 0 when not done, 0.5 when done manually "
        "(a reviewer's unexpired attestation) and 1 when Airlock runs it automatically; a test's points "
        "do not depend on whether it passed. Points are summed per section (0-7); the final score is the "
        "minimum of the four section sums. Bands: 0 research project; (0,1] serious reliability holes "
        "likely; (1,2] first pass at production; (2,3] reasonably tested, more could be automated; (3,5] "
        f"strong automated testing and monitoring; above 5 exceptional. Source: {SOURCE}."
    )


def score(results: Iterable[TestResult]) -> RubricScore:
    """Sum the points per section and take the minimum.

    A result whose test id names no section (``"data.1"`` → data) is a programming error.
    """
    sums = {section: 0.0 for section in Section}
    for result in results:
        sums[Section(result.test_id.split(".", 1)[0])] += points(result)
    final = min(sums.values())
    return RubricScore(
        sections=tuple(SectionScore(s, sums[s]) for s in Section), final=final, band=band(final),
        rule_text=rule_text(),
    )


def _manual(att: Attestation) -> TestResult:
    return TestResult(
        test_id=att.test_id, status=TestStatus.MANUAL, outcome=TestOutcome.PASS,
        evidence=(f"attestation:{att.id}", *(f"attestation_file:{att.id}/{name}" for name, _ in att.evidence_files)),
        ran_at=att.attested_at, thresholds={"expires_at": att.expires_at},
        detail=f"attested by {att.attested_by} on {att.attested_at[:10]} (until {att.expires_at[:10]}): {att.statement}",
    )


def _ignored(attestations: Iterable[Attestation], *, now: str, author: str) -> list[str]:
    notes = []
    for att in attestations:
        if att.attested_by == author:
            notes.append(f"the attestation by {att.attested_by} does not count: they wrote this model")
        elif not att.valid_at(now):
            notes.append(f"the attestation by {att.attested_by} expired on {att.expires_at[:10]}")
    return notes


def merge(
    catalogue: Catalogue,
    automated: Mapping[str, TestResult],
    attestations: Iterable[Attestation],
    *,
    now: str,
    author: str,
) -> tuple[TestResult, ...]:
    """One result per catalogue test: the automated one, else a valid attestation, else not done.

    Parameters
    ----------
    catalogue
        The tests, in order.
    automated
        The checks' results by test id (``core.rubric.checks.evaluate``).
    attestations
        The model version's attestations (any test, any age).
    now
        The time the rubric runs (ISO 8601, UTC): attestations that expired by then do not count.
    author
        The model version's author: attestations they made do not count.
    """
    by_test: dict[str, list[Attestation]] = {}
    for att in attestations:
        by_test.setdefault(att.test_id, []).append(att)
    merged = []
    for test in catalogue.tests:
        found = automated.get(test.id)
        if found is not None and found.status == TestStatus.AUTOMATED:
            merged.append(found)
            continue
        atts = by_test.get(test.id, [])
        valid = [a for a in atts if a.attested_by != author and a.valid_at(now)]
        if valid:
            merged.append(_manual(max(valid, key=lambda a: (a.attested_at, a.id))))
            continue
        notes = _ignored(atts, now=now, author=author)
        if found is not None:
            reason = found.reason_not_done or "the automated check did not run"
        elif test.check is None:
            reason = "Airlock has no automated check for this test yet; a reviewer can attest it"
        else:
            reason = f"the automated check {test.check} gave no result"
        merged.append(TestResult(
            test_id=test.id, status=TestStatus.NOT_DONE, outcome=None,
            evidence=found.evidence if found is not None else (), ran_at=found.ran_at if found is not None else now,
            thresholds=found.thresholds if found is not None else {},
            detail=found.detail if found is not None else "",
            reason_not_done="; ".join([reason, *notes]),
        ))
    return tuple(merged)


def _needs(test: RubricTest, result: TestResult | None) -> tuple[float, str]:
    current = points(result) if result is not None else 0.0
    if test.check is not None:
        why = result.reason_not_done if result is not None and result.reason_not_done else ""
        needs = f"automated check {test.check} ({test.evidence})"
        if why:
            needs += f"; now: {why}"
        if current < POINTS[TestStatus.MANUAL]:
            needs += f"; or attest by hand for 0.5: {test.attestation}"
        return 1.0 - current, needs
    return POINTS[TestStatus.MANUAL] - current, f"a reviewer's attestation: {test.attestation}"


def next_steps(result: RubricResult, catalogue: Catalogue) -> tuple[NextStep, ...]:
    """The tests that would raise the final score most: weakest section first, largest gain first.

    A test that already earns its full points (automated, or manual with no check to automate)
    is left out; ties keep the catalogue's order.
    """
    sums = {s.section: s.points for s in result.score.sections}
    order = list(Section)
    steps: list[tuple[float, int, float, int, NextStep]] = []
    for i, test in enumerate(catalogue.tests):
        gain, needs = _needs(test, result.result(test.id))
        if gain <= 0:
            continue
        step = NextStep(test_id=test.id, section=test.section, gain=gain, needs=needs)
        steps.append((sums.get(test.section, 0.0), order.index(test.section), -gain, i, step))
    steps.sort(key=lambda s: s[:4])
    return tuple(s[4] for s in steps)


def compare(a: RubricResult, b: RubricResult) -> RubricComparison:
    """Two rubric results side by side: section sums, final delta (b − a), tests that changed."""
    sections = tuple((s, a.score.points(s), b.score.points(s)) for s in Section)
    ids = list(dict.fromkeys([*(r.test_id for r in a.results), *(r.test_id for r in b.results)]))
    differences = []
    for test_id in ids:
        ra, rb = a.result(test_id), b.result(test_id)
        sa, sb = (ra.status if ra else None), (rb.status if rb else None)
        oa, ob = (ra.outcome if ra else None), (rb.outcome if rb else None)
        if (sa, oa) != (sb, ob):
            differences.append(TestDifference(test_id, sa, sb, oa, ob))
    return RubricComparison(
        a=a, b=b, sections=sections, final_delta=b.score.final - a.score.final, differences=tuple(differences),
    )


__all__ = ["BANDS", "EXCEPTIONAL", "POINTS", "band", "compare", "merge", "next_steps", "points", "rule_text", "score"]
