"""Value types of the training area: specs, runs, model versions, the child's result.

Everything is a frozen dataclass (or a StrEnum, or a ``NewType`` id) that services return,
the CLI prints and pages display. Nothing here touches the store, Qt, the file system or a
heavy library (scikit-learn, XGBoost): this module is imported by the store, the desktop and
the child process alike, and must stay light.

The training spec is a registered record kind of :mod:`core.formats` (``airlock.training_spec``,
bottom of this module), so its stored canonical JSON stays readable after a layout change, and
:func:`spec_hash` is the hash of that canonical form. Model versions and runs are registered
too (``airlock.model_version``, ``airlock.training_run``) for stored bodies and ``--json``.

The evidence item values are owned by the evidence helper: they extend :class:`EvidenceItem`
in the marked section below (one dataclass per :class:`EvidenceKind`, each registered).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

from core import formats

# The kinds and metric names live in core.training.kinds (no dataclasses: light to import); re-exported (__all__).
from core.training.kinds import (
    ALGORITHMS,
    DEFAULT_METRIC,
    METRICS,
    PROBABILITY_METRICS,
    Algorithm,
    Device,
    Encoding,
    Imputation,
    RunStatus,
    Scaling,
    SearchKind,
    SplitKind,
    Task,
)

RunId = NewType("RunId", str)
ModelVersionId = NewType("ModelVersionId", str)

#: Layout version of a stored training spec (and of its TOML file's ``format_version``).
SPEC_FORMAT_VERSION = 1
MODEL_VERSION_FORMAT_VERSION = 1
TRAINING_RUN_FORMAT_VERSION = 1


# --- the spec ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preprocessing:
    """How raw columns become the estimator's input (one ColumnTransformer).

    Parameters
    ----------
    numeric_imputation, categorical_imputation
        SimpleImputer strategy for each kind of column.
    scaling
        Scaler for numeric columns (``none``: passed through after imputation).
    encoding
        Encoder for categorical columns with at most ``high_cardinality_threshold`` levels.
    high_cardinality_threshold
        Categorical columns with more distinct values than this use
        ``high_cardinality_encoding`` instead (one-hot would explode).
    datetime_parts
        Parts a datetime column is split into (``year``, ``month``, ``day``, ``dayofweek``,
        ``hour``, ``minute``, ``dayofyear``); each becomes a numeric column.
    """

    numeric_imputation: Imputation = Imputation.MEDIAN
    categorical_imputation: Imputation = Imputation.MOST_FREQUENT
    scaling: Scaling = Scaling.STANDARD
    encoding: Encoding = Encoding.ONEHOT
    high_cardinality_threshold: int = 50
    high_cardinality_encoding: Encoding = Encoding.TARGET
    datetime_parts: tuple[str, ...] = ("year", "month", "dayofweek", "hour")


#: The datetime parts :class:`Preprocessing` accepts.
DATETIME_PARTS: tuple[str, ...] = ("year", "month", "day", "dayofweek", "dayofyear", "hour", "minute")


@dataclass(frozen=True, slots=True)
class SplitSpec:
    """How rows are split into training (with CV folds) and holdout.

    ``date_column`` is required for a time split, ``group_column`` for a group split.
    """

    kind: SplitKind = SplitKind.RANDOM
    holdout_share: float = 0.2
    cv_folds: int = 5
    date_column: str | None = None
    group_column: str | None = None


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """The hyperparameter search and its budget.

    ``trials`` is the number of parameter sets tried per algorithm (for ``grid``: the most
    grid points kept); ``minutes`` a wall-clock budget for the whole search (None: no limit;
    the search stops at whichever comes first).
    """

    kind: SearchKind = SearchKind.RANDOM
    trials: int = 20
    minutes: float | None = None


@dataclass(frozen=True, slots=True)
class ExcludedColumn:
    """A column left out of the features and why (``train init`` fills these in)."""

    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class TrainingSpec:
    """Everything a training run needs to know; immutable, hashed (:func:`spec_hash`).

    Parameters
    ----------
    dataset
        The pinned dataset version, ``"name@N"``.
    dataset_sha256
        That version's content hash; a run refuses a version whose content differs.
    target
        The column to predict.
    task
        Binary, multiclass or regression.
    features
        The input columns, in order.
    excluded
        Columns left out and why (informational: a column listed in ``features`` is used).
    preprocessing, split, search
        See :class:`Preprocessing`, :class:`SplitSpec`, :class:`SearchSpec`.
    metric
        The scikit-learn scorer name to optimise (one of :data:`METRICS` for the task).
    algorithms
        Candidate estimator families; the best after the search is kept.
    seed
        Seed of every random step (split, search, estimator).
    slices
        Columns whose levels (or quantile bins) are evaluated as slices.
    sensitive
        Columns evaluated for inclusion (fairlearn's group metrics).
    weak_slice_gap
        A slice whose metric is this much below the overall figure is flagged weak.
    compute
        ``"cpu"``, ``"gpu"`` or a Dask scheduler address ``"dask://host:port"``
        (``"tls://host:port"`` for a cluster with TLS).
    allow_cpu_fallback
        With ``compute = "gpu"`` and no GPU: train on the CPU instead of refusing.
    smoke_rows
        Rows of the smoke run that precedes the full run.
    bootstrap_rounds
        Resamples for the confidence intervals of holdout metrics.
    """

    dataset: str
    dataset_sha256: str
    target: str
    task: Task
    features: tuple[str, ...]
    excluded: tuple[ExcludedColumn, ...] = ()
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    split: SplitSpec = field(default_factory=SplitSpec)
    metric: str = "roc_auc"
    algorithms: tuple[Algorithm, ...] = ()
    search: SearchSpec = field(default_factory=SearchSpec)
    seed: int = 0
    slices: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    weak_slice_gap: float = 0.05
    compute: str = "cpu"
    allow_cpu_fallback: bool = False
    smoke_rows: int = 500
    bootstrap_rounds: int = 200
    format_version: int = SPEC_FORMAT_VERSION

    @property
    def dataset_name(self) -> str:
        """The dataset's name without the version number (``"loans"`` of ``"loans@3"``)."""
        name, _, _ = self.dataset.rpartition("@")
        return name or self.dataset

    @property
    def dataset_number(self) -> int | None:
        """The pinned version number, or None when ``dataset`` names no ``@N``."""
        _, at, number = self.dataset.rpartition("@")
        return int(number) if at and number.isdigit() else None

    @property
    def compute_kind(self) -> str:
        """``"cpu"``, ``"gpu"`` or ``"dask"`` (any scheduler address)."""
        if self.compute in ("cpu", "gpu"):
            return self.compute
        return "dask" if "://" in self.compute else self.compute

    @property
    def dask_address(self) -> str | None:
        """The scheduler address Dask's Client takes (``tcp://…`` or ``tls://…``), or None."""
        if "://" not in self.compute:
            return None
        scheme, _, rest = self.compute.partition("://")
        return f"tcp://{rest}" if scheme == "dask" else self.compute


def spec_hash(spec: TrainingSpec) -> str:
    """The spec's identity: SHA-256 hex of its canonical JSON (RFC 8785, with its envelope)."""
    return hashlib.sha256(formats.canonical_json(formats.to_builtins(spec))).hexdigest()


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """One thing wrong with a spec: the field (``"split.date_column"``) and what to do."""

    field: str
    message: str


# --- runs and model versions ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnvironmentLock:
    """What a model was trained with, to rebuild the environment later.

    ``packages`` holds every installed distribution as ``(name, version)``, sorted by name.
    """

    python: str
    platform: str
    cpu: str
    gpu: str | None
    packages: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TrialResult:
    """One parameter set tried by the search, scored by CV on the training part.

    ``score`` is the mean CV score (greater is better), ``score_sd`` its standard deviation
    over the folds; both None when the trial failed, and ``error`` then says why.
    """

    number: int
    algorithm: Algorithm
    params: dict[str, object]
    score: float | None
    score_sd: float | None
    seconds: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class MetricValue:
    """A metric's value with its confidence interval (None where none was computed).

    ``method`` states how the figure and its interval were obtained
    (``"percentile bootstrap, 200 resamples of the holdout rows, 95%"``).
    """

    name: str
    value: float
    ci_low: float | None
    ci_high: float | None
    method: str


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A trained model stored in the workspace, with its lineage.

    ``artefacts`` names each stored blob and its SHA-256 (``("pipeline.joblib", "…")``,
    ``("model.ubj", "…")``); a blob is only deserialised after its hash checked out.
    """

    id: ModelVersionId
    model: str
    number: int
    spec_hash: str
    dataset: str
    dataset_version_id: str
    dataset_sha256: str
    algorithm: Algorithm
    params: dict[str, object]
    metric: str
    holdout: MetricValue
    device: Device
    seed: int
    wall_seconds: float
    peak_memory_bytes: int
    environment: EnvironmentLock
    created_by: str
    created_at: str
    artefacts: tuple[tuple[str, str], ...]
    format_version: int = MODEL_VERSION_FORMAT_VERSION

    @property
    def label(self) -> str:
        """``"model@N"``."""
        return f"{self.model}@{self.number}"


@dataclass(frozen=True, slots=True)
class TrainingRun:
    """One start of a spec: running, or how it ended (a failed run says why in ``error``)."""

    id: RunId
    spec_hash: str
    model: str | None
    status: RunStatus
    started_at: str
    finished_at: str | None
    error: str | None
    model_version: ModelVersionId | None
    trials: int
    format_version: int = TRAINING_RUN_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class ModelComparison:
    """Two model versions side by side (``airlock runs compare``, ``TrainingService.compare``).

    ``differences`` holds ``(field, value in a, value in b)`` for each lineage field that
    differs (spec, data, algorithm, parameters, metric, holdout figure, device, seed …);
    ``holdout_margin`` is b's holdout value minus a's when both optimise the same metric.
    """

    a: ModelVersion
    b: ModelVersion
    differences: tuple[tuple[str, object, object], ...]
    holdout_margin: float | None


# --- evidence (values owned by the evidence helper, T3) -------------------------------------


class EvidenceKind(StrEnum):
    """What one evidence item is about."""

    HOLDOUT_METRICS = "holdout_metrics"
    CV = "cv"
    SEARCH = "search"
    BASELINES = "baselines"
    IMPORTANCE = "importance"
    FEATURE_COST = "feature_cost"
    SLICES = "slices"
    FAIRNESS = "fairness"
    CALIBRATION = "calibration"
    RESIDUALS = "residuals"
    REPRODUCIBILITY = "reproducibility"
    STALENESS = "staleness"
    SMOKE = "smoke"
    EXPLANATION = "explanation"


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """Base of every evidence item: its kind and how it was computed.

    Each kind is a subclass with its own fields, registered as a record kind
    ``airlock.evidence.<kind>``; stored one per row, read back by the row's kind.
    """

    kind: EvidenceKind
    method: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """Every evidence item stored with one model version."""

    version_id: ModelVersionId
    items: tuple[EvidenceItem, ...]

    def item(self, kind: EvidenceKind) -> EvidenceItem | None:
        """The item of ``kind``, or None when the run did not produce one."""
        return next((i for i in self.items if i.kind == kind), None)


#: Layout version of the smoke run's evidence item.
SMOKE_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class SmokeResult(EvidenceItem):
    """The smoke run before the full run (T2's runner): does the spec train, predict and beat chance?

    One candidate (the spec's first algorithm, default parameters) is fitted on ``rows``
    sampled training rows and scored with the spec's metric on those same rows; ``chance``
    is a dummy model's score there (prior class probabilities / the mean). ``passed`` when
    ``score > chance``. Built with ``kind=EvidenceKind.SMOKE``.
    """

    algorithm: Algorithm
    metric: str
    rows: int
    score: float
    chance: float
    passed: bool
    seconds: float
    format_version: int = SMOKE_FORMAT_VERSION


# --- evidence items (T3): one dataclass per kind, each registered as airlock.evidence.<kind> ---
# Scores follow scikit-learn's scorer names and signs (greater is better: ``neg_log_loss``),
# like the search's trial scores, so gaps and margins read the same way everywhere.

#: Layout version of every evidence item below (each kind has its own registration).
EVIDENCE_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class HoldoutMetrics(EvidenceItem):
    """The chosen model's metrics on the holdout rows, each with its bootstrap interval.

    ``metric`` is the spec's (optimised) metric; ``metrics`` holds it first, then the usual
    others for the task. Built with ``kind=EvidenceKind.HOLDOUT_METRICS``.
    """

    metric: str
    rows: int
    bootstrap_rounds: int
    seed: int
    metrics: tuple[MetricValue, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION

    def value(self, name: str) -> MetricValue | None:
        """The metric called ``name``, or None when it was not computed."""
        return next((m for m in self.metrics if m.name == name), None)


@dataclass(frozen=True, slots=True)
class CrossValidation(EvidenceItem):
    """CV mean ± sd of the chosen candidate on the training part (from its search trial)."""

    metric: str
    algorithm: Algorithm
    trial: int
    folds: int
    mean: float
    sd: float
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class SearchTable(EvidenceItem):
    """Every trial of the search (parameters, CV score, time) and the chosen parameters."""

    metric: str
    trials: tuple[TrialResult, ...]
    chosen_trial: int | None
    chosen_algorithm: Algorithm
    chosen_params: dict[str, object]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class BaselineScore:
    """One baseline on the holdout and the chosen model's margin over it (paired bootstrap interval).

    ``beaten`` when the margin's interval lies above zero.
    """

    name: str
    description: str
    score: float
    margin: float
    margin_ci_low: float | None
    margin_ci_high: float | None
    beaten: bool


@dataclass(frozen=True, slots=True)
class Baselines(EvidenceItem):
    """A dummy and a linear model trained on the same split, scored like the chosen model."""

    metric: str
    model_score: float
    baselines: tuple[BaselineScore, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class FeatureImportance:
    """One feature's permutation importance: the mean drop of the metric and its interval.

    ``uninformative`` when the interval reaches zero (or lies below it): no evidence that
    the model needs the feature.
    """

    feature: str
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    uninformative: bool


@dataclass(frozen=True, slots=True)
class PermutationImportance(EvidenceItem):
    """Permutation importance of every input column on the holdout, most important first."""

    metric: str
    repeats: int
    features: tuple[FeatureImportance, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class FeatureCostRow:
    """What one input column costs at scoring time: its transformed columns, time and memory."""

    feature: str
    transformed_columns: int
    seconds: float
    time_share: float
    bytes: int
    memory_share: float


@dataclass(frozen=True, slots=True)
class FeatureCost(EvidenceItem):
    """Per-feature scoring cost on the holdout (``scoring_seconds``: the whole pipeline's predict)."""

    rows: int
    scoring_seconds: float
    features: tuple[FeatureCostRow, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class SliceMetric:
    """The metric on one slice of the holdout, its interval and its gap to the overall figure.

    ``gap = value - overall`` (negative: worse than overall); ``declared`` when the column is
    one of the spec's slices; ``weak`` when the gap is below ``-weak_slice_gap`` and the
    interval excludes the overall value.
    """

    column: str
    level: str
    declared: bool
    rows: int
    value: float
    ci_low: float | None
    ci_high: float | None
    gap: float
    weak: bool


@dataclass(frozen=True, slots=True)
class SliceReport(EvidenceItem):
    """The metric per declared and automatically found slice; ``skipped`` says what was not scored and why."""

    metric: str
    overall: float
    min_rows: int
    weak_slice_gap: float
    slices: tuple[SliceMetric, ...]
    skipped: tuple[str, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION

    @property
    def weak(self) -> tuple[SliceMetric, ...]:
        """The slices flagged weak."""
        return tuple(s for s in self.slices if s.weak)


@dataclass(frozen=True, slots=True)
class GroupRates:
    """One group of a sensitive attribute: its size and fairlearn's per-group figures (None: not for this task)."""

    group: str
    rows: int
    selection_rate: float | None
    false_positive_rate: float | None
    false_negative_rate: float | None
    accuracy: float | None
    mean_absolute_error: float | None


@dataclass(frozen=True, slots=True)
class AttributeFairness:
    """One sensitive attribute: per-group rates and the two differences (binary classification only)."""

    attribute: str
    groups: tuple[GroupRates, ...]
    demographic_parity_difference: float | None
    equalized_odds_difference: float | None


@dataclass(frozen=True, slots=True)
class Inclusion(EvidenceItem):
    """Inclusion (fairness) figures per sensitive attribute, computed with fairlearn on the holdout."""

    positive_label: str | None
    attributes: tuple[AttributeFairness, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class Calibration(EvidenceItem):
    """Brier score and reliability curve of a classifier's probabilities on the holdout.

    ``mean_predicted[i]``, ``fraction_positive[i]`` and ``counts[i]`` describe the i-th
    non-empty bin of ``bins`` equal-width probability bins.
    """

    positive_label: str | None
    brier: float
    bins: int
    mean_predicted: tuple[float, ...]
    fraction_positive: tuple[float, ...]
    counts: tuple[int, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class ResidualBin:
    """Residuals (``y - prediction``) of the holdout rows whose prediction falls in one bin."""

    low: float
    high: float
    rows: int
    mean_residual: float
    sd_residual: float


@dataclass(frozen=True, slots=True)
class Residuals(EvidenceItem):
    """Residual analysis of a regressor on the holdout: quantiles, mean, sd, and residual against prediction."""

    quantiles: tuple[tuple[float, float], ...]
    mean: float
    sd: float
    bins: tuple[ResidualBin, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class ReproducibilityResult(EvidenceItem):
    """A second training in a fresh child with the same data and seed, its holdout output compared.

    ``identical`` when every number is bit-for-bit equal; ``passed`` when identical or the
    largest absolute difference is within ``tolerance``; ``max_abs_difference`` is None when
    the two outputs do not even have the same length.
    """

    identical: bool
    passed: bool
    max_abs_difference: float | None
    tolerance: float
    compared: int
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class StalenessWindow:
    """One newer time window scored by a model trained on the older rows."""

    start: str
    end: str
    age_days: float
    rows: int
    value: float | None


@dataclass(frozen=True, slots=True)
class Staleness(EvidenceItem):
    """Quality against age: trained on the oldest rows, scored on successively newer windows."""

    date_column: str
    metric: str
    trained_rows: int
    trained_until: str
    windows: tuple[StalenessWindow, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class Contribution:
    """One transformed feature of an explained row: its value and its contribution to the output."""

    feature: str
    source: str
    value: float
    contribution: float


@dataclass(frozen=True, slots=True)
class Explanation(EvidenceItem):
    """Why the model gave one row its output: transformed features and per-feature contributions.

    ``output`` is the number the contributions explain (``output_kind`` says which: margin,
    decision value, probability of the predicted class, or prediction); where the method is
    additive, ``base_value + sum(contributions) == output``; otherwise ``base_value`` is None.
    """

    row: int
    predicted: str
    output: float
    output_kind: str
    base_value: float | None
    contributions: tuple[Contribution, ...]
    format_version: int = EVIDENCE_FORMAT_VERSION


#: The dataclass of each evidence kind (SmokeResult above is the runner's).
EVIDENCE_TYPES: dict[EvidenceKind, type[EvidenceItem]] = {
    EvidenceKind.HOLDOUT_METRICS: HoldoutMetrics,
    EvidenceKind.CV: CrossValidation,
    EvidenceKind.SEARCH: SearchTable,
    EvidenceKind.BASELINES: Baselines,
    EvidenceKind.IMPORTANCE: PermutationImportance,
    EvidenceKind.FEATURE_COST: FeatureCost,
    EvidenceKind.SLICES: SliceReport,
    EvidenceKind.FAIRNESS: Inclusion,
    EvidenceKind.CALIBRATION: Calibration,
    EvidenceKind.RESIDUALS: Residuals,
    EvidenceKind.REPRODUCIBILITY: ReproducibilityResult,
    EvidenceKind.STALENESS: Staleness,
    EvidenceKind.SMOKE: SmokeResult,
    EvidenceKind.EXPLANATION: Explanation,
}

_EVIDENCE_TITLES: dict[EvidenceKind, str] = {
    EvidenceKind.HOLDOUT_METRICS: "holdout metrics", EvidenceKind.CV: "cross-validation result",
    EvidenceKind.SEARCH: "search table", EvidenceKind.BASELINES: "baseline comparison",
    EvidenceKind.IMPORTANCE: "permutation importance", EvidenceKind.FEATURE_COST: "feature cost",
    EvidenceKind.SLICES: "slice report", EvidenceKind.FAIRNESS: "inclusion report",
    EvidenceKind.CALIBRATION: "calibration", EvidenceKind.RESIDUALS: "residual analysis",
    EvidenceKind.REPRODUCIBILITY: "reproducibility check", EvidenceKind.STALENESS: "staleness curve",
    EvidenceKind.EXPLANATION: "explanation",
}
for _kind, _title in _EVIDENCE_TITLES.items():
    formats.register(formats.RecordKind(
        f"airlock.evidence.{_kind}", EVIDENCE_TYPES[_kind], EVIDENCE_FORMAT_VERSION, _title, "train the model again",
    ))


# --- formats -------------------------------------------------------------------------------

formats.register(formats.RecordKind(
    "airlock.training_spec", TrainingSpec, SPEC_FORMAT_VERSION, "training spec",
    "write the spec again (airlock train init)",
))
formats.register(formats.RecordKind(
    "airlock.model_version", ModelVersion, MODEL_VERSION_FORMAT_VERSION, "model version",
    "train the model again",
))
formats.register(formats.RecordKind(
    "airlock.evidence.smoke", SmokeResult, SMOKE_FORMAT_VERSION, "smoke run result", "train the model again",
))
formats.register(formats.RecordKind(
    "airlock.training_run", TrainingRun, TRAINING_RUN_FORMAT_VERSION, "training run",
    "start the run again",
))


__all__ = [
    "ALGORITHMS", "DATETIME_PARTS", "DEFAULT_METRIC", "METRICS", "PROBABILITY_METRICS", "Algorithm",
    "AttributeFairness", "BaselineScore", "Baselines", "Calibration", "Contribution", "CrossValidation",
    "EVIDENCE_TYPES", "Explanation", "FeatureCost", "FeatureCostRow", "FeatureImportance", "GroupRates",
    "HoldoutMetrics", "Inclusion", "PermutationImportance", "ReproducibilityResult", "ResidualBin", "Residuals",
    "SearchTable", "SliceMetric", "SliceReport", "Staleness", "StalenessWindow",
    "Device", "Encoding", "EnvironmentLock", "Evidence", "EvidenceItem", "EvidenceKind",
    "ExcludedColumn", "Imputation", "MetricValue", "ModelComparison", "ModelVersion", "ModelVersionId", "Preprocessing",
    "RunId", "RunStatus", "Scaling", "SearchKind", "SearchSpec", "SmokeResult", "SpecProblem", "SplitKind",
    "SplitSpec", "Task", "TrainingRun", "TrainingSpec", "spec_hash",
]
