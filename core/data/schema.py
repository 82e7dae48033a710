"""Expected schemas: inferred from a profile, edited field by field, checked against data.

Validation reads the data (not only its profile) so counts of out-of-range and unknown
values are exact. Severities: ``high`` breaks a consumer (missing column, wrong type,
missing values in a required column), ``medium`` is suspicious (range, categories, more
missing than allowed, duplicates in a unique column), ``low`` is informative (new column).
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.data.models import (
    REDACTED,
    Anomaly,
    AnomalyKind,
    ColumnSchema,
    ColumnType,
    Profile,
    Schema,
    SemanticType,
    Severity,
    ValidationReport,
)
from core.errors import InvalidInput

ALLOWED_VALUES_MAX = 50
#: Slack allowed above the observed missing share before it is an anomaly.
MISSING_SLACK = 0.05
#: Inferred numeric ranges are the observed ones widened by this share of their span.
RANGE_MARGIN = 0.1


def logical_type(arrow_type: pa.DataType | str) -> ColumnType:
    t = str(arrow_type)
    if t.startswith(("int", "uint")):
        return ColumnType.INTEGER
    if t.startswith(("double", "float", "decimal", "halffloat")):
        return ColumnType.FLOAT
    if t == "bool":
        return ColumnType.BOOLEAN
    if t.startswith(("timestamp", "date")):
        return ColumnType.DATETIME
    return ColumnType.STRING


def _widen(stats: dict[str, Any], *, low: bool) -> float | None:
    """The observed bound widened by RANGE_MARGIN of the span; a non-negative column stays ≥ 0."""
    raw_lo, raw_hi = stats.get("min"), stats.get("max")
    if raw_lo is None or raw_hi is None:
        return None
    lo, hi = float(raw_lo), float(raw_hi)
    margin = RANGE_MARGIN * (hi - lo)
    if low:
        return max(0.0, lo - margin) if lo >= 0 else lo - margin
    return hi + margin


def infer(profile: Profile, dataset_name: str, revision: int, based_on: str) -> Schema:
    """A schema that the profiled data satisfies, with a little slack on missing values."""
    cols = []
    for c in profile.columns:
        allowed = None
        if c.semantic_type in (SemanticType.CATEGORICAL, SemanticType.BOOLEAN) and c.distinct <= ALLOWED_VALUES_MAX \
                and logical_type(c.storage_type) == ColumnType.STRING and len(c.top_values) >= c.distinct \
                and not any(v == REDACTED for v, _ in c.top_values):
            allowed = tuple(sorted(v for v, _ in c.top_values))
        numeric = (
            logical_type(c.storage_type) in (ColumnType.INTEGER, ColumnType.FLOAT) and c.semantic_type == SemanticType.NUMERIC
        )
        cols.append(ColumnSchema(
            name=c.name, type=logical_type(c.storage_type), semantic_type=c.semantic_type,
            required=c.missing == 0,
            max_missing_fraction=0.0 if c.missing == 0 else min(1.0, round(c.missing_fraction + MISSING_SLACK, 4)),
            minimum=_widen(c.stats, low=True) if numeric else None, maximum=_widen(c.stats, low=False) if numeric else None,
            allowed_values=allowed, unique=c.semantic_type == SemanticType.IDENTIFIER and c.distinct == c.count - c.missing,
        ))
    return Schema(dataset_name, revision, tuple(cols), based_on)


_EDITABLE = {f.name for f in dataclasses.fields(ColumnSchema)} - {"name"}
_E = TypeVar("_E", bound=StrEnum)


def _member(kind: type[_E], field: str, value: object) -> _E:
    """``value`` as a member of ``kind``, or a refusal that lists the members."""
    try:
        return kind(str(value))
    except ValueError:
        raise InvalidInput(f"{field} is one of {', '.join(kind)}, not {value!r}.") from None


def edit(schema: Schema, column: str, revision: int, changes: dict[str, Any]) -> tuple[Schema, dict[str, Any]]:
    """A new revision with one column changed; also returns that column's old values."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput(f"Cannot edit {sorted(unknown)[0]!r}; editable: {', '.join(sorted(_EDITABLE))}.")
    current = schema.column(column)
    if current is None:
        raise InvalidInput(f"The schema has no column {column!r}.")
    if "type" in changes:
        changes = {**changes, "type": _member(ColumnType, "type", changes["type"])}
    if "semantic_type" in changes:
        changes = {**changes, "semantic_type": _member(SemanticType, "semantic_type", changes["semantic_type"])}
    if "max_missing_fraction" in changes and not 0 <= float(changes["max_missing_fraction"]) <= 1:
        raise InvalidInput("max_missing_fraction is between 0 and 1.")
    if "allowed_values" in changes and changes["allowed_values"] is not None:
        changes = {**changes, "allowed_values": tuple(str(v) for v in changes["allowed_values"])}
    before = {k: getattr(current, k) for k in changes}
    before = {k: list(v) if isinstance(v, tuple) else v for k, v in before.items()}
    new_col = dataclasses.replace(current, **changes)
    cols = tuple(new_col if c.name == column else c for c in schema.columns)
    return dataclasses.replace(schema, revision=revision, columns=cols), before


