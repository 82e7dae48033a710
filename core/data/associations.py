"""Pairwise associations and target associations for a profile.

Pearson and Spearman between numeric columns, Cramér's V between categorical ones (no bias
correction), the correlation ratio η between a numeric and a categorical column; and, for a
target column, mutual information and the cross-validated score of a shallow tree on each
column alone, with a leakage flag when one column alone nearly predicts the target.
Computed on a deterministic sample (seed 0). scikit-learn and scipy load on first use.
"""

from __future__ import annotations

import math
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
    """Cramér's V of two code arrays (-1 = missing, dropped)."""
    from scipy.stats import chi2_contingency

    keep = (a >= 0) & (b >= 0)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return math.nan
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)
    k = min(table.shape) - 1
    if k == 0:
        return math.nan
    chi2 = chi2_contingency(table, correction=False)[0]
    return float(math.sqrt(chi2 / (a.size * k)))


def correlation_ratio(codes: np.ndarray, values: np.ndarray) -> float:
    """η: how much of a numeric column's variance the categories explain (square root)."""
    keep = (codes >= 0) & ~np.isnan(values)
    codes, values = codes[keep], values[keep]
    if values.size < 2:
        return math.nan
    _, inv = np.unique(codes, return_inverse=True)
    sums = np.bincount(inv, weights=values)
    counts = np.bincount(inv)
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


def correlations(table: pa.Table, cols: list[ColumnProfile]) -> list[Correlation]:
    import pandas as pd

    numeric, categorical = _kinds(cols)
    out: list[Correlation] = []
    if len(numeric) > 1:
        frame = pd.DataFrame({n: _numeric(table, n) for n in numeric})
        for method in ("pearson", "spearman"):
            m = frame.corr(method=method).to_numpy()
            for i in range(len(numeric)):
                for j in range(i + 1, len(numeric)):
                    if math.isfinite(m[i, j]):
                        out.append(Correlation(numeric[i], numeric[j], method, float(m[i, j])))
    codes = {n: _codes(table, n) for n in categorical}
    for i in range(len(categorical)):
        for j in range(i + 1, len(categorical)):
            v = cramers_v(codes[categorical[i]], codes[categorical[j]])
            if math.isfinite(v):
                out.append(Correlation(categorical[i], categorical[j], "cramers_v", v))
    for c in categorical:
        for n in numeric:
            eta = correlation_ratio(codes[c], _numeric(table, n))
            if math.isfinite(eta):
                out.append(Correlation(n, c, "correlation_ratio", eta))
    return out


def _feature(table: pa.Table, col: ColumnProfile) -> tuple[np.ndarray, bool] | None:
    if col.semantic_type in ("numeric", "datetime") or (col.semantic_type == "identifier" and col.stats.get("mean") is not None):
        x = _numeric(table, col.name)
        fill = np.nanmedian(x) if np.isfinite(x).any() else 0.0
        return np.where(np.isnan(x), fill, x), False
    if col.semantic_type in ("categorical", "boolean", "identifier"):
        return _codes(table, col.name).astype(np.float64), True
    return None


def target_associations(table: pa.Table, cols: list[ColumnProfile], target: str) -> list[TargetAssociation]:
    """Mutual information and a one-column model score of every usable column with ``target``."""
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
    from sklearn.model_selection import cross_val_score
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
    out: list[TargetAssociation] = []
    for col in cols:
        if col.name == target or "constant" in col.flags:
            continue
        feat = _feature(table, col)
        if feat is None:
            continue
        x = feat[0][keep].reshape(-1, 1)
        mi_fn = mutual_info_regression if regression else mutual_info_classif
        mi = float(mi_fn(x, y, discrete_features=[feat[1]], random_state=0)[0])
        model = DecisionTreeRegressor(max_depth=4, random_state=0) if regression else DecisionTreeClassifier(max_depth=4, random_state=0)
        try:
            score = float(np.mean(cross_val_score(model, x, y, cv=folds, scoring=scoring)))
        except ValueError:
            score = math.nan
        limit = LEAKAGE_R2 if regression else LEAKAGE_AUC
        out.append(TargetAssociation(col.name, mi, score if math.isfinite(score) else 0.0, score_name,
                                     bool(math.isfinite(score) and score >= limit)))
    out.sort(key=lambda a: -a.model_score)
    return out
