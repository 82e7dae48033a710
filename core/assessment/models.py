"""Value types of the maturity assessment area.

Two families live here. The *model* types (:class:`MaturityModel` and its parts) describe a
questionnaire as read from a model file: levels, dimensions, questions with one descriptor
per level, the scoring rule and the recommendations written per level. The *assessment*
types describe one organisation unit's answers against one version of a model, and the
results computed from them (scores, gaps, planned recommendations, evidence suggestions).

Everything is a frozen dataclass: services return these, pages display them, nothing here
touches the store, Qt or the file system.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

from core.errors import InvalidInput

ModelId = NewType("ModelId", str)
DimensionId = NewType("DimensionId", str)
QuestionId = NewType("QuestionId", str)
RecommendationId = NewType("RecommendationId", str)
AssessmentId = NewType("AssessmentId", str)

#: Version of the model file layout this code writes; readers exist for each listed one.
MODEL_FORMAT_VERSION = 1


class DimensionRule(StrEnum):
    """How the answers to one dimension's questions become the dimension's level."""

    MEAN = "mean"
    MINIMUM = "minimum"


class OverallRule(StrEnum):
    """How the dimension levels become the unit's overall level."""

    MEAN = "mean"
    WEIGHTED_MEAN = "weighted_mean"
    MINIMUM = "minimum"


_DIMENSION_RULE_TEXT = {
    DimensionRule.MEAN: "a dimension's level is the mean of its answered questions",
    DimensionRule.MINIMUM: (
        "a dimension's level is the highest level whose characteristics all hold, "
        "that is the lowest answer among its questions"
    ),
}
_OVERALL_RULE_TEXT = {
    OverallRule.MEAN: "the overall level is the mean of the dimension levels",
    OverallRule.WEIGHTED_MEAN: (
        "the overall level is the mean of the dimension levels weighted by {weights}"
    ),
    OverallRule.MINIMUM: (
        "the overall level is the weakest link: the lowest dimension level"
    ),
}


@dataclass(frozen=True, slots=True)
class Level:
    """One step of a model's scale, e.g. ``2 — Repeatable``."""

    number: int
    name: str
    summary: str


@dataclass(frozen=True, slots=True)
class Question:
    """A question with one concrete descriptor per level of the model's scale.

    ``evidence`` names a workspace probe (see :mod:`core.assessment.evidence`) whose
    findings are shown beside the question as a suggestion; ``None`` when none applies.
    """

    id: QuestionId
    text: str
    descriptors: Mapping[int, str]
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One step on the path forward: doing it lifts ``dimension_id`` towards ``level``."""

    id: RecommendationId
    dimension_id: DimensionId
    level: int
    text: str
    depends_on: tuple[RecommendationId, ...] = ()


@dataclass(frozen=True, slots=True)
class Dimension:
    id: DimensionId
    name: str
    description: str
    weight: float
    questions: tuple[Question, ...]
    recommendations: tuple[Recommendation, ...]


@dataclass(frozen=True, slots=True)
class ScoringRule:
    """The stated rule turning answers into levels; :meth:`describe` is shown beside results."""

    dimension: DimensionRule
    overall: OverallRule
    note: str = ""

    def describe(self, dimensions: tuple[Dimension, ...] = ()) -> str:
        """The rule in one or two plain sentences, as reports print it."""
        weights = ", ".join(f"{d.name} {d.weight:g}" for d in dimensions) or "dimension"
        first = _DIMENSION_RULE_TEXT[self.dimension]
        second = _OVERALL_RULE_TEXT[self.overall].format(weights=weights)
        text = (
            f"{first[0].upper()}{first[1:]}; {second}. Skipped questions are left out. "
            "A level counts as reached when the score is at least that level."
        )
        return f"{text} {self.note}".strip()


@dataclass(frozen=True, slots=True)
class MaturityModel:
    """A questionnaire as read and validated from one model file."""

    id: ModelId
    version: str
    name: str
    description: str
    source: str
    levels: tuple[Level, ...]
    scoring: ScoringRule
    dimensions: tuple[Dimension, ...]
    format_version: int = MODEL_FORMAT_VERSION
    digest: str = ""
    builtin: bool = False

    @property
    def min_level(self) -> int:
        return self.levels[0].number

    @property
    def max_level(self) -> int:
        return self.levels[-1].number

    def level(self, number: int) -> Level:
        for level in self.levels:
            if level.number == number:
                return level
        raise KeyError(number)

    def dimension(self, dimension_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dimension_id:
                return dim
        raise KeyError(dimension_id)

    def question(self, question_id: str) -> Question:
        for dim in self.dimensions:
            for q in dim.questions:
                if q.id == question_id:
                    return q
        raise KeyError(question_id)

    def dimension_of(self, question_id: str) -> Dimension:
        for dim in self.dimensions:
            if any(q.id == question_id for q in dim.questions):
                return dim
        raise KeyError(question_id)

    def questions(self) -> tuple[Question, ...]:
        return tuple(q for d in self.dimensions for q in d.questions)

    def recommendations(self) -> tuple[Recommendation, ...]:
        return tuple(r for d in self.dimensions for r in d.recommendations)

    def describe_scoring(self) -> str:
        return self.scoring.describe(self.dimensions)


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """A line of ``airlock assess models``."""

    id: ModelId
    version: str
    name: str
    levels: str
    dimensions: int
    questions: int
    builtin: bool


# ---------------------------------------------------------------------------- assessments


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """An attachment kept encrypted in the workspace's blob store."""

    digest: str
    filename: str
    size: int
    media_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Answer:
    """One question's answer: a level with a note, or a skip with its reason."""

    question_id: QuestionId
    level: int | None
    note: str = ""
    skip_reason: str | None = None
    evidence: tuple[EvidenceRef, ...] = ()
    answered_by: str = ""
    answered_at: dt.datetime | None = None

    @property
    def skipped(self) -> bool:
        return self.level is None and self.skip_reason is not None

    @property
    def pending(self) -> bool:
        """Evidence is attached but the question has neither a level nor a skip yet."""
        return self.level is None and self.skip_reason is None


