"""Expected schemas: inferred from a profile and the data, edited field by field, checked against data.

Inference (:func:`infer`) reads the profile for types, missing shares and ranges, and the
data itself for the levels of few-valued columns (a profile keeps only the top ten values).
Validation (:func:`validate`) reads the data, not its profile, so counts are exact, and
runs every check on every column even when its type is wrong. Severities: ``high`` breaks
a consumer (missing column, wrong type, missing values in a required column), ``medium`` is
suspicious (more values out of range than tolerated, unknown categories, more missing than
allowed, duplicates in a unique column), ``low`` is informative (a new column, a few values
out of range within the tolerance).

The rules and their measured false-alarm rate are in docs/discovery.md (Schema). This module
must not touch the store or Qt; it works on profiles, tables and
:class:`core.data.snapshot.SnapshotColumns`.
"""

from __future__ import annotations

import dataclasses
import math
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.data.models import (
    REDACTED,
    Anomaly,
    AnomalyKind,
    ColumnProfile,
    ColumnSchema,
    ColumnType,
    Profile,
    Schema,
    SemanticType,
    Severity,
    ValidationReport,
)
from core.errors import InvalidInput

#: Text columns with at most this many levels get them as allowed values.
ALLOWED_VALUES_MAX = 50
#: Integer columns with at most this many levels are codes or flags (0/1, 1/2, 1..5) and get
#: them as allowed values, when each level is common enough (below) that a new batch of the
#: same data is unlikely to hold one not seen.
INTEGER_LEVELS_MAX = 10
#: Share of the values, and number of values, the rarest level of an integer code must hold
#: (two-level columns, flags, always get their levels). A measurement with a few values
#: (20 waist sizes) has rare levels and gets a range instead.
INTEGER_LEVEL_MIN_SHARE = 0.01
INTEGER_LEVEL_MIN_COUNT = 5
#: Slack allowed above the observed missing share before it is an anomaly.
MISSING_SLACK = 0.05
#: Inferred numeric ranges are the observed ones widened by this share of their span.
RANGE_MARGIN = 0.1
#: Share of a column's values that may lie outside an inferred range before it is a
#: ``medium`` anomaly (fewer are a ``low`` note): at least this share, and at least
#: OUT_OF_RANGE_COUNT values per reference value. A new batch as large as the reference
#: holds, whatever the distribution, about one value beyond each of the reference's
#: extremes (exchangeability: each of the ``n + m`` values is equally likely the largest).
OUT_OF_RANGE_TOLERANCE = 0.01
OUT_OF_RANGE_COUNT = 5
#: A value farther outside the range than this many times its width is a problem whatever
#: the tolerance (a sentinel such as -999999, a misplaced decimal point). A range of width
#: zero (a constant column) has no scale to judge by: only the tolerance applies there.
FAR_OUTSIDE = 10.0
#: A non-negative column whose maximum lies within this share below 1 or 100 is a share or
#: a percentage: its maximum is that natural bound.
NATURAL_BOUNDS = (1.0, 100.0)
NATURAL_BOUND_CLOSENESS = 0.02

_NUMERIC_TEXT = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


class Columns(Protocol):
    """What inference and validation read: a :class:`pyarrow.Table` or ``SnapshotColumns``."""

    @property
    def column_names(self) -> list[str]: ...

    @property
    def num_rows(self) -> int: ...

    def column(self, name: str) -> pa.ChunkedArray: ...


def logical_type(arrow_type: pa.DataType | str) -> ColumnType:
    """The schema's logical type of an Arrow type (or its text, as a profile stores it)."""
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


# --- inference -----------------------------------------------------------------------------


