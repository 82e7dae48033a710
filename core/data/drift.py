"""Distribution drift between a reference and a current table, column by column.

What is compared
    Numeric and datetime columns: PSI over the reference's deciles (plus a bin below its
    minimum and one above its maximum), the two-sample Kolmogorov–Smirnov test, and the
    Wasserstein distance in reference standard deviations. Discrete columns — booleans, and
    numbers with at most :data:`DISCRETE_MAX_LEVELS` distinct values over both tables that
    repeat in the reference — and text columns: PSI over the levels, the chi-square test of
    homogeneity (+0.5 per cell) and the Jensen–Shannon distance (base 2). Missing values are
    never a level nor a bin: every column's share of missing values is compared on its own
    with a two-proportion test.

The rule
    PSI is computed with Jeffreys pseudo-counts (0.5 per cell, each side), so an empty cell
    is not a tiny share that explodes the logarithm. Two samples of sizes n₁, n₂ drawn from one
    distribution show PSI ≈ (cells − 1)(1/n₁ + 1/n₂) by chance alone (``psi_expected``): on small
    samples with many levels that is above any threshold, so the effect that counts is the
    excess over it. p-values (values, and missing shares where either side has any) are adjusted
    together (Benjamini–Hochberg by default, or Bonferroni). A column drifts when

    * its test's adjusted p-value is below ``alpha`` and PSI − psi_expected ≥ ``psi_moderate``
      (major from ``psi_major``), or
    * its missing-share test's adjusted p-value is below ``alpha`` and the share moved by at
      least ``missing_moderate`` (major from ``missing_major``).

    Significance alone is not drift (large samples make tiny shifts significant), and
    neither is a large PSI alone (small samples make it large by chance). The dataset drifts
    when any column does.

Not compared (``skipped``, "NAME: reason"): columns in only one table, identifiers (the
profile's verdict when the service passes it, and by content with the profile's own rule:
consecutive or strictly increasing integers, all-distinct integers with an id-like name,
short text unique per row), free text unique per row, columns with too few values. Two
tables with no column in common are refused.

This module computes; it does not read the store or know about versions.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from core import runtime
from core.data import arrays
from core.data.models import (
    ColumnDrift,
    ColumnType,
    Correction,
    DriftColumnKind,
    DriftDistance,
    DriftLevel,
    DriftReason,
    DriftReport,
    DriftTest,
)
from core.data.schema import logical_type
from core.errors import InvalidInput
from core.tasks import TaskContext, ensure_context

_NUMERIC_TYPES = (ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.DATETIME)

PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
ALPHA = 0.05
BINS = 10
#: Numbers with at most this many distinct values (both tables together) are levels, not a scale.
DISCRETE_MAX_LEVELS = 20
#: Pseudo-count added to every cell on each side before PSI (Jeffreys' prior).
PSEUDO_COUNT = 0.5
#: Change in the share of missing values (of all rows) that is a moderate / major drift.
MISSING_MODERATE = 0.05
MISSING_MAJOR = 0.20


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors over the same cells.

    Each side's shares are ``(count + 0.5) / (n + 0.5 × cells)`` (Jeffreys pseudo-counts):
    ``Σ (a − e) ln(a / e)``.
    """
    k = expected.size
    e = (expected + PSEUDO_COUNT) / (expected.sum() + PSEUDO_COUNT * k)
    a = (actual + PSEUDO_COUNT) / (actual.sum() + PSEUDO_COUNT * k)
    return float(np.sum((a - e) * np.log(a / e)))


