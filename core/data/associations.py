"""Pairwise associations and target associations for a profile.

Pearson and Spearman between numeric columns, Cramér's V between categorical ones (no bias
correction), the correlation ratio η between a numeric and a categorical column; and, for a
target column, mutual information and the cross-validated score of a one-column model on each
column alone, with a leakage flag when one column alone nearly predicts the target
(identifier, PII-like and constant columns are left out: see :func:`excluded_from_target`).
Mutual information is a plug-in estimate over category codes and equal-frequency bins with
the Miller–Madow bias correction; the one-column model is a per-code step function scored
on held-out folds (:func:`binned_model_score`). numpy only; computed on a deterministic
sample (seed 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core import runtime
from core.data import arrays
from core.data.models import ColumnFlag, ColumnProfile, Correlation, CorrelationMethod, SemanticType, TargetAssociation

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
    """Category codes in order of first appearance, -1 for missing (as ``pandas.factorize``)."""
    arr = table.column(name).combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    indices = pc.dictionary_encode(arr).indices
    codes = arrays.plain(indices, np.int32).astype(np.int64)
    if indices.null_count:
        codes[~arrays.valid(indices)] = -1
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


def _columns(arrays: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """The arrays as the columns of one matrix, column-major (each column contiguous)."""
    x = np.empty((arrays[names[0]].size, len(names)), order="F")
    for k, name in enumerate(names):
        x[:, k] = arrays[name]
    return x


def correlation_ratios(codes: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """η of each code array with each column of ``x``: how much of a numeric column's variance
    the categories explain (square root), over the rows where both are present.

    Row ``i`` of the result is ``codes[i]`` against every column. Each column is centred on
    its mean once (so the sums lose no precision); then each pair is three weighted
    ``np.bincount`` over the codes, shifted so that missing (-1) falls in a bucket of its
    own that is dropped. No row is copied.
    """
    out = np.full((len(codes), x.shape[1]), np.nan)
    shifted = [c.astype(np.int64) + 1 for c in codes]
    for k in range(x.shape[1]):
        column = x[:, k]
        present = ~np.isnan(column)
        if not present.any():
            continue
        weight = present.astype(np.float64)
        centred = np.where(present, column - column[present].mean(), 0.0)
        squared = centred * centred
        for i, code in enumerate(shifted):
            counts = np.bincount(code, weights=weight)[1:]
            n = counts.sum()
            if n < 2:
                continue
            sums = np.bincount(code, weights=centred)[1:]
            grand = sums.sum() ** 2 / n
            total = np.bincount(code, weights=squared)[1:].sum() - grand
            occupied = counts > 0
            between = float(np.sum(sums[occupied] ** 2 / counts[occupied])) - grand
            if total > 0:
                out[i, k] = math.sqrt(min(max(between / total, 0.0), 1.0))
    return out


def _kinds(cols: list[ColumnProfile]) -> tuple[list[str], list[str]]:
    numeric = [
        c.name for c in cols if c.semantic_type == SemanticType.NUMERIC and ColumnFlag.CONSTANT not in c.flags
    ][:MAX_NUMERIC]
    categorical = [
        c.name for c in cols
        if c.semantic_type in (SemanticType.CATEGORICAL, SemanticType.BOOLEAN) and 1 < c.distinct <= MAX_LEVELS and not c.pii
    ][:MAX_CATEGORICAL]
    return numeric, categorical


def pearson_matrix(x: np.ndarray) -> np.ndarray:
    """Pearson correlations of the columns of ``x`` over pairwise-complete rows (NaN = missing).

    The same figures as ``pandas.DataFrame.corr()`` (to ~1e-14), from a handful of matrix
    products: columns are centred first so the one-pass sums lose no precision.
    """
    valid = ~np.isnan(x)
    m = valid.astype(np.float64)
    x0 = np.where(valid, x, 0.0)
    counts = m.sum(axis=0)
    x0 -= np.where(counts > 0, x0.sum(axis=0) / np.maximum(counts, 1), 0.0)
    x0 *= m  # missing values stay 0 after centring
    n = m.T @ m
    sx = x0.T @ m  # sx[i, j]: sum of column i over rows where j is present too
    sxx = (x0 * x0).T @ m
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx * sx / n
        r = cov / np.sqrt(var_i * var_i.T)
    r[(n < 2) | (var_i <= 0) | (var_i.T <= 0)] = np.nan
    clipped: np.ndarray = np.clip(r, -1.0, 1.0)
    return clipped


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
    from concurrent.futures import ThreadPoolExecutor

    ranks = np.full(x.shape, np.nan)

    def rank(i: int) -> None:  # numpy's sort releases the GIL: columns side by side
        column = x[:, i]
        order = np.argsort(column)  # ties get their average rank, so their order does not matter
        order = order[~np.isnan(column[order])]
        ranks[order, i] = _sorted_average_ranks(column[order])

    with ThreadPoolExecutor(max_workers=runtime.cpu_workers()) as pool:
        list(pool.map(rank, range(x.shape[1])))
    return pearson_matrix(ranks)


def correlations(table: pa.Table, cols: list[ColumnProfile]) -> list[Correlation]:
    from threadpoolctl import threadpool_limits

    # The matrix products are small (columns × columns over the sample); BLAS's own threads
    # only fight ours for the cores (OpenBLAS's spin while they wait).
    with threadpool_limits(1, user_api="blas"):
        return _correlations(table, cols)


def _correlations(table: pa.Table, cols: list[ColumnProfile]) -> list[Correlation]:
    numeric, categorical = _kinds(cols)
    out: list[Correlation] = []
    numbers = {n: _numeric(table, n) for n in numeric}
    if len(numeric) > 1:
        x = _columns(numbers, numeric)
        for method in (CorrelationMethod.PEARSON, CorrelationMethod.SPEARMAN):
            m = pearson_matrix(x) if method == CorrelationMethod.PEARSON else spearman_matrix(x)
            for i in range(len(numeric)):
                for j in range(i + 1, len(numeric)):
                    if math.isfinite(m[i, j]):
                        out.append(Correlation(numeric[i], numeric[j], method, float(m[i, j])))
    codes = {n: _codes(table, n) for n in categorical}
    for i in range(len(categorical)):
        for j in range(i + 1, len(categorical)):
            v = cramers_v(codes[categorical[i]], codes[categorical[j]])
            if math.isfinite(v):
                out.append(Correlation(categorical[i], categorical[j], CorrelationMethod.CRAMERS_V, v))
    if numeric:
        etas = correlation_ratios([codes[c] for c in categorical], _columns(numbers, numeric))
        for c, row in zip(categorical, etas, strict=True):
            for n, eta in zip(numeric, row, strict=True):
                if math.isfinite(eta):
                    out.append(Correlation(n, c, CorrelationMethod.CORRELATION_RATIO, float(eta)))
    return out


def _excluded(col: ColumnProfile) -> str | None:
    """Why a column is not measured against the target (None: it is measured).

    An identifier or PII-like value is (nearly) unique per row: it "predicts" any target on
    the rows it was seen on and says nothing about new ones, so its association would look
    like leakage or, worse, like a useful feature.
    """
    if col.pii:
        return f"PII-like ({col.pii.replace('_', ' ')})"
    if col.semantic_type == SemanticType.IDENTIFIER:
        return "identifier"
    if ColumnFlag.CONSTANT in col.flags:
        return "constant"
    return None


def _feature(table: pa.Table, col: ColumnProfile) -> tuple[np.ndarray, bool] | None:
    if col.semantic_type in (SemanticType.NUMERIC, SemanticType.DATETIME):
        x = _numeric(table, col.name)
        fill = np.nanmedian(x) if np.isfinite(x).any() else 0.0
        return np.where(np.isnan(x), fill, x), False
    if col.semantic_type in (SemanticType.CATEGORICAL, SemanticType.BOOLEAN):
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


def _folds(y: np.ndarray, folds: int, stratified: bool) -> np.ndarray:
    """The fold of each row: round-robin over the rows (within each class when ``stratified``).

    The rows are a random sample already, so a fixed assignment is as good as a shuffle and
    makes the score the same on every run.
    """
    order = np.argsort(y, kind="stable") if stratified else np.arange(y.size)
    fold = np.empty(y.size, dtype=np.int64)
    fold[order] = np.arange(y.size) % folds
    return fold


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of scores for a 0/1 target (Mann–Whitney U with average ranks for ties)."""
    positives = int(y.sum())
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        return math.nan
    order = np.argsort(score, kind="stable")
    ranks = np.empty(y.size)
    ranks[order] = _sorted_average_ranks(score[order])
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def binned_model_score(x: np.ndarray, y: np.ndarray, folds: int, scoring: str) -> float:
    """Held-out score of the one-column model "predict what the training rows of this bin had".

    ``x`` holds small non-negative codes (categories, or equal-frequency bins of a number:
    :func:`_bin_codes`); the model learns, on the training folds, the target's mean per code
    (``r2``), its rate of the positive class (``roc_auc``, smoothed towards the overall rate
    by one row) or its most common class (``balanced_accuracy``); a code not seen in
    training gets the overall figure. The score is averaged over the folds, as
    ``cross_val_score`` does. A step function of one column, like a shallow tree on it, but
    with the categories as categories (a tree would split their arbitrary codes as numbers)
    and without loading scikit-learn. NaN when a fold cannot be scored.
    """
    codes = int(x.max()) + 1
    fold = _folds(y, folds, stratified=scoring != "r2")
    scores = []
    for f in range(folds):
        test = fold == f
        train = ~test
        xt, yt = x[train], y[train]
        if not yt.size or not test.any():
            return math.nan
        if scoring == "balanced_accuracy":
            classes = int(y.max()) + 1
            table = np.bincount(xt * classes + yt.astype(np.int64), minlength=codes * classes).reshape(codes, classes)
            best = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), np.bincount(yt.astype(np.int64)).argmax())
            predicted, truth = best[x[test]], y[test].astype(np.int64)
            recalls = [np.mean(predicted[truth == c] == c) for c in np.unique(truth)]
            scores.append(float(np.mean(recalls)))
            continue
        counts = np.bincount(xt, minlength=codes)
        sums = np.bincount(xt, weights=yt.astype(np.float64), minlength=codes)
        overall = float(yt.mean())
        if scoring == "roc_auc":
            per_code = (sums + overall) / (counts + 1.0)
            scores.append(_auc(y[test], per_code[x[test]]))
        else:
            per_code = np.where(counts > 0, sums / np.maximum(counts, 1), overall)
            residual = y[test] - per_code[x[test]]
            total = float(np.sum((y[test] - y[test].mean()) ** 2))
            scores.append(1.0 - float(np.sum(residual**2)) / total if total > 0 else math.nan)
    return float(np.mean(scores))


