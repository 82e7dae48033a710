"""Value types of the rubric area: the catalogue's tests, results, attestations, policy, scores.

The rubric is the ML Test Score of Breck et al. (IEEE BigData 2017): 28 tests in four sections,
each scored 0 (not done), 0.5 (done manually and attested) or 1 (run automatically by Airlock),
summed per section; the final score is the minimum of the four sums. A test's **status** (was
it done, and how) is kept apart from its **outcome** (did it pass), because the score counts
having a test, not passing it.

Everything here is a frozen dataclass, a StrEnum or a ``NewType`` id. Nothing here touches the
store, Qt, the file system or a heavy library: the store, the desktop, the CLI and the checks
all import this module. Stored records (rubric results, policies, attestations) are registered
kinds of :mod:`core.formats` at the bottom of the module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NewType

from core import formats

RubricResultId = NewType("RubricResultId", str)
AttestationId = NewType("AttestationId", str)

#: Layout versions of the stored records of this area.
RUBRIC_RESULT_FORMAT_VERSION = 1
RUBRIC_POLICY_FORMAT_VERSION = 1
ATTESTATION_FORMAT_VERSION = 1

#: The paper whose scoring Airlock implements, printed beside every score.
SOURCE = (
    "Breck, Cai, Nielsen, Salib, Sculley: The ML Test Score: A Rubric for ML Production Readiness "
    "and Technical Debt Reduction, IEEE BigData 2017"
)


class Section(StrEnum):
    """The four sections of the rubric, in the paper's order."""

    DATA = "data"
    MODEL = "model"
    INFRA = "infra"
    MONITOR = "monitor"

    @property
    def heading(self) -> str:
        """The section's name as the paper gives it."""
        return _SECTION_TITLES[self]


_SECTION_TITLES: dict[Section, str] = {
    Section.DATA: "Features and data",
    Section.MODEL: "Model development",
    Section.INFRA: "ML infrastructure",
    Section.MONITOR: "Monitoring",
}


class TestStatus(StrEnum):
    """Whether a test was done, and how (what the score counts)."""

    __test__ = False  # not a pytest class

    NOT_DONE = "not_done"
    MANUAL = "manual"
    AUTOMATED = "automated"


class TestOutcome(StrEnum):
    """Whether a test that was done passed (kept apart from the status)."""

    __test__ = False

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class RubricTest:
    """One test of the catalogue (``resources/rubric/ml_test_score_2017.json``).

    Parameters
    ----------
    id
        ``"data.1"`` … ``"monitor.7"``.
    section, number
        Where it sits in the paper.
    title
        The paper's title.
    passing
        What passing means, in our own words.
    check
        The id of the automated check behind it (``core.rubric.checks``), or None for a
        test only a person can attest today.
    evidence
        What the check (or the reviewer) reads.
    attestation
        What a reviewer must do and record to attest the test manually.
    """

    __test__ = False

    id: str
    section: Section
    number: int
    title: str
    passing: str
    check: str | None
    evidence: str
    attestation: str


@dataclass(frozen=True, slots=True)
class TestResult:
    """What one run of the rubric found for one test.

    ``evidence`` holds links to records (``"model_version:ID"``, ``"evidence:slices"``,
    ``"schema:loans@3"``, ``"attestation:ID"``); ``thresholds`` the policy values used;
    ``outcome`` is None when the test was not done, and ``reason_not_done`` then says why.
    """

    __test__ = False

    test_id: str
    status: TestStatus
    outcome: TestOutcome | None
    evidence: tuple[str, ...]
    ran_at: str
    thresholds: dict[str, float | str]
    detail: str
    reason_not_done: str | None = None


