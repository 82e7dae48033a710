"""Fixtures of the rubric tests: a tiny model trained on breast_cancer in a real encrypted workspace."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.training.models import Algorithm, SearchKind, SearchSpec, SplitSpec, Task
from tests.core.data import real_data


@pytest.fixture
def engine(workspace: tuple[Any, str]) -> Any:
    return workspace[0]


@pytest.fixture
def trained(engine: Any, tmp_path: Path) -> Callable[..., Any]:
    """``trained(model="cancer")``: a logistic model (2 trials) on breast_cancer, its ModelVersion."""

    def _train(model: str = "cancer") -> Any:
        folder = tmp_path / "files"
        folder.mkdir(exist_ok=True)
        path = real_data.write_csv("breast_cancer", folder, df=real_data.frame("breast_cancer"))
        version = engine.datasets.import_file(path, name="breast_cancer").value.version
        spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
        spec = dataclasses.replace(
            spec, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(kind=SearchKind.RANDOM, trials=2),
            split=SplitSpec(cv_folds=3), bootstrap_rounds=60, smoke_rows=200,
        )
        return engine.training.run(spec, model=model).value

    return _train
