"""Value types of the discovery area: datasets, versions, profiles, schemas, drift.

Everything is a frozen dataclass that services return and pages display. Nothing here
touches the store, Qt or the file system. Profiles, schemas, validation and drift reports
are registered record kinds of :mod:`core.formats` (bottom of this module): written with
``formats.dumps`` and read with ``formats.loads``, which keeps stored copies readable after
a layout change (one upgrade step per older ``format_version``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NewType

from core import formats

DatasetId = NewType("DatasetId", str)
VersionId = NewType("VersionId", str)

#: Layout version of stored profile / schema / drift JSON.
#: Profile 2: ``ColumnProfile.identifier``, ``TargetAssociation.p_value``, ``Profile.not_pii``.
PROFILE_FORMAT_VERSION = 2
#: Schema 2: ``ColumnSchema.max_out_of_range_fraction``; whole-number bounds of integer columns.
SCHEMA_FORMAT_VERSION = 2

REDACTED = "‹redacted›"


# --- kinds ---------------------------------------------------------------------------------
# StrEnums: each member equals its value, so stored JSON, audit details and comparisons with
# the plain strings keep working, and msgspec writes and reads them by value. A value stored by
# an earlier release must stay a member: removing one makes those records unreadable.


class SourceKind(StrEnum):
    """What a version was imported from (and what kind of file a preview shows)."""

    CSV = "csv"
    PARQUET = "parquet"
    EXCEL = "excel"
    SQL = "sql"


class SemanticType(StrEnum):
    """What a column means, as the profile infers it."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    IDENTIFIER = "identifier"


class Severity(StrEnum):
    """How much an alert or anomaly matters, most severe first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class PiiKind(StrEnum):
    """The personal-data pattern most of a column's values match."""

    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    NATIONAL_ID = "national_id"
    PERSON_NAME = "person_name"  # short text unique per row that reads like names
    FREE_TEXT = "free_text"  # other text with spaces, unique per row (notes, addresses)


class ColumnFlag(StrEnum):
    """Notable properties of a profiled column."""

    CONSTANT = "constant"
    NEAR_CONSTANT = "near_constant"
    HIGH_CARDINALITY = "high_cardinality"


class AlertKind(StrEnum):
    """What a profile alert is about."""

    PII = "pii"
    CONSTANT = "constant"
    MISSING = "missing"
    HIGH_CARDINALITY = "high_cardinality"
    NEAR_CONSTANT = "near_constant"
    IDENTIFIER = "identifier"
    OUTLIERS = "outliers"
    DUPLICATES = "duplicates"
    TARGET_EXCLUDED = "target_excluded"
    LEAKAGE = "leakage"
    HIGH_CORRELATION = "high_correlation"


class CorrelationMethod(StrEnum):
    PEARSON = "pearson"
    SPEARMAN = "spearman"
    CRAMERS_V = "cramers_v"
    CORRELATION_RATIO = "correlation_ratio"


class ColumnType(StrEnum):
    """The logical type a schema expects of a column."""

    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    STRING = "string"


class AnomalyKind(StrEnum):
    """What a validation anomaly is about."""

    MISSING_COLUMN = "missing_column"
    UNEXPECTED_COLUMN = "unexpected_column"
    TYPE_MISMATCH = "type_mismatch"
    MISSING_VALUES = "missing_values"
    TOO_MANY_MISSING = "too_many_missing"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_VALUE = "unknown_value"
    NOT_UNIQUE = "not_unique"


class DriftColumnKind(StrEnum):
    """How a column is compared for drift."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    DISCRETE = "discrete"  # numbers or booleans with few levels, compared as categories


class DriftTest(StrEnum):
    KS = "ks"  # two-sample Kolmogorov–Smirnov
    CHI2 = "chi2"  # chi-square on the category counts


class DriftDistance(StrEnum):
    WASSERSTEIN_STD = "wasserstein_std"  # Wasserstein in reference standard deviations
    JENSEN_SHANNON = "jensen_shannon"


class DriftLevel(StrEnum):
    """How large a column's drift is (``none`` when it did not drift)."""

    NONE = "none"
    MODERATE = "moderate"
    MAJOR = "major"


class DriftReason(StrEnum):
    """What moved in a drifted column."""

    DISTRIBUTION = "distribution"  # the values' distribution (test and PSI)
    MISSING = "missing"  # the share of missing values


class Correction(StrEnum):
    """How p-values are adjusted for testing many columns at once."""

    BH = "bh"  # Benjamini–Hochberg false discovery rate
    BONFERRONI = "bonferroni"


