"""Distribution drift between a reference and a current table, column by column.

Numeric columns: PSI over the reference's deciles, the two-sample Kolmogorov–Smirnov test,
and the Wasserstein distance in reference standard deviations. Categorical columns: PSI over
categories, the chi-square test of homogeneity, and the Jensen–Shannon distance (base 2).
p-values are adjusted across columns (Benjamini–Hochberg by default, or Bonferroni). A
column drifts when PSI reaches ``psi_major``, or when its adjusted p-value is below ``alpha``
and PSI reaches ``psi_moderate``: large samples make tiny shifts significant, so a
significant test alone is not drift. The dataset drifts when any column does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from core.data.models import ColumnDrift, DriftReport
from core.data.schema import logical_type
from core.errors import InvalidInput

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


def adjust(p: list[float], method: str) -> list[float]:
    """Adjusted p-values: ``bh`` (Benjamini–Hochberg) or ``bonferroni``."""
    m = len(p)
    if m == 0:
        return []
    arr = np.asarray(p, dtype=np.float64)
    if method == "bonferroni":
        return list(np.minimum(arr * m, 1.0))
    if method != "bh":
        raise InvalidInput("correction is 'bh' or 'bonferroni'.")
    order = np.argsort(arr)
    ranked = arr[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    return list(out)


def _numeric(arr: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        arr = arr.cast(pa.timestamp("us")).cast(pa.int64())
    v = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return v[np.isfinite(v)]


def _numeric_drift(name: str, ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, float, float]:
    from scipy.stats import ks_2samp, wasserstein_distance

    edges = np.unique(np.quantile(ref, np.linspace(0, 1, BINS + 1)))
    inner = edges[1:-1]
    e = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1)
    a = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=inner.size + 1)
    ks = ks_2samp(ref, cur)
    std = ref.std(ddof=1) if ref.size > 1 else 0.0
    w = wasserstein_distance(ref, cur)
    return psi(e, a), float(ks.statistic), float(ks.pvalue), float(w / std) if std > 0 else float(w)


def _categorical_drift(ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> tuple[float, float, float, float]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    r = ref.cast(pa.string()).fill_null("<missing>").to_pylist()
    c = cur.cast(pa.string()).fill_null("<missing>").to_pylist()
    cats, inv = np.unique(np.asarray(r + c, dtype=object), return_inverse=True)
    e = np.bincount(inv[: len(r)], minlength=cats.size).astype(float)
    a = np.bincount(inv[len(r):], minlength=cats.size).astype(float)
    if cats.size < 2:
        return 0.0, 0.0, 1.0, 0.0
    chi2, p, _, _ = chi2_contingency(np.vstack([e, a]) + 0.5, correction=False)
    js = float(jensenshannon(e / e.sum(), a / a.sum(), base=2))
    return psi(e, a), float(chi2), float(p), js


def compare(
    reference: pa.Table, current: pa.Table, ref_label: str = "reference", cur_label: str = "current", *,
    correction: str = "bh", alpha: float = ALPHA, psi_moderate: float = PSI_MODERATE, psi_major: float = PSI_MAJOR,
    columns: list[str] | None = None,
) -> DriftReport:
    """Drift of every column the two tables share (or of ``columns``)."""
    if correction not in ("bh", "bonferroni"):
        raise InvalidInput("correction is 'bh' or 'bonferroni'.")
    if not 0 < psi_moderate <= psi_major:
        raise InvalidInput("PSI thresholds need 0 < moderate ≤ major.")
    shared = [n for n in reference.column_names if n in current.column_names]
    names = columns or shared
    skipped = [f"{n}: only in the reference" for n in reference.column_names if n not in current.column_names]
    skipped += [f"{n}: only in the current data" for n in current.column_names if n not in reference.column_names]
    raw: list[tuple[str, str, float, str, float, float, float, str]] = []
    for name in names:
        if name not in shared:
            raise InvalidInput(f"Column {name!r} is not in both datasets.")
        rt, ct = logical_type(reference.column(name).type), logical_type(current.column(name).type)
        if (rt in ("integer", "float", "datetime")) and ct in ("integer", "float", "datetime"):
            r, c = _numeric(reference.column(name)), _numeric(current.column(name))
            if r.size < 2 or c.size < 2:
                skipped.append(f"{name}: too few values")
                continue
            p_si, stat, p, dist = _numeric_drift(name, r, c)
            raw.append((name, "numeric", p_si, "ks", stat, p, dist, "wasserstein_std"))
        else:
            p_si, stat, p, dist = _categorical_drift(reference.column(name), current.column(name))
            raw.append((name, "categorical", p_si, "chi2", stat, p, dist, "jensen_shannon"))
    adjusted = adjust([r[5] for r in raw], correction)
    out = []
    for (name, kind, p_si, test, stat, p, dist, dname), p_adj in zip(raw, adjusted, strict=True):
        level = "major" if p_si >= psi_major else "moderate" if p_si >= psi_moderate else "none"
        drifted = bool(p_si >= psi_major or (p_adj < alpha and p_si >= psi_moderate))
        out.append(ColumnDrift(name, kind, p_si, test, stat, p, float(p_adj), dist, dname, level, drifted))
    return DriftReport(ref_label, cur_label, correction, alpha, psi_moderate, psi_major, tuple(out), tuple(skipped))


