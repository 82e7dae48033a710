"""Profile a table: per-column statistics, semantic types, PII hints, correlations, alerts.

Pure functions over a :class:`pyarrow.Table`; vectorised with numpy and pyarrow.compute,
one column at a time. Counts, moments and quantiles are exact over all rows (quantiles by
numpy's default linear interpolation, as pandas); correlations and target associations use
a deterministic sample of at most :data:`SAMPLE_ROWS` rows. A profile never holds raw
rows, and top values of PII-like or identifier columns are redacted. No store, no Qt.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.data import associations
from core.data.models import REDACTED, Alert, ColumnProfile, Profile
from core.tasks import TaskContext, ensure_context

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_N = 10
HIST_BINS = 20
PII_SAMPLE = 5000
PII_SHARE = 0.6
CATEGORICAL_MAX_DISTINCT = 100
NEAR_CONSTANT_SHARE = 0.95
SAMPLE_ROWS = 200_000
_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|number|no|nr)$|^id[_\s-]", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^(\+\d{1,3}[\s.-]?)?\(?\d{2,5}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}$")
_NATIONAL = (
    re.compile(r"^\d{3}-\d{2}-\d{4}$"),  # US SSN
    re.compile(r"^[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]$"),  # UK NINO
    re.compile(r"^\d{3}\s?\d{3}\s?\d{3}$"),  # CA SIN / 9-digit national numbers
)
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


def _f(x: Any) -> float | None:
    """A JSON-safe float (None for NaN/inf)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def pii_kind(values: list[str]) -> str | None:
    """The PII pattern most of ``values`` match (email, card, phone, national_id), or None."""
    if not values:
        return None
    counts = {"email": 0, "card": 0, "phone": 0, "national_id": 0}
    for v in values:
        v = v.strip()
        if _EMAIL.match(v):
            counts["email"] += 1
            continue
        digits = re.sub(r"[\s-]", "", v)
        if digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits):
            counts["card"] += 1
        elif any(p.match(v) for p in _NATIONAL):
            counts["national_id"] += 1
        elif _PHONE.match(v) and 7 <= sum(c.isdigit() for c in v) <= 15 and not v.isdigit():
            counts["phone"] += 1
    kind, best = max(counts.items(), key=lambda kv: kv[1])
    return kind if best >= PII_SHARE * len(values) else None


def _numeric_values(arr: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_decimal(arr.type):
        arr = pc.cast(arr, pa.float64())
    values = arr.drop_null().to_numpy().astype(np.float64, copy=False)
    return values[~np.isnan(values)]


def _top(arr: pa.ChunkedArray) -> tuple[list[tuple[str, int]], int, int]:
    """Top values as text, number of distinct non-null values, count of the most common."""
    vc = pc.value_counts(arr.drop_null())
    if len(vc) == 0:
        return [], 0, 0
    counts = vc.field("counts").to_numpy()
    order = np.argsort(-counts, kind="stable")[:TOP_N]
    values = vc.field("values")
    top = [(str(values[int(i)].as_py()), int(counts[i])) for i in order]
    return top, len(vc), int(counts[order[0]])


def _numeric(name: str, arr: pa.ChunkedArray, count: int) -> ColumnProfile:
    values = _numeric_values(arr)
    n = values.size
    missing = count - n
    stats: dict[str, Any] = {}
    quantiles: dict[str, float] = {}
    histogram: dict[str, list[float]] = {}
    distinct = 0
    top: list[tuple[str, int]] = []
    flags: list[str] = []
    if n:
        uniq, ucounts = np.unique(values, return_counts=True)
        distinct = int(uniq.size)
        qs = np.quantile(values, QUANTILES)
        quantiles = {str(q): float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        q1, q3 = float(qs[2]), float(qs[4])
        iqr = q3 - q1
        stats = {
            "min": _f(values.min()), "max": _f(values.max()), "mean": _f(values.mean()),
            "std": _f(values.std(ddof=1)) if n > 1 else None,
            "zeros": int(np.count_nonzero(values == 0)), "negatives": int(np.count_nonzero(values < 0)),
            "outliers": int(np.count_nonzero((values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr))),
        }
        hc, edges = np.histogram(values, bins=min(HIST_BINS, max(distinct, 1)))
        histogram = {"counts": [float(c) for c in hc], "edges": [float(e) for e in edges]}
        order = np.argsort(-ucounts, kind="stable")[:TOP_N]
        top = [(_num_text(uniq[i]), int(ucounts[i])) for i in order]
        if distinct > 1 and ucounts.max() / n >= NEAR_CONSTANT_SHARE:
            flags.append("near_constant")
    is_int = pa.types.is_integer(arr.type)
    semantic = "numeric"
    if is_int and distinct == 2 and set(np.unique(values).tolist()) == {0.0, 1.0}:
        semantic = "boolean"
    elif is_int and n >= 20 and distinct == n and _ID_NAME.search(name):
        semantic = "identifier"
    pii = None
    if is_int and n and stats["min"] is not None and stats["min"] >= 1e12:
        pii = pii_kind([str(int(v)) for v in values[:PII_SAMPLE]])
    return ColumnProfile(name, str(arr.type), semantic, count, missing, distinct, stats, quantiles,
                         histogram, top, pii, tuple(flags))


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))