def _range(c: ColumnProfile, integer: bool) -> tuple[float | None, float | None]:
    """The observed range widened by RANGE_MARGIN of its span, with natural bounds.

    A non-negative column stays ≥ 0; a share or a percentage (non-negative, maximum within
    NATURAL_BOUND_CLOSENESS below 1 or 100) ends at that bound. Integer columns get the
    integers inside the widened range.
    """
    raw_lo, raw_hi = c.stats.get("min"), c.stats.get("max")
    if raw_lo is None or raw_hi is None:
        return None, None
    lo, hi = float(raw_lo), float(raw_hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None, None
    margin = RANGE_MARGIN * (hi - lo)
    low, high = lo - margin, hi + margin
    if lo >= 0:
        low = max(0.0, low)
        for bound in NATURAL_BOUNDS:
            if (1 - NATURAL_BOUND_CLOSENESS) * bound <= hi <= bound:
                high = bound
                break
    if integer:
        return math.ceil(low), math.floor(high)
    return low, high


def _levels(arr: pa.ChunkedArray) -> list[tuple[str, int]]:
    """Each distinct non-missing value as text with its count, in the column's natural order."""
    counts = pc.value_counts(arr.drop_null())
    values = counts.field("values").to_pylist()
    numbers = counts.field("counts").to_pylist()
    pairs = sorted(zip(values, numbers, strict=True), key=lambda p: p[0])
    return [(_value_text(v), int(n)) for v, n in pairs]


def _value_text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _level_candidate(c: ColumnProfile, kind: ColumnType) -> bool:
    """Whether ``c`` may get allowed values (then its levels are read from the data)."""
    if c.pii is not None or c.semantic_type == SemanticType.IDENTIFIER:
        return False
    if kind == ColumnType.STRING:
        return c.semantic_type in (SemanticType.CATEGORICAL, SemanticType.BOOLEAN) and 0 < c.distinct <= ALLOWED_VALUES_MAX
    return kind == ColumnType.INTEGER and 2 <= c.distinct <= INTEGER_LEVELS_MAX


def reads_levels(profile: Profile) -> bool:
    """Whether :func:`infer` reads any column of the data for its levels."""
    return any(_level_candidate(c, logical_type(c.storage_type)) for c in profile.columns)


def _allowed(c: ColumnProfile, kind: ColumnType, table: Columns | None) -> tuple[str, ...] | None:
    """The allowed values of a text category or an integer code, else None."""
    if not _level_candidate(c, kind):
        return None
    if kind == ColumnType.STRING:
        if table is not None and c.name in table.column_names:
            return tuple(v for v, _ in _levels(table.column(c.name)))
        # Without the data the profile's top values are all there is; they are complete only
        # when it kept every level.
        if len(c.top_values) >= c.distinct and not any(v == REDACTED for v, _ in c.top_values):
            return tuple(sorted(v for v, _ in c.top_values))
        return None
    if kind == ColumnType.INTEGER:
        if table is not None and c.name in table.column_names:
            levels = _levels(table.column(c.name))
        elif len(c.top_values) >= c.distinct and not any(v == REDACTED for v, _ in c.top_values):
            levels = sorted(c.top_values, key=lambda p: float(p[0]))
        else:
            return None
        total = sum(n for _, n in levels)
        rarest = min(n for _, n in levels)
        if len(levels) == 2 or (rarest >= INTEGER_LEVEL_MIN_SHARE * total and rarest >= INTEGER_LEVEL_MIN_COUNT):
            return tuple(v for v, _ in levels)
    return None


def _tolerance(c: ColumnProfile) -> float:
    """The out-of-range share tolerated (rounded up to 0.01%, so the count it allows holds)."""
    present = c.count - c.missing
    share = max(OUT_OF_RANGE_TOLERANCE, OUT_OF_RANGE_COUNT / present if present else 1.0)
    return min(1.0, math.ceil(share * 10_000 - 1e-9) / 10_000)


def infer(profile: Profile, dataset_name: str, revision: int, based_on: str, table: Columns | None = None) -> Schema:
    """A schema that the profiled data satisfies, with slack on missing values and ranges.

    Parameters
    ----------
    profile
        The version's profile: types, missing shares, ranges, distinct counts.
    table
        The version's data (``SnapshotColumns``), read for the levels of text columns with
        at most ALLOWED_VALUES_MAX values and integer columns with at most
        INTEGER_LEVELS_MAX; without it, levels come from the profile's top values when those
        are complete.
    """
    cols = []
    for c in profile.columns:
        kind = logical_type(c.storage_type)
        allowed = _allowed(c, kind, table)
        ranged = (
            kind in (ColumnType.INTEGER, ColumnType.FLOAT) and allowed is None
            and c.semantic_type not in (SemanticType.IDENTIFIER, SemanticType.BOOLEAN)
        )
        low, high = _range(c, kind == ColumnType.INTEGER) if ranged else (None, None)
        cols.append(ColumnSchema(
            name=c.name, type=kind, semantic_type=c.semantic_type,
            required=c.missing == 0,
            max_missing_fraction=0.0 if c.missing == 0 else min(1.0, round(c.missing_fraction + MISSING_SLACK, 4)),
            minimum=low, maximum=high, allowed_values=allowed,
            unique=c.semantic_type == SemanticType.IDENTIFIER and c.distinct == c.count - c.missing,
            max_out_of_range_fraction=_tolerance(c) if ranged and low is not None else 0.0,
        ))
    return Schema(dataset_name, revision, tuple(cols), based_on)


# --- edits ---------------------------------------------------------------------------------

_EDITABLE = {f.name for f in dataclasses.fields(ColumnSchema)} - {"name"}
_E = TypeVar("_E", bound=StrEnum)


def _member(kind: type[_E], field: str, value: object) -> _E:
    """``value`` as a member of ``kind``, or a refusal that lists the members."""
    try:
        return kind(str(value))
    except ValueError:
        raise InvalidInput(f"{field} is one of {', '.join(kind)}, not {value!r}.") from None


def _bound(field: str, value: object, integer: bool) -> float | None:
    """A range bound as stored: None, or a finite number (a whole one as int in an integer column)."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} is a number or empty (no limit), not {value!r}.") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{field} must be a finite number, not {value!r}.")
    return int(number) if integer and number.is_integer() else number


def _fraction(field: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} is a share between 0 and 1, not {value!r}.") from None
    if not 0 <= number <= 1:
        raise InvalidInput(f"{field} is a share between 0 and 1, not {value!r}.")
    return number


def edit(schema: Schema, column: str, revision: int, changes: dict[str, Any]) -> tuple[Schema, dict[str, Any]]:
    """A new revision with one column changed; also returns that column's old values."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput(f"Cannot edit {sorted(unknown)[0]!r}; editable: {', '.join(sorted(_EDITABLE))}.")
    current = schema.column(column)
    if current is None:
        raise InvalidInput(f"The schema has no column {column!r}.")
    changes = dict(changes)
    if "type" in changes:
        changes["type"] = _member(ColumnType, "type", changes["type"])
    if "semantic_type" in changes:
        changes["semantic_type"] = _member(SemanticType, "semantic_type", changes["semantic_type"])
    for key in ("max_missing_fraction", "max_out_of_range_fraction"):
        if key in changes:
            changes[key] = _fraction(key, changes[key])
    integer = changes.get("type", current.type) == ColumnType.INTEGER
    for key in ("minimum", "maximum"):
        if key in changes:
            changes[key] = _bound(key, changes[key], integer)
    low, high = changes.get("minimum", current.minimum), changes.get("maximum", current.maximum)
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"minimum {low} is above maximum {high}.")
    if "allowed_values" in changes and changes["allowed_values"] is not None:
        changes["allowed_values"] = tuple(str(v) for v in changes["allowed_values"])
    before = {k: getattr(current, k) for k in changes}
    before = {k: list(v) if isinstance(v, tuple) else v for k, v in before.items()}
    new_col = dataclasses.replace(current, **changes)
    cols = tuple(new_col if c.name == column else c for c in schema.columns)
    return dataclasses.replace(schema, revision=revision, columns=cols), before


