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
Row hashes for duplicates (8 bytes a row; each text value hashed once per row group) and the
correlation sample are collected in the first pass. Correlations and target associations use a deterministic sample of at most
:data:`SAMPLE_ROWS` rows. A profile never holds raw rows, and top values of PII-like or
identifier columns are redacted. No store, no Qt.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core import runtime
from core.data import arrays, associations, profile_alerts, row_hashes
from core.data.models import (
    REDACTED,
    ColumnFlag,
    ColumnProfile,
    PiiKind,
    Profile,
    SemanticType,
)
from core.data.pii import pii_kind, text_pii
from core.data.profile_alerts import HIGH_CORRELATION as HIGH_CORRELATION
from core.data.profile_alerts import NEAR_CONSTANT_SHARE as NEAR_CONSTANT_SHARE
from core.errors import InvalidInput
from core.tasks import TaskContext, ensure_context, long_work

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_N = 10
HIST_BINS = 20
PII_SAMPLE = 5000
CATEGORICAL_MAX_DISTINCT = 100
SAMPLE_ROWS = 200_000
#: Bytes of numeric/datetime values gathered at once for exact quantiles (a budget, 8 B a value).
GATHER_BYTES = 512 * 1024 * 1024
#: Rows per part when a table in memory is profiled (a Parquet file uses its row groups).
PART_ROWS = 65_536
#: Identifiers found by content need at least this many non-missing values.
ID_MIN_ROWS = 20
#: Mean length above which text unique per row is free text rather than a name or code.
FREE_TEXT_LENGTH = 30
_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|number|no|nr)$|^id[_\s-]", re.IGNORECASE)


def _f(x: Any) -> float | None:
    """A JSON-safe float (None for NaN/inf)."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _numeric_values(arr: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_decimal(arr.type):
        arr = pc.cast(arr, pa.float64())
    values = arrays.floats(arr)  # NaN where missing: one mask drops both
    keep = ~np.isnan(values)
    return values if keep.all() else values[keep]


def _top(arr: pa.ChunkedArray) -> tuple[list[tuple[str, int]], int, int]:
    """Top values as text, number of distinct non-null values, count of the most common."""
    vc = pc.value_counts(arr.drop_null())
    if len(vc) == 0:
        return [], 0, 0
    counts = arrays.integers(vc.field("counts"))
    order = np.argsort(-counts, kind="stable")[:TOP_N]
    values = vc.field("values")
    top = [(str(values[int(i)].as_py()), int(counts[i])) for i in order]
    return top, len(vc), int(counts[order[0]])


def quantiles_of_sorted(s: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """``np.quantile(values, qs)`` (linear method) from the values sorted ascending, bit for bit.

    numpy interpolates between the two order statistics around ``q * (n - 1)`` with its
    ``_lerp`` (``a + (b - a) * t``, or ``b - (b - a) * (1 - t)`` when ``t >= 0.5``); with the
    values sorted already, the order statistics are two lookups instead of a selection.
    """
    position = np.asarray(qs, dtype=np.float64) * (s.size - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, s.size - 1)
    t = position - below
    a, b = s[below], s[above]
    diff = b - a
    out: np.ndarray = a + diff * t
    high = t >= 0.5
    out[high] = b[high] - diff[high] * (1 - t[high])
    same = a == b  # numpy returns the value itself where both neighbours are equal
    out[same] = a[same]
    return out


def _top_counts(counts: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest counts, larger first, ties in index order (a stable sort's order).

    Only the candidates are sorted: a column of distinct floats has a million counts of 1.
    """
    if counts.size <= n:
        return np.argsort(-counts, kind="stable")
    kth = np.partition(counts, counts.size - n)[counts.size - n]
    above = np.flatnonzero(counts > kth)
    tied = np.flatnonzero(counts == kth)[: n - above.size]
    candidates = np.concatenate((above, tied))
    candidates.sort()
    return candidates[np.argsort(-counts[candidates], kind="stable")][:n]