def _datetime(name: str, arr: pa.ChunkedArray, count: int) -> ColumnProfile:
    values = arr.drop_null()
    n = len(values)
    stats: dict[str, Any] = {}
    histogram: dict[str, list[float]] = {}
    distinct = int(pc.count_distinct(values).as_py()) if n else 0
    if n:
        stats = {"min": str(pc.min(values).as_py()), "max": str(pc.max(values).as_py())}
        as_int = pc.cast(pc.cast(values, pa.timestamp("us")) if pa.types.is_date(arr.type) else values,
                         pa.int64()).to_numpy().astype(np.float64)
        hc, edges = np.histogram(as_int / 1e6, bins=HIST_BINS)  # seconds since the epoch
        histogram = {"counts": [float(c) for c in hc], "edges": [float(e) for e in edges]}
    return ColumnProfile(name, str(arr.type), "datetime", count, count - n, distinct, stats, {}, histogram, [], None, ())


def _text(name: str, arr: pa.ChunkedArray, count: int) -> ColumnProfile:
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string()) if not pa.types.is_boolean(arr.type) else arr
    top, distinct, most = _top(arr)
    values = arr.drop_null()
    n = len(values)
    stats: dict[str, Any] = {}
    flags: list[str] = []
    if pa.types.is_boolean(arr.type):
        semantic = "boolean"
    else:
        lengths = pc.utf8_length(values).to_numpy() if n else np.array([0])
        spaces = int(pc.sum(pc.match_substring(values, " ")).as_py() or 0) if n else 0
        stats = {"min_length": int(lengths.min()), "mean_length": _f(lengths.mean()), "max_length": int(lengths.max())}
        wordy = lengths.mean() > 30 or spaces > 0.5 * max(n, 1)
        if distinct <= CATEGORICAL_MAX_DISTINCT or distinct <= 0.05 * n:
            semantic = "categorical"
        elif wordy:
            semantic = "text"
        elif distinct >= 0.9 * n:
            semantic = "identifier"
        else:
            semantic = "categorical"
            flags.append("high_cardinality")
    if n and distinct > 1 and most / n >= NEAR_CONSTANT_SHARE:
        flags.append("near_constant")
    pii = None
    if n and not pa.types.is_boolean(arr.type):
        sample = pc.unique(values).slice(0, PII_SAMPLE).to_pylist()
        pii = pii_kind(sample)
    if pii or semantic == "identifier":
        top = [(REDACTED, c) for _, c in top]
    return ColumnProfile(name, str(arr.type), semantic, count, count - n, distinct, stats, {}, {}, top, pii, tuple(flags))


def profile_column(name: str, arr: pa.ChunkedArray) -> ColumnProfile:
    """The profile of one column (all rows)."""
    count = len(arr)
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        col = _numeric(name, arr, count)
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):
        col = _datetime(name, arr, count)
    else:
        col = _text(name, arr, count)
    flags = list(col.flags)
    if col.distinct <= 1:
        flags = ["constant"]
    if col.pii or col.semantic_type == "identifier":
        col = _redact(col)
    return ColumnProfile(**{**_as_kwargs(col), "flags": tuple(flags)})


def _as_kwargs(col: ColumnProfile) -> dict[str, Any]:
    return {f: getattr(col, f) for f in ColumnProfile.__dataclass_fields__}


