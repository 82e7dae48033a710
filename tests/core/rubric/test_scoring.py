"""Scoring on worked examples: points per status, the minimum rule, bands, attestations, next steps."""

from __future__ import annotations

import pytest

from core.rubric import scoring
from core.rubric.catalogue import load_catalogue
from core.rubric.models import (
    Attestation,
    AttestationId,
    RubricResult,
    RubricResultId,
    Section,
    TestOutcome,
    TestResult,
    TestStatus,
)

CATALOGUE = load_catalogue()
NOW = "2026-12-01T12:00:00+00:00"


def _r(test_id: str, status: TestStatus, outcome: TestOutcome | None = TestOutcome.PASS) -> TestResult:
    return TestResult(test_id, status, outcome if status != TestStatus.NOT_DONE else None, (), NOW, {}, "")


def _att(test_id: str, by: str = "rita", expires: str = "2027-01-01T00:00:00+00:00", at: str = NOW) -> Attestation:
    return Attestation(AttestationId(f"at-{test_id}-{by}-{expires[:4]}"), test_id, "mv-1", "done by hand", (),
                       by, at, expires)


def _result(results: tuple[TestResult, ...]) -> RubricResult:
    return RubricResult(RubricResultId("rr"), "mv-1", 1, results, scoring.score(results), "ana", NOW)


def test_the_final_score_is_the_minimum_of_the_section_sums() -> None:
    # data: 5 automated + 1 manual = 5.5; model: 7 automated; infra: 2 automated + 2 manual = 3; monitor: 1 manual
    results = (
        *(_r(f"data.{i}", TestStatus.AUTOMATED) for i in range(1, 6)), _r("data.6", TestStatus.MANUAL),
        _r("data.7", TestStatus.NOT_DONE),
        *(_r(f"model.{i}", TestStatus.AUTOMATED) for i in range(1, 8)),
        _r("infra.1", TestStatus.AUTOMATED), _r("infra.2", TestStatus.AUTOMATED),
        _r("infra.3", TestStatus.MANUAL), _r("infra.4", TestStatus.MANUAL),
        _r("monitor.1", TestStatus.MANUAL),
    )
    s = scoring.score(results)
    assert [(x.section, x.points) for x in s.sections] == [
        (Section.DATA, 5.5), (Section.MODEL, 7.0), (Section.INFRA, 3.0), (Section.MONITOR, 0.5),
    ]
    assert s.final == 0.5 and s.band == "serious reliability holes likely"
    assert "minimum" in s.rule_text and "2017" in s.rule_text


def test_a_failed_automated_test_still_scores_its_point() -> None:
    s = scoring.score((_r("model.5", TestStatus.AUTOMATED, TestOutcome.FAIL), _r("model.6", TestStatus.MANUAL)))
    assert s.points(Section.MODEL) == 1.5 and s.final == 0.0


@pytest.mark.parametrize(("final", "expected"), [
    (0.0, "research project"), (0.5, "serious reliability holes likely"), (1.0, "serious reliability holes likely"),
    (1.5, "first pass at production"), (2.0, "first pass at production"),
    (3.0, "reasonably tested, more could be automated"), (3.5, "strong automated testing and monitoring"),
    (5.0, "strong automated testing and monitoring"), (5.5, "exceptional"), (7.0, "exceptional"),
])
def test_bands_follow_the_paper(final: float, expected: str) -> None:
    assert scoring.band(final) == expected


def test_all_automated_gives_seven_and_exceptional() -> None:
    s = scoring.score(tuple(_r(t.id, TestStatus.AUTOMATED) for t in CATALOGUE.tests))
    assert s.final == 7.0 and s.band == "exceptional"


