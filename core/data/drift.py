"""Distribution drift between a reference and a current table, column by column.

Numeric columns: PSI over the reference's deciles, the two-sample Kolmogorov–Smirnov test,
and the Wasserstein distance in reference standard deviations. Categorical columns: PSI over
categories, the chi-square test of homogeneity, and the Jensen–Shannon distance (base 2).
p-values are adjusted across columns (Benjamini–Hochberg by default, or Bonferroni). A
column drifts when PSI reaches ``psi_major``, or when its adjusted p-value is below ``alpha``
and PSI reaches ``psi_moderate``: large samples make tiny shifts significant, so a
significant test alone is not drift. The dataset drifts when any column does. Identifier
columns are not compared (listed as skipped: "identifier").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from core import runtime
from core.data.models import (
    ColumnDrift,
    ColumnType,
    Correction,
    DriftColumnKind,
    DriftDistance,
    DriftLevel,
    DriftReport,
    DriftTest,
)
from core.data.schema import logical_type
from core.errors import InvalidInput

#: Column, kind, PSI, test, statistic, p-value, distance, distance name.
_Measured = tuple[str, DriftColumnKind, float, DriftTest, float, float, float, DriftDistance]
_NUMERIC_TYPES = (ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.DATETIME)

PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
ALPHA = 0.05
BINS = 10
_EPS = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    e = np.maximum(expected / max(expected.sum(), 1), _EPS)
    a = np.maximum(actual / max(actual.sum(), 1), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


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


def identifier(name: str, arr: pa.ChunkedArray) -> bool:
    """Whether a reference column is an identifier, by the profile's rule (see :mod:`core.data.profiling`).

    Integers: every value distinct (at least 20) and an id-like name. Text: more than 100
    distinct values, at least 90% of the non-missing ones distinct, and not free text
    (mean length ≤ 30 characters, at most half the values with a space). An identifier's
    values are new in every version, so its "drift" says nothing.
    """
    import pyarrow.compute as pc

    from core.data import profiling

    encoded = pa.types.is_dictionary(arr.type)
    kind = arr.type.value_type if encoded else arr.type
    if not (pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return False
    values = arr.drop_null()
    n = len(values)
    if n < 20:
        return False
    # The first fifth of the values settles most columns: with d distinct among them, the
    # whole column has at most d + (the rest) distinct values.
    head = values.slice(0, max(20, n // 5))
    head_distinct = pc.count_distinct(head.cast(kind) if encoded else head).as_py()
    if encoded:
        values = values.cast(kind)
    if pa.types.is_integer(kind):
        if head_distinct < len(head) or not profiling._ID_NAME.search(name):
            return False
        return bool(pc.count_distinct(values).as_py() == n)
    if head_distinct + (n - len(head)) < 0.9 * n:
        return False
    distinct = pc.count_distinct(values).as_py()
    if distinct <= profiling.CATEGORICAL_MAX_DISTINCT or distinct < 0.9 * n:
        return False
    mean_length = (pc.sum(pc.utf8_length(values)).as_py() or 0) / n
    spaces = pc.sum(pc.match_substring(values, " ")).as_py() or 0
    return not (mean_length > 30 or spaces > 0.5 * n)


def _numeric(arr: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        arr = arr.cast(pa.timestamp("us")).cast(pa.int64())
    v = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return v[np.isfinite(v)]


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


def _numeric_drift(name: str, ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, float, float]:
    from core.data.profiling import quantiles_of_sorted

    ref, cur = np.sort(ref), np.sort(cur)
    edges = np.unique(quantiles_of_sorted(ref, tuple(np.linspace(0, 1, BINS + 1))))  # = np.quantile
    inner = np.asarray(edges[1:-1])
    # Bin i holds inner[i-1] <= x < inner[i]; on sorted values the counts are differences of positions.
    e = np.diff(np.concatenate(([0], np.searchsorted(ref, inner, side="left"), [ref.size])))
    a = np.diff(np.concatenate(([0], np.searchsorted(cur, inner, side="left"), [cur.size])))
    stat, p, w = ks_and_wasserstein(ref, cur, presorted=True)
    std = ref.std(ddof=1) if ref.size > 1 else 0.0
    return psi(e, a), stat, p, float(w / std) if std > 0 else float(w)


def _value_counts(arr: pa.ChunkedArray, as_text: bool) -> tuple[pa.Array, np.ndarray]:
    """The distinct values (missing counted as one more value) and their counts.

    A dictionary-encoded column is counted on its codes; the distinct values come back as
    plain values either way, so two versions' categories can be aligned.
    """
    import pyarrow.compute as pc

    if as_text and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
                        or pa.types.is_dictionary(arr.type)):
        arr = arr.cast(pa.string())
    vc = pc.value_counts(arr)
    values = vc.field("values")
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if as_text and not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return values, vc.field("counts").to_numpy()


def _categorical_drift(ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> tuple[float, float, float, float]:
    import pyarrow.compute as pc

    # Counts per category (missing is a category of its own), then aligned on the union of
    # categories (every measure here is independent of the categories' order). Columns of
    # different types in the two versions are compared as text.
    def plain(t: pa.DataType) -> pa.DataType:
        return t.value_type if pa.types.is_dictionary(t) else t

    as_text = plain(ref.type) != plain(cur.type)
    (r_values, r_counts), (c_values, c_counts) = _value_counts(ref, as_text), _value_counts(cur, as_text)
    cats = pc.unique(pa.concat_arrays([r_values, c_values]))
    e = np.zeros(len(cats))
    a = np.zeros(len(cats))
    e[pc.index_in(r_values, value_set=cats).to_numpy()] = r_counts
    a[pc.index_in(c_values, value_set=cats).to_numpy()] = c_counts
    if len(cats) < 2:
        return 0.0, 0.0, 1.0, 0.0
    chi2, p = chi_square(np.vstack([e, a]) + 0.5)
    return psi(e, a), chi2, p, jensen_shannon(e / e.sum(), a / a.sum())


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


def compare(
    reference: Any, current: Any, ref_label: str = "reference", cur_label: str = "current", *,
    correction: Correction | str = Correction.BH, alpha: float = ALPHA,
    psi_moderate: float = PSI_MODERATE, psi_major: float = PSI_MAJOR,
    columns: list[str] | None = None,
) -> DriftReport:
    """Drift of every column the two tables share (or of ``columns``).

    ``reference`` and ``current`` are tables, or anything with ``column_names`` and
    ``column(name)`` (:class:`core.data.snapshot.SnapshotColumns` decodes each column only
    while it is compared).

    Identifier columns (see :func:`identifier`) are not compared; they are listed in
    ``skipped`` as "NAME: identifier".
    """
    try:
        method = Correction(correction)
    except ValueError:
        raise InvalidInput("correction is 'bh' or 'bonferroni'.") from None
    if not 0 < psi_moderate <= psi_major:
        raise InvalidInput("PSI thresholds need 0 < moderate ≤ major.")
    shared = [n for n in reference.column_names if n in current.column_names]
    names = columns or shared
    skipped = [f"{n}: only in the reference" for n in reference.column_names if n not in current.column_names]
    skipped += [f"{n}: only in the current data" for n in current.column_names if n not in reference.column_names]
    for name in names:
        if name not in shared:
            raise InvalidInput(f"Column {name!r} is not in both datasets.")

    def measure(name: str) -> _Measured | str | None:
        # Decoded once here (lazily, for a snapshot: text as dictionary codes, see the service).
        ref_col, cur_col = reference.column(name), current.column(name)
        if identifier(name, ref_col):
            return "identifier"
        rt, ct = logical_type(reference.schema.field(name).type), logical_type(current.schema.field(name).type)
        if rt in _NUMERIC_TYPES and ct in _NUMERIC_TYPES:
            r, c = _numeric(ref_col), _numeric(cur_col)
            del ref_col, cur_col
            if r.size < 2 or c.size < 2:
                return None
            p_si, stat, p, dist = _numeric_drift(name, r, c)
            return (name, DriftColumnKind.NUMERIC, p_si, DriftTest.KS, stat, p, dist, DriftDistance.WASSERSTEIN_STD)
        p_si, stat, p, dist = _categorical_drift(ref_col, cur_col)
        return (name, DriftColumnKind.CATEGORICAL, p_si, DriftTest.CHI2, stat, p, dist, DriftDistance.JENSEN_SHANNON)

    # Columns are independent and numpy/Arrow sort and count without the GIL: one thread per core.
    from concurrent.futures import ThreadPoolExecutor

    # Numeric and datetime columns first (they sort a million values or more each), text
    # last: the longest tasks start first, so no core idles at the end.
    def costly_first(name: str) -> int:
        return 0 if logical_type(reference.schema.field(name).type) in _NUMERIC_TYPES else 1

    with ThreadPoolExecutor(max_workers=runtime.cpu_workers()) as pool:
        ordered = sorted(names, key=costly_first)
        by_name = dict(zip(ordered, pool.map(measure, ordered), strict=True))
    measured = [by_name[n] for n in names]
    raw: list[_Measured] = []
    for name, result in zip(names, measured, strict=True):
        if result is None:
            skipped.append(f"{name}: too few values")
        elif isinstance(result, str):
            skipped.append(f"{name}: {result}")
        else:
            raw.append(result)
    adjusted = adjust([r[5] for r in raw], method)
    out: list[ColumnDrift] = []
    for (name, kind, p_si, test, stat, p, dist, dname), p_adj in zip(raw, adjusted, strict=True):
        level = DriftLevel.MAJOR if p_si >= psi_major else DriftLevel.MODERATE if p_si >= psi_moderate else DriftLevel.NONE
        drifted = bool(p_si >= psi_major or (p_adj < alpha and p_si >= psi_moderate))
        out.append(ColumnDrift(name, kind, p_si, test, stat, p, float(p_adj), dist, dname, level, drifted))
    return DriftReport(ref_label, cur_label, method, alpha, psi_moderate, psi_major, tuple(out), tuple(skipped))


