"""Evidence on real bundled data, each figure checked against the library that defines it.

Small pipelines are fitted with ``build_pipeline`` directly (no workspace: the evidence works
on data handed to it). Fairness figures are compared with fairlearn on the same predictions,
bootstrap intervals with a numpy reference drawn with the same seed, importance with
scikit-learn's ``permutation_importance``, calibration with ``calibration_curve``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core import formats
from core.errors import Cancelled
from core.tasks import CancelToken, TaskContext
from core.training import evidence, metrics, plots
from core.training.models import (
    Algorithm,
    Baselines,
    Calibration,
    EvidenceKind,
    HoldoutMetrics,
    Inclusion,
    PermutationImportance,
    Residuals,
    SliceReport,
    Staleness,
    Task,
    TrainingSpec,
    TrialResult,
)
from core.training.pipeline import build_pipeline
from tests.core.data import real_data

ROUNDS = 60


def _binary() -> tuple[pd.DataFrame, dict[str, str]]:
    """breast_cancer with a categorical ``site`` (three levels) and a binary sensitive ``sex``, both unrelated."""
    df = real_data.frame("breast_cancer")
    rng = np.random.default_rng(5)
    df["site"] = rng.choice(["north", "south", "west"], len(df))
    df["sex"] = rng.choice(["f", "m"], len(df))
    df["when"] = pd.date_range("2019-01-01", periods=len(df), freq="D")
    types = {c: "double" for c in df.columns}
    types.update(site="large_string", sex="large_string", when="timestamp[us]", target="int64")
    return df, types


def _spec(task: Task, features: tuple[str, ...], **changes: Any) -> TrainingSpec:
    base: dict[str, Any] = {"algorithms": (Algorithm.LOGISTIC,), "bootstrap_rounds": ROUNDS, "seed": 3}
    return TrainingSpec("real@1", "0" * 64, "target", task, features, **{**base, **changes})


def _split(n: int, seed: int = 0, share: float = 0.3) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    order = np.random.default_rng(seed).permutation(n)
    cut = int(n * (1 - share))
    return order[:cut], order[cut:]


@pytest.fixture(scope="module")
def binary() -> dict[str, Any]:
    df, types = _binary()
    features = tuple(c for c in df.columns if c not in ("target", "sex", "when"))
    spec = _spec(Task.BINARY, features, slices=("site",), sensitive=("sex",), metric="roc_auc")
    train, hold = _split(len(df))
    X, y = df[list(features)], df["target"].to_numpy()
    pipeline = build_pipeline(spec, types).fit(X.iloc[train], y[train])
    return {"df": df, "types": types, "spec": spec, "pipeline": pipeline, "X_train": X.iloc[train],
            "y_train": y[train], "X_hold": X.iloc[hold], "y_hold": y[hold], "frame_hold": df.iloc[hold],
            "frame_train": df.iloc[train]}


# --- metrics and intervals -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["roc_auc", "accuracy", "balanced_accuracy", "f1", "neg_log_loss", "average_precision",
                                  "neg_brier_score", "precision", "recall"])
def test_holdout_figures_equal_sklearns_scorers(binary: dict[str, Any], name: str) -> None:
    from sklearn.metrics import get_scorer

    out = metrics.outputs(binary["pipeline"], binary["X_hold"])
    expected = get_scorer(name)(binary["pipeline"], binary["X_hold"], binary["y_hold"])
    assert metrics.score(name, binary["y_hold"], out) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_interval_contains_the_estimate_and_matches_a_numpy_reference(binary: dict[str, Any]) -> None:
    from sklearn.metrics import roc_auc_score

    y, pipeline = binary["y_hold"], binary["pipeline"]
    out = metrics.outputs(pipeline, binary["X_hold"])
    value = metrics.metric_value("roc_auc", y, out, ROUNDS, seed=11)
    p = pipeline.predict_proba(binary["X_hold"])[:, 1]
    draws = np.random.default_rng(11).integers(0, len(y), size=(ROUNDS, len(y)))
    reference = [roc_auc_score(y[i], p[i]) for i in draws if len(np.unique(y[i])) == 2]
    low, high = np.percentile(reference, [2.5, 97.5])
    assert value.ci_low == pytest.approx(low, abs=1e-12) and value.ci_high == pytest.approx(high, abs=1e-12)
    assert value.ci_low is not None and value.ci_high is not None
    assert value.ci_low <= value.value <= value.ci_high
    assert value.value == pytest.approx(roc_auc_score(y, p))
    assert "bootstrap" in value.method and str(ROUNDS) in value.method
    # another seed draws other resamples
    assert metrics.metric_value("roc_auc", y, out, ROUNDS, seed=12).ci_low != value.ci_low


def test_cv_and_search_table_come_from_the_trials(binary: dict[str, Any]) -> None:
    trials = (TrialResult(0, Algorithm.LOGISTIC, {"C": 1.0}, 0.97, 0.01, 0.4),
              TrialResult(1, Algorithm.LOGISTIC, {"C": 0.1}, 0.99, 0.005, 0.3),
              TrialResult(2, Algorithm.XGBOOST, {}, None, None, 0.1, "failed"))
    table, cv = evidence.search_items(binary["spec"], trials, Algorithm.LOGISTIC, {"C": 0.1})
    assert table.kind == EvidenceKind.SEARCH and table.trials == trials and table.chosen_trial == 1  # type: ignore[attr-defined]
    assert cv.kind == EvidenceKind.CV and (cv.mean, cv.sd, cv.trial) == (0.99, 0.005, 1)  # type: ignore[attr-defined]


# --- baselines -------------------------------------------------------------------------------

def test_the_model_beats_its_baselines_and_a_shuffled_label_model_does_not(binary: dict[str, Any]) -> None:
    b = binary
    out = metrics.outputs(b["pipeline"], b["X_hold"])
    real = evidence.baselines(b["spec"], b["pipeline"], b["X_train"], b["y_train"], b["X_hold"], b["y_hold"], out, 0)
    dummy = {r.name: r for r in real.baselines}["dummy"]
    assert dummy.score == pytest.approx(0.5) and dummy.beaten and dummy.margin > 0.3

    # labels shuffled on both sides of the split: no feature says anything about them
    rng = np.random.default_rng(1)
    shuffled_y, shuffled_hold = rng.permutation(b["y_train"]), rng.permutation(b["y_hold"])
    noise = build_pipeline(b["spec"], b["types"]).fit(b["X_train"], shuffled_y)
    noise_out = metrics.outputs(noise, b["X_hold"])
    fake = evidence.baselines(b["spec"], noise, b["X_train"], shuffled_y, b["X_hold"], shuffled_hold, noise_out, 0)
    fake_dummy = {r.name: r for r in fake.baselines}["dummy"]
    assert not fake_dummy.beaten and fake_dummy.margin < 0.15
    assert fake_dummy.margin_ci_low is not None and fake_dummy.margin_ci_low <= 0.0


# --- importance and cost -----------------------------------------------------------------------

def test_permutation_importance_equals_sklearns_and_flags_noise(binary: dict[str, Any]) -> None:
    from sklearn.inspection import permutation_importance

    b = binary
    item = evidence.importance(b["spec"], b["pipeline"], b["X_hold"], b["y_hold"], seed=4)
    ref = permutation_importance(b["pipeline"], b["X_hold"], b["y_hold"], scoring="roc_auc", n_repeats=10, random_state=4)
    by_name = {f.feature: f for f in item.features}
    for i, column in enumerate(b["X_hold"].columns):
        row = by_name[column]
        assert row.mean == pytest.approx(ref.importances_mean[i], abs=1e-12)
        assert row.sd == pytest.approx(ref.importances_std[i], abs=1e-12)
        assert row.ci_low == pytest.approx(row.mean - 1.96 * row.sd / np.sqrt(10))
        assert row.uninformative == (row.ci_low <= 0.0)
    assert [f.mean for f in item.features] == sorted((f.mean for f in item.features), reverse=True)
    assert by_name["site"].uninformative  # random labels of rows: the model cannot need them
    assert not item.features[0].uninformative


def test_feature_cost_counts_each_columns_transformed_outputs(binary: dict[str, Any]) -> None:
    item = evidence.feature_cost(binary["pipeline"], binary["X_hold"], repeats=2)
    rows = {r.feature: r for r in item.features}
    assert rows["site"].transformed_columns == 3 and rows["mean radius"].transformed_columns == 1  # one-hot: 3 levels
    n = len(binary["X_hold"])
    assert rows["site"].bytes == 3 * n * 8
    assert sum(r.memory_share for r in item.features) == pytest.approx(1.0)
    assert all(r.seconds >= 0 and r.time_share >= 0 for r in item.features) and item.scoring_seconds > 0


# --- slices ----------------------------------------------------------------------------------

def test_a_constructed_weak_slice_is_found(binary: dict[str, Any]) -> None:
    b = binary
    y = b["y_hold"].copy()
    site = b["frame_hold"]["site"].to_numpy()
    south = site == "south"
    rng = np.random.default_rng(2)
    flip = south & (rng.random(len(y)) < 0.4)
    y[flip] = 1 - y[flip]  # corrupt the labels of 40% of the south rows
    out = metrics.outputs(b["pipeline"], b["X_hold"])
    report = evidence.slices(b["spec"], y, out, b["frame_hold"], seed=0)
    weak = {(s.column, s.level) for s in report.weak}
    assert ("site", "south") in weak
    assert ("site", "north") not in weak and ("site", "west") not in weak
    south_slice = next(s for s in report.slices if (s.column, s.level) == ("site", "south"))
    assert south_slice.declared and south_slice.rows == int(south.sum())
    assert south_slice.gap == pytest.approx(south_slice.value - report.overall)
    assert any(not s.declared and s.column == "mean radius" for s in report.slices)  # quartile bins found automatically
    # on the uncorrupted labels nothing in site is weak
    clean = evidence.slices(b["spec"], b["y_hold"], out, b["frame_hold"], seed=0)
    assert not {s for s in clean.weak if s.column == "site"}


# --- inclusion ---------------------------------------------------------------------------------

def test_fairness_figures_equal_fairlearns(binary: dict[str, Any]) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
    )

    b = binary
    out = metrics.outputs(b["pipeline"], b["X_hold"])
    item = evidence.inclusion(b["spec"], b["y_hold"], out, b["frame_hold"])
    assert item is not None and item.positive_label == "1"
    assert "positive label 1;" in item.method  # the label as written, not numpy's np.int64(1)
    (sex,) = item.attributes
    groups = b["frame_hold"]["sex"].to_numpy()
    y, pred = b["y_hold"], out.pred
    assert sex.demographic_parity_difference == pytest.approx(
        demographic_parity_difference(y, pred, sensitive_features=groups))
    assert sex.equalized_odds_difference == pytest.approx(equalized_odds_difference(y, pred, sensitive_features=groups))
    frame = MetricFrame(metrics={"sr": selection_rate, "fpr": false_positive_rate}, y_true=y, y_pred=pred,
                        sensitive_features=groups).by_group
    for g in sex.groups:
        assert g.selection_rate == pytest.approx(frame.loc[g.group, "sr"])
        assert g.false_positive_rate == pytest.approx(frame.loc[g.group, "fpr"])
        assert g.rows == int((groups == g.group).sum())


def test_a_model_blind_to_the_attribute_shows_no_parity_gap(binary: dict[str, Any]) -> None:
    # predictions independent of the attribute: each group has the same (label, prediction) pattern
    pattern_y, pattern_pred = np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])
    y = np.tile(pattern_y, 30)
    pred = np.tile(pattern_pred, 30)
    frame = pd.DataFrame({"sex": np.repeat(["f", "m"], 60)})
    out = metrics.Outputs(pred, None, None, np.array([0, 1]))
    item = evidence.inclusion(binary["spec"], y, out, frame)
    assert item is not None
    assert item.attributes[0].demographic_parity_difference == pytest.approx(0.0, abs=1e-12)
    assert item.attributes[0].equalized_odds_difference == pytest.approx(0.0, abs=1e-12)


# --- calibration and residuals ------------------------------------------------------------------

def test_calibration_equals_sklearns_curve(binary: dict[str, Any]) -> None:
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    b = binary
    out = metrics.outputs(b["pipeline"], b["X_hold"])
    item = evidence.calibration(b["y_hold"], out)
    assert item is not None
    p = out.proba[:, 1]  # type: ignore[index]
    fraction, mean = calibration_curve(b["y_hold"], p, n_bins=10)
    np.testing.assert_allclose(item.fraction_positive, fraction)
    np.testing.assert_allclose(item.mean_predicted, mean)
    assert item.brier == pytest.approx(brier_score_loss(b["y_hold"], p))
    assert "positive class 1)" in item.method
    assert sum(item.counts) == len(p) and len(item.counts) == len(fraction)


def test_residuals_of_a_regressor() -> None:
    df = real_data.frame("diabetes")
    features = tuple(c for c in df.columns if c != "target")
    spec = _spec(Task.REGRESSION, features, algorithms=(Algorithm.RIDGE,), metric="r2")
    train, hold = _split(len(df))
    X, y = df[list(features)], df["target"].to_numpy()
    pipeline = build_pipeline(spec, {c: "double" for c in features}).fit(X.iloc[train], y[train])
    out = metrics.outputs(pipeline, X.iloc[hold])
    item = evidence.residuals(y[hold], out)
    res = y[hold] - pipeline.predict(X.iloc[hold])
    assert item.mean == pytest.approx(res.mean()) and item.sd == pytest.approx(res.std(ddof=1))
    assert dict(item.quantiles)[0.5] == pytest.approx(np.median(res))
    assert sum(b.rows for b in item.bins) == len(res)


# --- debuggability -----------------------------------------------------------------------------

def test_explanations_are_additive_for_linear_models_and_xgboost(binary: dict[str, Any]) -> None:
    import xgboost

    b = binary
    row = b["X_hold"].iloc[[5]]
    linear = evidence.explain(b["pipeline"], row)
    decision = b["pipeline"].decision_function(row)[0]
    predicted = b["pipeline"].predict(row)[0]
    signed = decision if predicted == 1 else -decision
    assert linear.base_value is not None
    assert linear.base_value + sum(c.contribution for c in linear.contributions) == pytest.approx(signed)
    assert linear.predicted == str(predicted) and {c.source for c in linear.contributions} >= {"site", "mean radius"}
    x = b["pipeline"].named_steps["preprocess"].transform(row)[0]
    assert [c.value for c in linear.contributions] == pytest.approx(list(x))

    spec = dataclasses.replace(b["spec"], algorithms=(Algorithm.XGBOOST,))
    xgb = build_pipeline(spec, b["types"], params={"n_estimators": 20, "max_depth": 3}).fit(b["X_train"], b["y_train"])
    item = evidence.explain(xgb, row)
    booster = xgb.named_steps["model"].get_booster()
    contribs = booster.predict(xgboost.DMatrix(xgb.named_steps["preprocess"].transform(row)), pred_contribs=True)[0]
    sign = 1.0 if xgb.predict(row)[0] == 1 else -1.0
    assert [c.contribution for c in item.contributions] == pytest.approx(list(sign * contribs[:-1]))
    margin = xgb.named_steps["model"].predict(xgb.named_steps["preprocess"].transform(row), output_margin=True)[0]
    assert item.output == pytest.approx(sign * margin, abs=1e-5)


def test_other_models_are_explained_against_training_medians(binary: dict[str, Any]) -> None:
    b = binary
    spec = dataclasses.replace(b["spec"], algorithms=(Algorithm.HIST_GRADIENT_BOOSTING,))
    model = build_pipeline(spec, b["types"], params={"max_iter": 20}).fit(b["X_train"], b["y_train"])
    row = b["X_hold"].iloc[[0]]
    with pytest.raises(ValueError, match="background"):
        evidence.explain(model, row)
    item = evidence.explain(model, row, background=b["X_train"])
    assert item.base_value is None and "median" in item.method
    k = list(model.classes_).index(model.predict(row)[0])
    assert item.output == pytest.approx(model.predict_proba(row)[0, k])


# --- reproducibility -----------------------------------------------------------------------------

def test_compare_predictions() -> None:
    a = np.array([0.1, 0.2, 0.3])
    same = evidence.compare_predictions(a, a.copy(), 0.0)
    assert same.identical and same.passed and same.max_abs_difference == 0.0 and same.compared == 3
    near = evidence.compare_predictions(a, a + 1e-12, 1e-9)
    assert not near.identical and near.passed and near.max_abs_difference == pytest.approx(1e-12, rel=1e-3)
    far = evidence.compare_predictions(a, a + 1e-3, 1e-9)
    assert not far.passed
    other = evidence.compare_predictions(a, a[:2], 1e-9)
    assert not other.passed and other.max_abs_difference is None
    assert formats.loads(type(far), formats.dumps(far)) == far


# --- everything, plots, staleness, cancel ---------------------------------------------------------

def test_compute_all_stores_every_item_and_valid_plots(binary: dict[str, Any]) -> None:
    b = binary
    trials = (TrialResult(0, Algorithm.LOGISTIC, {"C": 1.0}, 0.98, 0.01, 0.2),)
    reports: list[float] = []
    ctx = TaskContext(lambda f, m: reports.append(f))
    items, pngs = evidence.compute_all(
        ctx, b["spec"], b["pipeline"], b["X_train"], b["y_train"], b["X_hold"], b["y_hold"], trials,
        frame_hold=b["frame_hold"], frame_train=b["frame_train"], seed=0)
    kinds = {i.kind for i in items}
    assert {EvidenceKind.HOLDOUT_METRICS, EvidenceKind.CV, EvidenceKind.SEARCH, EvidenceKind.BASELINES,
            EvidenceKind.IMPORTANCE, EvidenceKind.FEATURE_COST, EvidenceKind.SLICES, EvidenceKind.FAIRNESS,
            EvidenceKind.CALIBRATION, EvidenceKind.EXPLANATION} <= kinds
    assert EvidenceKind.RESIDUALS not in kinds
    for item in items:
        assert item.method
        assert formats.loads(type(item), formats.dumps(item)) == item
    holdout = next(i for i in items if isinstance(i, HoldoutMetrics))
    assert holdout.metrics[0].name == "roc_auc" and holdout.value("neg_log_loss") is not None
    assert isinstance(next(i for i in items if i.kind == EvidenceKind.BASELINES), Baselines)
    assert isinstance(next(i for i in items if i.kind == EvidenceKind.IMPORTANCE), PermutationImportance)
    assert isinstance(next(i for i in items if i.kind == EvidenceKind.SLICES), SliceReport)
    assert isinstance(next(i for i in items if i.kind == EvidenceKind.FAIRNESS), Inclusion)
    assert isinstance(next(i for i in items if i.kind == EvidenceKind.CALIBRATION), Calibration)
    assert reports[-1] == 1.0 and reports == sorted(reports)
    names = {n for n, _ in pngs}
    assert {"roc.png", "pr.png", "confusion.png", "calibration.png", "importance.png", "slices.png",
            "search.png"} <= names
    _assert_pngs(pngs)


def _assert_pngs(pngs: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]]) -> None:
    import io

    from PIL import Image

    for name, data in pngs:
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        image = Image.open(io.BytesIO(data))
        image.verify()
        assert 100 < image.size[0] <= 600 and len(data) < 200_000, name


def test_staleness_and_regression_plots() -> None:
    df = real_data.frame("diabetes")
    df["when"] = pd.date_range("2015-01-01", periods=len(df), freq="W")
    features = tuple(c for c in df.columns if c not in ("target", "when"))
    spec = _spec(Task.REGRESSION, features, algorithms=(Algorithm.RIDGE,), metric="r2", bootstrap_rounds=20)
    spec = dataclasses.replace(spec, split=dataclasses.replace(spec.split, date_column="when"))
    train, hold = _split(len(df))
    X, y = df[list(features)], df["target"].to_numpy()
    pipeline = build_pipeline(spec, {c: "double" for c in features}).fit(X.iloc[train], y[train])
    item = evidence.staleness(spec, pipeline, X, y, df["when"], "when")
    assert isinstance(item, Staleness) and len(item.windows) == 4 and item.trained_rows == len(df) // 2
    ages = [w.age_days for w in item.windows]
    assert ages == sorted(ages) and ages[0] > 0
    assert sum(w.rows for w in item.windows) == len(df) - len(df) // 2
    assert all(w.start > item.trained_until for w in item.windows)
    out = metrics.outputs(pipeline, X.iloc[hold])
    residual = evidence.residuals(y[hold], out)
    assert isinstance(residual, Residuals)
    _assert_pngs(plots.all_plots(spec, y[hold], out, [residual]))


def test_cancel_stops_compute_all(binary: dict[str, Any]) -> None:
    b = binary
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evidence.compute_all(TaskContext(token=token), b["spec"], b["pipeline"], b["X_train"], b["y_train"],
                             b["X_hold"], b["y_hold"], (), frame_hold=b["frame_hold"])
