"""Value types of the discovery area: datasets, versions, profiles, schemas, drift.

Everything is a frozen dataclass that services return and pages display. Nothing here
touches the store, Qt or the file system. Profiles, schemas and drift reports serialise to
plain JSON (``to_dict`` / ``from_dict``) with a ``format_version`` so stored copies stay
readable after the layout changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NewType

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        if d.get("format_version") != PROFILE_FORMAT_VERSION:
            raise ValueError(f"Unknown profile format {d.get('format_version')!r}")
        cols = tuple(
            ColumnProfile(**{**c, "top_values": [tuple(t) for t in c["top_values"]], "flags": tuple(c["flags"])})
            for c in d["columns"]
        )
        return cls(
            version_id=d["version_id"], row_count=d["row_count"], column_count=d["column_count"],
            duplicate_rows=d["duplicate_rows"], memory_bytes=d["memory_bytes"], columns=cols,
            alerts=tuple(Alert(**a) for a in d["alerts"]),
            correlations=tuple(Correlation(**c) for c in d["correlations"]),
            target=d.get("target"),
            target_associations=tuple(TargetAssociation(**t) for t in d.get("target_associations", [])),
            sampled_rows=d.get("sampled_rows"), format_version=d["format_version"],
        )


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schema:
        if d.get("format_version") != SCHEMA_FORMAT_VERSION:
            raise ValueError(f"Unknown schema format {d.get('format_version')!r}")
        cols = tuple(
            ColumnSchema(**{**c, "allowed_values": tuple(c["allowed_values"]) if c["allowed_values"] is not None else None})
            for c in d["columns"]
        )
        return cls(d["dataset_name"], d["revision"], cols, d.get("based_on"), d["format_version"])


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["drift"] = self.drift
        d["drifted_columns"] = list(self.drifted_columns)
        d["verdict"] = self.verdict
        return d