def expected_psi(cells: int, n_reference: int, n_current: int) -> float:
    """The PSI two samples of these sizes from one distribution show on average, about.

    PSI is close to the chi-square statistic times ``1/n₁ + 1/n₂``, whose mean under no
    change is the degrees of freedom, ``cells − 1``.
    """
    if cells < 2 or n_reference < 1 or n_current < 1:
        return 0.0
    return float((cells - 1) * (1 / n_reference + 1 / n_current))


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion test of k1/n1 against k2/n2: chi-square statistic (z²) and p-value.

    As ``scipy.stats.chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)``.
    """
    if n1 < 1 or n2 < 1:
        return 0.0, 1.0
    pooled = (k1 + k2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z * z, math.erfc(abs(z) / math.sqrt(2))


def adjust(p: list[float], method: Correction | str) -> list[float]:
    """Adjusted p-values: ``bh`` (Benjamini–Hochberg) or ``bonferroni``."""
    m = len(p)
    if m == 0:
        return []
    arr = np.asarray(p, dtype=np.float64)
    if method == Correction.BONFERRONI:
        return list(np.minimum(arr * m, 1.0))
    if method != Correction.BH:
        raise InvalidInput("correction is 'bh' or 'bonferroni'.")
    order = np.argsort(arr)
    ranked = arr[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    return list(out)


def skip_reason(name: str, arr: pa.ChunkedArray) -> str | None:
    """Why a reference column is not compared for drift, by content: "identifier", "free text", or None.

    The profile's rule (:func:`core.data.profiling.identifier_reason`, the same function): integers each once
    (at least 20) that are consecutive (row numbers), strictly increasing (a sequence) or under
    an id-like name; text unique per row (every value distinct, or more than 100 values ≥ 90%
    distinct) — an identifier when short (codes, names), free text otherwise. Their values
    are new in every version, so their "drift" says nothing.
    """
    import pyarrow.compute as pc

    from core.data import profiling

    encoded = pa.types.is_dictionary(arr.type)
    kind = arr.type.value_type if encoded else arr.type
    if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None
    values = arr.drop_null()
    n = len(values)
    if n < profiling.ID_MIN_ROWS:
        return None
    # The first fifth of the values settles most columns: with d distinct among them, the
    # whole column has at most d + (the rest) distinct values.
    head = values.slice(0, max(profiling.ID_MIN_ROWS, n // 5))
    head_distinct = pc.count_distinct(head.cast(kind) if encoded else head).as_py()
    if encoded:
        values = values.cast(kind)
    if pa.types.is_integer(kind) and head_distinct < len(head):
        return None  # a repeated value: never an identifier
    if pa.types.is_integer(kind):
        return "identifier" if profiling.identifier_reason(name, arr) is not None else None
    if head_distinct + (n - len(head)) < 0.9 * n:
        return None
    if profiling.identifier_reason(name, arr) is not None:
        return "identifier"
    distinct = int(pc.count_distinct(values).as_py())
    # Unique per row but not an identifier by the profile: free text or personal names.
    return "free text" if profiling.unique_per_row(n, distinct) else None


def identifier(name: str, arr: pa.ChunkedArray) -> bool:
    """Whether a reference column is an identifier by content (see :func:`skip_reason`)."""
    return skip_reason(name, arr) == "identifier"


def _numeric(arr: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """The finite values, sorted, and the number of missing ones (null or NaN)."""
    temporal = pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type)
    v = arrays.microseconds(arr) if temporal else arrays.floats(arr)
    finite = np.isfinite(v)
    missing = int(np.count_nonzero(np.isnan(v)))
    return np.sort(v[finite]), missing


def _distinct_sorted(s: np.ndarray) -> np.ndarray:
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _discrete_levels(ref: np.ndarray, cur: np.ndarray) -> np.ndarray | None:
    """The levels of both sorted samples when they are few and repeat in the reference, else None."""
    r_levels = _distinct_sorted(ref)
    if r_levels.size > DISCRETE_MAX_LEVELS or 2 * r_levels.size > ref.size:
        return None
    c_levels = _distinct_sorted(cur)
    if c_levels.size > DISCRETE_MAX_LEVELS:
        return None
    levels = np.union1d(r_levels, c_levels)
    return levels if levels.size <= DISCRETE_MAX_LEVELS else None


def _counts_at(s: np.ndarray, levels: np.ndarray) -> np.ndarray:
    return np.asarray(np.searchsorted(s, levels, side="right") - np.searchsorted(s, levels, side="left"),
                      dtype=np.float64)


def decile_bins(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of two sorted samples over the reference's decile bins and two outer bins.

    The cuts are the distinct deciles of the reference (``np.quantile``'s linear method):
    bin i holds ``cut[i-1] <= x < cut[i]``, the first bin is below the reference's minimum,
    the last above its maximum (so a constant reference still has three bins).
    """
    from core.data.profiling import quantiles_of_sorted

    edges = np.unique(quantiles_of_sorted(ref, tuple(np.linspace(0, 1, BINS + 1))))
    cuts = np.concatenate((edges[:-1], [np.nextafter(edges[-1], np.inf)]))
    # On sorted values the counts are differences of positions.
    e = np.diff(np.concatenate(([0], np.searchsorted(ref, cuts, side="left"), [ref.size])))
    a = np.diff(np.concatenate(([0], np.searchsorted(cur, cuts, side="left"), [cur.size])))
    return e.astype(np.float64), a.astype(np.float64)


