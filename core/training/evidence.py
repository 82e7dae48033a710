"""The evidence a reviewer needs, computed from a fitted pipeline and its holdout rows.

:func:`compute_all` is called by the training child (:mod:`core.training.runner`) after the
final refit; it returns every evidence item (values of :mod:`core.training.models`, each
stating its ``method``) and the plots as PNG bytes (:mod:`core.training.plots`). Each step
reports progress and checks for cancellation. :func:`explain` explains one row of any fitted
pipeline; :func:`compare_predictions` is the reproducibility verdict on two holdout outputs.

Figures are computed from the model's outputs with scikit-learn's metric functions, under
scikit-learn's scorer names and signs (greater is better), so they equal
``sklearn.metrics.get_scorer(name)(pipeline, X, y)``. Inclusion figures come from fairlearn,
never from our own arithmetic. Heavy libraries are imported inside the functions. This module
must not read or write the workspace: it works on data handed to it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from core.tasks import TaskContext, ensure_context
from core.training.metrics import (
    Array,
    Outputs,
    bootstrap_method,
    bootstrap_values,
    interval,
    metric_available,
    metric_value,
    outputs,
    score,
)
from core.training.models import (
    Algorithm,
    AttributeFairness,
    Baselines,
    BaselineScore,
    Calibration,
    Contribution,
    CrossValidation,
    EvidenceItem,
    EvidenceKind,
    Explanation,
    FeatureCost,
    FeatureCostRow,
    FeatureImportance,
    GroupRates,
    HoldoutMetrics,
    Inclusion,
    PermutationImportance,
    ReproducibilityResult,
    ResidualBin,
    Residuals,
    SearchTable,
    SliceMetric,
    SliceReport,
    Staleness,
    StalenessWindow,
    Task,
    TrainingSpec,
    TrialResult,
)

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline


#: Slices with fewer holdout rows than this are not scored (their interval would say nothing).
MIN_SLICE_ROWS = 30
#: Permutation importance repeats per feature.
IMPORTANCE_REPEATS = 10
#: Equal-width probability bins of the reliability curve.
CALIBRATION_BINS = 10
#: Newer time windows of the staleness curve.
STALENESS_WINDOWS = 4
#: Numeric columns with more distinct values than this are cut into quartiles for slices and groups.
MAX_LEVELS = 10
#: Categorical columns with more levels than this are not sliced automatically.
MAX_AUTO_LEVELS = 20

#: The other metrics reported beside the spec's, per task (scikit-learn scorer names).
REPORTED_METRICS: dict[Task, tuple[str, ...]] = {
    Task.BINARY: ("roc_auc", "accuracy", "balanced_accuracy", "f1", "neg_log_loss"),
    Task.MULTICLASS: ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc_ovr", "neg_log_loss"),
    Task.REGRESSION: ("r2", "neg_root_mean_squared_error", "neg_mean_absolute_error"),
}


# --- the items -----------------------------------------------------------------------------


def holdout_metrics(spec: TrainingSpec, y: Array, out: Outputs, seed: int) -> HoldoutMetrics:
    """The spec's metric first, then :data:`REPORTED_METRICS` that these outputs allow."""
    names = [spec.metric, *[n for n in REPORTED_METRICS[spec.task] if n != spec.metric]]
    values = []
    skipped = []
    for name in names:
        if not metric_available(name, out):
            skipped.append(name)
            continue
        values.append(metric_value(name, y, out, spec.bootstrap_rounds, seed))
    method = (f"scikit-learn metric functions on the {len(y)} holdout rows (scorer names: greater is better); "
              f"{bootstrap_method(spec.bootstrap_rounds, seed)}")
    if skipped:
        method += f"; not computed (the model gives no probabilities): {', '.join(skipped)}"
    return HoldoutMetrics(EvidenceKind.HOLDOUT_METRICS, method, spec.metric, len(y), spec.bootstrap_rounds, seed,
                          tuple(values))


def _chosen_trial(trials: Sequence[TrialResult]) -> TrialResult | None:
    scored = [t for t in trials if t.score is not None]
    return max(scored, key=lambda t: t.score if t.score is not None else -math.inf) if scored else None


