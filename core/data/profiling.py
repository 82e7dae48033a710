"""Profile a table: per-column statistics, semantic types, PII hints, correlations, alerts.

Pure functions over a :class:`pyarrow.Table` or a Parquet file read row group by row
group (:func:`profile_parquet`), so a snapshot larger than memory can be profiled.
Vectorised with numpy and pyarrow.compute. Counts, moments and quantiles are exact over
all rows (quantiles by numpy's default linear interpolation, as pandas).

Memory: text and boolean columns are streamed: value counts are merged row group by row
group (exact distinct counts and top values), lengths and the PII sample kept as running
figures. Exact quantiles need every value, so numeric and datetime columns are *gathered*
— at most :data:`GATHER_BYTES` of them at a time (8 bytes a value); when they do not fit,
the remaining ones are gathered in further passes that read only their own column chunks.
Row hashes for duplicates (8 bytes a row; each text value hashed once per row group) and the correlation sample are collected in the
first pass. Correlations and target associations use a deterministic sample of at most
:data:`SAMPLE_ROWS` rows. A profile never holds raw rows, and top values of PII-like or
identifier columns are redacted. No store, no Qt.
"""

from __future__ import annotations

import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

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
#: Bytes of numeric/datetime values gathered at once for exact quantiles (a budget, 8 B a value).
GATHER_BYTES = 512 * 1024 * 1024
#: Rows per part when a table in memory is profiled (a Parquet file uses its row groups).
PART_ROWS = 65_536
_WORKERS = max(1, min(4, os.cpu_count() or 1))
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
        # Every unit and dates in microseconds, so the edges are seconds since the epoch.
        as_int = pc.cast(pc.cast(values, pa.timestamp("us")), pa.int64()).to_numpy().astype(np.float64)
        hc, edges = np.histogram(as_int / 1e6, bins=HIST_BINS)  # seconds since the epoch
        histogram = {"counts": [float(c) for c in hc], "edges": [float(e) for e in edges]}
    return ColumnProfile(name, str(arr.type), "datetime", count, count - n, distinct, stats, {}, histogram, [], None, ())


def _text_semantic(n: int, distinct: int, mean_len: float, spaces: int, flags: list[str]) -> str:
    """Categorical, text or identifier for a text column; appends ``high_cardinality`` to ``flags``.

    Shared by the in-memory and the streaming profilers so both classify a column alike.
    """
    if distinct <= CATEGORICAL_MAX_DISTINCT or distinct <= 0.05 * n:
        return "categorical"
    if mean_len > 30 or spaces > 0.5 * max(n, 1):
        return "text"
    if distinct >= 0.9 * n:
        return "identifier"
    flags.append("high_cardinality")
    return "categorical"


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
        semantic = _text_semantic(n, distinct, float(lengths.mean()), spaces, flags)
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
    hashes = [_row_hashes(pa.Table.from_batches([batch])) for batch in table.to_batches(max_chunksize=100_000)]
    if not hashes:
        return 0
    return _repeats(np.concatenate(hashes))


def _repeats(hashes: np.ndarray) -> int:
    """How many values repeat an earlier one (a sort beats np.unique's hash table here)."""
    if hashes.size < 2:
        return 0
    hashes.sort()
    return int(hashes.size - 1 - np.count_nonzero(hashes[1:] != hashes[:-1]))


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


class _Parts(Protocol):
    """Where the rows come from: a table in memory, or a Parquet file's row groups."""

    schema: pa.Schema
    num_rows: int
    num_parts: int

    def part(self, i: int, columns: list[str]) -> pa.Table: ...