def validate(schema: Schema, table: Any, label: str) -> ValidationReport:
    """Every way ``table`` departs from ``schema``, most severe first.

    ``table`` is a table or anything with ``column_names``, ``num_rows`` and ``column(name)``
    (:class:`core.data.snapshot.SnapshotColumns`: one column decoded at a time).
    """
    out: list[Anomaly] = []
    names = set(table.column_names)
    rows = table.num_rows
    for col in schema.columns:
        if col.name not in names:
            out.append(Anomaly(Severity.HIGH, col.name, AnomalyKind.MISSING_COLUMN, f"Column {col.name!r} is missing."))
            continue
        arr = table.column(col.name)
        actual = logical_type(arr.type)
        if actual != col.type and not (col.type == ColumnType.FLOAT and actual == ColumnType.INTEGER):
            out.append(Anomaly(
                Severity.HIGH, col.name, AnomalyKind.TYPE_MISMATCH,
                f"{col.name!r} is {actual}, expected {col.type}.",
            ))
            continue
        missing = arr.null_count
        if pa.types.is_floating(arr.type):
            missing += int(pc.sum(pc.is_nan(arr)).as_py() or 0)
        if missing and col.required:
            out.append(Anomaly(
                Severity.HIGH, col.name, AnomalyKind.MISSING_VALUES,
                f"{col.name!r} is required but {missing:,} values are missing.", missing,
            ))
        elif rows and missing / rows > col.max_missing_fraction:
            out.append(Anomaly(
                Severity.MEDIUM, col.name, AnomalyKind.TOO_MANY_MISSING,
                f"{col.name!r} is missing in {missing / rows:.1%} of rows (allowed {col.max_missing_fraction:.1%}).", missing,
            ))
        if actual in (ColumnType.INTEGER, ColumnType.FLOAT) and (col.minimum is not None or col.maximum is not None):
            values = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
            below = int(np.count_nonzero(values < col.minimum)) if col.minimum is not None else 0
            above = int(np.count_nonzero(values > col.maximum)) if col.maximum is not None else 0
            if below or above:
                out.append(Anomaly(
                    Severity.MEDIUM, col.name, AnomalyKind.OUT_OF_RANGE,
                    f"{col.name!r}: {below:,} values below {col.minimum} and {above:,} above {col.maximum}.", below + above,
                ))
        if col.allowed_values is not None:
            text = arr.cast(pa.string()) if actual != ColumnType.STRING else arr
            unknown = pc.invert(pc.is_in(text, value_set=pa.array(list(col.allowed_values), pa.string())))
            n_unknown = int(pc.sum(pc.and_(unknown, pc.is_valid(text))).as_py() or 0)
            if n_unknown:
                out.append(Anomaly(
                    Severity.MEDIUM, col.name, AnomalyKind.UNKNOWN_VALUE,
                    f"{col.name!r}: {n_unknown:,} values outside the {len(col.allowed_values)} allowed.", n_unknown,
                ))
        if col.unique:
            non_null = arr.drop_null()
            dups = len(non_null) - int(pc.count_distinct(non_null).as_py())
            if dups:
                out.append(Anomaly(
                    Severity.MEDIUM, col.name, AnomalyKind.NOT_UNIQUE,
                    f"{col.name!r} should be unique; {dups:,} repeats.", dups,
                ))
    for name in table.column_names:
        if schema.column(name) is None:
            out.append(Anomaly(Severity.LOW, name, AnomalyKind.UNEXPECTED_COLUMN, f"Column {name!r} is not in the schema."))
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    out.sort(key=lambda a: (order[a.severity], a.column or ""))
    return ValidationReport(schema.revision, label, tuple(out))