SEMANTIC_TYPES: tuple[SemanticType, ...] = tuple(SemanticType)
SEVERITIES: tuple[Severity, ...] = tuple(Severity)


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """How to read a delimited text file. ``None`` means: sniff it from the file."""

    delimiter: str | None = None
    encoding: str = "utf-8"
    has_header: bool | None = None
    quote_char: str = '"'
    decimal: str | None = None  # "." or ","; None: sniffed (a comma only with another delimiter)


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str  # Arrow type name as stored in the snapshot: int64, double, string, bool, timestamp[us]…


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a version came from. ``source`` never holds a password."""

    source_kind: SourceKind
    source: str  # file path, or the database URL without its password
    query: str | None
    source_sha256: str | None  # hash of the source file's bytes (None for SQL)
    imported_by: str
    imported_at: str


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable snapshot of a dataset. ``content_sha256`` is its identity."""

    id: VersionId
    dataset_id: DatasetId
    dataset_name: str
    number: int
    content_sha256: str
    size_bytes: int
    row_count: int
    columns: tuple[ColumnInfo, ...]
    lineage: Lineage
    warnings: tuple[str, ...] = ()

    @property
    def column_count(self) -> int:
        return len(self.columns)

    @property
    def label(self) -> str:
        return f"{self.dataset_name}@{self.number}"