def _redact(col: ColumnProfile) -> ColumnProfile:
    """Identifiers and PII keep counts only: no values, no extremes, no histogram of values."""
    keep = {k: v for k, v in col.stats.items() if k not in ("min", "max")}
    return ColumnProfile(**{**_as_kwargs(col), "stats": keep, "quantiles": {}, "histogram": {},
                            "top_values": [(REDACTED, c) for _, c in col.top_values]})


def duplicate_rows(table: pa.Table) -> int:
    """Rows that repeat an earlier row exactly (64-bit row hashes, batch by batch)."""
    import pandas as pd

    hashes = [
        pd.util.hash_pandas_object(batch.to_pandas(), index=False).to_numpy()
        for batch in table.to_batches(max_chunksize=100_000)
    ]
    if not hashes:
        return 0
    allh = np.concatenate(hashes)
    return int(allh.size - np.unique(allh).size)


def _alerts(table: Profile | None, cols: list[ColumnProfile], dup: int, rows: int) -> list[Alert]:
    out: list[Alert] = []
    for c in cols:
        if c.pii:
            out.append(Alert("high", c.name, "pii", f"{c.name} looks like {c.pii.replace('_', ' ')} data (PII); values redacted."))
        if "constant" in c.flags:
            out.append(Alert("high", c.name, "constant", f"{c.name} has a single value (or none): it carries no information."))
        if c.missing_fraction > 0.5:
            out.append(Alert("high", c.name, "missing", f"{c.name} is missing in {c.missing_fraction:.0%} of rows."))
        elif c.missing_fraction > 0.05:
            out.append(Alert("medium", c.name, "missing", f"{c.name} is missing in {c.missing_fraction:.0%} of rows."))
        if "high_cardinality" in c.flags:
            out.append(Alert("medium", c.name, "high_cardinality", f"{c.name} has {c.distinct:,} distinct values."))
        if "near_constant" in c.flags:
            out.append(Alert("low", c.name, "near_constant", f"{c.name}: one value covers ≥{NEAR_CONSTANT_SHARE:.0%} of rows."))
        if c.semantic_type == "identifier":
            out.append(Alert("info", c.name, "identifier", f"{c.name} looks like an identifier; exclude it from features."))
        outliers = c.stats.get("outliers") or 0
        if c.count and outliers / c.count > 0.05:
            out.append(Alert("low", c.name, "outliers", f"{c.name} has {outliers:,} values outside 1.5×IQR."))
    if dup:
        out.append(Alert("medium", None, "duplicates", f"{dup:,} rows ({dup / max(rows, 1):.1%}) repeat an earlier row."))
    return out


def profile_table(
    table: pa.Table, *, version_id: str = "", target: str | None = None, ctx: TaskContext | None = None,
) -> Profile:
    """Profile every column of ``table``; with ``target``, also each column's association with it."""
    ctx = ensure_context(ctx)
    cols: list[ColumnProfile] = []
    names = table.column_names
    for i, name in enumerate(names):
        ctx.check()
        cols.append(profile_column(name, table.column(name)))
        ctx.report(0.6 * (i + 1) / max(len(names), 1), f"Profiling {name}")
    dup = duplicate_rows(table)
    ctx.report(0.7, "Correlations")
    sample = associations.sample(table, SAMPLE_ROWS)
    correlations = associations.correlations(sample, cols)
    ctx.check()
    assoc: list[Any] = []
    alerts = _alerts(None, cols, dup, table.num_rows)
    if target is not None:
        ctx.report(0.85, "Target associations")
        assoc = associations.target_associations(sample, cols, target)
        for a in assoc:
            if a.leakage:
                alerts.append(Alert(
                    "high", a.column, "leakage",
                    f"{a.column} alone predicts {target} ({a.score_name} {a.model_score:.3f}): possible target leakage.",
                ))
    alerts.sort(key=lambda a: (_SEVERITY_ORDER[a.severity], a.column or ""))
    ctx.report(1.0, "Profiled")
    return Profile(
        version_id=version_id, row_count=table.num_rows, column_count=table.num_columns, duplicate_rows=dup,
        memory_bytes=int(table.nbytes), columns=tuple(cols), alerts=tuple(alerts),
        correlations=tuple(correlations), target=target, target_associations=tuple(assoc),
        sampled_rows=sample.num_rows if sample.num_rows < table.num_rows else None,
    )
