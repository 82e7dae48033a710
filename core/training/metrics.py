"""A fitted model's outputs on some rows, and the metrics computed from them (scikit-learn's).

Every score follows scikit-learn's scorer names and signs (greater is better), computed from
one set of outputs (predictions, probabilities, decision values), so that the holdout figure,
its bootstrap interval and each evidence item score a model the same way. Heavy libraries
are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.training.models import MetricValue

Array = np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True)
class Outputs:
    """A model's outputs on some rows: labels (or numbers), probabilities, decision values."""

    pred: Array
    proba: Array | None
    decision: Array | None
    classes: Array | None

    def take(self, index: Array) -> Outputs:
        """The outputs of the rows at ``index``."""
        return Outputs(self.pred[index], None if self.proba is None else self.proba[index],
                       None if self.decision is None else self.decision[index], self.classes)

    def flat(self) -> Array:
        """The numeric output the reproducibility check compares: proba > decision > prediction."""
        for value in (self.proba, self.decision):
            if value is not None:
                return np.asarray(value, dtype=np.float64).ravel()
        return np.asarray(self.pred, dtype=np.float64).ravel()


def outputs(model: Any, X: Any) -> Outputs:
    """Predictions, and probabilities or decision values where the model has them."""
    pred = np.asarray(model.predict(X))
    proba = np.asarray(model.predict_proba(X)) if hasattr(model, "predict_proba") else None
    decision = None
    if proba is None and hasattr(model, "decision_function"):
        decision = np.asarray(model.decision_function(X))
    classes = np.asarray(model.classes_) if hasattr(model, "classes_") else None
    return Outputs(pred, proba, decision, classes)


def _ranking(out: Outputs) -> Array | None:
    """The score of the positive class (``classes[1]``) a ranking metric of a binary task takes."""
    if out.proba is not None:
        return out.proba[:, 1]
    if out.decision is not None and out.decision.ndim == 1:
        return out.decision
    return None


def metric_available(name: str, out: Outputs) -> bool:
    """Whether ``name`` can be computed from these outputs (probability metrics need ``predict_proba``)."""
    needs_proba = name in ("neg_log_loss", "neg_brier_score") or name.startswith("roc_auc_")
    if needs_proba:
        return out.proba is not None
    if name in ("roc_auc", "average_precision"):
        return _ranking(out) is not None
    return True


def score(name: str, y: Array, out: Outputs) -> float:
    """The scikit-learn scorer ``name`` computed from outputs (same sign: greater is better).

    Raises
    ------
    ValueError
        The metric is undefined on these rows (one class only) or unknown.
    """
    from sklearn import metrics as m

    classes = out.classes
    pos = classes[1] if classes is not None and len(classes) == 2 else None
    simple: dict[str, Callable[[Array, Array], float]] = {
        "accuracy": m.accuracy_score, "balanced_accuracy": m.balanced_accuracy_score,
        "f1_macro": lambda a, b: m.f1_score(a, b, average="macro"),
        "f1_weighted": lambda a, b: m.f1_score(a, b, average="weighted"),
        "r2": m.r2_score, "explained_variance": m.explained_variance_score,
        "neg_root_mean_squared_error": lambda a, b: -m.root_mean_squared_error(a, b),
        "neg_mean_squared_error": lambda a, b: -m.mean_squared_error(a, b),
        "neg_mean_absolute_error": lambda a, b: -m.mean_absolute_error(a, b),
        "neg_median_absolute_error": lambda a, b: -m.median_absolute_error(a, b),
    }
    if name in simple:
        return float(simple[name](y, out.pred))
    if name in ("f1", "precision", "recall"):
        fn = {"f1": m.f1_score, "precision": m.precision_score, "recall": m.recall_score}[name]
        return float(fn(y, out.pred, pos_label=pos, zero_division=0.0))
    if name in ("roc_auc", "average_precision"):
        ranking = _ranking(out)
        if ranking is None:
            raise ValueError(f"{name} needs probabilities or decision values")
        if len(np.unique(y)) < 2:
            raise ValueError(f"{name} is undefined with one class")
        if name == "roc_auc":
            return _roc_auc(y == classes[1], ranking) if classes is not None and len(classes) == 2 \
                else float(m.roc_auc_score(y, ranking))
        return float(m.average_precision_score(y, ranking, pos_label=pos))
    if out.proba is None:
        raise ValueError(f"{name} needs predicted probabilities")
    if name == "neg_log_loss":
        return -float(m.log_loss(y, out.proba, labels=classes))
    if name == "neg_brier_score":
        return -float(m.brier_score_loss(y, out.proba[:, 1], pos_label=pos))
    if name.startswith("roc_auc_"):
        if len(np.unique(y)) < 2:
            raise ValueError(f"{name} is undefined with one class")
        multi = name.removeprefix("roc_auc_").split("_")
        average = "weighted" if "weighted" in multi else "macro"
        return float(m.roc_auc_score(y, out.proba, multi_class=multi[0], average=average, labels=classes))
    raise ValueError(f"unknown metric {name!r}")


def _roc_auc(positive: Array, ranking: Array) -> float:
    """Binary ROC AUC as the Mann–Whitney statistic (mid-ranks for ties): equal to ``roc_auc_score``, faster."""
    from scipy.stats import rankdata

    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    ranks = rankdata(ranking)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def bootstrap_values(name: str, y: Array, out: Outputs, rounds: int, seed: int) -> Array:
    """The metric on ``rounds`` bootstrap resamples of the rows (undefined resamples dropped).

    Resample ``r`` takes the rows ``numpy.random.default_rng(seed).integers(0, n, (rounds, n))[r]``.
    """
    n = len(y)
    draws = np.random.default_rng(seed).integers(0, n, size=(rounds, n))
    values = []
    for index in draws:
        try:
            values.append(score(name, y[index], out.take(index)))
        except ValueError:
            continue
    return np.asarray(values, dtype=np.float64)


def interval(values: Array) -> tuple[float | None, float | None]:
    """The 95% percentile interval of bootstrap values (None, None with fewer than two)."""
    if len(values) < 2:
        return None, None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def bootstrap_method(rounds: int, seed: int) -> str:
    """How :func:`bootstrap_values` resampled, in the words an evidence item states it."""
    return (f"95% percentile bootstrap: {rounds} resamples of the rows with replacement "
            f"(numpy default_rng({seed})), metric recomputed on each; resamples where it is undefined are dropped")


def metric_value(name: str, y: Array, out: Outputs, rounds: int, seed: int) -> MetricValue:
    """``name`` on these rows with its percentile bootstrap interval (:func:`bootstrap_values`)."""
    value = score(name, y, out)
    low, high = interval(bootstrap_values(name, y, out, rounds, seed)) if rounds > 1 else (None, None)
    return MetricValue(name, value, low, high, bootstrap_method(rounds, seed))
