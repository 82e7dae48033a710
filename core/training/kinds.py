"""The training area's kinds and metric names, without the dataclasses of :mod:`core.training.models`.

StrEnums and constant tables only, so that a command line that offers ``--task`` choices, or a
page that lists algorithms, does not create the area's ~40 dataclasses at start. Everything
here is re-exported by :mod:`core.training.models`.
"""

from __future__ import annotations

from enum import StrEnum

# --- kinds ---------------------------------------------------------------------------------
# StrEnums: each member equals its value, so TOML files, stored JSON and audit details hold the
# plain strings. A value stored by an earlier release must stay a member.


class Task(StrEnum):
    """What the model predicts."""

    BINARY = "binary"  # two classes
    MULTICLASS = "multiclass"  # three or more classes
    REGRESSION = "regression"  # a number


class Algorithm(StrEnum):
    """A candidate estimator family (see :func:`core.training.pipeline.make_estimator`)."""

    LOGISTIC = "logistic"  # LogisticRegression (classification)
    LINEAR = "linear"  # LinearRegression (regression)
    RIDGE = "ridge"  # Ridge (regression) / RidgeClassifier (classification)
    RANDOM_FOREST = "random_forest"
    HIST_GRADIENT_BOOSTING = "hist_gradient_boosting"
    XGBOOST = "xgboost"


class SearchKind(StrEnum):
    """How hyperparameters are searched."""

    GRID = "grid"  # every combination of a small grid (GridSearchCV)
    RANDOM = "random"  # random draws from distributions (RandomizedSearchCV)
    HALVING = "halving"  # successive halving over random draws (HalvingRandomSearchCV)
    BAYESIAN = "bayesian"  # Optuna's TPE sampler


class SplitKind(StrEnum):
    """How the holdout and the CV folds are cut."""

    RANDOM = "random"  # shuffled; stratified on the target for classification
    TIME = "time"  # by a date column: the newest rows are the holdout
    GROUP = "group"  # by a group column: a group is never on both sides


class Encoding(StrEnum):
    """How categorical columns become numbers."""

    ONEHOT = "onehot"
    ORDINAL = "ordinal"
    TARGET = "target"  # scikit-learn's TargetEncoder (cross-fitted)


class Imputation(StrEnum):
    """How missing values are filled (SimpleImputer's strategies)."""

    MEDIAN = "median"
    MEAN = "mean"
    MOST_FREQUENT = "most_frequent"
    CONSTANT = "constant"


class Scaling(StrEnum):
    """How numeric columns are scaled."""

    STANDARD = "standard"
    ROBUST = "robust"
    NONE = "none"


class RunStatus(StrEnum):
    """Where a training run stands."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Device(StrEnum):
    """Where a model was trained."""

    CPU = "cpu"
    CUDA = "cuda"


# --- metrics -------------------------------------------------------------------------------
# Metric names are scikit-learn scorer names (``sklearn.metrics.get_scorer``): greater is
# always better, which is why losses carry the ``neg_`` prefix.

METRICS: dict[Task, tuple[str, ...]] = {
    Task.BINARY: (
        "roc_auc", "average_precision", "neg_log_loss", "neg_brier_score", "accuracy",
        "balanced_accuracy", "f1", "precision", "recall",
    ),
    Task.MULTICLASS: (
        "f1_macro", "f1_weighted", "accuracy", "balanced_accuracy", "neg_log_loss",
        "roc_auc_ovr", "roc_auc_ovr_weighted", "roc_auc_ovo",
    ),
    Task.REGRESSION: (
        "r2", "neg_root_mean_squared_error", "neg_mean_squared_error", "neg_mean_absolute_error",
        "neg_median_absolute_error", "explained_variance",
    ),
}

#: What ``train init`` optimises when the user names no metric (docs/training.md says why).
DEFAULT_METRIC: dict[Task, str] = {
    Task.BINARY: "roc_auc",
    Task.MULTICLASS: "f1_macro",
    Task.REGRESSION: "r2",
}

#: Metrics whose scorer calls ``predict_proba``: ridge's classifier has only
#: ``decision_function``, so it cannot be scored with these.
PROBABILITY_METRICS: frozenset[str] = frozenset({
    "neg_log_loss", "neg_brier_score", "roc_auc_ovr", "roc_auc_ovr_weighted", "roc_auc_ovo",
})

#: Which algorithms each task can use.
ALGORITHMS: dict[Task, tuple[Algorithm, ...]] = {
    Task.BINARY: (Algorithm.LOGISTIC, Algorithm.RIDGE, Algorithm.RANDOM_FOREST,
                  Algorithm.HIST_GRADIENT_BOOSTING, Algorithm.XGBOOST),
    Task.MULTICLASS: (Algorithm.LOGISTIC, Algorithm.RIDGE, Algorithm.RANDOM_FOREST,
                      Algorithm.HIST_GRADIENT_BOOSTING, Algorithm.XGBOOST),
    Task.REGRESSION: (Algorithm.LINEAR, Algorithm.RIDGE, Algorithm.RANDOM_FOREST,
                      Algorithm.HIST_GRADIENT_BOOSTING, Algorithm.XGBOOST),
}