@dataclass(frozen=True, slots=True)
class Completion:
    answered: int
    skipped: int
    total: int

    @property
    def done(self) -> int:
        return self.answered + self.skipped

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def complete(self) -> bool:
        return self.done >= self.total

    @property
    def open(self) -> int:
        """Questions neither answered nor skipped (evidence alone does not count)."""
        return max(0, self.total - self.done)

    def describe(self) -> str:
        return (
            f"{self.done} of {self.total} questions done "
            f"({self.answered} answered, {self.skipped} skipped)"
        )


@dataclass(frozen=True, slots=True)
class Assessment:
    """One unit's assessment against one model version, at one revision.

    A final assessment is locked. Changing it creates a new revision (a new id with the
    same ``lineage_id`` and ``revision + 1``) that starts as a draft copy of this one.
    """

    id: AssessmentId
    lineage_id: AssessmentId
    revision: int
    unit: str
    assessors: tuple[str, ...]
    assessed_on: dt.date
    model_id: ModelId
    model_version: str
    status: AssessmentStatus
    targets: Mapping[DimensionId, int] = field(default_factory=dict)
    answers: Mapping[QuestionId, Answer] = field(default_factory=dict)
    created_by: str = ""
    created_at: dt.datetime | None = None
    finalised_by: str | None = None
    finalised_at: dt.datetime | None = None
    supersedes: AssessmentId | None = None

    @property
    def locked(self) -> bool:
        return self.status is AssessmentStatus.FINAL


@dataclass(frozen=True, slots=True)
class DimensionScore:
    dimension_id: DimensionId
    name: str
    score: float | None
    answered: int
    skipped: int
    total: int

    @property
    def reached(self) -> int | None:
        """The whole level reached: the score rounded down (2.9 has reached 2)."""
        return None if self.score is None else math.floor(self.score + 1e-9)


@dataclass(frozen=True, slots=True)
class AssessmentScore:
    dimensions: tuple[DimensionScore, ...]
    overall: float | None
    rule: str
    weakest: tuple[DimensionId, ...] = ()

    def of(self, dimension_id: str) -> DimensionScore:
        for d in self.dimensions:
            if d.dimension_id == dimension_id:
                return d
        raise KeyError(dimension_id)

    @property
    def overall_reached(self) -> int | None:
        return None if self.overall is None else math.floor(self.overall + 1e-9)


@dataclass(frozen=True, slots=True)
class Gap:
    dimension_id: DimensionId
    name: str
    current: int
    target: int

    @property
    def size(self) -> int:
        return max(0, self.target - self.current)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A recommendation placed in the ordered path forward, with why it is there."""

    position: int
    recommendation: Recommendation
    dimension_name: str
    reason: str
    prerequisite_only: bool = False
    depends_on: tuple[str, ...] = ()
    """Each dependency as people read it: ``#2 Write a use-case backlog…`` for a step of
    this plan, ``Write a use-case backlog… (in place)`` for one already reached."""


@dataclass(frozen=True, slots=True)
class EvidenceSuggestion:
    """What the workspace itself shows about a question; never applied automatically."""

    question_id: QuestionId
    probe: str
    summary: str
    suggested_level: int | None = None
    facts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DimensionChange:
    dimension_id: DimensionId
    name: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two assessments of a unit side by side, dimension by dimension."""

    before: Assessment
    after: Assessment
    changes: tuple[DimensionChange, ...]
    overall_before: float | None
    overall_after: float | None


@dataclass(frozen=True, slots=True)
class WorkspaceFacts:
    """What the workspace can tell about its own practice; ``None`` means "not known here"."""

    collected_at: dt.datetime
    workspace_role: str | None = None
    last_backup_at: dt.datetime | None = None
    backups_recorded: bool | None = None
    users_by_role: Mapping[str, int] | None = None
    active_users: int | None = None
    audit_events: int | None = None
    audit_chain_ok: bool | None = None
    datasets_total: int | None = None
    datasets_with_schema: int | None = None
    datasets_schema_reviewed: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


class UnansweredQuestions(InvalidInput):
    """Finalising was asked for while questions are still open; nothing was changed.

    ``open_questions`` lists their ids. Finalising anyway (``force``) records how many were
    left open, and the report says so.
    """

    code = "unanswered_questions"

    def __init__(self, message: str, open_questions: tuple[str, ...]) -> None:
        super().__init__(message)
        self.open_questions = open_questions


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A maturity model version kept in the workspace: its file's text (parsed by the catalogue)."""

    model_id: str
    version: str
    body: str
    builtin: bool