@dataclass(frozen=True, slots=True)
class Attestation:
    """A reviewer's statement that a test was done by hand for one model version.

    ``evidence_files`` are ``(file name, sha256)`` of the files stored encrypted as blobs;
    the attestation stops counting after ``expires_at`` (ISO 8601, UTC).
    """

    id: AttestationId
    test_id: str
    model_version_id: str
    statement: str
    evidence_files: tuple[tuple[str, str], ...]
    attested_by: str
    attested_at: str
    expires_at: str
    format_version: int = ATTESTATION_FORMAT_VERSION

    def valid_at(self, when: str) -> bool:
        """True while the attestation counts at ``when`` (ISO 8601 with a zone; a bare time reads as UTC)."""
        return _instant(when) < _instant(self.expires_at)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RubricPolicy:
    """The thresholds the automated checks use; stored in the workspace, versioned, audited.

    Parameters
    ----------
    version
        1 for the built-in defaults; each change stores the next version.
    baseline_margin
        How much the model must beat its best simple baseline by (Model 5), in the metric's units.
    slice_floor
        The lowest metric value any declared slice may have (Model 6); None: no absolute floor.
    slice_max_gap
        The largest gap a slice may fall below the overall metric (Model 6).
    fairness_max_dp, fairness_max_eo
        The largest demographic-parity and equalised-odds differences allowed (Model 7).
    cost_ratio
        A feature fails Data 3 when its share of scoring cost exceeds ``cost_ratio`` times
        its share of importance.
    deny_list
        Column names that must never be features (Data 4).
    allowed_sensitive
        PII-like or protected columns declared as acceptable features (Data 4).
    quality_floor
        The holdout metric a candidate must reach (Infra 4); None: only the champion comparison.
    set_by, set_at
        Who stored this version and when (empty for the built-in defaults).
    """

    version: int
    baseline_margin: float = 0.0
    slice_floor: float | None = None
    slice_max_gap: float = 0.05
    fairness_max_dp: float = 0.1
    fairness_max_eo: float = 0.1
    cost_ratio: float = 10.0
    deny_list: tuple[str, ...] = ()
    allowed_sensitive: tuple[str, ...] = ()
    quality_floor: float | None = None
    set_by: str = ""
    set_at: str = ""
    format_version: int = RUBRIC_POLICY_FORMAT_VERSION


#: The built-in policy a workspace uses until someone stores one.
DEFAULT_POLICY = RubricPolicy(version=1)


@dataclass(frozen=True, slots=True)
class SectionScore:
    """The points of one section (0–7, in halves)."""

    section: Section
    points: float


@dataclass(frozen=True, slots=True)
class RubricScore:
    """The four section sums, the final score (their minimum), its band and the rule used."""

    sections: tuple[SectionScore, ...]
    final: float
    band: str
    rule_text: str

    def points(self, section: Section) -> float:
        """The sum of one section."""
        return next(s.points for s in self.sections if s.section == section)


@dataclass(frozen=True, slots=True)
class RubricResult:
    """One stored run of the rubric for a model version (a new one per run; history kept)."""

    id: RubricResultId
    model_version_id: str
    policy_version: int
    results: tuple[TestResult, ...]
    score: RubricScore
    created_by: str
    created_at: str
    format_version: int = RUBRIC_RESULT_FORMAT_VERSION

    def result(self, test_id: str) -> TestResult | None:
        """The result of one test, or None when this run did not record it."""
        return next((r for r in self.results if r.test_id == test_id), None)


@dataclass(frozen=True, slots=True)
class NextStep:
    """A test that would raise the final score: by how much, and what it needs."""

    test_id: str
    section: Section
    gain: float
    needs: str


@dataclass(frozen=True, slots=True)
class TestDifference:
    """One test whose status or outcome differs between two rubric results."""

    __test__ = False

    test_id: str
    a_status: TestStatus | None
    b_status: TestStatus | None
    a_outcome: TestOutcome | None
    b_outcome: TestOutcome | None


@dataclass(frozen=True, slots=True)
class RubricComparison:
    """Two rubric results side by side: section sums, final scores and the tests that changed.

    ``sections`` holds ``(section, points in a, points in b)``; ``final_delta`` is b minus a.
    """

    a: RubricResult
    b: RubricResult
    sections: tuple[tuple[Section, float, float], ...]
    final_delta: float
    differences: tuple[TestDifference, ...]


# --- formats -------------------------------------------------------------------------------

formats.register(formats.RecordKind(
    "airlock.rubric_result", RubricResult, RUBRIC_RESULT_FORMAT_VERSION, "rubric result",
    "run the rubric again (airlock rubric run)",
))
formats.register(formats.RecordKind(
    "airlock.rubric_policy", RubricPolicy, RUBRIC_POLICY_FORMAT_VERSION, "rubric policy",
    "set the rubric policy again",
))
formats.register(formats.RecordKind(
    "airlock.attestation", Attestation, ATTESTATION_FORMAT_VERSION, "attestation",
    "attest the test again (airlock rubric attest)",
))


__all__ = [
    "ATTESTATION_FORMAT_VERSION", "DEFAULT_POLICY", "RUBRIC_POLICY_FORMAT_VERSION", "RUBRIC_RESULT_FORMAT_VERSION",
    "SOURCE", "Attestation", "AttestationId", "NextStep", "RubricComparison", "RubricPolicy", "RubricResult",
    "RubricResultId", "RubricScore", "RubricTest", "Section", "SectionScore", "TestDifference", "TestOutcome",
    "TestResult", "TestStatus",
]
