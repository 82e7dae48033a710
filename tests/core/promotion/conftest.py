"""Fixtures of the promotion tests: a real encrypted development workspace holding a tiny trained model.

``dev`` gives ``(engine, ModelVersion)``: breast_cancer with two identifier columns added
(``patient_id``, text codes; ``record_id``, random 10-digit integers), a schema inferred, a
logistic model trained in a child (2 trials) and the rubric run once. ``make_dev`` builds the
same with other choices (no identifiers, no rubric, another model name) in the same workspace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.training.models import Algorithm, ModelVersion, SearchKind, SearchSpec, SplitSpec, Task
from tests.core.data import real_data

#: Seed of the identifier values added to breast_cancer (tests recompute them with :func:`identifiers`).
ID_SEED = 1313


def identifiers(rows: int) -> tuple[list[str], list[int]]:
    """The ``patient_id`` and ``record_id`` values the fixture adds, in row order."""
    rng = np.random.default_rng(ID_SEED)
    codes = [f"PT-{v:010x}" for v in rng.choice(16 ** 10, size=rows, replace=False)]
    numbers = [int(v) for v in rng.choice(9 * 10 ** 9, size=rows, replace=False) + 10 ** 9]
    return codes, numbers


@pytest.fixture
def make_dev(workspace: tuple[Any, str], tmp_path: Path) -> Callable[..., tuple[Any, ModelVersion]]:
    """``make_dev(model="cancer", ids=True, rubric=True)``: ``(engine, ModelVersion)`` of a fresh training."""
    engine = workspace[0]

    def _make(model: str = "cancer", *, ids: bool = True, rubric: bool = True) -> tuple[Any, ModelVersion]:
        folder = tmp_path / "files"
        folder.mkdir(exist_ok=True)
        df = real_data.frame("breast_cancer")
        if ids:
            codes, numbers = identifiers(len(df))
            df.insert(0, "patient_id", codes)
            df.insert(1, "record_id", numbers)
        name = f"breast_cancer_{model}".replace("-", "_")
        path = real_data.write_csv(name, folder, df=df)
        version = engine.datasets.import_file(path, name=name).value.version
        engine.datasets.infer_schema(version.label)
        spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
        spec = dataclasses.replace(
            spec, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,),
            search=SearchSpec(kind=SearchKind.RANDOM, trials=2), split=SplitSpec(cv_folds=3),
            bootstrap_rounds=60, smoke_rows=200,
        )
        trained: ModelVersion = engine.training.run(spec, model=model).value
        if rubric:
            engine.rubric.run(trained.label)
        return engine, trained

    return _make


@pytest.fixture
def dev(make_dev: Callable[..., tuple[Any, ModelVersion]]) -> tuple[Any, ModelVersion]:
    """A development workspace with model ``cancer@1`` trained on breast_cancer (with id columns), rubric run."""
    return make_dev()