def search_items(spec: TrainingSpec, trials: Sequence[TrialResult], algorithm: Algorithm,
                 params: dict[str, object]) -> tuple[EvidenceItem, ...]:
    """The search table and, when a trial scored, the chosen candidate's CV mean ± sd."""
    chosen = _chosen_trial(trials)
    table = SearchTable(
        EvidenceKind.SEARCH,
        f"{spec.search.kind} search, {spec.split.cv_folds}-fold CV on the training part, scored with {spec.metric}; "
        "every trial as it ran (failed trials keep their error); the chosen trial has the best mean CV score",
        spec.metric, tuple(trials), None if chosen is None else chosen.number, algorithm, params,
    )
    if chosen is None or chosen.score is None:
        return (table,)
    cv = CrossValidation(
        EvidenceKind.CV,
        f"mean and standard deviation of {spec.metric} over the {spec.split.cv_folds} CV folds of the chosen trial "
        f"(number {chosen.number})",
        spec.metric, chosen.algorithm, chosen.number, spec.split.cv_folds, chosen.score, chosen.score_sd or 0.0,
    )
    return table, cv


def _paired_margin(name: str, y: Array, a: Outputs, b: Outputs, rounds: int, seed: int) -> tuple[float | None, float | None]:
    n = len(y)
    draws = np.random.default_rng(seed).integers(0, n, size=(rounds, n))
    margins = []
    for index in draws:
        try:
            margins.append(score(name, y[index], a.take(index)) - score(name, y[index], b.take(index)))
        except ValueError:
            continue
    return interval(np.asarray(margins))


def baselines(spec: TrainingSpec, pipeline: Pipeline, X_train: Any, y_train: Array, X_hold: Any, y_hold: Array,
              out: Outputs, seed: int) -> Baselines:
    """A dummy model and a linear model (same preprocessing) fitted on the training part, scored on the holdout."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier, DummyRegressor

    from core.training.models import Device
    from core.training.pipeline import MODEL_STEP, make_estimator

    classify = spec.task != Task.REGRESSION
    model_score = score(spec.metric, y_hold, out)
    dummy: Any = DummyClassifier(strategy="most_frequent") if classify else DummyRegressor(strategy="mean")
    linear_algorithm = Algorithm.LOGISTIC if classify else Algorithm.RIDGE
    linear = clone(pipeline).set_params(**{MODEL_STEP: make_estimator(linear_algorithm, spec.task, {}, Device.CPU, seed)})
    candidates = [
        ("dummy", "most frequent class of the training part" if classify else "mean of the training target", dummy),
        ("linear", f"{'logistic regression' if classify else 'ridge regression'} (default parameters) "
                   "after the same preprocessing", linear),
    ]
    rows = []
    for name, description, estimator in candidates:
        estimator.fit(X_train, y_train)
        base = outputs(estimator, X_hold)
        if not metric_available(spec.metric, base):
            continue
        base_score = score(spec.metric, y_hold, base)
        low, high = _paired_margin(spec.metric, y_hold, out, base, spec.bootstrap_rounds, seed)
        rows.append(BaselineScore(name, description, base_score, model_score - base_score, low, high,
                                  low is not None and low > 0.0))
    method = (f"each baseline fitted on the same training rows and scored with {spec.metric} on the same holdout; "
              "margin = model - baseline with a 95% paired percentile bootstrap interval "
              f"({spec.bootstrap_rounds} resamples of the holdout rows, numpy default_rng({seed})); "
              "beaten when the interval lies above zero")
    return Baselines(EvidenceKind.BASELINES, method, spec.metric, model_score, tuple(rows))


def importance(spec: TrainingSpec, pipeline: Pipeline, X_hold: pd.DataFrame, y_hold: Array, seed: int,
               repeats: int = IMPORTANCE_REPEATS) -> PermutationImportance:
    """sklearn's permutation importance of each input column on the holdout, with a normal interval."""
    from sklearn.inspection import permutation_importance

    result = permutation_importance(pipeline, X_hold, y_hold, scoring=spec.metric, n_repeats=repeats,
                                    random_state=seed, n_jobs=1)
    rows = []
    for i, feature in enumerate(X_hold.columns):
        mean = float(result.importances_mean[i])
        sd = float(result.importances_std[i])
        half = 1.96 * sd / math.sqrt(repeats)
        rows.append(FeatureImportance(str(feature), mean, sd, mean - half, mean + half, mean - half <= 0.0))
    rows.sort(key=lambda r: -r.mean)
    method = (f"sklearn.inspection.permutation_importance on the {len(y_hold)} holdout rows: drop of {spec.metric} "
              f"when the column is shuffled, {repeats} repeats (random_state={seed}); interval mean ± 1.96·sd/√{repeats} "
              "(sd over the repeats); flagged uninformative when the interval reaches zero or below")
    return PermutationImportance(EvidenceKind.IMPORTANCE, method, spec.metric, repeats, tuple(rows))


