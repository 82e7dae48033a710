"""A spec's scikit-learn pipeline, its estimators and their search spaces.

:func:`build_pipeline` turns a :class:`~core.training.models.TrainingSpec` into one
``Pipeline([("preprocess", ColumnTransformer), ("model", estimator)])``, so the fitted object
is one pipeline that takes the raw feature columns. :func:`make_estimator` builds each
candidate; :func:`search_space` gives its distributions (or grid) for scikit-learn's
searches and :func:`suggest_params` the same space for an Optuna trial. Parameter names
sklearn-facing are prefixed with the step (``model__max_depth``); :func:`estimator_params`
strips the prefix for what is stored and shown.

Heavy libraries (scikit-learn, scipy, XGBoost) are imported inside the functions. This module
must not read the workspace, and the classes in fitted pipelines live in
:mod:`core.training.components` and :mod:`core.training.xgb` (stable paths for pickles).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.training.models import Algorithm, Device, Encoding, Imputation, Scaling, SearchKind, Task, TrainingSpec

if TYPE_CHECKING:
    import optuna
    from sklearn.pipeline import Pipeline

#: The pipeline's steps; search parameters are ``f"{MODEL_STEP}__{name}"``.
PREPROCESS_STEP = "preprocess"
MODEL_STEP = "model"

_NUMERIC = ("int", "uint", "float", "double", "decimal", "halffloat")
_DATETIME = ("timestamp", "date", "time")


def column_kind(storage_type: str) -> str:
    """``"numeric"``, ``"datetime"`` or ``"categorical"`` for an Arrow type name (``int64``, ``timestamp[us]``…)."""
    if storage_type.startswith(_NUMERIC):
        return "numeric"
    if storage_type.startswith(_DATETIME):
        return "datetime"
    return "categorical"  # strings, booleans, dictionaries


def build_pipeline(spec: TrainingSpec, column_types: Mapping[str, str], algorithm: Algorithm | None = None,
                   params: Mapping[str, object] | None = None, device: Device = Device.CPU) -> Pipeline:
    """The unfitted pipeline for ``spec``'s features and one candidate estimator.

    Parameters
    ----------
    spec
        The spec (features, task, preprocessing, seed).
    column_types
        Arrow type name of each feature column (``DatasetVersion.columns`` or the Parquet schema).
    algorithm
        The estimator; the spec's first algorithm by default.
    params
        Estimator parameters (without the step prefix).
    device
        Where XGBoost trains.

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``preprocess`` (a ColumnTransformer over ``spec.features``) then ``model``.

    Raises
    ------
    KeyError
        A feature has no entry in ``column_types``.
    """
    from sklearn.pipeline import Pipeline

    chosen = algorithm if algorithm is not None else spec.algorithms[0]
    return Pipeline([
        (PREPROCESS_STEP, build_preprocessor(spec, column_types)),
        (MODEL_STEP, make_estimator(chosen, spec.task, params or {}, device, spec.seed)),
    ])


def build_preprocessor(spec: TrainingSpec, column_types: Mapping[str, str]) -> Any:
    """The ColumnTransformer of ``spec.preprocessing`` over ``spec.features`` (dense output)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import RobustScaler, StandardScaler

    from core.training.components import AsStrings, CategoricalEncoder, DateTimeParts

    pre = spec.preprocessing
    kinds = {name: column_kind(column_types[name]) for name in spec.features}
    numeric = [n for n in spec.features if kinds[n] == "numeric"]
    categorical = [n for n in spec.features if kinds[n] == "categorical"]
    datetime = [n for n in spec.features if kinds[n] == "datetime"]

    def numeric_imputer(strategy: Imputation) -> Any:
        if strategy == Imputation.CONSTANT:
            return SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
        return SimpleImputer(strategy=str(strategy), keep_empty_features=True)

    def scaler() -> Any:
        if pre.scaling == Scaling.STANDARD:
            return StandardScaler()
        if pre.scaling == Scaling.ROBUST:
            return RobustScaler()
        return "passthrough"

    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(("numeric", Pipeline([("impute", numeric_imputer(pre.numeric_imputation)), ("scale", scaler())]),
                      numeric))
    if categorical:
        if pre.categorical_imputation == Imputation.MOST_FREQUENT:
            cat_imputer = SimpleImputer(strategy="most_frequent", keep_empty_features=True)
        else:  # constant (mean and median mean nothing for categories): missing is its own level
            cat_imputer = SimpleImputer(strategy="constant", fill_value="(missing)", keep_empty_features=True)
        steps.append(("categorical", Pipeline([
            ("strings", AsStrings()),
            ("impute", cat_imputer.set_output(transform="pandas")),  # keeps the names for the encoder
            ("encode", CategoricalEncoder(
                low=_encoder(pre.encoding, spec), high=_encoder(pre.high_cardinality_encoding, spec),
                threshold=pre.high_cardinality_threshold)),
        ]), categorical))
    if datetime:
        steps.append(("datetime", Pipeline([
            ("parts", DateTimeParts(tuple(pre.datetime_parts))),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ]), datetime))
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0)