# --- validation ----------------------------------------------------------------------------


def _numbers(arr: pa.ChunkedArray) -> np.ndarray | None:
    """The column's values as float64 (missing: NaN), or None where they are not numbers.

    A text column (a re-typed numeric one) gives the values that read as numbers, so its
    range is still checked.
    """
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        trimmed = pc.utf8_trim_whitespace(arr)
        numeric = pc.if_else(pc.match_substring_regex(trimmed, _NUMERIC_TEXT), trimmed, pa.scalar(None, t))
        return np.asarray(numeric.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return None


def _numeric_allowed(allowed: tuple[str, ...]) -> np.ndarray | None:
    try:
        return np.array([float(v) for v in allowed], dtype=np.float64)
    except ValueError:
        return None


def _missing(arr: pa.ChunkedArray) -> int:
    missing = int(arr.null_count)
    if pa.types.is_floating(arr.type):
        missing += int(pc.sum(pc.is_nan(arr)).as_py() or 0)
    return missing


def _share(n: int, of: int) -> str:
    return f"{n / of:.2%}" if of else "0%"


def _check_range(col: ColumnSchema, values: np.ndarray, out: list[Anomaly]) -> None:
    present = int(np.count_nonzero(~np.isnan(values)))
    below = int(np.count_nonzero(values < col.minimum)) if col.minimum is not None else 0
    above = int(np.count_nonzero(values > col.maximum)) if col.maximum is not None else 0
    outside = below + above
    if not outside:
        return
    lo = col.minimum if col.minimum is not None else col.maximum
    hi = col.maximum if col.maximum is not None else col.minimum
    assert lo is not None and hi is not None
    reach = FAR_OUTSIDE * (hi - lo)
    far = reach > 0 and (
        (col.minimum is not None and bool(np.any(values < col.minimum - reach)))
        or (col.maximum is not None and bool(np.any(values > col.maximum + reach))))
    parts = []
    if below:
        parts.append(f"{below:,} below {col.bound_text(col.minimum)} (lowest {col.bound_text(float(np.nanmin(values)))})")
    if above:
        parts.append(f"{above:,} above {col.bound_text(col.maximum)} (highest {col.bound_text(float(np.nanmax(values)))})")
    tolerated = outside <= col.max_out_of_range_fraction * present and not far
    if tolerated:
        tolerance = f"within the {col.max_out_of_range_fraction:.2%} tolerated"
    elif far:
        tolerance = f"some far outside the range (more than {FAR_OUTSIDE:g} times its width)"
    else:
        tolerance = f"more than the {col.max_out_of_range_fraction:.2%} tolerated"
    out.append(Anomaly(
        Severity.LOW if tolerated else Severity.MEDIUM, col.name, AnomalyKind.OUT_OF_RANGE,
        f"{col.name!r}: {' and '.join(parts)}; {_share(outside, present)} of its values, {tolerance}.", outside,
    ))


def _check_allowed(col: ColumnSchema, arr: pa.ChunkedArray, values: np.ndarray | None, out: list[Anomaly]) -> None:
    assert col.allowed_values is not None
    is_number = pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type)
    numeric = _numeric_allowed(col.allowed_values) if values is not None and is_number else None
    if values is not None and numeric is not None:
        # Numbers against numeric codes compare as numbers: 1.0 is the code "1".
        unknown_mask = ~np.isnan(values) & ~np.isin(values, numeric)
        n_unknown = int(np.count_nonzero(unknown_mask))
        examples = [_value_text(float(v)) for v in np.unique(values[unknown_mask])[:5]]
    else:
        text = arr.cast(pa.string()) if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) else arr
        unknown = pc.and_(pc.invert(pc.is_in(text, value_set=pa.array(list(col.allowed_values), pa.string()))),
                          pc.is_valid(text))
        n_unknown = int(pc.sum(unknown).as_py() or 0)
        examples = [str(v) for v in pc.unique(pc.filter(text, unknown)).slice(0, 5).to_pylist()] if n_unknown else []
    if n_unknown:
        shown = ", ".join(repr(v) for v in examples)
        out.append(Anomaly(
            Severity.MEDIUM, col.name, AnomalyKind.UNKNOWN_VALUE,
            f"{col.name!r}: {n_unknown:,} values outside the {len(col.allowed_values)} allowed (e.g. {shown}).", n_unknown,
        ))


def validate(schema: Schema, table: Columns, label: str) -> ValidationReport:
    """Every way ``table`` departs from ``schema``, most severe first.

    ``table`` is a table or anything with ``column_names``, ``num_rows`` and ``column(name)``
    (:class:`core.data.snapshot.SnapshotColumns`: one column decoded at a time). Every check
    runs on a column whose type is wrong too: a re-typed column that also lost values
    reports both.
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
        missing = _missing(arr)
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
        values = _numbers(arr) if col.minimum is not None or col.maximum is not None or col.allowed_values else None
        if values is not None and (col.minimum is not None or col.maximum is not None):
            _check_range(col, values, out)
        if col.allowed_values is not None:
            _check_allowed(col, arr, values, out)
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