def _numeric(name: str, arr: pa.ChunkedArray, count: int) -> ColumnProfile:
    values = _numeric_values(arr)
    n = values.size
    missing = count - n
    stats: dict[str, Any] = {}
    quantiles: dict[str, float] = {}
    histogram: dict[str, list[float]] = {}
    distinct = 0
    top: list[tuple[str, int]] = []
    flags: list[ColumnFlag] = []
    uniq = np.empty(0)
    if n:
        # One sort gives the distinct values and their counts, the quantiles, the extremes,
        # the sign counts and the histogram.
        s = np.sort(values)
        change = s[1:] != s[:-1]
        ucounts: np.ndarray | None = None  # None: every value distinct (most float columns), each count 1
        if np.count_nonzero(change) == n - 1:
            uniq = s
        else:
            starts = np.concatenate(([0], np.flatnonzero(change) + 1))
            uniq = s[starts]
            ucounts = np.diff(np.append(starts, n))
        del change
        distinct = int(uniq.size)
        qs = quantiles_of_sorted(s, QUANTILES)
        quantiles = {str(q): float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        q1, q3 = float(qs[2]), float(qs[4])
        iqr = q3 - q1
        below_zero, above_zero = np.searchsorted(s, [0.0, 0.0], side="left"), np.searchsorted(s, 0.0, side="right")
        stats = {
            "min": _f(s[0]), "max": _f(s[-1]), "mean": _f(values.mean()),
            "std": _f(values.std(ddof=1)) if n > 1 else None,
            "zeros": int(above_zero - below_zero[0]), "negatives": int(below_zero[0]),
        }
        if iqr > 0 and distinct > 2:
            # Tukey's fences. Not where the IQR is 0 (most values equal: every other value
            # would be an "outlier") nor on two-valued columns (0/1 flags).
            low, high = np.searchsorted(s, q1 - 1.5 * iqr, side="left"), np.searchsorted(s, q3 + 1.5 * iqr, side="right")
            stats["outliers"] = int(low + (n - high))
        bins = min(HIST_BINS, max(distinct, 1))
        try:
            edges = np.histogram_bin_edges(s[[0, -1]], bins=bins)
        except ValueError:  # a range too narrow for that many bins (subnormal numbers): one bin
            edges = np.histogram_bin_edges(s[[0, -1]], bins=1)
        # np.histogram's bins: [e_i, e_i+1), the last one closed.
        cuts = np.searchsorted(s, edges[1:-1], side="left")
        hc = np.diff(np.concatenate(([0], cuts, [n])))
        histogram = {"counts": [float(c) for c in hc], "edges": [float(e) for e in edges]}
        if ucounts is None:  # each count 1: the first values in order are the top ones (ties in order)
            top = [(_num_text(v), 1) for v in s[:TOP_N]]
        else:
            top = [(_num_text(uniq[i]), int(ucounts[i])) for i in _top_counts(ucounts, TOP_N)]
        if ucounts is not None and distinct > 1 and ucounts.max() / n >= NEAR_CONSTANT_SHARE:
            flags.append(ColumnFlag.NEAR_CONSTANT)
        del s
    is_int = pa.types.is_integer(arr.type)
    semantic = SemanticType.NUMERIC
    identifier = None
    if is_int and distinct == 2 and set(uniq.tolist()) == {0.0, 1.0}:
        semantic = SemanticType.BOOLEAN
    elif is_int and (identifier := _integer_identifier(name, values, distinct)) is not None:
        semantic = SemanticType.IDENTIFIER
    pii = None
    if is_int and n and stats["min"] is not None and stats["min"] >= 1e12:
        pii = pii_kind([str(int(v)) for v in values[:PII_SAMPLE]])
    return ColumnProfile(name, str(arr.type), semantic, count, missing, distinct, stats, quantiles,
                         histogram, top, pii, tuple(flags), identifier)


def _integer_identifier(name: str, values: np.ndarray, distinct: int) -> str | None:
    """Why integers (non-missing, in row order) are an identifier, or None.

    Each value once (at least :data:`ID_MIN_ROWS`) and: consecutive (row numbers, in any
    order), strictly increasing down the rows (a sequence, with gaps), or an id-like name.
    """
    n = values.size
    if n < ID_MIN_ROWS or distinct != n:
        return None
    if float(values.max()) - float(values.min()) == n - 1:
        return "consecutive integers, one per row (row numbers)"
    if bool(np.all(values[1:] > values[:-1])):
        return "strictly increasing integers, one per row (a sequence)"
    if _ID_NAME.search(name):
        return "integers unique per row, with an id-like name"
    return None


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))