def _encoder(encoding: Encoding, spec: TrainingSpec) -> Any:
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

    if encoding == Encoding.ONEHOT:
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if encoding == Encoding.ORDINAL:
        return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    from sklearn.model_selection import KFold, StratifiedKFold

    target_type = {Task.BINARY: "binary", Task.MULTICLASS: "multiclass", Task.REGRESSION: "continuous"}[spec.task]
    # Cross-fitted on shuffled folds of the training rows, seeded by the spec.
    folds = (KFold if spec.task == Task.REGRESSION else StratifiedKFold)(5, shuffle=True, random_state=spec.seed)
    return TargetEncoder(target_type=target_type, cv=folds)


def make_estimator(algorithm: Algorithm, task: Task, params: Mapping[str, object], device: Device, seed: int) -> Any:
    """One unfitted estimator for ``algorithm`` on ``task``, with ``params`` set.

    Logistic regression is for classification, linear regression for regression; ridge is
    ``Ridge`` or ``RidgeClassifier`` by task. Random forest and XGBoost use
    :func:`core.runtime.cpu_workers` threads; XGBoost uses ``tree_method="hist"`` and
    ``device="cuda"`` on a GPU.

    Raises
    ------
    ValueError
        The algorithm does not apply to the task (``validate_spec`` reports it first).
    """
    from core.runtime import cpu_workers

    classify = task != Task.REGRESSION
    kwargs = dict(params)
    if algorithm == Algorithm.LOGISTIC:
        if not classify:
            raise ValueError("logistic regression is for classification; use linear or ridge for regression")
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(**{"max_iter": 2000, "random_state": seed, **kwargs})
    if algorithm == Algorithm.LINEAR:
        if classify:
            raise ValueError("linear regression is for regression; use logistic or ridge for classification")
        from sklearn.linear_model import LinearRegression

        return LinearRegression(**kwargs)
    if algorithm == Algorithm.RIDGE:
        from sklearn.linear_model import Ridge, RidgeClassifier

        return (RidgeClassifier if classify else Ridge)(**{"random_state": seed, **kwargs})
    if algorithm == Algorithm.RANDOM_FOREST:
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        cls = RandomForestClassifier if classify else RandomForestRegressor
        return cls(**{"n_estimators": 200, "n_jobs": cpu_workers(), "random_state": seed, **kwargs})
    if algorithm == Algorithm.HIST_GRADIENT_BOOSTING:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        return cls(**{"random_state": seed, **kwargs})
    if algorithm == Algorithm.XGBOOST:
        common: dict[str, object] = {
            "tree_method": "hist", "device": "cuda" if device == Device.CUDA else "cpu",
            "n_jobs": cpu_workers(), "random_state": seed, "n_estimators": 300, **kwargs,
        }
        if classify:
            from core.training.xgb import LabelledXGBClassifier

            return LabelledXGBClassifier(**common)
        from xgboost import XGBRegressor

        return XGBRegressor(**common)
    raise ValueError(f"unknown algorithm {algorithm!r}")


def search_space(algorithm: Algorithm, task: Task, kind: SearchKind = SearchKind.RANDOM) -> dict[str, Any]:
    """The parameters to search for ``algorithm``, keyed ``model__<name>`` for the pipeline.

    For ``grid`` each value is a list (``GridSearchCV``); for ``random`` and ``halving`` a
    scipy.stats distribution or a list to draw from (``RandomizedSearchCV``,
    ``HalvingRandomSearchCV``). Linear regression has nothing to tune (an empty space: one trial).
    For ``bayesian`` use :func:`suggest_params`.
    """
    from scipy.stats import loguniform, randint, uniform

    classify = task != Task.REGRESSION
    grid = kind == SearchKind.GRID
    space: dict[str, Any]
    if algorithm == Algorithm.LOGISTIC:
        space = ({"C": [0.01, 0.1, 1.0, 10.0], "class_weight": [None, "balanced"]} if grid
                 else {"C": loguniform(1e-3, 1e2), "class_weight": [None, "balanced"]})
    elif algorithm == Algorithm.LINEAR:
        space = {}
    elif algorithm == Algorithm.RIDGE:
        space = {"alpha": [0.01, 0.1, 1.0, 10.0, 100.0] if grid else loguniform(1e-3, 1e3)}
        if classify:
            space["class_weight"] = [None, "balanced"]
    elif algorithm == Algorithm.RANDOM_FOREST:
        space = ({"n_estimators": [200], "max_depth": [None, 8, 16], "min_samples_leaf": [1, 5],
                  "max_features": ["sqrt", 0.5]} if grid else
                 {"n_estimators": randint(100, 400), "max_depth": [None, 4, 8, 12, 16, 24],
                  "min_samples_leaf": randint(1, 20), "max_features": ["sqrt", "log2", 0.5, 1.0]})
    elif algorithm == Algorithm.HIST_GRADIENT_BOOSTING:
        space = ({"learning_rate": [0.05, 0.1], "max_leaf_nodes": [15, 31], "min_samples_leaf": [10, 30]} if grid else
                 {"learning_rate": loguniform(0.01, 0.3), "max_iter": randint(100, 500),
                  "max_leaf_nodes": randint(8, 64), "min_samples_leaf": randint(5, 60),
                  "l2_regularization": loguniform(1e-4, 10.0)})
    elif algorithm == Algorithm.XGBOOST:
        space = ({"learning_rate": [0.05, 0.1], "max_depth": [3, 6], "subsample": [0.8, 1.0]} if grid else
                 {"n_estimators": randint(100, 600), "learning_rate": loguniform(0.01, 0.3),
                  "max_depth": randint(2, 10), "subsample": uniform(0.6, 0.4), "colsample_bytree": uniform(0.6, 0.4),
                  "min_child_weight": loguniform(1.0, 20.0), "reg_lambda": loguniform(1e-3, 10.0)})
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return {f"{MODEL_STEP}__{k}": v for k, v in space.items()}