@dataclass(frozen=True, slots=True)
class Dataset:
    id: DatasetId
    name: str
    created_at: str
    created_by: str
    versions: int
    latest: DatasetVersion | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import produced; ``new`` is False when identical content was already there."""

    version: DatasetVersion
    new: bool


# --- profile -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    severity: Severity
    column: str | None
    kind: AlertKind
    message: str


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """Statistics of one column. Absent statistics are None; lists are JSON-ready."""

    name: str
    storage_type: str
    semantic_type: SemanticType
    count: int
    missing: int
    distinct: int
    stats: dict[str, Any] = field(default_factory=dict)  # min max mean std zeros negatives outliers…
    quantiles: dict[str, float] = field(default_factory=dict)  # "0.25" -> value
    histogram: dict[str, list[float]] = field(default_factory=dict)  # counts, edges
    top_values: list[tuple[str, int]] = field(default_factory=list)
    pii: PiiKind | None = None
    flags: tuple[ColumnFlag, ...] = ()
    #: Why the column is an identifier (``semantic_type`` is then ``identifier``), e.g.
    #: "consecutive integers, one per row (row numbers)"; None otherwise. Drift and the
    #: associations leave such columns out.
    identifier: str | None = None

    @property
    def missing_fraction(self) -> float:
        return self.missing / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class Correlation:
    a: str
    b: str
    method: CorrelationMethod
    value: float


@dataclass(frozen=True, slots=True)
class TargetAssociation:
    column: str
    mutual_information: float
    model_score: float  # ROC AUC (binary), balanced accuracy (multi-class) or R² (regression)
    score_name: str
    leakage: bool
    #: Permutation p-value of the mutual information (the target shuffled, margins kept);
    #: None in profiles from before it was computed.
    p_value: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A dataset version's profile. Holds no raw rows; PII/identifier top values are redacted."""

    version_id: str
    row_count: int
    column_count: int
    duplicate_rows: int
    memory_bytes: int
    columns: tuple[ColumnProfile, ...]
    alerts: tuple[Alert, ...]
    correlations: tuple[Correlation, ...]
    target: str | None = None
    target_associations: tuple[TargetAssociation, ...] = ()
    sampled_rows: int | None = None  # rows used for correlations/associations when sampled
    #: Columns the user said hold no personal data: not redacted as PII or identifiers.
    not_pii: tuple[str, ...] = ()
    format_version: int = PROFILE_FORMAT_VERSION

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# --- schema --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """What one column is expected to hold.

    ``minimum`` and ``maximum`` are stored exactly (whole numbers in an integer column); show
    them with :meth:`bound_text`. Up to ``max_out_of_range_fraction`` of the values may lie
    outside them before validation calls it a problem (fewer are a low-severity note).
    """

    name: str
    type: ColumnType
    semantic_type: SemanticType
    required: bool = True
    max_missing_fraction: float = 0.0
    minimum: int | float | None = None
    maximum: int | float | None = None
    allowed_values: tuple[str, ...] | None = None
    unique: bool = False
    max_out_of_range_fraction: float = 0.0

    def bound_text(self, value: float | None) -> str:
        """A bound (or a value) for people: whole in an integer column, else 6 significant digits."""
        if value is None:
            return ""
        if self.type == ColumnType.INTEGER and float(value).is_integer():
            return str(int(value))
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = f"{float(value):.6g}"
        if "e" in text and 1e-4 <= abs(value) < 1e15:
            text = f"{float(value):.6f}".rstrip("0").rstrip(".")
        return text


@dataclass(frozen=True, slots=True)
class Schema:
    dataset_name: str
    revision: int
    columns: tuple[ColumnSchema, ...]
    based_on: str | None = None  # version label it was inferred from
    format_version: int = SCHEMA_FORMAT_VERSION

    def column(self, name: str) -> ColumnSchema | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Anomaly:
    severity: Severity
    column: str | None
    kind: AnomalyKind
    message: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class ValidationReport:
    schema_revision: int
    version_label: str
    anomalies: tuple[Anomaly, ...]

    @property
    def ok(self) -> bool:
        return not any(a.severity in (Severity.HIGH, Severity.MEDIUM) for a in self.anomalies)


# --- drift ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """One column's comparison (see :mod:`core.data.drift` for the rule).

    ``psi`` is over the values only (missing values are compared on their own:
    ``missing_reference`` / ``missing_current`` are shares of all rows, with a two-proportion
    test). ``psi_expected`` is the PSI two samples of these sizes from one distribution show
    on average (``(cells - 1) × (1/n_ref + 1/n_cur)``); the effect that counts is the excess.
    """

    column: str
    kind: DriftColumnKind
    psi: float
    test: DriftTest
    statistic: float
    p_value: float
    p_adjusted: float
    distance: float  # Wasserstein (in reference std units) or Jensen–Shannon distance
    distance_name: DriftDistance
    level: DriftLevel
    drifted: bool
    psi_expected: float = 0.0
    cells: int = 0  # bins or levels compared
    missing_reference: float = 0.0
    missing_current: float = 0.0
    missing_p_value: float = 1.0
    missing_p_adjusted: float = 1.0
    reasons: tuple[DriftReason, ...] = ()

    @property
    def psi_excess(self) -> float:
        """PSI beyond what sampling alone gives at these sample sizes (never below 0)."""
        return max(self.psi - self.psi_expected, 0.0)


@dataclass(frozen=True, slots=True)
class DriftReport:
    reference: str
    current: str
    correction: Correction
    alpha: float
    psi_moderate: float
    psi_major: float
    columns: tuple[ColumnDrift, ...]
    skipped: tuple[str, ...]  # columns not compared, "NAME: reason"
    missing_moderate: float = 0.05  # change in missing share (of all rows) that counts as drift
    missing_major: float = 0.20
    reference_columns: int = 0  # columns in each table, and in both (0: not recorded, format 1)
    current_columns: int = 0
    shared_columns: int = 0

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns if c.drifted)

    @property
    def drift(self) -> bool:
        return bool(self.drifted_columns)

    @property
    def few_shared(self) -> bool:
        """Fewer than half of all the columns are in both tables: probably different datasets."""
        union = self.reference_columns + self.current_columns - self.shared_columns
        return self.reference_columns > 0 and 2 * self.shared_columns < union

    @property
    def verdict(self) -> str:
        union = self.reference_columns + self.current_columns - self.shared_columns
        note = (f"only {self.shared_columns} of {union} columns in common (different datasets?); "
                if self.few_shared else "")
        if not self.columns:
            return f"{note}nothing compared (every shared column was skipped)"
        if not self.drift:
            return f"{note}no drift"
        return f"{note}drift in {len(self.drifted_columns)} of {len(self.columns)} columns"


# --- formats -------------------------------------------------------------------------------
# Version 1 of each is the layout release 0.1.0 stored (``dataclasses.asdict`` of the value).
# A layout change raises the version and adds ``upgrades={old: step}`` here.

def _profile_1_to_2(body: dict[str, Any]) -> dict[str, Any]:
    """Profile 1 → 2: the fields added in 2 with the values a version-1 profile implies."""
    for col in body["columns"]:
        col.setdefault("identifier", "identifier" if col.get("semantic_type") == "identifier" else None)
    for assoc in body.get("target_associations") or []:
        assoc.setdefault("p_value", None)
    body.setdefault("not_pii", [])
    return body


formats.register(formats.RecordKind(
    "airlock.profile", Profile, PROFILE_FORMAT_VERSION, "profile", "recompute the profile",
    upgrades={1: _profile_1_to_2},
))
def _schema_1_to_2(body: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 → 2: no out-of-range tolerance (what version 1 checked), bounds unchanged."""
    for col in body["columns"]:
        col.setdefault("max_out_of_range_fraction", 0.0)
    return body


formats.register(formats.RecordKind(
    "airlock.schema", Schema, SCHEMA_FORMAT_VERSION, "schema", "infer the schema again",
    upgrades={1: _schema_1_to_2},
))
formats.register(formats.RecordKind(
    "airlock.validation_report", ValidationReport, 1, "validation report", "validate the version again",
    derived=lambda r: {"ok": r.ok},
))
def _drift_report_1_to_2(body: dict[str, Any]) -> dict[str, Any]:
    # Format 2 added missing-value figures, the PSI expected by chance, the reasons and the
    # column counts. A format-1 column's level was its PSI band, drifted or not; now a
    # column that did not drift is level "none".
    for column in body.get("columns", []):
        if not column["drifted"]:
            column["level"] = "none"
        else:
            column.setdefault("reasons", ["distribution"])
    return body


formats.register(formats.RecordKind(
    "airlock.drift_report", DriftReport, 2, "drift report", "compare the versions again",
    upgrades={1: _drift_report_1_to_2},
    derived=lambda r: {"drift": r.drift, "drifted_columns": list(r.drifted_columns), "verdict": r.verdict},
))