@dataclass(frozen=True, slots=True)
class _Measured:
    column: str
    kind: DriftColumnKind
    tested: bool  # False: a side had too few values; only the missing share is compared
    psi: float
    psi_expected: float
    cells: int
    test: DriftTest
    statistic: float
    p_value: float
    distance: float
    distance_name: DriftDistance
    rows_reference: int
    rows_current: int
    missing_reference: int
    missing_current: int

    @property
    def missing_tested(self) -> bool:
        return self.missing_reference + self.missing_current > 0 and self.rows_reference > 0 and self.rows_current > 0

    @property
    def missing_shares(self) -> tuple[float, float]:
        return (self.missing_reference / max(self.rows_reference, 1), self.missing_current / max(self.rows_current, 1))


def category_measures(e: np.ndarray, a: np.ndarray) -> tuple[float, float, float, float, int]:
    """PSI, chi-square statistic and p-value, Jensen–Shannon distance and cells of two count vectors.

    Cells empty on both sides are dropped first (they say nothing).
    """
    both = (e > 0) | (a > 0)
    e, a = e[both], a[both]
    if e.size < 2 or e.sum() == 0 or a.sum() == 0:
        return 0.0, 0.0, 1.0, 0.0, int(e.size)
    chi2, p = chi_square(np.vstack([e, a]) + 0.5)
    return psi(e, a), chi2, p, jensen_shannon(e / e.sum(), a / a.sum()), int(e.size)


def _numeric_drift(name: str, ref_col: pa.ChunkedArray, cur_col: pa.ChunkedArray) -> _Measured:
    (ref, r_missing), (cur, c_missing) = _numeric(ref_col), _numeric(cur_col)
    rows = (len(ref_col), len(cur_col))
    counts = (r_missing, c_missing)
    if ref.size < 2 or cur.size < 2:
        return _Measured(name, DriftColumnKind.NUMERIC, False, 0.0, 0.0, 0, DriftTest.KS, 0.0, 1.0, 0.0,
                         DriftDistance.WASSERSTEIN_STD, *rows, *counts)
    levels = _discrete_levels(ref, cur) if not pa.types.is_temporal(ref_col.type) else None
    if levels is not None:
        p_si, stat, p, js, cells = category_measures(_counts_at(ref, levels), _counts_at(cur, levels))
        return _Measured(name, DriftColumnKind.DISCRETE, True, p_si, expected_psi(cells, ref.size, cur.size), cells,
                         DriftTest.CHI2, stat, p, js, DriftDistance.JENSEN_SHANNON, *rows, *counts)
    e, a = decile_bins(ref, cur)
    occupied = (e > 0) | (a > 0)
    e, a = e[occupied], a[occupied]
    stat, p, w = ks_and_wasserstein(ref, cur, presorted=True)
    std = ref.std(ddof=1)
    cells = int(e.size)
    return _Measured(name, DriftColumnKind.NUMERIC, True, psi(e, a), expected_psi(cells, ref.size, cur.size), cells,
                     DriftTest.KS, stat, p, float(w / std) if std > 0 else float(w), DriftDistance.WASSERSTEIN_STD,
                     *rows, *counts)


