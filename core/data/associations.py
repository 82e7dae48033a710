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
from concurrent.futures import ThreadPoolExecutor
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
#: |Spearman ρ| of a number with a numeric target from which it counts as leakage.
LEAKAGE_RANK = 0.99
#: Equal-frequency bins of a numeric column (or numeric target) for mutual information and
#: the one-column model: at most this many, and about :data:`MIN_BIN_ROWS` rows a bin.
MI_BINS = 20
MIN_BIN_ROWS = 30
#: Shuffles of the target behind each association's p-value.
PERMUTATIONS = 199
#: Rows' worth of the overall figure each code's mean or rate is pulled towards.
SMOOTHING_ROWS = 1.0


def sample(table: pa.Table, rows: int) -> pa.Table:
    if table.num_rows <= rows:
        return table
    idx = np.sort(np.random.default_rng(0).choice(table.num_rows, size=rows, replace=False))
    return table.take(arrays.from_numpy(idx))


def _numeric(table: pa.Table, name: str) -> np.ndarray:
    arr = table.column(name)
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        return arrays.microseconds(arr)
    return arrays.floats(arr)  # to_numpy would import pandas (0.15 s)


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
    its mean once (so the sums lose no precision); then each pair is weighted
    ``np.bincount`` over the codes, shifted so that missing (-1) falls in a bucket of its
    own that is dropped. No row is copied. A pair needs one bincount (the sums by code)
    where neither side misses a value: the counts are then the codes' own (counted once)
    and the total sum of squares the column's (summed once).
    """
    out = np.full((len(codes), x.shape[1]), np.nan)
    shifted = [c.astype(np.int64) + 1 for c in codes]
    own_counts = [np.bincount(code)[1:].astype(np.float64) for code in shifted]
    complete = [bool(code.size) and int(code.min()) > 0 for code in shifted]
    for k in range(x.shape[1]):
        column = x[:, k]
        present = ~np.isnan(column)
        if not present.any():
            continue
        whole = bool(present.all())
        weight = None if whole else present.astype(np.float64)
        centred = column - column.mean() if whole else np.where(present, column - column[present].mean(), 0.0)
        squared = centred * centred
        squares = float(squared.sum())
        for i, code in enumerate(shifted):
            counts = own_counts[i] if weight is None else np.bincount(code, weights=weight)[1:]
            n = counts.sum()
            if n < 2:
                continue
            sums = np.bincount(code, weights=centred, minlength=counts.size + 1)[1:]
            grand = sums.sum() ** 2 / n
            total = (squares if complete[i] else np.bincount(code, weights=squared)[1:].sum()) - grand
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
    if cut.size == n - 1:  # no ties
        return np.arange(1.0, n + 1.0)
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    return np.repeat((starts + ends + 1) / 2.0, ends - starts)


def _pearson_pair(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r of two vectors without missing values (two-pass, centred)."""
    if a.size < 2:
        return math.nan
    a = a - a.mean()
    b = b - b.mean()
    den = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return min(max(float(np.dot(a, b)) / den, -1.0), 1.0) if den > 0 else math.nan