def _datetime(name: str, arr: pa.ChunkedArray, count: int) -> ColumnProfile:
    values = arr.drop_null()
    n = len(values)
    stats: dict[str, Any] = {}
    histogram: dict[str, list[float]] = {}
    distinct = 0
    if n:
        # Distinct values from one sort of the stored integers (in the column's own unit):
        # several times faster than a hash table over a million timestamps.
        ordered = np.sort(arrays.integers(values))
        distinct = 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
        del ordered
        stats = {"min": str(pc.min(values).as_py()), "max": str(pc.max(values).as_py())}
        # Every unit and dates in microseconds, so the edges are seconds since the epoch.
        hc, edges = np.histogram(arrays.microseconds(values) / 1e6, bins=HIST_BINS)
        histogram = {"counts": [float(c) for c in hc], "edges": [float(e) for e in edges]}
    return ColumnProfile(
        name, str(arr.type), SemanticType.DATETIME, count, count - n, distinct, stats, {}, histogram, [], None, ()
    )


def _text_semantic(
    n: int, distinct: int, mean_len: float, spaces: int, flags: list[ColumnFlag],
) -> tuple[SemanticType, str | None]:
    """Categorical, text or identifier for a text column, and why it is an identifier;
    appends ``high_cardinality`` to ``flags``.

    Text unique per row (every value distinct, at least :data:`ID_MIN_ROWS`; or more than
    :data:`CATEGORICAL_MAX_DISTINCT` values with ≥ 90% distinct) is an identifier when it
    is short (mean length ≤ :data:`FREE_TEXT_LENGTH`: codes, names), free text otherwise.
    Shared by the in-memory and the streaming profilers so both classify a column alike.
    """
    if unique_per_row(n, distinct):
        if mean_len > FREE_TEXT_LENGTH:
            return SemanticType.TEXT, None
        share = "every value distinct" if distinct == n else f"{distinct / n:.0%} of values distinct"
        return SemanticType.IDENTIFIER, f"text unique per row ({share})"
    if distinct <= CATEGORICAL_MAX_DISTINCT or distinct <= 0.05 * n:
        return SemanticType.CATEGORICAL, None
    if mean_len > FREE_TEXT_LENGTH or spaces > 0.5 * max(n, 1):
        return SemanticType.TEXT, None
    flags.append(ColumnFlag.HIGH_CARDINALITY)
    return SemanticType.CATEGORICAL, None


def identifier_reason(name: str, arr: pa.ChunkedArray) -> str | None:
    """Why a column (all its rows, in order) is an identifier by the profile's rule, or None.

    The same decision as ``ColumnProfile.identifier`` for integer and text columns, for a
    caller that holds the column but no profile (drift compares raw snapshots).
    """
    t = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(t)
    if pa.types.is_integer(t):
        values = _numeric_values(arr)
        if values.size < ID_MIN_ROWS:
            return None
        uniq = np.unique(values)
        if uniq.size == 2 and set(uniq.tolist()) == {0.0, 1.0}:
            return None
        return _integer_identifier(name, values, int(uniq.size))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        values = arr.drop_null()
        n = len(values)
        if not n:
            return None
        distinct = int(pc.count_distinct(values).as_py())
        mean_len = (pc.sum(pc.utf8_length(values)).as_py() or 0) / n
        spaces = int(pc.sum(pc.match_substring(values, " ")).as_py() or 0)
        return _text_semantic(n, distinct, mean_len, spaces, [])[1]
    return None


def unique_per_row(n: int, distinct: int) -> bool:
    return (n >= ID_MIN_ROWS and distinct == n) or (distinct > CATEGORICAL_MAX_DISTINCT and distinct >= 0.9 * n)


def _text_pii(values: list[str], n: int, distinct: int, spaces: int) -> PiiKind | None:
    return text_pii(values, unique_per_row(n, distinct), spaces > 0.5 * n)