def transformed_sources(pipeline: Pipeline) -> list[tuple[str, str]]:
    """``(transformed column name, input column it comes from)`` for every column the preprocessing outputs.

    Each branch of the ColumnTransformer names its outputs after its inputs; an output belongs
    to the longest input name it starts with (``colour_red`` → ``colour``).
    """
    from core.training.pipeline import PREPROCESS_STEP

    pre = pipeline.named_steps[PREPROCESS_STEP]
    pairs: list[tuple[str, str]] = []
    for branch, transformer, columns in pre.transformers_:
        if branch == "remainder" or transformer == "drop" or len(columns) == 0:
            continue
        names = [str(c) for c in columns]
        inner = (transformer.get_feature_names_out(names) if hasattr(transformer, "get_feature_names_out")
                 else np.asarray(names))
        for out_name in inner:
            text = str(out_name)
            owner = max((c for c in names if text == c or text.startswith(f"{c}_")), key=len, default=names[0])
            pairs.append((f"{branch}__{text}", owner))
    return pairs


def feature_cost(pipeline: Pipeline, X_hold: pd.DataFrame, repeats: int = 5) -> FeatureCost:
    """Per input column: transformed columns, time of its preprocessing branch, bytes of its outputs."""
    from core.training.pipeline import PREPROCESS_STEP

    def best_of(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    rows_n = len(X_hold)
    scoring = best_of(lambda: pipeline.predict(X_hold))
    pre = pipeline.named_steps[PREPROCESS_STEP]
    sources = transformed_sources(pipeline)
    width: dict[str, int] = {}
    for _, owner in sources:
        width[owner] = width.get(owner, 0) + 1
    seconds: dict[str, float] = {str(c): 0.0 for c in X_hold.columns}
    for branch, transformer, columns in pre.transformers_:
        if branch == "remainder" or transformer == "drop" or len(columns) == 0:
            continue
        names = [str(c) for c in columns]
        taken = best_of(partial(_transform, transformer, X_hold[list(columns)]))
        total_width = sum(width.get(c, 0) for c in names) or len(names)
        for c in names:
            seconds[c] += taken * (width.get(c, 0) / total_width if total_width else 1.0 / len(names))
    total_bytes = sum(width.values()) * rows_n * 8
    result = []
    for c in (str(c) for c in X_hold.columns):
        nbytes = width.get(c, 0) * rows_n * 8
        result.append(FeatureCostRow(c, width.get(c, 0), seconds[c], seconds[c] / scoring if scoring > 0 else 0.0,
                                     nbytes, nbytes / total_bytes if total_bytes else 0.0))
    method = (f"seconds: median of {repeats} timings of the column's preprocessing branch transforming the "
              f"{rows_n} holdout rows, divided among the branch's input columns in proportion to the transformed "
              "columns each produces; time_share: that over the whole pipeline's predict on the holdout "
              "(preprocessing + model, median of the same timings); bytes: its transformed columns as float64 "
              "(rows × columns × 8); memory_share: over all transformed columns")
    return FeatureCost(EvidenceKind.FEATURE_COST, method, rows_n, scoring, tuple(result))


def _transform(transformer: Any, frame: pd.DataFrame) -> object:
    return transformer.transform(frame)


def levels(values: pd.Series) -> tuple[pd.Series, str]:
    """The slice/group label of each row and how it was formed (levels, or quartile bins of a numeric column)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
            and values.nunique(dropna=True) > MAX_LEVELS:
        bins = pd.qcut(values, 4, duplicates="drop")
        return bins.astype(str).where(values.notna(), "(missing)"), "quartile bins"
    if pd.api.types.is_datetime64_any_dtype(values):
        bins = pd.qcut(values.astype("int64"), 4, duplicates="drop", labels=False)
        return bins.astype(str), "quartile bins of time"
    return values.astype(str).where(values.notna(), "(missing)"), "levels"


def slices(spec: TrainingSpec, y: Array, out: Outputs, frame: pd.DataFrame, seed: int,
           min_rows: int = MIN_SLICE_ROWS, ctx: TaskContext | None = None) -> SliceReport:
    """The spec's metric per level of each declared slice column and of each feature (automatic slices)."""
    import pandas as pd

    ctx = ensure_context(ctx)
    overall = score(spec.metric, y, out)
    columns = [(c, True) for c in spec.slices if c in frame.columns]
    for c in spec.features:
        if c in frame.columns and c not in spec.slices:
            col = frame[c]
            numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            if numeric or col.nunique(dropna=True) <= MAX_AUTO_LEVELS:
                columns.append((c, False))
    found: list[SliceMetric] = []
    skipped: list[str] = []
    for k, (column, declared) in enumerate(columns):
        ctx.check()
        ctx.report(k / max(1, len(columns)), f"slices: {column}")
        labels, _ = levels(frame[column].reset_index(drop=True))
        for level in sorted(labels.unique()):
            index = np.flatnonzero((labels == level).to_numpy())
            if len(index) < min_rows:
                skipped.append(f"{column}={level}: {len(index)} rows (fewer than {min_rows})")
                continue
            part = out.take(index)
            try:
                value = score(spec.metric, y[index], part)
            except ValueError as exc:
                skipped.append(f"{column}={level}: {exc}")
                continue
            low, high = interval(bootstrap_values(spec.metric, y[index], part, spec.bootstrap_rounds, seed))
            gap = value - overall
            weak = gap < -spec.weak_slice_gap and high is not None and high < overall
            found.append(SliceMetric(column, str(level), declared, len(index), value, low, high, gap, weak))
    method = (f"{spec.metric} on the holdout rows of each level of the declared slice columns and, automatically, of "
              f"each feature (categorical levels up to {MAX_AUTO_LEVELS}; numeric columns with more than {MAX_LEVELS} "
              f"values in quartile bins); slices under {min_rows} rows are skipped; "
              f"{bootstrap_method(spec.bootstrap_rounds, seed)}; gap = slice - overall; weak when the gap is below "
              f"-{spec.weak_slice_gap} and the interval's upper end is below the overall value")
    return SliceReport(EvidenceKind.SLICES, method, spec.metric, overall, min_rows, spec.weak_slice_gap,
                       tuple(found), tuple(skipped))


def inclusion(spec: TrainingSpec, y: Array, out: Outputs, frame: pd.DataFrame) -> Inclusion | None:
    """fairlearn's per-group rates and differences for each sensitive attribute present in ``frame``."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
    )
    from sklearn.metrics import accuracy_score, mean_absolute_error

    attributes = [c for c in spec.sensitive if c in frame.columns]
    if not attributes:
        return None
    binary = spec.task == Task.BINARY
    positive = None
    if binary and out.classes is not None:
        positive = out.classes[1]
    result = []
    for attribute in attributes:
        groups, _ = levels(frame[attribute].reset_index(drop=True))
        groups_np = groups.to_numpy()
        if binary:
            yt = (y == positive).astype(int)
            yp = (out.pred == positive).astype(int)
            frame_ = MetricFrame(
                metrics={"count": count, "selection_rate": selection_rate, "fpr": false_positive_rate,
                         "fnr": false_negative_rate, "accuracy": accuracy_score},
                y_true=yt, y_pred=yp, sensitive_features=groups_np)
            by = frame_.by_group
            rates = tuple(GroupRates(str(g), int(by.loc[g, "count"]), float(by.loc[g, "selection_rate"]),
                                     _finite(by.loc[g, "fpr"]), _finite(by.loc[g, "fnr"]),
                                     float(by.loc[g, "accuracy"]), None) for g in by.index)
            dpd = float(demographic_parity_difference(yt, yp, sensitive_features=groups_np))
            eod = _finite(equalized_odds_difference(yt, yp, sensitive_features=groups_np))
            result.append(AttributeFairness(attribute, rates, dpd, eod))
        elif spec.task == Task.MULTICLASS:
            by = MetricFrame(metrics={"count": count, "accuracy": accuracy_score}, y_true=y, y_pred=out.pred,
                             sensitive_features=groups_np).by_group
            result.append(AttributeFairness(attribute, tuple(
                GroupRates(str(g), int(by.loc[g, "count"]), None, None, None, float(by.loc[g, "accuracy"]), None)
                for g in by.index), None, None))
        else:
            by = MetricFrame(metrics={"count": count, "mae": mean_absolute_error}, y_true=y, y_pred=out.pred,
                             sensitive_features=groups_np).by_group
            result.append(AttributeFairness(attribute, tuple(
                GroupRates(str(g), int(by.loc[g, "count"]), None, None, None, None, float(by.loc[g, "mae"]))
                for g in by.index), None, None))
    what = {
        Task.BINARY: f"positive label {_label(positive)}; selection rate, false positive and false negative rates and "
                     "accuracy per group; demographic_parity_difference and equalized_odds_difference "
                     "(between groups, worst case)",
        Task.MULTICLASS: "multiclass: accuracy per group (demographic parity and equalised odds are defined for "
                         "binary decisions and are not reported)",
        Task.REGRESSION: "regression: mean absolute error per group (demographic parity and equalised odds are "
                         "defined for binary decisions and are not reported)",
    }[spec.task]
    method = (f"fairlearn.metrics.MetricFrame on the holdout's predictions grouped by each sensitive attribute "
              f"(numeric attributes with more than {MAX_LEVELS} values in quartile bins); {what}")
    return Inclusion(EvidenceKind.FAIRNESS, method, None if positive is None else str(positive), tuple(result))


def _label(value: Any) -> str:
    """A class label as users wrote it: ``1`` or ``'yes'``, not numpy's ``np.int64(1)``."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def calibration(y: Array, out: Outputs, bins: int = CALIBRATION_BINS) -> Calibration | None:
    """Brier score and reliability curve (sklearn's ``calibration_curve``, uniform bins); None without probabilities."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    if out.proba is None or out.classes is None:
        return None
    if len(out.classes) == 2:
        positive = out.classes[1]
        truth = (y == positive).astype(int)
        prob = out.proba[:, 1]
        brier = float(brier_score_loss(truth, prob))
        what = f"probability of the positive class {_label(positive)}"
    else:
        positive = None
        prob = out.proba.max(axis=1)
        truth = (out.classes[out.proba.argmax(axis=1)] == y).astype(int)
        brier = float(brier_score_loss(y, out.proba, labels=out.classes))
        what = "top-label calibration (confidence of the predicted class against its accuracy); multiclass Brier score"
    fraction, mean = calibration_curve(truth, prob, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], prob)
    counts = np.bincount(ids, minlength=bins)
    method = (f"sklearn.calibration.calibration_curve with {bins} uniform bins on the holdout ({what}); "
              "brier_score_loss; empty bins left out")
    return Calibration(EvidenceKind.CALIBRATION, method, None if positive is None else str(positive), brier, bins,
                       tuple(float(v) for v in mean), tuple(float(v) for v in fraction),
                       tuple(int(c) for c in counts[counts > 0]))


def residuals(y: Array, out: Outputs, bins: int = 10) -> Residuals:
    """Residual quantiles and residuals per prediction bin (deciles of the prediction)."""
    pred = np.asarray(out.pred, dtype=np.float64)
    res = np.asarray(y, dtype=np.float64) - pred
    qs = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
    quantiles = tuple((q, float(v)) for q, v in zip(qs, np.quantile(res, qs), strict=True))
    edges = np.unique(np.quantile(pred, np.linspace(0, 1, bins + 1)))
    ids = np.clip(np.searchsorted(edges, pred, side="right") - 1, 0, max(0, len(edges) - 2))
    rows = []
    for b in range(max(1, len(edges) - 1)):
        part = res[ids == b]
        if len(part) == 0:
            continue
        high = float(edges[b + 1]) if b + 1 < len(edges) else float(edges[b])
        sd = float(part.std(ddof=1)) if len(part) > 1 else 0.0
        rows.append(ResidualBin(float(edges[b]), high, len(part), float(part.mean()), sd))
    method = ("residual = y - prediction on the holdout; quantiles 0, 5, 25, 50, 75, 95, 100%; mean and sd (ddof=1) "
              f"per bin of the prediction ({bins} quantile bins, the last closed)")
    return Residuals(EvidenceKind.RESIDUALS, method, quantiles, float(res.mean()),
                     float(res.std(ddof=1)) if len(res) > 1 else 0.0, tuple(rows))


def date_column(spec: TrainingSpec, frame: pd.DataFrame) -> str | None:
    """The spec's split date column, else the first datetime feature, if ``frame`` holds it."""
    import pandas as pd

    if spec.split.date_column and spec.split.date_column in frame.columns:
        return spec.split.date_column
    for c in spec.features:
        if c in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[c]):
            return c
    return None


