"""Pipelines built from specs on real data: they fit, predict, survive pickling, and search spaces fit."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.training.models import ALGORITHMS, Algorithm, Device, Encoding, SearchKind, Task, TrainingSpec
from core.training.pipeline import (
    MODEL_STEP,
    build_pipeline,
    estimator_params,
    make_estimator,
    search_space,
    suggest_params,
)
from core.training.service import gpu_available


def _frame(engine: Any, spec: TrainingSpec) -> tuple[pd.DataFrame, np.ndarray[Any, Any], dict[str, str]]:
    version = engine.datasets.version(spec.dataset)
    table = engine.datasets.read_table(version).to_pandas()
    return table[list(spec.features)], table[spec.target].to_numpy(), {c.name: c.type for c in version.columns}


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine", "diabetes"])
def test_every_default_algorithm_fits_predicts_and_pickles(engine: Any, imported: Callable[..., Any], name: str) -> None:
    imported(name)
    spec = engine.training.init_spec(name, "target")
    X, y, types = _frame(engine, spec)
    for algorithm in spec.algorithms:
        pipeline = build_pipeline(spec, types, algorithm)
        pipeline.fit(X, y)
        predicted = pipeline.predict(X)
        if spec.task == Task.REGRESSION:
            r2 = 1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
            assert r2 > 0.4, (algorithm, r2)
        else:
            majority = pd.Series(y).value_counts(normalize=True).iloc[0]
            assert (predicted == y).mean() > majority + 0.1, algorithm
        loaded = pickle.loads(pickle.dumps(pipeline))
        again = loaded.predict(X)
        if spec.task == Task.REGRESSION and algorithm == Algorithm.RANDOM_FOREST:
            # the forest's trees are summed by several threads: the last bits depend on their order
            np.testing.assert_allclose(again, predicted, rtol=1e-12)
        else:
            np.testing.assert_array_equal(again, predicted)


def _mixed(n: int = 400) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "x": rng.normal(size=n),
        "colour": rng.choice(["red", "green", None], n),
        "member": rng.choice([True, False], n),
        "shop": [f"shop{i}" for i in rng.integers(0, 120, n)],
        "when": pd.date_range("2020-01-01", periods=n, freq="7h"),
    })
    df.loc[::17, "x"] = np.nan
    types = {"x": "double", "colour": "large_string", "member": "bool", "shop": "large_string", "when": "timestamp[us]"}
    return df, types


def _spec(task: Task, features: tuple[str, ...], **changes: Any) -> TrainingSpec:
    return TrainingSpec("mixed@1", "0" * 64, "y", task, features, **changes)


def test_mixed_columns_missing_values_high_cardinality_and_dates(engine: Any) -> None:
    df, types = _mixed()
    y = np.where(df["x"].fillna(0) + (df["colour"] == "red") > 0.3, "yes", "no")
    spec = _spec(Task.BINARY, tuple(df.columns), algorithms=(Algorithm.LOGISTIC,))
    pipeline = build_pipeline(spec, types).fit(df, y)
    names = list(pipeline.named_steps["preprocess"].get_feature_names_out())
    assert {"datetime__when_year", "datetime__when_month", "datetime__when_dayofweek", "datetime__when_hour"} <= set(names)
    assert "categorical__colour_red" in names and "categorical__shop" in names  # one target-encoded column
    encoder = pipeline.named_steps["preprocess"].named_transformers_["categorical"].named_steps["encode"]
    assert encoder.high_cardinality_ == ["shop"]
    assert (pipeline.predict(df) == y).mean() > 0.9
    unseen = df.head(3).assign(colour=["purple", None, "red"], shop=["new", "newer", "shop1"])
    assert list(pipeline.predict(unseen)) and np.isfinite(pipeline.predict_proba(unseen)).all()

    ordinal = dataclasses.replace(spec, preprocessing=dataclasses.replace(
        spec.preprocessing, encoding=Encoding.ORDINAL, high_cardinality_encoding=Encoding.ONEHOT,
        high_cardinality_threshold=2))
    names = list(build_pipeline(ordinal, types).fit(df, y).named_steps["preprocess"].get_feature_names_out())
    # colour (two levels once imputed) and member stay ordinal; shop (120 levels) is one-hot
    assert {"categorical__colour", "categorical__member", "categorical__shop_shop1"} <= set(names)


def test_xgboost_takes_any_labels_and_gives_them_back(engine: Any) -> None:
    df, types = _mixed()
    y = np.where(df["x"].fillna(0) > 0, "high", "low")
    spec = _spec(Task.BINARY, ("x", "colour"), algorithms=(Algorithm.XGBOOST,))
    pipeline = build_pipeline(spec, types, params={"n_estimators": 20}).fit(df, y)
    assert list(pipeline.classes_) == ["high", "low"]
    assert set(pipeline.predict(df)) == {"high", "low"}
    assert pipeline.named_steps[MODEL_STEP].get_booster().save_raw("ubj")[:1] == b"{"
    loaded = pickle.loads(pickle.dumps(pipeline))
    np.testing.assert_array_equal(loaded.predict_proba(df), pipeline.predict_proba(df))


@pytest.mark.parametrize("task", list(Task))
def test_every_search_space_gives_parameters_the_pipeline_accepts(task: Task) -> None:
    import optuna
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    df, types = _mixed(120)
    y = {Task.BINARY: np.arange(120) % 2, Task.MULTICLASS: np.arange(120) % 3,
         Task.REGRESSION: df["x"].fillna(0).to_numpy()}[task]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for algorithm in ALGORITHMS[task]:
        spec = _spec(task, ("x", "colour", "when"), algorithms=(algorithm,))
        drawn = [
            next(iter(ParameterSampler(search_space(algorithm, task, SearchKind.RANDOM), 1, random_state=0)), {}),
            next(iter(ParameterGrid(search_space(algorithm, task, SearchKind.GRID)))),
            suggest_params(study.ask(), algorithm, task),
        ]
        for params in drawn:
            assert all(k.startswith(f"{MODEL_STEP}__") for k in params)
            small = {k: (20 if k.endswith(("n_estimators", "max_iter")) else v) for k, v in params.items()}
            pipeline = build_pipeline(spec, types).set_params(**small)
            assert len(pipeline.fit(df, y).predict(df)) == len(df)
            assert set(estimator_params(small)) == {k.split("__", 1)[1] for k in small}


def test_estimators_by_task_and_device() -> None:
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier

    assert isinstance(make_estimator(Algorithm.LOGISTIC, Task.BINARY, {}, Device.CPU, 0), LogisticRegression)
    assert isinstance(make_estimator(Algorithm.LINEAR, Task.REGRESSION, {}, Device.CPU, 0), LinearRegression)
    assert isinstance(make_estimator(Algorithm.RIDGE, Task.MULTICLASS, {}, Device.CPU, 0), RidgeClassifier)
    assert isinstance(make_estimator(Algorithm.RIDGE, Task.REGRESSION, {}, Device.CPU, 0), Ridge)
    with pytest.raises(ValueError, match="classification"):
        make_estimator(Algorithm.LOGISTIC, Task.REGRESSION, {}, Device.CPU, 0)
    gpu = make_estimator(Algorithm.XGBOOST, Task.BINARY, {"max_depth": 3}, Device.CUDA, 7).get_params()
    assert (gpu["device"], gpu["tree_method"], gpu["random_state"], gpu["max_depth"]) == ("cuda", "hist", 7, 3)
    assert make_estimator(Algorithm.XGBOOST, Task.REGRESSION, {}, Device.CPU, 0).get_params()["device"] == "cpu"


@pytest.mark.skipif(not gpu_available(), reason="no CUDA GPU on this machine")
def test_xgboost_trains_on_the_gpu() -> None:
    df, types = _mixed()
    y = (df["x"].fillna(0) > 0).astype(int).to_numpy()
    spec = _spec(Task.BINARY, ("x", "colour"), algorithms=(Algorithm.XGBOOST,))
    pipeline = build_pipeline(spec, types, device=Device.CUDA, params={"n_estimators": 20}).fit(df, y)
    assert (pipeline.predict(df) == y).mean() > 0.9
