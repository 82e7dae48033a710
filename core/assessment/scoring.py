"""Turning answers into levels by each model's stated rule, and comparing assessments.

Rules (the model file picks one of each; :meth:`ScoringRule.describe` words them):

* dimension ``mean``: the mean of the dimension's answered questions;
* dimension ``minimum``: the highest level whose characteristics all hold, which for
  questions answered with the level whose descriptor fits is the lowest answer;
* overall ``mean``, ``weighted_mean`` (by each dimension's ``weight``) or ``minimum``
  (weakest link).

Skipped questions are left out. A dimension with no answered question has no level and is
left out of the overall; the overall has no level while any dimension lacks one under the
``minimum`` rule, since the weakest link is then unknown. Pure functions, no store.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.assessment.models import (
    Answer,
    Assessment,
    AssessmentScore,
    Comparison,
    Completion,
    DimensionChange,
    DimensionId,
    DimensionRule,
    DimensionScore,
    Gap,
    MaturityModel,
    OverallRule,
    QuestionId,
)

_EPS = 1e-9


def completion(model: MaturityModel, answers: Mapping[QuestionId, Answer]) -> Completion:
    """How many of the model's questions are answered or skipped."""
    ids = {q.id for q in model.questions()}
    done = [a for qid, a in answers.items() if qid in ids and not a.pending]
    skipped = sum(1 for a in done if a.skipped)
    return Completion(answered=len(done) - skipped, skipped=skipped, total=len(ids))


def score(model: MaturityModel, answers: Mapping[QuestionId, Answer]) -> AssessmentScore:
    """Score ``answers`` against ``model`` by the model's stated rule."""
    dims: list[DimensionScore] = []
    for dim in model.dimensions:
        levels = [
            a.level for q in dim.questions
            if (a := answers.get(q.id)) is not None and a.level is not None
        ]
        skipped = sum(1 for q in dim.questions if (a := answers.get(q.id)) and a.skipped)
        value: float | None
        if not levels:
            value = None
        elif model.scoring.dimension is DimensionRule.MINIMUM:
            value = float(min(levels))
        else:
            value = sum(levels) / len(levels)
        dims.append(
            DimensionScore(dim.id, dim.name, value, len(levels), skipped, len(dim.questions))
        )

    known = [(d, s) for d, s in zip(model.dimensions, dims, strict=True) if s.score is not None]
    overall: float | None
    rule = model.scoring.overall
    if not known:
        overall = None
    elif rule is OverallRule.MINIMUM:
        overall = None if len(known) < len(dims) else min(s.score for _, s in known if s.score is not None)
    elif rule is OverallRule.WEIGHTED_MEAN:
        total_w = sum(d.weight for d, _ in known)
        overall = sum(d.weight * (s.score or 0.0) for d, s in known) / total_w
    else:
        overall = sum(s.score or 0.0 for _, s in known) / len(known)

    # A weakest dimension is one another answered dimension beats: with one answered dimension,
    # or all answered ones level, there is none to name.
    weakest: tuple[DimensionId, ...] = ()
    scores = [s.score for _, s in known if s.score is not None]
    if len(scores) >= 2 and max(scores) > min(scores) + _EPS:
        low = min(scores)
        weakest = tuple(s.dimension_id for _, s in known if s.score is not None and s.score <= low + _EPS)
    return AssessmentScore(tuple(dims), overall, model.describe_scoring(), weakest)


def effective_targets(
    model: MaturityModel, result: AssessmentScore, targets: Mapping[DimensionId, int]
) -> dict[DimensionId, int]:
    """The targets set by the assessors, and for every other dimension the next level up.

    An assessment without targets still yields a path forward: one level above where each
    dimension stands (capped at the model's top level). Targets the assessors set win.
    """
    out: dict[DimensionId, int] = {}
    for dim in model.dimensions:
        if dim.id in targets:
            out[dim.id] = targets[dim.id]
            continue
        reached = result.of(dim.id).reached
        current = model.min_level if reached is None else reached
        if current < model.max_level:
            out[dim.id] = current + 1
    return out


def gaps(model: MaturityModel, result: AssessmentScore, targets: Mapping[DimensionId, int]) -> list[Gap]:
    """Dimensions whose reached level is below their target, in model order.

    A dimension with no answered question counts as the model's lowest level, so a gap
    to its target is still planned rather than silently dropped.
    """
    out: list[Gap] = []
    for dim in model.dimensions:
        target = targets.get(dim.id)
        if target is None:
            continue
        reached = result.of(dim.id).reached
        current = model.min_level if reached is None else reached
        if target > current:
            out.append(Gap(dim.id, dim.name, current, target))
    return out


def compare(
    before_model: MaturityModel,
    before: Assessment,
    after_model: MaturityModel,
    after: Assessment,
) -> Comparison:
    """``before`` and ``after`` dimension by dimension.

    The two may use different versions of a model: dimensions are matched by id, and a
    dimension present in only one of them shows no level on the other side.
    """
    first = score(before_model, before.answers)
    second = score(after_model, after.answers)
    names = {d.id: d.name for d in before_model.dimensions}
    names.update({d.id: d.name for d in after_model.dimensions})
    order = [d.id for d in after_model.dimensions]
    order += [d.id for d in before_model.dimensions if d.id not in order]

    def level(result: AssessmentScore, dim_id: DimensionId) -> float | None:
        try:
            return result.of(dim_id).score
        except KeyError:
            return None

    changes = tuple(
        DimensionChange(d, names[d], level(first, d), level(second, d)) for d in order
    )
    return Comparison(before, after, changes, first.overall, second.overall)