def staleness(spec: TrainingSpec, pipeline: Pipeline, X: pd.DataFrame, y: Array, dates: pd.Series,
              column: str, windows: int = STALENESS_WINDOWS) -> Staleness | None:
    """Train on the oldest half of the rows, score the newer half cut into ``windows`` successive windows."""
    import pandas as pd
    from sklearn.base import clone

    when = pd.to_datetime(dates.reset_index(drop=True), errors="coerce")
    keep = np.flatnonzero(when.notna().to_numpy())
    if len(keep) < 8 * windows * 2:
        return None
    order = keep[np.argsort(when.to_numpy()[keep], kind="stable")]
    half = len(order) // 2
    old, new = order[:half], order[half:]
    X = X.reset_index(drop=True)
    model = clone(pipeline).fit(X.iloc[old], y[old])
    trained_until = when.iloc[old[-1]]
    result = []
    for part in np.array_split(new, windows):
        seen = when.iloc[part]
        try:
            value: float | None = score(spec.metric, y[part], outputs(model, X.iloc[part]))
        except ValueError:
            value = None
        age = (seen.median() - trained_until).total_seconds() / 86400.0
        result.append(StalenessWindow(seen.min().isoformat(), seen.max().isoformat(), float(age), len(part), value))
    method = (f"rows with a {column!r} value sorted by it; the chosen pipeline (same parameters) refitted on the "
              f"oldest half ({half} rows) and scored with {spec.metric} on the newer half cut into {windows} windows "
              "of equal row counts; age = window's median date - last training date, in days")
    return Staleness(EvidenceKind.STALENESS, method, column, spec.metric, half, trained_until.isoformat(),
                     tuple(result))