class _TableParts:
    def __init__(self, table: pa.Table) -> None:
        self._table = table
        self.schema = table.schema
        self.num_rows = table.num_rows
        self.num_parts = max(1, -(-table.num_rows // PART_ROWS))

    def part(self, i: int, columns: list[str]) -> pa.Table:
        return self._table.select(columns).slice(i * PART_ROWS, PART_ROWS)


class _ParquetParts:
    def __init__(self, pf: Any) -> None:
        self._pf = pf
        self.schema = pf.schema_arrow
        self.num_rows = pf.metadata.num_rows
        self.num_parts = pf.num_row_groups

    def part(self, i: int, columns: list[str]) -> pa.Table:
        return self._pf.read_row_group(i, columns=columns)  # type: ignore[no-any-return]


def _gathered(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
                or pa.types.is_timestamp(t) or pa.types.is_date(t))


class _TextTally:
    """Running figures of a text or boolean column: merged value counts in first-seen order."""

    def __init__(self, name: str, type_: pa.DataType) -> None:
        self.name = name
        self.type = type_
        self.boolean = pa.types.is_boolean(type_)
        self.count = 0
        self.n = 0
        self.min_len: int | None = None
        self.max_len = 0
        self.sum_len = 0
        self.spaces = 0
        self._pieces: list[pa.Table] = []
        self._pending = 0
        self._merged: pa.Table | None = None
        self._seen = 0

    def add(self, arr: pa.ChunkedArray) -> None:
        if not self.boolean and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pc.cast(arr, pa.string())
        self.count += len(arr)
        values = arr.drop_null()
        n = len(values)
        if n == 0:
            return
        self.n += n
        vc = pc.value_counts(values)
        if not self.boolean:
            # Lengths and spaces of each distinct value, weighted by its count: the same sums.
            distinct, counts = vc.field("values"), vc.field("counts").to_numpy()
            lengths = pc.utf8_length(distinct)
            lo, hi = pc.min_max(lengths).values()
            self.min_len = lo.as_py() if self.min_len is None else min(self.min_len, lo.as_py())
            self.max_len = max(self.max_len, hi.as_py())
            self.sum_len += int(np.dot(lengths.to_numpy().astype(np.int64), counts))
            spaced = pc.match_substring(distinct, " ").to_numpy(zero_copy_only=False)
            self.spaces += int(counts[spaced].sum())
        piece = pa.table({"v": vc.field("values"), "c": vc.field("counts"),
                          "o": pa.array(np.arange(self._seen, self._seen + len(vc), dtype=np.int64))})
        self._seen += len(vc)
        self._pieces.append(piece)
        self._pending += len(vc)
        if self._pending > max(1_000_000, 2 * (self._merged.num_rows if self._merged is not None else 0)):
            self._merge()

    def _merge(self) -> None:
        parts = ([self._merged] if self._merged is not None else []) + self._pieces
        self._pieces, self._pending = [], 0
        if not parts:
            return
        whole = pa.concat_tables(parts)
        if len(parts) > 1:
            whole = whole.group_by("v").aggregate([("c", "sum"), ("o", "min")]).rename_columns(["v", "c", "o"])
        self._merged = whole.sort_by("o")

    def profile(self) -> ColumnProfile:
        self._merge()
        merged = self._merged
        distinct = merged.num_rows if merged is not None else 0
        top: list[tuple[str, int]] = []
        most = 0
        if distinct:
            counts = merged.column("c").to_numpy()  # type: ignore[union-attr]
            order = np.argsort(-counts, kind="stable")[:TOP_N]
            values = merged.column("v")  # type: ignore[union-attr]
            top = [(str(values[int(i)].as_py()), int(counts[i])) for i in order]
            most = int(counts[order[0]])
        n = self.n
        stats: dict[str, Any] = {}
        flags: list[str] = []
        if self.boolean:
            semantic = "boolean"
        else:
            mean_len = self.sum_len / n if n else 0.0
            stats = {"min_length": int(self.min_len or 0), "mean_length": _f(mean_len), "max_length": int(self.max_len)}
            semantic = _text_semantic(n, distinct, mean_len, self.spaces, flags)
        if n and distinct > 1 and most / n >= NEAR_CONSTANT_SHARE:
            flags.append("near_constant")
        pii = None
        if n and not self.boolean and merged is not None:
            pii = pii_kind(merged.column("v").slice(0, PII_SAMPLE).to_pylist())
        if pii or semantic == "identifier":
            top = [(REDACTED, c) for _, c in top]
        self._merged = None
        return ColumnProfile(self.name, str(self.type), semantic, self.count, self.count - n, distinct, stats, {}, {},
                             top, pii, tuple(flags))


def _finish(col: ColumnProfile) -> ColumnProfile:
    flags = list(col.flags)
    if col.distinct <= 1:
        flags = ["constant"]
    if col.pii or col.semantic_type == "identifier":
        col = _redact(col)
    return ColumnProfile(**{**_as_kwargs(col), "flags": tuple(flags)})


def _row_hashes(part: pa.Table) -> np.ndarray:
    """A 64-bit hash of each row: the columns' value hashes, combined in column order."""
    h = np.zeros(part.num_rows, dtype=np.uint64)
    for column in part.columns:
        h *= np.uint64(1_000_003)  # wraps around, as intended
        h ^= _value_hashes(column)
    return h


_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)


def _value_hashes(column: pa.ChunkedArray) -> np.ndarray:
    """pandas' 64-bit hash of each value (missing values share one hash of their own).

    Text is dictionary-encoded first, so each distinct value is hashed once per part.
    """
    import pandas as pd

    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        encoded = pc.dictionary_encode(arr)
        table = pd.util.hash_array(encoded.dictionary.to_numpy(zero_copy_only=False).astype(object))
        table = np.append(table, _NULL_HASH)
        return table[pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy()]  # type: ignore[no-any-return]
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_duration(t):
        arr = arr.view(pa.int64() if t.bit_width == 64 else pa.int32())  # the stored integers
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_boolean(arr.type):
        values = pc.fill_null(arr, False if pa.types.is_boolean(arr.type) else 0).to_numpy(zero_copy_only=False)
        hashed = pd.util.hash_array(values)
    else:
        hashed = pd.util.hash_pandas_object(pd.Series(arr.to_pandas()), index=False).to_numpy().copy()
    if arr.null_count:
        hashed[pc.is_null(arr).to_numpy(zero_copy_only=False)] = _NULL_HASH
    return hashed  # type: ignore[no-any-return]


def _prefetch_sklearn() -> None:
    import sys
    import threading

    if "sklearn.tree" not in sys.modules:
        threading.Thread(target=_import_sklearn, name="airlock-sklearn-import", daemon=True).start()


def _import_sklearn() -> None:
    import sklearn.base
    import sklearn.metrics
    import sklearn.model_selection
    import sklearn.tree  # noqa: F401


def _plan(parts: _Parts, budget: int) -> list[list[str]]:
    """Gathered columns in groups whose values fit ``budget`` bytes (one column at least)."""
    per_column = max(parts.num_rows, 1) * 8
    size = max(1, budget // per_column)
    names = [f.name for f in parts.schema if _gathered(f.type)]
    return [names[i:i + size] for i in range(0, len(names), size)] or [[]]


def _profile(parts: _Parts, *, version_id: str, target: str | None, ctx: TaskContext | None,
             gather_bytes: int, memory_bytes: int | None) -> Profile:
    ctx = ensure_context(ctx)
    if target is not None:
        # scikit-learn takes ~2 s to import (it loads scipy.stats); load it for the target
        # associations beside the scan, which spends most of its time outside the GIL.
        _prefetch_sklearn()
    names = list(parts.schema.names)
    rows = parts.num_rows
    tallies = {f.name: _TextTally(f.name, f.type) for f in parts.schema if not _gathered(f.type)}
    groups = _plan(parts, gather_bytes)
    done: dict[str, ColumnProfile] = {}
    # Progress in columns read: the first pass reads every column, later ones only their group.
    total_steps = max(1, parts.num_parts * (len(names) + sum(len(g) for g in groups[1:])))
    scan = ctx.sub(0.0, 0.7)
    step = 0
    hashes: list[np.ndarray] = []
    sample_parts: list[pa.Table] = []
    want = None if rows <= SAMPLE_ROWS else np.sort(np.random.default_rng(0).choice(rows, size=SAMPLE_ROWS, replace=False))
    nbytes = 0
    for g, group in enumerate(groups):
        chunks: dict[str, list[pa.Array]] = {n: [] for n in group}
        offset = 0
        for i in range(parts.num_parts):
            ctx.check()
            part = parts.part(i, names if g == 0 else group)
            for n in group:
                chunks[n].extend(part.column(n).chunks)
            if g == 0:
                for n, tally in tallies.items():
                    tally.add(part.column(n))
                hashes.append(_row_hashes(part))
                nbytes += part.nbytes
                if want is None:
                    sample_parts.append(part)
                else:
                    lo, hi = np.searchsorted(want, [offset, offset + part.num_rows])
                    if hi > lo:
                        sample_parts.append(part.take(pa.array(want[lo:hi] - offset)))
            offset += part.num_rows
            del part
            step += len(names) if g == 0 else len(group)
            scan.report(step / total_steps, f"Reading rows {offset:,} of {rows:,}" + (f" (pass {g + 1} of {len(groups)})" if len(groups) > 1 else ""))
        ctx.check()

        def finish(n: str) -> ColumnProfile:
            return profile_column(n, pa.chunked_array(chunks.pop(n), type=parts.schema.field(n).type))

        # numpy sorts and Arrow kernels release the GIL: one column per core at a time.
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            done.update(zip(group, pool.map(finish, group), strict=True))
    for n, tally in tallies.items():
        done[n] = _finish(tally.profile())
    cols = [done[n] for n in names]
    dup = _repeats(np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64))
    del hashes
    ctx.report(0.75, "Correlations")
    sample = pa.concat_tables(sample_parts) if sample_parts else pa.table({n: pa.array([], t) for n, t in zip(parts.schema.names, parts.schema.types, strict=True)})
    correlations = associations.correlations(sample, cols)
    ctx.check()
    assoc: list[Any] = []
    alerts = _alerts(None, cols, dup, rows)
    if target is not None:
        ctx.report(0.85, "Target associations")
        assoc = associations.target_associations(sample, cols, target)
        for name, why in associations.excluded_from_target(cols, target):
            if why != "constant":  # constant columns have their own alert
                alerts.append(Alert("info", name, "target_excluded",
                                    f"{name} is not measured against {target}: {why} (unique per row, it cannot generalise)."
                                    if why == "identifier" else f"{name} is not measured against {target}: {why}."))
        for a in assoc:
            if a.leakage:
                alerts.append(Alert(
                    "high", a.column, "leakage",
                    f"{a.column} alone predicts {target} ({a.score_name} {a.model_score:.3f}): possible target leakage.",
                ))
    alerts.sort(key=lambda a: (_SEVERITY_ORDER[a.severity], a.column or ""))
    ctx.report(1.0, "Profiled")
    return Profile(
        version_id=version_id, row_count=rows, column_count=len(names), duplicate_rows=dup,
        memory_bytes=int(memory_bytes if memory_bytes is not None else nbytes), columns=tuple(cols), alerts=tuple(alerts),
        correlations=tuple(correlations), target=target, target_associations=tuple(assoc),
        sampled_rows=sample.num_rows if sample.num_rows < rows else None,
    )


def profile_table(
    table: pa.Table, *, version_id: str = "", target: str | None = None, ctx: TaskContext | None = None,
) -> Profile:
    """Profile every column of ``table``; with ``target``, also each column's association with it."""
    return _profile(_TableParts(table), version_id=version_id, target=target, ctx=ctx,
                    gather_bytes=GATHER_BYTES, memory_bytes=table.nbytes)


def profile_parquet(
    source: Any, *, version_id: str = "", target: str | None = None, ctx: TaskContext | None = None,
    gather_bytes: int = GATHER_BYTES,
) -> Profile:
    """Profile a Parquet file row group by row group, without loading it whole.

    Parameters
    ----------
    source
        A path, a seekable binary file object (e.g. :func:`core.store.blobs.open_reader`)
        or a :class:`pyarrow.parquet.ParquetFile`.
    gather_bytes
        Memory allowed for the numeric and datetime values gathered for exact quantiles;
        columns beyond it are read in further passes.
    ctx
        Progress (one step per row group and pass) and cancellation (checked per row group).
    """
    import pyarrow.parquet as pq

    pf = source if isinstance(source, pq.ParquetFile) else pq.ParquetFile(source)
    return _profile(_ParquetParts(pf), version_id=version_id, target=target, ctx=ctx,
                    gather_bytes=gather_bytes, memory_bytes=None)