def suggest_params(trial: optuna.Trial, algorithm: Algorithm, task: Task) -> dict[str, Any]:
    """The same space as :func:`search_space`, drawn through an Optuna trial (``model__`` keys).

    Optuna's own parameter names carry the algorithm (``xgboost.max_depth``), so one study can
    search several algorithms whose parameters share a name but not a range.
    """
    classify = task != Task.REGRESSION
    p: dict[str, Any]
    if algorithm == Algorithm.LOGISTIC:
        p = {"C": trial.suggest_float(f"{algorithm}.C", 1e-3, 1e2, log=True),
             "class_weight": trial.suggest_categorical(f"{algorithm}.class_weight", [None, "balanced"])}
    elif algorithm == Algorithm.LINEAR:
        p = {}
    elif algorithm == Algorithm.RIDGE:
        p = {"alpha": trial.suggest_float(f"{algorithm}.alpha", 1e-3, 1e3, log=True)}
        if classify:
            p["class_weight"] = trial.suggest_categorical(f"{algorithm}.class_weight", [None, "balanced"])
    elif algorithm == Algorithm.RANDOM_FOREST:
        p = {"n_estimators": trial.suggest_int(f"{algorithm}.n_estimators", 100, 400),
             "max_depth": trial.suggest_categorical(f"{algorithm}.max_depth", [None, 4, 8, 12, 16, 24]),
             "min_samples_leaf": trial.suggest_int(f"{algorithm}.min_samples_leaf", 1, 20),
             "max_features": trial.suggest_categorical(f"{algorithm}.max_features", ["sqrt", "log2", 0.5, 1.0])}
    elif algorithm == Algorithm.HIST_GRADIENT_BOOSTING:
        p = {"learning_rate": trial.suggest_float(f"{algorithm}.learning_rate", 0.01, 0.3, log=True),
             "max_iter": trial.suggest_int(f"{algorithm}.max_iter", 100, 500),
             "max_leaf_nodes": trial.suggest_int(f"{algorithm}.max_leaf_nodes", 8, 64),
             "min_samples_leaf": trial.suggest_int(f"{algorithm}.min_samples_leaf", 5, 60),
             "l2_regularization": trial.suggest_float("l2_regularization", 1e-4, 10.0, log=True)}
    elif algorithm == Algorithm.XGBOOST:
        p = {"n_estimators": trial.suggest_int(f"{algorithm}.n_estimators", 100, 600),
             "learning_rate": trial.suggest_float(f"{algorithm}.learning_rate", 0.01, 0.3, log=True),
             "max_depth": trial.suggest_int(f"{algorithm}.max_depth", 2, 10),
             "subsample": trial.suggest_float(f"{algorithm}.subsample", 0.6, 1.0),
             "colsample_bytree": trial.suggest_float(f"{algorithm}.colsample_bytree", 0.6, 1.0),
             "min_child_weight": trial.suggest_float(f"{algorithm}.min_child_weight", 1.0, 20.0, log=True),
             "reg_lambda": trial.suggest_float(f"{algorithm}.reg_lambda", 1e-3, 10.0, log=True)}
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return {f"{MODEL_STEP}__{k}": v for k, v in p.items()}


def estimator_params(params: Mapping[str, Any]) -> dict[str, object]:
    """Search parameters without the ``model__`` prefix, as plain Python values (for storage)."""
    prefix = f"{MODEL_STEP}__"
    out: dict[str, object] = {}
    for key, value in params.items():
        name = key[len(prefix):] if key.startswith(prefix) else key
        out[name] = value.item() if hasattr(value, "item") and callable(value.item) else value
    return out


__all__ = [
    "MODEL_STEP", "PREPROCESS_STEP", "build_pipeline", "build_preprocessor", "column_kind", "estimator_params",
    "make_estimator", "search_space", "suggest_params",
]
