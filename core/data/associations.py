"""Pairwise associations and target associations for a profile.

Pearson and Spearman between numeric columns, Cramér's V between categorical ones (no bias
correction), the correlation ratio η between a numeric and a categorical column; and, for a
target column, mutual information and the cross-validated score of a shallow tree on each
column alone, with a leakage flag when one column alone nearly predicts the target
(identifier, PII-like and constant columns are left out: see :func:`excluded_from_target`).
Mutual information is a plug-in estimate over category codes and equal-frequency bins with
the Miller–Madow bias correction (numpy only). Computed on a deterministic sample
(seed 0). scikit-learn loads on first use, for the trees only.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pyarrow as pa

from core.data.models import ColumnProfile, Correlation, TargetAssociation

MAX_NUMERIC = 40
MAX_CATEGORICAL = 30
MAX_LEVELS = 50
TARGET_SAMPLE = 20_000
LEAKAGE_AUC = 0.98
LEAKAGE_R2 = 0.95
#: Equal-frequency bins of a numeric column (or numeric target) for mutual information.
MI_BINS = 20


def sample(table: pa.Table, rows: int) -> pa.Table:
    if table.num_rows <= rows:
        return table
    idx = np.sort(np.random.default_rng(0).choice(table.num_rows, size=rows, replace=False))
    return table.take(pa.array(idx))


def _numeric(table: pa.Table, name: str) -> np.ndarray:
    arr = table.column(name)
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        arr = arr.cast(pa.timestamp("us")).cast(pa.int64())
    return np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _codes(table: pa.Table, name: str) -> np.ndarray:
    import pandas as pd

    codes, _ = pd.factorize(table.column(name).to_pandas(), use_na_sentinel=True)
    return codes


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V of two code arrays (-1 = missing, dropped).

    Pearson's chi-square of the contingency table (no continuity correction, as
    ``scipy.stats.chi2_contingency(..., correction=False)``), computed here from one
    ``np.bincount`` so that scipy is not loaded for it.
    """
    keep = (a >= 0) & (b >= 0)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return math.nan
    # Codes are small non-negative integers: count pairs with one bincount, then drop the
    # categories that do not occur together with any value of the other column.
    rows, cols = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a.astype(np.int64) * cols + b, minlength=rows * cols).reshape(rows, cols).astype(np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    k = min(table.shape) - 1
    if k == 0:
        return math.nan
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / a.size
    chi2 = float(np.sum((table - expected) ** 2 / expected))
    return float(math.sqrt(min(chi2 / (a.size * k), 1.0)))


def correlation_ratio(codes: np.ndarray, values: np.ndarray) -> float:
    """η: how much of a numeric column's variance the categories explain (square root)."""
    keep = (codes >= 0) & ~np.isnan(values)
    codes, values = codes[keep], values[keep]
    if values.size < 2:
        return math.nan
    sums = np.bincount(codes, weights=values)
    counts = np.bincount(codes)
    present = counts > 0
    sums, counts = sums[present], counts[present]
    mean = values.mean()
    between = float(np.sum(counts * (sums / counts - mean) ** 2))
    total = float(np.sum((values - mean) ** 2))
    return math.sqrt(between / total) if total > 0 else math.nan


def _kinds(cols: list[ColumnProfile]) -> tuple[list[str], list[str]]:
    numeric = [c.name for c in cols if c.semantic_type == "numeric" and "constant" not in c.flags][:MAX_NUMERIC]
    categorical = [
        c.name for c in cols
        if c.semantic_type in ("categorical", "boolean") and 1 < c.distinct <= MAX_LEVELS and not c.pii
    ][:MAX_CATEGORICAL]
    return numeric, categorical


def pearson_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson correlations of the columns of ``x`` over pairwise-complete rows (NaN = missing).

    The same figures as ``pandas.DataFrame.corr()`` (to ~1e-14), from a handful of matrix
    products: columns are centred first so the one-pass sums lose no precision.
    """
    valid = ~np.isnan(x)
    counts = valid.sum(axis=0)
    centre = np.where(counts > 0, np.nansum(x, axis=0) / np.maximum(counts, 1), 0.0)
    x0 = np.where(valid, x - centre, 0.0)
    m = valid.astype(np.float64)
    n = m.T @ m
    sx = x0.T @ m  # sx[i, j]: sum of column i over rows where j is present too
    sxx = (x0 * x0).T @ m
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        r = cov / np.sqrt(var_i * var_i.T)
    r[(n < 2) | (var_i <= 0) | (var_i.T <= 0)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _sorted_average_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties share their mean rank) of values already sorted ascending."""
    n = values.size
    if n == 0:
        return np.empty(0)
    cut = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    return np.repeat((starts + ends + 1) / 2.0, ends - starts)


def spearman_matrix(x: np.ndarray) -> np.ndarray:
    """Spearman correlations: Pearson's r of each column's average ranks, pairwise-complete rows.

    Each column is ranked once over its own non-missing values. Where no value is missing
    this is exactly ``pandas.DataFrame.corr("spearman")``; where two columns miss values on
    different rows pandas re-ranks every pair on the rows both have, which costs a sort
    per pair, and the two differ slightly (ranks are a monotone transform either way).
    """
    ranks = np.full(x.shape, np.nan)
    for i in range(x.shape[1]):
        column = x[:, i]
        order = np.argsort(column, kind="stable")
        order = order[~np.isnan(column[order])]
        ranks[order, i] = _sorted_average_ranks(column[order])
    return pearson_matrix(ranks)


def correlations(table: pa.Table, cols: list[ColumnProfile]) -> list[Correlation]:
    import pandas as pd

    numeric, categorical = _kinds(cols)
    out: list[Correlation] = []
    if len(numeric) > 1:
        frame = pd.DataFrame({n: _numeric(table, n) for n in numeric})
        for method in ("pearson", "spearman"):
            # pandas re-ranks every pair for Spearman (a sort per pair); see spearman_matrix.
            m = frame.corr().to_numpy() if method == "pearson" else spearman_matrix(frame.to_numpy(dtype=np.float64))
            for i in range(len(numeric)):
                for j in range(i + 1, len(numeric)):
                    if math.isfinite(m[i, j]):
                        out.append(Correlation(numeric[i], numeric[j], method, float(m[i, j])))
    codes = {n: _codes(table, n) for n in categorical}
    numbers = {n: _numeric(table, n) for n in numeric} if categorical else {}
    for i in range(len(categorical)):
        for j in range(i + 1, len(categorical)):
            v = cramers_v(codes[categorical[i]], codes[categorical[j]])
            if math.isfinite(v):
                out.append(Correlation(categorical[i], categorical[j], "cramers_v", v))
    for c in categorical:
        for n in numeric:
            eta = correlation_ratio(codes[c], numbers[n])
            if math.isfinite(eta):
                out.append(Correlation(n, c, "correlation_ratio", eta))
    return out


def _excluded(col: ColumnProfile) -> str | None:
    """Why a column is not measured against the target (None: it is measured).

    An identifier or PII-like value is (nearly) unique per row: it "predicts" any target on
    the rows it was seen on and says nothing about new ones, so its association would look
    like leakage or, worse, like a useful feature.
    """
    if col.pii:
        return f"PII-like ({col.pii.replace('_', ' ')})"
    if col.semantic_type == "identifier":
        return "identifier"
    if "constant" in col.flags:
        return "constant"
    return None


def _feature(table: pa.Table, col: ColumnProfile) -> tuple[np.ndarray, bool] | None:
    if col.semantic_type in ("numeric", "datetime"):
        x = _numeric(table, col.name)
        fill = np.nanmedian(x) if np.isfinite(x).any() else 0.0
        return np.where(np.isnan(x), fill, x), False
    if col.semantic_type in ("categorical", "boolean"):
        return _codes(table, col.name).astype(np.float64), True
    return None


def _bin_codes(x: np.ndarray, discrete: bool) -> np.ndarray:
    """Small non-negative integer codes: categories as they are (missing its own), numbers in
    at most :data:`MI_BINS` equal-frequency bins (fewer when there are fewer distinct values)."""
    if discrete:
        return (x + 1).astype(np.int64)  # missing (-1) becomes code 0
    edges = np.unique(np.quantile(x, np.linspace(0, 1, MI_BINS + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right").astype(np.int64)


def mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """Mutual information (nats) of two code arrays, plug-in with the Miller–Madow correction.

    The plug-in estimate over the contingency table overstates the information by about
    ``(Bx - 1)(By - 1) / 2n`` for ``Bx`` and ``By`` occupied codes; that bias is subtracted
    (and the result clipped at 0), so a column with thousands of levels and no relation to
    the target scores near 0 instead of near its bias.
    """
    n = x.size
    if n == 0:
        return 0.0
    cols = int(y.max()) + 1
    joint = np.bincount(x * cols + y, minlength=(int(x.max()) + 1) * cols).reshape(-1, cols)
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    outer = np.outer(px, py)
    mi = float(np.sum(joint[nz] * np.log(joint[nz] * n / outer[nz])) / n)
    bias = (np.count_nonzero(px) - 1) * (np.count_nonzero(py) - 1) / (2 * n)
    return max(mi - bias, 0.0)


def _cv_score(model: Any, x: np.ndarray, y: np.ndarray, folds: int, scoring: str) -> float:
    """Mean held-out score over ``folds`` folds, as ``cross_val_score`` computes it.

    The same splits (stratified for classifiers, unshuffled) and metrics, without
    ``cross_val_score``'s per-call validation, which cost more than the trees themselves.
    NaN when a fold cannot be scored.
    """
    from sklearn.base import clone
    from sklearn.metrics import balanced_accuracy_score, r2_score, roc_auc_score
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = KFold(folds) if scoring == "r2" else StratifiedKFold(folds)
    scores = []
    try:
        for train, test in splitter.split(x, y):
            fitted = clone(model).fit(x[train], y[train])
            if scoring == "roc_auc":
                scores.append(roc_auc_score(y[test], fitted.predict_proba(x[test])[:, 1]))
            elif scoring == "balanced_accuracy":
                scores.append(balanced_accuracy_score(y[test], fitted.predict(x[test])))
            else:
                scores.append(r2_score(y[test], fitted.predict(x[test])))
    except ValueError:
        return math.nan
    return float(np.mean(scores))


def target_associations(table: pa.Table, cols: list[ColumnProfile], target: str) -> list[TargetAssociation]:
    """Mutual information and a one-column model score of every usable column with ``target``.

    Identifier, PII-like and constant columns are left out (see :func:`excluded_from_target`).
    Mutual information is :func:`mutual_information` over codes: categories as they are,
    numbers (and a numeric target) in at most :data:`MI_BINS` equal-frequency bins.
    """
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    table = sample(table, TARGET_SAMPLE)
    tcol = next(c for c in cols if c.name == target)
    regression = tcol.semantic_type == "numeric" and tcol.distinct > 10
    if regression:
        y: Any = _numeric(table, target)
        keep = ~np.isnan(y)
    else:
        y = _codes(table, target)
        keep = y >= 0
    y = y[keep]
    if y.size < 10 or np.unique(y).size < 2:
        return []
    binary = not regression and np.unique(y).size == 2
    if regression:
        score_name, scoring = "r2", "r2"
    elif binary:
        score_name, scoring = "roc_auc", "roc_auc"
    else:
        score_name, scoring = "balanced_accuracy", "balanced_accuracy"
    folds = 3 if regression else max(2, min(3, int(np.bincount(y).min())))
    y_codes = _bin_codes(y, False) if regression else y.astype(np.int64)
    features = []
    for col in cols:
        if col.name == target or _excluded(col) is not None:
            continue
        feat = _feature(table, col)
        if feat is not None:
            features.append((col.name, feat[0][keep].reshape(-1, 1), feat[1]))

    def measure(name: str, x: np.ndarray, discrete: bool) -> TargetAssociation:
        mi = mutual_information(_bin_codes(x[:, 0], discrete), y_codes)
        model = DecisionTreeRegressor(max_depth=4, random_state=0) if regression else DecisionTreeClassifier(max_depth=4, random_state=0)
        score = _cv_score(model, x, y, folds, scoring)
        limit = LEAKAGE_R2 if regression else LEAKAGE_AUC
        return TargetAssociation(name, mi, score if math.isfinite(score) else 0.0, score_name,
                                 bool(math.isfinite(score) and score >= limit))

    # Each column is seeded on its own, so the figures do not depend on the threads; the
    # tree fits release the GIL, so one thread per core helps.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        out = list(pool.map(lambda f: measure(*f), features))
    out.sort(key=lambda a: -a.model_score)
    return out


def excluded_from_target(cols: list[ColumnProfile], target: str) -> list[tuple[str, str]]:
    """The columns :func:`target_associations` leaves out, each with the reason."""
    return [(c.name, why) for c in cols if c.name != target and (why := _excluded(c)) is not None]