def target_associations(table: pa.Table, cols: list[ColumnProfile], target: str) -> list[TargetAssociation]:
    """Mutual information and a one-column model score of every usable column with ``target``.

    Identifier, PII-like and constant columns are left out (see :func:`excluded_from_target`).
    Both figures use the same codes: categories as they are, numbers (and a numeric target)
    in at most :data:`MI_BINS` equal-frequency bins; the model is :func:`binned_model_score`
    over three folds.
    """
    table = sample(table, TARGET_SAMPLE)
    tcol = next(c for c in cols if c.name == target)
    regression = tcol.semantic_type == SemanticType.NUMERIC and tcol.distinct > 10
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
        score_name = "r2"
    elif binary:
        score_name = "roc_auc"
        y = (y == y.max()).astype(np.int64)  # the class seen second is "positive", as in scikit-learn
    else:
        score_name = "balanced_accuracy"
    folds = 3 if regression else max(2, min(3, int(np.bincount(y.astype(np.int64)).min())))
    y_codes = _bin_codes(y, False) if regression else y.astype(np.int64)
    limit = LEAKAGE_R2 if regression else LEAKAGE_AUC
    out = []
    for col in cols:
        if col.name == target or _excluded(col) is not None:
            continue
        feat = _feature(table, col)
        if feat is None:
            continue
        codes = _bin_codes(feat[0][keep], feat[1])
        mi = mutual_information(codes, y_codes)
        score = binned_model_score(codes, y, folds, score_name)
        out.append(TargetAssociation(col.name, mi, score if math.isfinite(score) else 0.0, score_name,
                                     bool(math.isfinite(score) and score >= limit)))
    out.sort(key=lambda a: -a.model_score)
    return out


def excluded_from_target(cols: list[ColumnProfile], target: str) -> list[tuple[str, str]]:
    """The columns :func:`target_associations` leaves out, each with the reason."""
    return [(c.name, why) for c in cols if c.name != target and (why := _excluded(c)) is not None]