def spearman_matrix(x: np.ndarray) -> np.ndarray:
    """Spearman correlations over pairwise-complete rows, as ``pandas.DataFrame.corr("spearman")``.

    Pearson's r of average ranks, the ranks taken over the rows where both columns of the
    pair are present (``scipy.stats.spearmanr`` with the missing rows of that pair dropped).
    Each column is sorted once; its ranks over all its own values serve every pair where
    they are the pair's ranks — the other column is present wherever this one is (neither
    misses a value, or both miss the same rows). Otherwise the column is ranked again on the
    pair's rows, read off its one sort (no sort per pair).
    """
    from concurrent.futures import ThreadPoolExecutor

    rows, k = x.shape
    present = np.asfortranarray(~np.isnan(x))
    ranks = np.full(x.shape, np.nan, order="F")  # column-major: each column contiguous
    orders: list[np.ndarray] = [np.empty(0, dtype=np.intp)] * k
    ordered: list[np.ndarray] = [np.empty(0)] * k  # each column's present values, sorted
    tied = [True] * k  # whether a column holds a value twice

    def rank(i: int) -> None:  # numpy's sort releases the GIL: columns side by side
        column = x[:, i]
        # Only the present values are sorted: with a NaN among them numpy's vectorised
        # argsort falls back to a path about six times slower. Ties get their average rank,
        # so their order does not matter.
        where = np.flatnonzero(present[:, i])
        order = np.argsort(column) if where.size == rows else np.take(where, np.argsort(np.take(column, where)))
        orders[i] = order
        ordered[i] = np.take(column, order)
        ranks[order, i] = _sorted_average_ranks(ordered[i])
        tied[i] = bool(np.any(ordered[i][1:] == ordered[i][:-1]))

    def subset_ranks(i: int, keep: np.ndarray) -> np.ndarray:
        """Average ranks of column i's values on the rows ``keep`` marks (in i's sorted order)."""
        if not tied[i]:
            return np.arange(1.0, np.count_nonzero(keep) + 1.0)
        return _sorted_average_ranks(np.compress(keep, ordered[i]))

    m = present.astype(np.float64)
    together = m.T @ m  # rows where both are present
    own = np.diag(together)
    # The ranks of i are the pair's ranks when i is present only where j is too.
    fits = own[:, None] == together
    with ThreadPoolExecutor(max_workers=runtime.cpu_workers()) as pool:
        list(pool.map(rank, range(k)))
        # Pearson of the own ranks, over the columns of the pairs where both columns' ranks fit.
        both = fits & fits.T
        np.fill_diagonal(both, False)
        served = np.flatnonzero(both.any(axis=0))
        out = np.full((k, k), np.nan)
        if served.size:
            out[np.ix_(served, served)] = pearson_matrix(ranks[:, served])
        for i in range(k):  # as pearson_matrix: 1 for a column of two values or more
            out[i, i] = 1.0 if ordered[i].size > 1 and ordered[i][0] != ordered[i][-1] else math.nan
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k) if not both[i, j]]

        # A random gather over the rows costs more than the rest; np.compress and np.take
        # are several times faster than boolean and fancy indexing.
        def pair(ij: tuple[int, int]) -> None:
            i, j = ij
            if fits[i, j]:
                i, j = j, i  # i: a column to rank again on the pair's rows (its own ranks do not fit)
            if fits[j, i]:  # j is missing wherever i is: j's own ranks fit; rank i again
                other = np.take(ranks[:, j], orders[i])  # in i's sorted order, NaN where j is missing
                keep = ~np.isnan(other)
                ri = subset_ranks(i, keep)
                rj = np.compress(keep, other)
            else:  # each misses values where the other does not: rank both again
                keep_i = np.take(present[:, j], orders[i])
                keep_j = np.take(present[:, i], orders[j])
                again_j = np.empty(rows)  # j's new ranks by row, read in i's order
                again_j[np.compress(keep_j, orders[j])] = subset_ranks(j, keep_j)
                ri, rj = subset_ranks(i, keep_i), np.take(again_j, np.compress(keep_i, orders[i]))
            out[i, j] = out[j, i] = _pearson_pair(ri, rj)

        list(pool.map(pair, pairs))
    return out


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
    codes = {n: _codes(table, n) for n in categorical}
    # η (bincounts, single-threaded) beside Pearson and Spearman: numpy releases the GIL.
    side = ThreadPoolExecutor(1, thread_name_prefix="airlock-eta")
    etas = side.submit(correlation_ratios, [codes[c] for c in categorical], _columns(numbers, numeric)) if numeric else None
    side.shutdown(wait=False)
    if len(numeric) > 1:
        x = _columns(numbers, numeric)
        for method in (CorrelationMethod.PEARSON, CorrelationMethod.SPEARMAN):
            m = pearson_matrix(x) if method == CorrelationMethod.PEARSON else spearman_matrix(x)
            for i in range(len(numeric)):
                for j in range(i + 1, len(numeric)):
                    if math.isfinite(m[i, j]):
                        out.append(Correlation(numeric[i], numeric[j], method, float(m[i, j])))
    for i in range(len(categorical)):
        for j in range(i + 1, len(categorical)):
            v = cramers_v(codes[categorical[i]], codes[categorical[j]])
            if math.isfinite(v):
                out.append(Correlation(categorical[i], categorical[j], CorrelationMethod.CRAMERS_V, v))
    if etas is not None:
        for c, row in zip(categorical, etas.result(), strict=True):
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
        return f"identifier ({col.identifier})" if col.identifier else "identifier"
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


