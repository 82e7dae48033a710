"""Gaps between reached and target levels, turned into an ordered path forward.

The model file writes recommendations per dimension per level: the steps that lift the
dimension *to* that level. For each dimension below its target, the plan takes every
recommendation for the levels above the reached one up to the target. A recommendation may
depend on others (in any dimension). A dependency whose level its dimension has already
reached counts as done; any other dependency is pulled into the plan as a prerequisite,
even in a dimension that has no target gap, because the step cannot happen without it.

Order (stated in docs/assessment.md):

1. Dependencies first: a step never comes before a step it depends on (topological order).
2. Among the steps whose dependencies are all placed, the one for the lowest level comes
   first (levels are reached in order, and the weakest link holds the organisation back);
3. then the step in the dimension with the largest gap to its target;
4. then the step in the dimension with the lowest current score;
5. then the model file's own order (dimension, then the order written).

Pure functions, no store.
"""

from __future__ import annotations

import heapq
import textwrap
from collections.abc import Mapping

from core.assessment.models import (
    AssessmentScore,
    DimensionId,
    MaturityModel,
    PlannedStep,
    Recommendation,
    RecommendationId,
)
from core.assessment.scoring import gaps


def plan(
    model: MaturityModel, result: AssessmentScore, targets: Mapping[DimensionId, int]
) -> list[PlannedStep]:
    """The ordered recommendations that close the gaps between ``result`` and ``targets``.

    Parameters
    ----------
    model:
        The model the assessment used (its recommendations and dependencies).
    result:
        The assessment's score under that model.
    targets:
        Target level per dimension id; dimensions without a target get no steps of
        their own (they may still receive prerequisite steps).
    """
    by_id = {r.id: r for r in model.recommendations()}
    position = {r.id: i for i, r in enumerate(model.recommendations())}
    dim_index = {d.id: i for i, d in enumerate(model.dimensions)}
    dim_name = {d.id: d.name for d in model.dimensions}
    reached: dict[DimensionId, int] = {}
    current: dict[DimensionId, float] = {}
    for d in model.dimensions:
        s = result.of(d.id)
        reached[d.id] = model.min_level if s.reached is None else s.reached
        current[d.id] = float(model.min_level) if s.score is None else s.score
    gap_size = {g.dimension_id: g.size for g in gaps(model, result, targets)}
    gap_from = {g.dimension_id: g.current for g in gaps(model, result, targets)}

    chosen: dict[RecommendationId, Recommendation] = {}
    for d in model.dimensions:
        if d.id not in gap_size:
            continue
        for r in d.recommendations:
            if reached[d.id] < r.level <= targets[d.id]:
                chosen[r.id] = r
    direct = set(chosen)

    needed_by: dict[RecommendationId, list[RecommendationId]] = {}
    frontier = list(chosen.values())
    while frontier:
        rec = frontier.pop()
        for dep_id in rec.depends_on:
            dep = by_id[dep_id]
            if dep.level <= reached[dep.dimension_id]:
                continue  # already in place
            needed_by.setdefault(dep_id, []).append(rec.id)
            if dep_id not in chosen:
                chosen[dep_id] = dep
                frontier.append(dep)

    waiting = {
        rid: {d for d in r.depends_on if d in chosen} for rid, r in chosen.items()
    }
    dependants: dict[RecommendationId, list[RecommendationId]] = {}
    for rid, deps in waiting.items():
        for prerequisite in deps:
            dependants.setdefault(prerequisite, []).append(rid)

    def key(rid: RecommendationId) -> tuple[int, int, float, int, int]:
        r = chosen[rid]
        return (
            r.level,
            -gap_size.get(r.dimension_id, 0),
            current[r.dimension_id],
            dim_index[r.dimension_id],
            position[rid],
        )

    ready = [(key(rid), rid) for rid, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[RecommendationId] = []
    while ready:
        _, rid = heapq.heappop(ready)
        order.append(rid)
        for nxt in dependants.get(rid, []):
            waiting[nxt].discard(rid)
            if not waiting[nxt]:
                heapq.heappush(ready, (key(nxt), nxt))
    # The catalogue refuses cyclic dependencies, so every chosen step is placed.
    assert len(order) == len(chosen), "cyclic recommendation dependencies"
    at = {rid: i + 1 for i, rid in enumerate(order)}
    steps: list[PlannedStep] = []
    for rid in order:
        r = chosen[rid]
        labels = tuple(
            f"#{at[d]} {title(by_id[d])}" if d in at else f"{title(by_id[d])} (in place)"
            for d in r.depends_on
        )
        steps.append(
            PlannedStep(
                position=at[rid],
                recommendation=r,
                dimension_name=dim_name[r.dimension_id],
                reason=_reason(r, rid in direct, gap_from, needed_by.get(rid, []), at, by_id, dim_name),
                prerequisite_only=rid not in direct,
                depends_on=labels,
            )
        )
    return steps


def title(r: Recommendation, width: int = 60) -> str:
    """A recommendation's text short enough to name it: its start, cut at a word, with "…"."""
    return textwrap.shorten(r.text, width=width, placeholder="…")


def _reason(
    r: Recommendation,
    direct: bool,
    gap_from: Mapping[DimensionId, int],
    needed_by: list[RecommendationId],
    at: Mapping[RecommendationId, int],
    by_id: Mapping[RecommendationId, Recommendation],
    dim_name: Mapping[DimensionId, str],
) -> str:
    parts: list[str] = []
    if direct:
        parts.append(
            f"Lifts {dim_name[r.dimension_id]} towards level {r.level} "
            f"(reached now: {gap_from[r.dimension_id]})."
        )
    else:
        parts.append(f"Prerequisite; counts towards {dim_name[r.dimension_id]} level {r.level}.")
    if needed_by:
        names = "; ".join(f"#{at[n]} {title(by_id[n])}" for n in sorted(set(needed_by), key=at.__getitem__))
        parts.append(f"Needed first by: {names}.")
    deps = sorted((d for d in r.depends_on if d in at), key=at.__getitem__)
    if deps:
        parts.append(f"Depends on: {'; '.join(f'#{at[d]} {title(by_id[d])}' for d in deps)}.")
    return " ".join(parts)