def test_a_valid_attestation_gives_half_a_point_and_an_automated_result_wins() -> None:
    automated = {"data.1": _r("data.1", TestStatus.AUTOMATED, TestOutcome.FAIL)}
    merged = scoring.merge(CATALOGUE, automated, [_att("data.1"), _att("data.7")], now=NOW, author="ana")
    by_id = {r.test_id: r for r in merged}
    assert len(merged) == 28
    assert by_id["data.1"].status == TestStatus.AUTOMATED and by_id["data.1"].outcome == TestOutcome.FAIL
    assert by_id["data.7"].status == TestStatus.MANUAL and by_id["data.7"].evidence[0].startswith("attestation:")
    assert scoring.score(merged).points(Section.DATA) == 1.5
    assert by_id["data.6"].status == TestStatus.NOT_DONE and "attest" in str(by_id["data.6"].reason_not_done)


def test_an_expired_attestation_counts_zero() -> None:
    expired = _att("data.7", expires="2026-11-30T00:00:00+00:00", at="2026-06-01T00:00:00+00:00")
    merged = {r.test_id: r for r in scoring.merge(CATALOGUE, {}, [expired], now=NOW, author="ana")}
    assert merged["data.7"].status == TestStatus.NOT_DONE
    assert "expired on 2026-11-30" in str(merged["data.7"].reason_not_done)
    assert scoring.score(merged.values()).points(Section.DATA) == 0.0
    # the same attestation still counted the day before it expired
    earlier = {r.test_id: r for r in scoring.merge(CATALOGUE, {}, [expired], now="2026-11-29T00:00:00+00:00",
                                                   author="ana")}
    assert earlier["data.7"].status == TestStatus.MANUAL


def test_an_attestation_by_the_models_author_does_not_count() -> None:
    merged = {r.test_id: r for r in scoring.merge(CATALOGUE, {}, [_att("data.7", by="ana")], now=NOW, author="ana")}
    assert merged["data.7"].status == TestStatus.NOT_DONE
    assert "wrote this model" in str(merged["data.7"].reason_not_done)


def test_next_steps_start_with_the_weakest_section_and_the_largest_gain() -> None:
    results = scoring.merge(
        CATALOGUE,
        {**{f"data.{i}": _r(f"data.{i}", TestStatus.AUTOMATED) for i in range(1, 6)},
         **{f"model.{i}": _r(f"model.{i}", TestStatus.AUTOMATED) for i in range(1, 8)},
         **{f"infra.{i}": _r(f"infra.{i}", TestStatus.AUTOMATED) for i in (1, 2, 4, 5)}},
        [_att("monitor.2")], now=NOW, author="ana",
    )
    steps = scoring.next_steps(_result(results), CATALOGUE)
    # monitor is weakest (0.5): its not-done tests (gain 1) come first, then the attested one (gain 0.5)
    assert [s.section for s in steps[:7]] == [Section.MONITOR] * 7
    assert steps[0].test_id == "monitor.1" and steps[0].gain == 1.0
    assert steps[6].test_id == "monitor.2" and steps[6].gain == 0.5
    # then infra (4.0), weaker than data (5.0)
    assert steps[7].section == Section.INFRA
    assert {s.test_id for s in steps} >= {"data.6", "data.7"} and "model.1" not in {s.test_id for s in steps}
    data7 = next(s for s in steps if s.test_id == "data.7")
    assert data7.gain == 0.5 and "attestation" in data7.needs


def test_compare_shows_section_sums_and_changed_tests() -> None:
    a = _result((_r("data.1", TestStatus.NOT_DONE), _r("model.5", TestStatus.AUTOMATED, TestOutcome.FAIL)))
    b = _result((_r("data.1", TestStatus.AUTOMATED), _r("model.5", TestStatus.AUTOMATED, TestOutcome.FAIL)))
    c = scoring.compare(a, b)
    assert c.sections[0] == (Section.DATA, 0.0, 1.0) and c.final_delta == 0.0
    assert [d.test_id for d in c.differences] == ["data.1"]
    assert c.differences[0].a_status == TestStatus.NOT_DONE and c.differences[0].b_status == TestStatus.AUTOMATED