def bins_for(rows: int) -> int:
    """Equal-frequency bins for a numeric column over ``rows`` rows: :data:`MI_BINS`, fewer on
    small data so that each bin holds about :data:`MIN_BIN_ROWS` rows (two at least)."""
    return max(2, min(MI_BINS, rows // MIN_BIN_ROWS))


def _bin_codes(x: np.ndarray, discrete: bool, bins: int = MI_BINS) -> np.ndarray:
    """Small non-negative integer codes: categories as they are (missing its own), numbers in
    at most ``bins`` equal-frequency bins (fewer when there are fewer distinct values)."""
    if discrete:
        return (x + 1).astype(np.int64)  # missing (-1) becomes code 0
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right").astype(np.int64)


def contingency(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The contingency table of two code arrays, occupied rows and columns only."""
    cols = int(y.max()) + 1
    joint = np.bincount(x * cols + y, minlength=(int(x.max()) + 1) * cols).reshape(-1, cols)
    occupied: np.ndarray = joint[joint.sum(axis=1) > 0][:, joint.sum(axis=0) > 0]
    return occupied


def _plug_in(tables: np.ndarray, rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """Plug-in mutual information (nats) of tables (last two axes) sharing the margins ``rows``, ``cols``."""
    t = tables.astype(np.float64)
    expected = np.outer(rows, cols).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(t > 0, t * np.log(t * n / expected), 0.0)
    total: np.ndarray = terms.sum(axis=(-2, -1)) / n
    return total


def miller_madow_bias(joint: np.ndarray) -> float:
    """Miller–Madow's estimate of the plug-in bias of I(X; Y) = H(X) + H(Y) − H(X, Y).

    Each entropy's plug-in estimate falls short by about (K − 1) / 2n for K occupied cells,
    so the information is overstated by (K_xy − K_x − K_y + 1) / 2n, with K_xy the occupied
    cells of the table and K_x, K_y its occupied rows and columns.
    """
    n = int(joint.sum())
    if n == 0:
        return 0.0
    occupied = int(np.count_nonzero(joint))
    kx, ky = int(np.count_nonzero(joint.sum(axis=1))), int(np.count_nonzero(joint.sum(axis=0)))
    return (occupied - kx - ky + 1) / (2 * n)


def mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """Mutual information (nats) of two code arrays: the plug-in estimate minus Miller–Madow's bias.

    See :func:`miller_madow_bias`; the result is clipped at 0, so a column with thousands
    of levels and no relation to the target scores near 0 instead of near its bias.
    """
    return table_information(contingency(x, y)) if x.size else 0.0


def table_information(joint: np.ndarray) -> float:
    """:func:`mutual_information` from the contingency table."""
    n = int(joint.sum())
    if n == 0:
        return 0.0
    mi = float(_plug_in(joint, joint.sum(axis=1), joint.sum(axis=0), n))
    return max(mi - miller_madow_bias(joint), 0.0)


def _random_tables(rows: np.ndarray, cols: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` tables drawn as shuffling one margin against the other would give them.

    With both margins fixed, a shuffle splits each block of rows' column counts between
    its two halves by a multivariate hypergeometric draw. Halving the rows level by level
    draws every table with ``ceil(log2 R) × (C − 1)`` numpy calls, each vectorised over
    the blocks of its level and the tables (the counts alone are used, not the rows).
    """
    r, c = rows.size, cols.size
    out = np.zeros((count, r, c), dtype=np.int64)
    edges = np.concatenate(([0], np.cumsum(rows.astype(np.int64))))
    starts, ends = np.array([0]), np.array([r])
    counts = np.broadcast_to(cols.astype(np.int64), (1, count, c)).copy()  # (blocks, tables, columns)
    while starts.size:
        single = ends - starts == 1
        if single.any():
            out[:, starts[single], :] = counts[single].transpose(1, 0, 2)
        starts, ends, counts = starts[~single], ends[~single], counts[~single]
        if not starts.size:
            break
        middles = (starts + ends) // 2
        need = np.repeat((edges[middles] - edges[starts])[:, None], count, axis=1)
        left = np.zeros_like(counts)
        rest = counts.sum(axis=2)
        for k in range(c - 1):
            rest = rest - counts[:, :, k]
            drawn = rng.hypergeometric(counts[:, :, k], rest, need)
            left[:, :, k] = drawn
            need = need - drawn
        left[:, :, c - 1] = need
        starts, ends = np.concatenate((starts, middles)), np.concatenate((middles, ends))
        counts = np.concatenate((left, counts - left))
    return out


def permutation_p_value(joint: np.ndarray, permutations: int = PERMUTATIONS, seed: int = 0) -> float:
    """How often shuffling the target gives as much plug-in information as ``joint`` has.

    Shuffles are drawn with the table's margins kept (:func:`_random_tables`), from a fixed
    seed, in batches of 20 with Besag and Clifford's sequential stop: once 10 shuffles have
    reached the observed figure the p-value is ``10 / shuffles drawn`` (clearly not
    significant, no need for more); otherwise ``(1 + reached) / (1 + permutations)``, the
    smallest value being ``1 / (1 + permutations)``.
    """
    rows, cols = joint.sum(axis=1), joint.sum(axis=0)
    n = int(joint.sum())
    if n == 0 or rows.size < 2 or cols.size < 2:
        return 1.0
    if cols.size > rows.size:  # the shorter margin as columns: fewer calls
        joint, rows, cols = joint.T, cols, rows
    observed = float(_plug_in(joint, rows, cols, n)) - 1e-12 * max(float(_plug_in(joint, rows, cols, n)), 1.0)
    rng = np.random.default_rng(seed)
    reached = drawn = 0
    while drawn < permutations:
        batch = min(_P_BATCH, permutations - drawn)
        shuffled = _plug_in(_random_tables(rows, cols, batch, rng), rows, cols, n)
        reached += int(np.count_nonzero(shuffled >= observed))
        drawn += batch
        if reached >= _P_STOP:
            return _P_STOP / drawn
    return (1 + reached) / (1 + permutations)


_P_BATCH = 20
_P_STOP = 10


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


def constant_score(y: np.ndarray, scoring: str) -> float:
    """The score of a constant prediction: R² 0, ROC AUC 0.5, balanced accuracy 1 / classes."""
    if scoring == "r2":
        return 0.0
    if scoring == "roc_auc":
        return 0.5
    return 1.0 / max(int(np.unique(y).size), 1)


def binned_model_score(x: np.ndarray, y: np.ndarray, folds: int, scoring: str) -> float:
    """Held-out score of the one-column model "predict what the training rows of this bin had".

    ``x`` holds small non-negative codes (categories, or equal-frequency bins of a number:
    :func:`_bin_codes`); the model learns, on the training folds, the target's mean per code
    (``r2``) or its rate of the positive class (``roc_auc``), each smoothed towards the
    overall figure by :data:`SMOOTHING_ROWS` rows, or its most common class
    (``balanced_accuracy``); a code not seen in training gets the overall figure. The score
    is averaged over the folds, as ``cross_val_score`` does, and never reported below
    :func:`constant_score`: a held-out score under the constant's means the step function
    over-fitted, and the constant is the better one-column model. A step function of one
    column, like a shallow tree on it, but with the categories as categories (a tree would
    split their arbitrary codes as numbers) and without loading scikit-learn. NaN when a
    fold cannot be scored.
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
        per_code = (sums + SMOOTHING_ROWS * overall) / (counts + SMOOTHING_ROWS)
        if scoring == "roc_auc":
            scores.append(_auc(y[test], per_code[x[test]]))
        else:
            residual = y[test] - per_code[x[test]]
            total = float(np.sum((y[test] - y[test].mean()) ** 2))
            scores.append(1.0 - float(np.sum(residual**2)) / total if total > 0 else math.nan)
    score = float(np.mean(scores))
    return max(score, constant_score(y, scoring)) if math.isfinite(score) else score


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ of two vectors over the rows where both are present."""
    both = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[both], y[both]
    if x.size < 3:
        return math.nan
    rx, ry = np.empty(x.size), np.empty(y.size)
    ox, oy = np.argsort(x), np.argsort(y)
    rx[ox] = _sorted_average_ranks(x[ox])
    ry[oy] = _sorted_average_ranks(y[oy])
    return _pearson_pair(rx, ry)


def target_associations(table: pa.Table, cols: list[ColumnProfile], target: str) -> list[TargetAssociation]:
    """Mutual information, its permutation p-value and a one-column model score of every usable
    column with ``target``, strongest first (model score, then mutual information).

    Identifier, PII-like and constant columns are left out (see :func:`excluded_from_target`).
    Both figures use the same codes: categories as they are, numbers (and a numeric target)
    in :func:`bins_for` equal-frequency bins; the model is :func:`binned_model_score` over
    three folds. Leakage: a model score of at least :data:`LEAKAGE_AUC` (classification) or
    :data:`LEAKAGE_R2` (regression), or, for a number against a numeric target, a rank
    correlation of at least :data:`LEAKAGE_RANK` in absolute value.
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
    bins = bins_for(y.size)
    y_codes = _bin_codes(y, False, bins) if regression else y.astype(np.int64)
    limit = LEAKAGE_R2 if regression else LEAKAGE_AUC
    out = []
    for col in cols:
        if col.name == target or _excluded(col) is not None:
            continue
        feat = _feature(table, col)
        if feat is None:
            continue
        codes = _bin_codes(feat[0][keep], feat[1], bins)
        joint = contingency(codes, y_codes)
        mi = table_information(joint)
        p_value = permutation_p_value(joint)
        score = binned_model_score(codes, y, folds, score_name)
        leak = bool(math.isfinite(score) and score >= limit)
        if regression and not feat[1] and not leak:
            leak = abs(_rank_correlation(_numeric(table, col.name)[keep], y)) >= LEAKAGE_RANK
        out.append(TargetAssociation(col.name, mi, score if math.isfinite(score) else 0.0, score_name, leak, p_value))
    out.sort(key=lambda a: (-a.model_score, -a.mutual_information, a.column))
    return out


def excluded_from_target(cols: list[ColumnProfile], target: str) -> list[tuple[str, str]]:
    """The columns :func:`target_associations` leaves out, each with the reason."""
    return [(c.name, why) for c in cols if c.name != target and (why := _excluded(c)) is not None]