def _text(name: str, arr: pa.ChunkedArray, count: int) -> ColumnProfile:
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string()) if not pa.types.is_boolean(arr.type) else arr
    top, distinct, most = _top(arr)
    values = arr.drop_null()
    n = len(values)
    stats: dict[str, Any] = {}
    flags: list[ColumnFlag] = []
    identifier = None
    spaces = 0
    if pa.types.is_boolean(arr.type):
        semantic = SemanticType.BOOLEAN
    else:
        lengths = arrays.integers(pc.utf8_length(values)) if n else np.array([0])
        spaces = int(pc.sum(pc.match_substring(values, " ")).as_py() or 0) if n else 0
        stats = {"min_length": int(lengths.min()), "mean_length": _f(lengths.mean()), "max_length": int(lengths.max())}
        semantic, identifier = _text_semantic(n, distinct, float(lengths.mean()), spaces, flags)
    if n and distinct > 1 and most / n >= NEAR_CONSTANT_SHARE:
        flags.append(ColumnFlag.NEAR_CONSTANT)
    pii = None
    if n and not pa.types.is_boolean(arr.type):
        pii = _text_pii(pc.unique(values).slice(0, PII_SAMPLE).to_pylist(), n, distinct, spaces)
    return ColumnProfile(name, str(arr.type), semantic, count, count - n, distinct, stats, {}, {}, top, pii,
                         tuple(flags), identifier)


def profile_column(name: str, arr: pa.ChunkedArray, *, not_pii: bool = False) -> ColumnProfile:
    """The profile of one column (all rows).

    PII-like and identifier columns are redacted (:func:`_redact`) unless ``not_pii``: the
    user said the column holds no personal data (it then has no PII kind either).
    """
    count = len(arr)
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        col = _numeric(name, arr, count)
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):
        col = _datetime(name, arr, count)
    else:
        col = _text(name, arr, count)
    return _finish(col, not_pii=not_pii)


def _as_kwargs(col: ColumnProfile) -> dict[str, Any]:
    return {f: getattr(col, f) for f in ColumnProfile.__dataclass_fields__}