# --- debuggability -------------------------------------------------------------------------


def explain(pipeline: Pipeline, row: pd.DataFrame, *, background: pd.DataFrame | None = None,
            index: int = 0) -> Explanation:
    """Why the pipeline gave ``row`` (a one-row frame of the input columns) its output.

    XGBoost: its own contributions (``pred_contribs=True``, margin of the predicted class).
    Linear models: coefficient × transformed value (decision value or prediction), plus the
    intercept as the base value. Others: for each transformed feature, the output minus the
    output with that feature replaced by its median over ``background``'s transformed rows
    (probability of the predicted class, or the prediction); not additive.

    Raises
    ------
    ValueError
        ``row`` holds more than one row, or the model needs ``background`` and none was given.
    """
    from core.training.pipeline import MODEL_STEP, PREPROCESS_STEP

    if len(row) != 1:
        raise ValueError(f"explain takes one row, got {len(row)}")
    pre = pipeline.named_steps[PREPROCESS_STEP]
    model = pipeline.named_steps[MODEL_STEP]
    x = np.asarray(pre.transform(row), dtype=np.float64)
    sources = transformed_sources(pipeline)
    names = [n for n, _ in sources] or [f"x{i}" for i in range(x.shape[1])]
    owners = [o for _, o in sources] or names
    predicted = np.asarray(pipeline.predict(row))[0]
    classes = getattr(model, "classes_", None)
    k = int(np.flatnonzero(np.asarray(classes) == predicted)[0]) if classes is not None else 0
    base: float | None
    if hasattr(model, "get_booster"):
        import xgboost

        contribs = np.asarray(model.get_booster().predict(xgboost.DMatrix(x), pred_contribs=True))
        if contribs.ndim == 3:  # multiclass: (rows, classes, features + 1)
            vector = contribs[0, k]
        else:
            vector = contribs[0]
            if classes is not None and len(classes) == 2 and k == 0:
                vector = -vector  # the margin is the positive class's; explain the predicted one
        parts, base = vector[:-1], float(vector[-1])
        output = float(base + parts.sum())
        kind = "margin (log-odds) of the predicted class" if classes is not None else "prediction"
        method = "XGBoost's own per-feature contributions (Booster.predict(pred_contribs=True)); additive"
    elif hasattr(model, "coef_"):
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
        sign = 1.0
        if coef.shape[0] == 1 and classes is not None and k == 0:
            sign = -1.0  # one decision value for two classes: the predicted class's is its negative
        r = min(k, coef.shape[0] - 1) if classes is not None else 0
        parts = sign * coef[r] * x[0]
        base = float(sign * intercept[r])
        output = float(base + parts.sum())
        kind = "decision value of the predicted class" if classes is not None else "prediction"
        method = "coefficient × transformed value per feature, intercept as the base value; additive"
    else:
        if background is None:
            raise ValueError("this model is explained against reference values: pass background rows")
        reference = np.median(np.asarray(pre.transform(background), dtype=np.float64), axis=0)

        def out(matrix: Array) -> Array:
            if classes is not None and hasattr(model, "predict_proba"):
                return np.asarray(model.predict_proba(matrix))[:, k]
            return np.asarray(model.predict(matrix), dtype=np.float64)

        variants = np.repeat(x, x.shape[1], axis=0)
        variants[np.arange(x.shape[1]), np.arange(x.shape[1])] = reference
        output = float(out(x)[0])
        parts = output - out(variants)
        base = None
        kind = "probability of the predicted class" if classes is not None else "prediction"
        method = ("per transformed feature: the output minus the output with that feature replaced by its median "
                  "over the training rows (one feature at a time); not additive")
    contributions = tuple(Contribution(names[j], owners[j], float(x[0, j]), float(parts[j])) for j in range(x.shape[1]))
    return Explanation(EvidenceKind.EXPLANATION, method, index, str(predicted), output, kind, base, contributions)