def _value_counts(arr: pa.ChunkedArray, as_text: bool) -> tuple[pa.Array, np.ndarray]:
    """The distinct non-missing values and their counts.

    A dictionary-encoded column is counted on its codes; the distinct values come back as
    plain values either way, so two versions' categories can be aligned.
    """
    import pyarrow.compute as pc

    if as_text and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
                        or pa.types.is_dictionary(arr.type)):
        arr = arr.cast(pa.string())
    vc = pc.value_counts(arr)
    values = vc.field("values")
    counts = vc.field("counts")
    if values.null_count:
        valid = values.is_valid()
        values, counts = values.filter(valid), counts.filter(valid)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if as_text and not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return values, np.asarray(counts.to_numpy(zero_copy_only=False), dtype=np.float64)


def _categorical_drift(name: str, ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> _Measured:
    import pyarrow.compute as pc

    # Counts per level (missing values apart), aligned on the union of levels (every measure
    # here is independent of the levels' order). Columns of different types in the two
    # versions are compared as text.
    def plain(t: pa.DataType) -> pa.DataType:
        return t.value_type if pa.types.is_dictionary(t) else t

    as_text = plain(ref.type) != plain(cur.type)
    kind = DriftColumnKind.DISCRETE if pa.types.is_boolean(plain(ref.type)) and not as_text else DriftColumnKind.CATEGORICAL
    (r_values, r_counts), (c_values, c_counts) = _value_counts(ref, as_text), _value_counts(cur, as_text)
    if r_values.type != c_values.type:  # string against large_string
        r_values, c_values = r_values.cast(pa.large_string()), c_values.cast(pa.large_string())
    cats = pc.unique(pa.concat_arrays([r_values, c_values]))
    e = np.zeros(len(cats))
    a = np.zeros(len(cats))
    e[pc.index_in(r_values, value_set=cats).to_numpy()] = r_counts
    a[pc.index_in(c_values, value_set=cats).to_numpy()] = c_counts
    n_ref, n_cur = int(e.sum()), int(a.sum())
    rows = (len(ref), len(cur), ref.null_count, cur.null_count)
    if n_ref < 1 or n_cur < 1:
        return _Measured(name, kind, False, 0.0, 0.0, 0, DriftTest.CHI2, 0.0, 1.0, 0.0,
                         DriftDistance.JENSEN_SHANNON, *rows)
    p_si, stat, p, js, cells = category_measures(e, a)
    return _Measured(name, kind, True, p_si, expected_psi(cells, n_ref, n_cur), cells, DriftTest.CHI2, stat, p, js,
                     DriftDistance.JENSEN_SHANNON, *rows)


#: Above this many values per side, KS and Wasserstein share one merge of the sorted samples.
_EXACT_KS_N = 10_000


def ks_and_wasserstein(ref: np.ndarray, cur: np.ndarray, *, presorted: bool = False) -> tuple[float, float, float]:
    """KS statistic, its p-value and the Wasserstein distance, as scipy computes them.

    scipy sorts each sample for each test and looks up unsorted values; here both samples
    are sorted once, merged (a stable sort of two sorted runs is a merge), and both
    empirical CDFs are read off the merged values: the same statistic and distance (up to
    summation order) and scipy's asymptotic p-value (Smirnov, ``kstwo``), or Kolmogorov's
    limiting distribution when the effective size exceeds 100,000.
    Small samples go to scipy itself, which uses the exact distribution there.
    """
    n1, n2 = ref.size, cur.size
    if max(n1, n2) <= _EXACT_KS_N:
        from scipy.stats import ks_2samp, wasserstein_distance

        ks = ks_2samp(ref, cur)
        return float(ks.statistic), float(ks.pvalue), float(wasserstein_distance(ref, cur))
    u, v = (ref, cur) if presorted else (np.sort(ref), np.sort(cur))
    # Merge the two sorted samples: a stable sort of two sorted runs is one merge (timsort
    # finds the runs), reference values first among equals.
    both = np.concatenate((u, v))
    order = np.argsort(both, kind="stable")
    merged = both[order]
    from_ref = np.cumsum(order < n1)
    # The CDFs just after each distinct value (the last of each run of ties).
    ends = np.append(np.flatnonzero(merged[1:] != merged[:-1]), merged.size - 1)
    below = from_ref[ends]
    diff = below / n1 - (ends + 1 - below) / n2
    d = float(max(np.clip(-diff.min(), 0, 1), diff.max()))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = np.round(m * n / (m + n))
    # scipy's kstwo.sf costs ~0.15 s a call at these sizes; Kolmogorov's limit (kstwobign)
    # is within 1e-3 of it in relative terms once en > 100,000 (checked in the tests).
    # scipy.special.kolmogorov is kstwobign's survival function, without loading scipy.stats (~1 s).
    if en > 100_000:
        from scipy.special import kolmogorov

        sf = kolmogorov(d * np.sqrt(en))
    else:
        from scipy.stats import distributions

        sf = distributions.kstwo.sf(d, en)
    p = float(np.clip(sf, 0, 1))
    w = float(np.sum(np.abs(diff[:-1]) * np.diff(merged[ends])))
    return d, p, w


def chi_square(observed: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-square test of homogeneity of a contingency table: statistic and p-value.

    As ``scipy.stats.chi2_contingency(observed, correction=False)``, without loading scipy.stats.
    """
    from scipy.special import chdtrc

    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    stat = float(np.sum((observed - expected) ** 2 / expected))
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return stat, float(chdtrc(dof, stat)) if dof > 0 else 1.0


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """The Jensen–Shannon distance (base 2) of two probability vectors, as scipy's ``jensenshannon``."""
    m = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log(x[nz] / m[nz])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0) / np.log(2)))