def _redact(col: ColumnProfile) -> ColumnProfile:
    """Identifiers and PII keep counts only: no values, no extremes, no histogram of values."""
    keep = {k: v for k, v in col.stats.items() if k not in ("min", "max")}
    return ColumnProfile(**{**_as_kwargs(col), "stats": keep, "quantiles": {}, "histogram": {},
                            "top_values": [(REDACTED, c) for _, c in col.top_values]})


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
    """Row groups of a Parquet file; ``schema`` is the file's own (text as text) whatever
    the reader hands out (text columns may come as dictionaries: see :func:`profile_parquet`)."""

    def __init__(self, pf: Any, schema: pa.Schema | None = None) -> None:
        self._pf = pf
        self.schema = schema if schema is not None else pf.schema_arrow
        self.num_rows = pf.metadata.num_rows
        self.num_parts = pf.num_row_groups

    def part(self, i: int, columns: list[str]) -> pa.Table:
        return self._pf.read_row_group(i, columns=columns)


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
        values = arr.drop_null()
        vc = pc.value_counts(values) if len(values) else None
        self.add_counts(vc.field("values") if vc is not None else None,
                        arrays.integers(vc.field("counts")) if vc is not None else None, len(arr))

    def add_counts(self, distinct: pa.Array | None, counts: np.ndarray | None, count: int) -> None:
        """Add one part given as its distinct non-missing values (first-seen order) and their counts."""
        self.count += count
        if distinct is None or counts is None or len(distinct) == 0:
            return
        self.n += int(counts.sum())
        if not self.boolean:
            # Lengths and spaces of each distinct value, weighted by its count: the same sums.
            lengths = pc.utf8_length(distinct)
            lo, hi = pc.min_max(lengths).values()
            self.min_len = lo.as_py() if self.min_len is None else min(self.min_len, lo.as_py())
            self.max_len = max(self.max_len, hi.as_py())
            self.sum_len += int(np.dot(arrays.integers(lengths), counts))
            spaced = arrays.booleans(pc.match_substring(distinct, " "))
            self.spaces += int(counts[spaced].sum())
        piece = pa.table({"v": distinct, "c": arrays.from_numpy(counts.astype(np.int64)),
                          "o": arrays.from_numpy(np.arange(self._seen, self._seen + len(distinct), dtype=np.int64))})
        self._seen += len(distinct)
        self._pieces.append(piece)
        self._pending += len(distinct)
        if self._pending > max(1_000_000, 2 * (self._merged.num_rows if self._merged is not None else 0)):
            self._merge()

    def _merge(self) -> None:
        parts = ([self._merged] if self._merged is not None else []) + self._pieces
        self._pieces, self._pending = [], 0
        if not parts:
            return
        # The rows are in first-seen order already (the merged values, then each part's), so
        # dictionary codes number the distinct values in that order; their counts are summed.
        # (Not Table.group_by and sort_by: Acero's first use imports pandas, 0.15 s.)
        whole = pa.concat_tables(parts)
        if len(parts) > 1:
            encoded = pc.dictionary_encode(whole.column("v").combine_chunks())
            distinct = len(encoded.dictionary)
            counts = np.bincount(arrays.plain(encoded.indices, np.int32), weights=arrays.integers(whole.column("c")),
                                 minlength=distinct)
            whole = pa.table({"v": encoded.dictionary, "c": arrays.from_numpy(counts.astype(np.int64)),
                              "o": arrays.from_numpy(np.arange(distinct, dtype=np.int64))})
        self._merged = whole

    def profile(self) -> ColumnProfile:
        self._merge()
        merged = self._merged
        distinct = merged.num_rows if merged is not None else 0
        top: list[tuple[str, int]] = []
        most = 0
        if distinct:
            counts = arrays.integers(merged.column("c"))  # type: ignore[union-attr]
            order = np.argsort(-counts, kind="stable")[:TOP_N]
            values = merged.column("v")  # type: ignore[union-attr]
            top = [(str(values[int(i)].as_py()), int(counts[i])) for i in order]
            most = int(counts[order[0]])
        n = self.n
        stats: dict[str, Any] = {}
        flags: list[ColumnFlag] = []
        identifier = None
        if self.boolean:
            semantic = SemanticType.BOOLEAN
        else:
            mean_len = self.sum_len / n if n else 0.0
            stats = {"min_length": int(self.min_len or 0), "mean_length": _f(mean_len), "max_length": int(self.max_len)}
            semantic, identifier = _text_semantic(n, distinct, mean_len, self.spaces, flags)
        if n and distinct > 1 and most / n >= NEAR_CONSTANT_SHARE:
            flags.append(ColumnFlag.NEAR_CONSTANT)
        pii = None
        if n and not self.boolean and merged is not None:
            pii = _text_pii(merged.column("v").slice(0, PII_SAMPLE).to_pylist(), n, distinct, self.spaces)
        self._merged = None
        return ColumnProfile(self.name, str(self.type), semantic, self.count, self.count - n, distinct, stats, {}, {},
                             top, pii, tuple(flags), identifier)


def _finish(col: ColumnProfile, *, not_pii: bool = False) -> ColumnProfile:
    """Flags every column gets alike, and redaction (none where the user said ``not_pii``)."""
    flags = list(col.flags)
    if col.distinct <= 1:
        flags = [ColumnFlag.CONSTANT]
    if not_pii:
        col = ColumnProfile(**{**_as_kwargs(col), "pii": None})
    elif col.pii or col.semantic_type == SemanticType.IDENTIFIER:
        col = _redact(col)
    return ColumnProfile(**{**_as_kwargs(col), "flags": tuple(flags)})


