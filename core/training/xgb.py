"""XGBoost's classifier with Airlock's label handling, at a stable import path.

XGBoost's scikit-learn classifier wants labels 0…K-1; a target of strings ("yes"/"no") or of
other numbers would fail or be misread. :class:`LabelledXGBClassifier` encodes the labels at
fit, exposes the original ones as ``classes_`` and decodes its predictions, so scorers,
``predict_proba`` columns and the evidence see the labels the data holds. The booster itself
(``get_booster()``, its UBJ model) is XGBoost's own, trained on the encoded labels (class k is
``classes_[k]``).

Imports XGBoost at import time: :mod:`core.training.pipeline` imports this module only when an
XGBoost estimator is built. A fitted pipeline names this class by path: keep it here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xgboost import XGBClassifier


class LabelledXGBClassifier(XGBClassifier):
    """An ``XGBClassifier`` that accepts any labels (see the module docstring)."""

    def fit(self, X: Any, y: Any, **kwargs: Any) -> LabelledXGBClassifier:
        from sklearn.preprocessing import LabelEncoder

        encoder = LabelEncoder().fit(np.asarray(y))
        # XGBoost checks the encoded labels against ``classes_`` while fitting: until the fit
        # is done, ``classes_`` must be its own 0…K-1.
        self.__dict__.pop("labels_", None)
        super().fit(X, encoder.transform(np.asarray(y)), **kwargs)
        self.labels_ = encoder.classes_
        return self

    @property
    def classes_(self) -> np.ndarray[Any, Any]:
        labels = self.__dict__.get("labels_")
        return labels if labels is not None else np.arange(self.n_classes_)

    def predict(self, X: Any, **kwargs: Any) -> Any:
        encoded = super().predict(X, **kwargs)
        if kwargs.get("output_margin"):
            return encoded
        return self.classes_[np.asarray(encoded, dtype=np.int64)]


__all__ = ["LabelledXGBClassifier"]
