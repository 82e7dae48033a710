"""Scoring rules on worked examples, and the order of recommendations."""

from __future__ import annotations

import pytest

from core.assessment.catalogue import parse_model
from core.assessment.models import Answer, MaturityModel, QuestionId
from core.assessment.recommendations import plan
from core.assessment.scoring import completion, effective_targets, score


def _model(dimension: str = "mean", overall: str = "weighted_mean") -> MaturityModel:
    """Two dimensions on a 0–3 scale: A (weight 1, two questions), B (weight 3, one)."""
    levels = {str(n): f"descriptor {n}" for n in range(4)}

    def rec(rid: str, deps: list[str] | None = None) -> list[dict[str, object]]:
        return [{"id": rid, "text": f"do {rid}", "depends_on": deps or []}]

    raw = {
        "format_version": 1, "id": "t", "version": "1", "name": "Test",
        "levels": [{"number": n, "name": f"L{n}", "summary": "s"} for n in range(4)],
        "scoring": {"dimension": dimension, "overall": overall},
        "dimensions": [
            {"id": "a", "name": "A", "weight": 1,
             "questions": [{"id": "a1", "text": "?", "levels": levels},
                           {"id": "a2", "text": "?", "levels": levels}],
             "recommendations": {"1": rec("a-1"), "2": rec("a-2", ["b-2"]), "3": rec("a-3")}},
            {"id": "b", "name": "B", "weight": 3,
             "questions": [{"id": "b1", "text": "?", "levels": levels}],
             "recommendations": {"1": rec("b-1"), "2": rec("b-2"), "3": rec("b-3", ["a-3"])}},
        ],
    }
    return parse_model(raw, "test")


def _answers(**levels: int | None) -> dict[QuestionId, Answer]:
    return {
        QuestionId(q): Answer(QuestionId(q), lv, skip_reason=None if lv is not None else "n/a")
        for q, lv in levels.items()
    }


def test_mean_per_dimension_and_weighted_overall() -> None:
    result = score(_model(), _answers(a1=1, a2=2, b1=3))
    assert result.of("a").score == pytest.approx(1.5)
    assert result.of("b").score == pytest.approx(3.0)
    assert result.overall == pytest.approx((1 * 1.5 + 3 * 3.0) / 4)  # 2.625
    assert result.overall_reached == 2
    assert result.weakest == ("a",)
    assert "weighted by A 1, B 3" in result.rule


def test_minimum_rules_are_the_weakest_link() -> None:
    result = score(_model("minimum", "minimum"), _answers(a1=1, a2=3, b1=2))
    assert result.of("a").score == 1.0
    assert result.overall == 1.0
    assert "highest level whose characteristics all hold" in result.rule


def test_plain_mean_overall_and_skips_left_out() -> None:
    result = score(_model("mean", "mean"), _answers(a1=2, a2=None, b1=0))
    assert result.of("a").score == 2.0  # the skipped question does not pull it down
    assert result.of("a").skipped == 1
    assert result.overall == pytest.approx(1.0)
    done = completion(_model(), _answers(a1=2, a2=None))
    assert (done.answered, done.skipped, done.total) == (1, 1, 3)


def test_unanswered_dimension_has_no_level_and_blocks_weakest_link_overall() -> None:
    assert score(_model("mean", "minimum"), _answers(a1=2)).overall is None
    assert score(_model("mean", "mean"), _answers(a1=2)).overall == 2.0


def test_a_weakest_dimension_needs_another_answered_dimension_above_it() -> None:
    assert score(_model(), _answers(a1=1)).weakest == ()  # only A answered: nothing to compare with
    assert score(_model(), _answers(a1=2, a2=2, b1=2)).weakest == ()  # all level: none is weakest
    assert score(_model(), _answers(a1=1, b1=2)).weakest == ("a",)
    assert score(_model("minimum", "minimum"), _answers(a1=3, a2=2, b1=3)).weakest == ("a",)


def test_recommendations_follow_dependencies_then_level_then_gap() -> None:
    m = _model()
    result = score(m, _answers(a1=0, a2=1, b1=1))  # A 0.5 (reached 0), B 1
    steps = plan(m, result, {"a": 2, "b": 2})
    ids = [s.recommendation.id for s in steps]
    # level 1 first; then level 2: b-2 must precede a-2, which depends on it
    assert ids == ["a-1", "b-2", "a-2"]
    assert [s.position for s in steps] == [1, 2, 3]
    assert "Needed first by: #3 do a-2" in steps[1].reason  # by position and title, not by id
    assert steps[2].depends_on == ("#2 do b-2",) and "Depends on: #2 do b-2" in steps[2].reason


def test_dependency_outside_target_is_pulled_in_as_prerequisite() -> None:
    m = _model()
    result = score(m, _answers(a1=2, a2=2, b1=2))
    steps = plan(m, result, {"b": 3})  # b-3 depends on a-3; A has no target
    assert [(s.recommendation.id, s.prerequisite_only) for s in steps] == [
        ("a-3", True), ("b-3", False)]


def test_larger_gap_goes_first_at_the_same_level() -> None:
    m = _model()
    result = score(m, _answers(a1=0, a2=0, b1=0))
    steps = plan(m, result, {"a": 1, "b": 3})
    assert [s.recommendation.id for s in steps][:2] == ["b-1", "a-1"]


def test_no_plan_when_targets_are_met() -> None:
    m = _model()
    assert plan(m, score(m, _answers(a1=3, a2=3, b1=3)), {"a": 2, "b": 3}) == []


def test_dimensions_without_a_target_aim_one_level_up() -> None:
    model = _model()
    result = score(model, _answers(a1=1, a2=2, b1=3))  # A reached 1 (1.5), B reached 3 (top)
    assert effective_targets(model, result, {}) == {"a": 2}  # B is at the top: no target
    assert effective_targets(model, result, {"a": 3}) == {"a": 3}  # the assessors' own wins
    steps = [s.recommendation.id for s in plan(model, result, effective_targets(model, result, {}))]
    assert steps == ["a-2"]  # its prerequisite b-2 is already reached (B stands at 3)
    only = plan(model, result, effective_targets(model, result, {}))[0]
    assert only.depends_on == ("do b-2 (in place)",)