# --- reproducibility -----------------------------------------------------------------------


def compare_predictions(a: Sequence[float] | Array, b: Sequence[float] | Array, tolerance: float) -> ReproducibilityResult:
    """Compare two trainings' holdout outputs: identical, or within ``tolerance`` (largest absolute difference)."""
    first = np.asarray(a, dtype=np.float64).ravel()
    second = np.asarray(b, dtype=np.float64).ravel()
    if first.shape != second.shape:
        return ReproducibilityResult(
            EvidenceKind.REPRODUCIBILITY,
            f"holdout outputs of two trainings compared; lengths differ ({len(first)} against {len(second)})",
            False, False, None, tolerance, 0)
    identical = bool(np.array_equal(first, second, equal_nan=True))
    both_nan = np.isnan(first) & np.isnan(second)
    diff = np.abs(first - second)
    diff[both_nan] = 0.0
    largest = float(diff.max()) if len(diff) else 0.0
    if not math.isfinite(largest):
        largest = float(np.finfo(np.float64).max)
    method = (f"the run repeated with the same data and seed in a fresh child process; its {len(first)} holdout "
              "outputs (probabilities, else decision values, else predictions) compared number by number with the "
              f"first run's; passed when identical or the largest absolute difference is at most {tolerance:g}")
    return ReproducibilityResult(EvidenceKind.REPRODUCIBILITY, method, identical,
                                 identical or largest <= tolerance, largest, tolerance, len(first))


