"""Value types of the discovery area: datasets, versions, profiles, schemas, drift.

Everything is a frozen dataclass that services return and pages display. Nothing here
touches the store, Qt or the file system. Profiles, schemas, validation and drift reports
are registered record kinds of :mod:`core.formats` (bottom of this module): written with
``formats.dumps`` and read with ``formats.loads``, which keeps stored copies readable after
a layout change (one upgrade step per older ``format_version``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NewType

from core import formats

DatasetId = NewType("DatasetId", str)
VersionId = NewType("VersionId", str)

#: Layout version of stored profile / schema / drift JSON.
PROFILE_FORMAT_VERSION = 1
SCHEMA_FORMAT_VERSION = 1

SEMANTIC_TYPES = ("numeric", "categorical", "boolean", "datetime", "text", "identifier")
SEVERITIES = ("high", "medium", "low", "info")
REDACTED = "‹redacted›"


@dataclass(frozen=True, slots=True)
class CsvOptions:
    """How to read a delimited text file. ``None`` means: sniff it from the file."""

    delimiter: str | None = None
    encoding: str = "utf-8"
    has_header: bool | None = None
    quote_char: str = '"'


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    type: str  # Arrow type name as stored in the snapshot: int64, double, string, bool, timestamp[us]…


@dataclass(frozen=True, slots=True)
class Lineage:
    """Where a version came from. ``source`` never holds a password."""

    source_kind: str  # csv | parquet | excel | sql
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
    severity: str  # one of SEVERITIES
    column: str | None
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """Statistics of one column. Absent statistics are None; lists are JSON-ready."""

    name: str
    storage_type: str
    semantic_type: str
    count: int
    missing: int
    distinct: int
    stats: dict[str, Any] = field(default_factory=dict)  # min max mean std zeros negatives outliers…
    quantiles: dict[str, float] = field(default_factory=dict)  # "0.25" -> value
    histogram: dict[str, list[float]] = field(default_factory=dict)  # counts, edges
    top_values: list[tuple[str, int]] = field(default_factory=list)
    pii: str | None = None  # email | phone | card | national_id
    flags: tuple[str, ...] = ()  # constant, near_constant, high_cardinality, mixed_types

    @property
    def missing_fraction(self) -> float:
        return self.missing / self.count if self.count else 0.0


@dataclass(frozen=True, slots=True)
class Correlation:
    a: str
    b: str
    method: str  # pearson | spearman | cramers_v | correlation_ratio
    value: float


@dataclass(frozen=True, slots=True)
class TargetAssociation:
    column: str
    mutual_information: float
    model_score: float  # ROC AUC (binary), balanced accuracy (multi-class) or R² (regression)
    score_name: str
    leakage: bool


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
    format_version: int = PROFILE_FORMAT_VERSION

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# --- schema --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    """What one column is expected to hold."""

    name: str
    type: str  # integer | float | boolean | datetime | string
    semantic_type: str
    required: bool = True
    max_missing_fraction: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    allowed_values: tuple[str, ...] | None = None
    unique: bool = False


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
    severity: str
    column: str | None
    kind: str  # missing_column, unexpected_column, type_mismatch, too_many_missing, out_of_range, unknown_value, not_unique
    message: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class ValidationReport:
    schema_revision: int
    version_label: str
    anomalies: tuple[Anomaly, ...]

    @property
    def ok(self) -> bool:
        return not any(a.severity in ("high", "medium") for a in self.anomalies)


# --- drift ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    column: str
    kind: str  # numeric | categorical
    psi: float
    test: str  # ks | chi2
    statistic: float
    p_value: float
    p_adjusted: float
    distance: float  # Wasserstein (in reference std units) or Jensen–Shannon distance
    distance_name: str
    level: str  # none | moderate | major
    drifted: bool


@dataclass(frozen=True, slots=True)
class DriftReport:
    reference: str
    current: str
    correction: str
    alpha: float
    psi_moderate: float
    psi_major: float
    columns: tuple[ColumnDrift, ...]
    skipped: tuple[str, ...]  # columns not compared, with the reason

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns if c.drifted)

    @property
    def drift(self) -> bool:
        return bool(self.drifted_columns)

    @property
    def verdict(self) -> str:
        if not self.drift:
            return "no drift"
        return f"drift in {len(self.drifted_columns)} of {len(self.columns)} columns"


# --- formats -------------------------------------------------------------------------------
# Version 1 of each is the layout release 0.1.0 stored (``dataclasses.asdict`` of the value).
# A layout change raises the version and adds ``upgrades={old: step}`` here.

formats.register(formats.RecordKind(
    "airlock.profile", Profile, PROFILE_FORMAT_VERSION, "profile", "recompute the profile",
))
formats.register(formats.RecordKind(
    "airlock.schema", Schema, SCHEMA_FORMAT_VERSION, "schema", "infer the schema again",
))
formats.register(formats.RecordKind(
    "airlock.validation_report", ValidationReport, 1, "validation report", "validate the version again",
    derived=lambda r: {"ok": r.ok},
))
formats.register(formats.RecordKind(
    "airlock.drift_report", DriftReport, 1, "drift report", "compare the versions again",
    derived=lambda r: {"drift": r.drift, "drifted_columns": list(r.drifted_columns), "verdict": r.verdict},
))
