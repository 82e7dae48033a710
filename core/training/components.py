"""The scikit-learn transformers of Airlock's pipelines, at stable import paths.

A fitted pipeline is stored as joblib bytes that name each class by its module path, so these
classes must stay importable here under these names (renaming one makes stored models
unloadable). They follow scikit-learn's conventions: the constructor stores parameters only,
``fit`` learns attributes ending in ``_``.

This module imports scikit-learn at import time: import it only where a pipeline is built or
loaded (:mod:`core.training.pipeline` does so inside its functions). It must not import the
store, the services or anything of Qt.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer

#: How each datetime part is read from a pandas datetime Series (``.dt.<attribute>``).
_PART_ATTRIBUTE = {
    "year": "year", "month": "month", "day": "day", "dayofweek": "day_of_week", "dayofyear": "day_of_year",
    "hour": "hour", "minute": "minute",
}


class DateTimeParts(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Split each datetime column into numeric parts (year, month, day of week, hour…).

    Missing or unparseable values give NaN (an imputer after this step fills them).

    Parameters
    ----------
    parts
        Names from :data:`core.training.models.DATETIME_PARTS`.
    """

    def __init__(self, parts: tuple[str, ...] = ("year", "month", "dayofweek", "hour")) -> None:
        self.parts = parts

    def fit(self, X: Any, y: Any = None) -> DateTimeParts:
        frame = _frame(X)
        unknown = [p for p in self.parts if p not in _PART_ATTRIBUTE]
        if unknown:
            raise ValueError(f"unknown datetime parts {unknown}; known: {sorted(_PART_ATTRIBUTE)}")
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray[Any, Any]:
        frame = _frame(X)
        out = np.empty((frame.shape[0], frame.shape[1] * len(self.parts)), dtype=np.float64)
        k = 0
        for name in frame.columns:
            values = pd.to_datetime(frame[name], errors="coerce")
            for part in self.parts:
                out[:, k] = getattr(values.dt, _PART_ATTRIBUTE[part]).to_numpy(dtype=np.float64, na_value=np.nan)
                k += 1
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, Any]:
        names = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{n}_{p}" for n in names for p in self.parts], dtype=object)


class CategoricalEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Encode categorical columns, switching encoders above a cardinality threshold.

    At fit, a column with at most ``threshold`` distinct values gets ``low`` (one-hot or
    ordinal, say), one with more gets ``high`` (target encoding, say). ``fit_transform``
    calls the inner encoders' own ``fit_transform``, so scikit-learn's ``TargetEncoder``
    keeps its cross-fitting on the training rows.

    Parameters
    ----------
    low, high
        Unfitted scikit-learn transformers (cloned per fit).
    threshold
        The most distinct values a column may have to use ``low``.
    """

    def __init__(self, low: Any = None, high: Any = None, threshold: int = 50) -> None:
        self.low = low
        self.high = high
        self.threshold = threshold

    def _inner(self, X: Any) -> ColumnTransformer:
        frame = _frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        levels = frame.nunique(dropna=True)
        few = [c for c in frame.columns if levels[c] <= self.threshold]
        many = [c for c in frame.columns if levels[c] > self.threshold]
        self.high_cardinality_ = [str(c) for c in many]
        steps: list[tuple[str, Any, list[Any]]] = []
        if few:
            steps.append(("low", clone(self.low), few))
        if many:
            steps.append(("high", clone(self.high), many))
        return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)

    def fit(self, X: Any, y: Any = None) -> CategoricalEncoder:
        self.encoder_ = self._inner(X).fit(_frame(X), y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        self.encoder_ = self._inner(X)
        return self.encoder_.fit_transform(_frame(X), y)

    def transform(self, X: Any) -> Any:
        return self.encoder_.transform(_frame(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, Any]:
        return np.asarray(self.encoder_.get_feature_names_out(), dtype=object)


class AsStrings(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Categorical values as Python strings (missing kept as NaN), so encoders see one type.

    Booleans, numbers used as categories and pandas' string dtypes all become ``object``
    columns of ``str``; a mix of types in one column would otherwise fail in the encoders.
    """

    def fit(self, X: Any, y: Any = None) -> AsStrings:
        frame = _frame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        frame = _frame(X)
        columns: dict[Any, np.ndarray[Any, Any]] = {}
        for c in frame.columns:
            missing = frame[c].isna().to_numpy()
            values = frame[c].astype(object).to_numpy(copy=True)
            values[~missing] = [str(v) for v in values[~missing]]
            values[missing] = np.nan
            columns[c] = values
        return pd.DataFrame(columns, index=frame.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, Any]:
        return self.feature_names_in_ if input_features is None else np.asarray(input_features, dtype=object)


def _frame(X: Any) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)


__all__ = ["AsStrings", "CategoricalEncoder", "DateTimeParts"]