# --- everything ----------------------------------------------------------------------------


def compute_all(ctx: TaskContext | None, spec: TrainingSpec, pipeline: Pipeline, X_train: pd.DataFrame,
                y_train: Array, X_hold: pd.DataFrame, y_hold: Array, trials: Sequence[TrialResult], *,
                frame_hold: pd.DataFrame | None = None, seed: int | None = None,
                frame_train: pd.DataFrame | None = None) -> tuple[tuple[EvidenceItem, ...], tuple[tuple[str, bytes], ...]]:
    """Every evidence item of a fitted pipeline, and its plots.

    Parameters
    ----------
    ctx
        Progress and cancellation (None: silent).
    spec
        The spec the pipeline was trained from (metric, task, slices, sensitive, bootstrap rounds).
    pipeline
        The final pipeline, fitted on ``X_train``/``y_train``.
    X_train, y_train, X_hold, y_hold
        The split: feature columns and target.
    trials
        The search's trials (for the search table and the CV figures).
    frame_hold, frame_train
        The same rows with every column of the snapshot (slice, sensitive and date columns
        that are not features); the feature frames are used where these are None.
    seed
        Seed of the bootstrap and of permutation importance (the spec's by default).

    Returns
    -------
    tuple
        The items (in :class:`~core.training.models.EvidenceKind` order, those that apply)
        and ``(name, PNG bytes)`` plots.
    """
    import pandas as pd

    from core.training import plots
    from core.training.models import Algorithm as Alg
    from core.training.pipeline import MODEL_STEP, estimator_params

    ctx = ensure_context(ctx)
    seed = spec.seed if seed is None else seed
    y_train = np.asarray(y_train)
    y_hold = np.asarray(y_hold)
    hold = (frame_hold if frame_hold is not None else X_hold).reset_index(drop=True)
    items: list[EvidenceItem] = []
    figures: list[tuple[str, bytes]] = []

    def step(fraction: float, message: str) -> None:
        ctx.check()
        ctx.report(fraction, message)

    step(0.0, "evidence: holdout metrics")
    out = outputs(pipeline, X_hold)
    items.append(holdout_metrics(spec, y_hold, out, seed))
    model = pipeline.named_steps[MODEL_STEP]
    chosen_trial = _chosen_trial(trials)
    algorithm = chosen_trial.algorithm if chosen_trial is not None else _algorithm_of(model, Alg)
    if chosen_trial is not None:
        chosen_params = estimator_params(chosen_trial.params)
    else:  # no search ran: the fitted estimator's own plain parameters
        chosen_params = {k: v for k, v in model.get_params(deep=False).items()
                         if v is None or isinstance(v, (str, int, float, bool))}
    items.extend(search_items(spec, trials, algorithm, chosen_params))

    step(0.15, "evidence: baselines")
    items.append(baselines(spec, pipeline, X_train, y_train, X_hold, y_hold, out, seed))

    step(0.3, "evidence: permutation importance")
    imp = importance(spec, pipeline, X_hold, y_hold, seed)
    items.append(imp)
    step(0.5, "evidence: feature cost")
    items.append(feature_cost(pipeline, X_hold))

    step(0.55, "evidence: slices")
    slice_report = slices(spec, y_hold, out, hold, seed, ctx=ctx.sub(0.55, 0.7))
    items.append(slice_report)

    step(0.7, "evidence: inclusion")
    fair = inclusion(spec, y_hold, out, hold)
    if fair is not None:
        items.append(fair)

    step(0.75, "evidence: calibration / residuals")
    cal = calibration(y_hold, out) if spec.task != Task.REGRESSION else None
    if cal is not None:
        items.append(cal)
    res = residuals(y_hold, out) if spec.task == Task.REGRESSION else None
    if res is not None:
        items.append(res)

    step(0.8, "evidence: staleness")
    train_frame = frame_train if frame_train is not None else X_train
    column = date_column(spec, hold)
    if column is not None and column in train_frame.columns:
        dates = pd.concat([train_frame[column].reset_index(drop=True), hold[column]], ignore_index=True)
        X_all = pd.concat([X_train, X_hold], ignore_index=True)
        stale = staleness(spec, pipeline, X_all, np.concatenate([y_train, y_hold]), dates, column)
        if stale is not None:
            items.append(stale)

    step(0.88, "evidence: explanation")
    items.append(explain(pipeline, X_hold.iloc[[0]], background=X_train.iloc[:1000]))

    step(0.9, "evidence: plots")
    figures.extend(plots.all_plots(spec, y_hold, out, items))
    ctx.report(1.0, "evidence done")
    return tuple(items), tuple(figures)


def _algorithm_of(model: Any, alg: type[Algorithm]) -> Algorithm:
    name = type(model).__name__
    for key, value in (("XGB", alg.XGBOOST), ("HistGradient", alg.HIST_GRADIENT_BOOSTING),
                       ("RandomForest", alg.RANDOM_FOREST), ("Ridge", alg.RIDGE), ("Logistic", alg.LOGISTIC)):
        if key in name:
            return value
    return alg.LINEAR


__all__ = [
    "IMPORTANCE_REPEATS", "MIN_SLICE_ROWS", "REPORTED_METRICS", "Outputs", "baselines", "bootstrap_values",
    "calibration", "compare_predictions", "compute_all", "explain", "feature_cost", "holdout_metrics", "importance",
    "inclusion", "metric_value", "outputs", "residuals", "score", "slices", "staleness", "transformed_sources",
]