def _level(value: float, moderate: float, major: float) -> DriftLevel:
    return DriftLevel.MAJOR if value >= major else DriftLevel.MODERATE if value >= moderate else DriftLevel.NONE


def compare(
    reference: Any, current: Any, ref_label: str = "reference", cur_label: str = "current", *,
    correction: Correction | str = Correction.BH, alpha: float = ALPHA,
    psi_moderate: float = PSI_MODERATE, psi_major: float = PSI_MAJOR,
    missing_moderate: float = MISSING_MODERATE, missing_major: float = MISSING_MAJOR,
    columns: list[str] | None = None, identifiers: Collection[str] = (), ctx: TaskContext | None = None,
) -> DriftReport:
    """Drift of every column the two tables share (or of ``columns``), by the rule of this module.

    Parameters
    ----------
    reference, current
        Tables, or anything with ``schema``, ``column_names`` and ``column(name)``
        (:class:`core.data.snapshot.SnapshotColumns` decodes each column only while it is compared).
    ref_label, cur_label
        How the report names the two.
    correction
        ``bh`` (Benjamini–Hochberg) or ``bonferroni``, over every test of the comparison.
    alpha
        Adjusted p-value below which a change is significant.
    psi_moderate, psi_major
        PSI in excess of chance (see :func:`expected_psi`) that is a moderate / major drift.
    missing_moderate, missing_major
        Change in the share of missing values that is a moderate / major drift.
    columns
        Compare only these (each must be in both tables).
    identifiers
        Columns known to be identifiers (the reference's profile); skipped as "identifier",
        like those found so by content (:func:`identifier`).

    Raises
    ------
    InvalidInput
        A bad option, a column not in both tables, or no column in common at all.
    """
    try:
        method = Correction(correction)
    except ValueError:
        raise InvalidInput("correction is 'bh' or 'bonferroni'.") from None
    if not 0 < psi_moderate <= psi_major:
        raise InvalidInput("PSI thresholds need 0 < moderate ≤ major.")
    if not 0 < missing_moderate <= missing_major <= 1:
        raise InvalidInput("Missing-share thresholds need 0 < moderate ≤ major ≤ 1.")
    if not 0 < alpha < 1:
        raise InvalidInput("alpha is between 0 and 1 (e.g. 0.05).")
    shared = [n for n in reference.column_names if n in current.column_names]
    if not shared:
        raise InvalidInput(
            f"{ref_label} and {cur_label} have no column in common: there is nothing to compare. "
            "Compare two versions of the same dataset, or data with the same columns."
        )
    names = columns or shared
    skipped = [f"{n}: only in the reference" for n in reference.column_names if n not in current.column_names]
    skipped += [f"{n}: only in the current data" for n in current.column_names if n not in reference.column_names]
    for name in names:
        if name not in shared:
            raise InvalidInput(f"Column {name!r} is not in both datasets.")
    known_ids = set(identifiers)

    def measure(name: str) -> _Measured | str:
        # Decoded once here (lazily, for a snapshot: text as dictionary codes, see the service).
        ref_col, cur_col = reference.column(name), current.column(name)
        if name in known_ids:
            return "identifier"
        reason = skip_reason(name, ref_col)
        if reason is not None:
            return reason
        rt, ct = logical_type(reference.schema.field(name).type), logical_type(current.schema.field(name).type)
        if rt in _NUMERIC_TYPES and ct in _NUMERIC_TYPES:
            result = _numeric_drift(name, ref_col, cur_col)
        else:
            result = _categorical_drift(name, ref_col, cur_col)
        return result if result.tested or result.missing_tested else "too few values"

    # Columns are independent and numpy/Arrow sort and count without the GIL: one thread per core.
    from concurrent.futures import ThreadPoolExecutor

    # Numeric and datetime columns first (they sort a million values or more each), text
    # last: the longest tasks start first, so no core idles at the end.
    def costly_first(name: str) -> int:
        return 0 if logical_type(reference.schema.field(name).type) in _NUMERIC_TYPES else 1

    ctx = ensure_context(ctx)
    done = [0]

    def measured(name: str) -> _Measured | str:
        ctx.check()  # a cancelled comparison stops before its next column
        result = measure(name)
        done[0] += 1
        ctx.report(done[0] / max(len(names), 1), f"Compared {done[0]} of {len(names)} columns")
        return result

    with ThreadPoolExecutor(max_workers=runtime.cpu_workers()) as pool:
        ordered = sorted(names, key=costly_first)
        by_name = dict(zip(ordered, pool.map(measured, ordered), strict=True))
    raw: list[_Measured] = []
    for name in names:
        result = by_name[name]
        if isinstance(result, str):
            skipped.append(f"{name}: {result}")
        else:
            raw.append(result)
    # One family of tests: each column's values (where both sides have some) and its missing
    # share (where either side misses any).
    family = [m.p_value for m in raw if m.tested] + [two_proportions(
        m.missing_reference, m.rows_reference, m.missing_current, m.rows_current)[1] for m in raw if m.missing_tested]
    adjusted = iter(adjust(family, method))
    value_adj = {m.column: next(adjusted) for m in raw if m.tested}
    missing_p = {m.column: p for m, p in zip([m for m in raw if m.missing_tested], family[len(value_adj):], strict=True)}
    missing_adj = {m.column: next(adjusted) for m in raw if m.missing_tested}
    out: list[ColumnDrift] = []
    for m in raw:
        p_adj = value_adj.get(m.column, 1.0)
        m_adj = missing_adj.get(m.column, 1.0)
        excess = max(m.psi - m.psi_expected, 0.0)
        share_ref, share_cur = m.missing_shares
        moved = abs(share_cur - share_ref)
        reasons: list[DriftReason] = []
        level = DriftLevel.NONE
        if m.tested and p_adj < alpha and excess >= psi_moderate:
            reasons.append(DriftReason.DISTRIBUTION)
            level = _level(excess, psi_moderate, psi_major)
        if m_adj < alpha and moved >= missing_moderate:
            reasons.append(DriftReason.MISSING)
            if level != DriftLevel.MAJOR:
                level = _level(moved, missing_moderate, missing_major)
        out.append(ColumnDrift(
            m.column, m.kind, m.psi, m.test, m.statistic, m.p_value, float(p_adj), m.distance, m.distance_name,
            level, bool(reasons), m.psi_expected, m.cells, share_ref, share_cur,
            float(missing_p.get(m.column, 1.0)), float(m_adj), tuple(reasons),
        ))
    return DriftReport(
        ref_label, cur_label, method, alpha, psi_moderate, psi_major, tuple(out), tuple(skipped),
        missing_moderate, missing_major, len(reference.column_names), len(current.column_names), len(shared),
    )