def _is_text(t: pa.DataType) -> bool:
    """Text, or text as a dictionary (how the profile reads text columns from Parquet)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _encoded(values: pa.ChunkedArray) -> pa.DictionaryArray:
    """One part of a text column as one dictionary array: as read, or encoded here."""
    if pa.types.is_dictionary(values.type):
        if values.num_chunks == 1:
            return values.chunk(0)
        values = values.cast(values.type.value_type)  # chunks with dictionaries of their own: rare
    return pc.dictionary_encode(values.combine_chunks() if values.num_chunks != 1 else values.chunk(0))


def _plain_nbytes(part: pa.Table) -> int:
    """The Arrow size of ``part`` with its dictionary columns as plain text (validity,
    offsets, bytes): the figure a table holding the text itself reports."""
    total = 0
    for column in part.columns:
        if not pa.types.is_dictionary(column.type):
            total += column.nbytes
            continue
        for chunk in column.chunks:
            codes = arrays.plain(chunk.indices, np.int32)
            present = arrays.valid(chunk.indices)
            lengths = arrays.integers(pc.binary_length(chunk.dictionary))
            data = int(lengths[codes[present]].sum()) if len(lengths) else 0
            width = 8 if pa.types.is_large_string(chunk.type.value_type) else 4
            total += (-(-len(chunk) // 8) if chunk.null_count else 0) + width * (len(chunk) + 1) + data
    return total


def _scan_part(pool: ThreadPoolExecutor, part: pa.Table, tallies: dict[str, _TextTally]) -> np.ndarray:
    """First-pass work on one row group, a task per column: text tallies and value hashes.

    Returns the row hashes: the value hashes combined in column order.
    Each tally gets one column of this part, so no tally is updated from two threads.
    """
    def column(i: int) -> np.ndarray:
        values = part.column(i)
        tally = tallies.get(part.schema.names[i])
        if tally is not None and not tally.boolean and _is_text(values.type):
            # One dictionary serves both: the distinct values with their counts for the tally,
            # the codes for the row hashes.
            encoded = _encoded(values)
            codes = arrays.plain(encoded.indices, np.int32)
            present = arrays.valid(encoded.indices)
            counts = np.bincount(codes[present], minlength=len(encoded.dictionary))
            used = counts > 0  # a dictionary read from the file may hold a value no row has
            distinct = encoded.dictionary if used.all() else encoded.dictionary.filter(arrays.from_numpy(used))
            tally.add_counts(distinct, counts[used], len(values))
            return row_hashes.text_value_hashes(encoded, codes, present)
        if tally is not None:
            tally.add(values)
        return row_hashes.value_hashes(values)

    h = np.zeros(part.num_rows, dtype=np.uint64)
    for hashed in pool.map(column, range(part.num_columns)):
        h *= np.uint64(1_000_003)  # wraps around, as intended
        h ^= hashed
    return h


def _plan(parts: _Parts, budget: int) -> list[list[str]]:
    """Gathered columns in groups whose values fit ``budget`` bytes (one column at least)."""
    per_column = max(parts.num_rows, 1) * 8
    size = max(1, budget // per_column)
    names = [f.name for f in parts.schema if _gathered(f.type)]
    return [names[i:i + size] for i in range(0, len(names), size)] or [[]]


def _profile(parts: _Parts, *, version_id: str, target: str | None, ctx: TaskContext | None,
             gather_bytes: int, memory_bytes: int | None, not_pii: tuple[str, ...] = ()) -> Profile:
    ctx = ensure_context(ctx)
    names = list(parts.schema.names)
    unknown = [n for n in not_pii if n not in names]
    if unknown:
        raise InvalidInput(
            f"not_pii names {', '.join(map(repr, unknown))}, not a column of this dataset "
            f"(its columns: {', '.join(names[:20])}{', …' if len(names) > 20 else ''}). Name columns as the profile lists them."
        )
    not_pii = tuple(dict.fromkeys(not_pii))
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
    # One pool for the per-column work (Arrow kernels and numpy release the GIL) and one
    # thread that reads (decrypts and decodes) the next row group meanwhile.
    with ThreadPoolExecutor(max_workers=runtime.cpu_workers(), thread_name_prefix="airlock-profile") as pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="airlock-profile-read") as reader:
        for g, group in enumerate(groups):
            chunks: dict[str, list[pa.Array]] = {n: [] for n in group}
            offset = 0
            wanted = names if g == 0 else group
            pending = reader.submit(parts.part, 0, wanted) if parts.num_parts else None
            for i in range(parts.num_parts):
                ctx.check()
                assert pending is not None
                part = pending.result()
                pending = reader.submit(parts.part, i + 1, wanted) if i + 1 < parts.num_parts else None
                for n in group:
                    chunks[n].extend(part.column(n).chunks)
                if g == 0:
                    hashes.append(_scan_part(pool, part, tallies))
                    nbytes += _plain_nbytes(part)
                    if want is None:
                        sample_parts.append(part)
                    else:
                        lo, hi = np.searchsorted(want, [offset, offset + part.num_rows])
                        if hi > lo:
                            sample_parts.append(part.take(arrays.from_numpy(want[lo:hi] - offset)))
                offset += part.num_rows
                del part
                step += len(names) if g == 0 else len(group)
                passes = f" (pass {g + 1} of {len(groups)})" if len(groups) > 1 else ""
                scan.report(step / total_steps, f"Reading rows {offset:,} of {rows:,}{passes}")
            ctx.check()

            def finish(n: str, chunks: dict[str, list[pa.Array]] = chunks) -> ColumnProfile:
                return profile_column(n, pa.chunked_array(chunks.pop(n), type=parts.schema.field(n).type),
                                      not_pii=n in not_pii)

            # numpy sorts and Arrow kernels release the GIL: one column per core at a time. The
            # text columns' figures and the duplicate count join the first group's queue.
            finished = {n: pool.submit(finish, n) for n in group}
            if g == 0:
                finished.update({n: pool.submit(lambda t: _finish(t.profile(), not_pii=t.name in not_pii), t)
                                 for n, t in tallies.items()})
                duplicates = pool.submit(row_hashes.repeats, np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64))
            done.update({n: f.result() for n, f in finished.items()})
        dup = duplicates.result()
        del hashes
        cols = [done[n] for n in names]
        ctx.check()
        ctx.report(0.75, "Correlations" + (" and target associations" if target is not None else ""))
        sample = pa.concat_tables(sample_parts).cast(parts.schema) if sample_parts else parts.schema.empty_table()
        # Independent of each other: side by side.
        pending_assoc = pool.submit(associations.target_associations, sample, cols, target) if target is not None else None
        correlations = associations.correlations(sample, cols)
        assoc: list[Any] = pending_assoc.result() if pending_assoc is not None else []
    ctx.check()
    alerts, assoc = profile_alerts.alerts(cols, dup, rows, correlations, target, assoc)
    ctx.report(1.0, "Profiled")
    return Profile(
        version_id=version_id, row_count=rows, column_count=len(names), duplicate_rows=dup,
        memory_bytes=int(memory_bytes if memory_bytes is not None else nbytes), columns=tuple(cols), alerts=tuple(alerts),
        correlations=tuple(correlations), target=target, target_associations=tuple(assoc),
        sampled_rows=sample.num_rows if sample.num_rows < rows else None, not_pii=not_pii,
    )


def profile_table(
    table: pa.Table, *, version_id: str = "", target: str | None = None, ctx: TaskContext | None = None,
    not_pii: tuple[str, ...] = (),
) -> Profile:
    """Profile every column of ``table``; with ``target``, also each column's association with it.

    ``not_pii``: columns the user says hold no personal data (see :func:`profile_parquet`).
    """
    with long_work():
        return _profile(_TableParts(table), version_id=version_id, target=target, ctx=ctx,
                        gather_bytes=GATHER_BYTES, memory_bytes=table.nbytes, not_pii=tuple(not_pii))


def profile_parquet(
    source: Any, *, version_id: str = "", target: str | None = None, ctx: TaskContext | None = None,
    gather_bytes: int = GATHER_BYTES, not_pii: tuple[str, ...] = (),
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
    not_pii
        Columns the user says hold no personal data: no PII kind, and their values are shown
        although they look like PII or an identifier (names, unique text). Recorded in
        ``Profile.not_pii``. A name that is not a column raises :class:`InvalidInput`.
    """
    import pyarrow.parquet as pq

    if isinstance(source, pq.ParquetFile):
        pf, schema = source, source.schema_arrow
    else:
        # Text columns read as dictionaries: decoding is about twice as fast (each distinct
        # value is made once per row group, not once per row) and the tallies need the
        # dictionary anyway. The profile still sees the file's own types.
        pf = pq.ParquetFile(source)
        schema = pf.schema_arrow
        text = [f.name for f in schema if _is_text(f.type) and not pa.types.is_dictionary(f.type)]
        if text:
            pf = pq.ParquetFile(source, metadata=pf.metadata, read_dictionary=text)
    with long_work():
        return _profile(_ParquetParts(pf, schema), version_id=version_id, target=target, ctx=ctx,
                        gather_bytes=gather_bytes, memory_bytes=None, not_pii=tuple(not_pii))
