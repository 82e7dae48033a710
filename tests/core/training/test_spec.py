"""Training specs on real data: init from the profile, TOML in and out, and every validation problem."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import InvalidInput
from core.training.models import (
    Algorithm,
    ExcludedColumn,
    SearchKind,
    SplitKind,
    Task,
    TrainingSpec,
    spec_hash,
)
from core.training.spec import InvalidSpec, dump_spec, load_spec, parse_spec, validate_spec
from tests.core.data import real_data


@pytest.mark.parametrize(("name", "task", "metric"), [
    ("breast_cancer", Task.BINARY, "roc_auc"),
    ("iris", Task.MULTICLASS, "f1_macro"),
    ("wine", Task.MULTICLASS, "f1_macro"),
    ("diabetes", Task.REGRESSION, "r2"),
])
def test_init_infers_the_task_and_uses_every_other_column(engine: Any, imported: Callable[..., Any], name: str,
                                                          task: Task, metric: str) -> None:
    version = imported(name)
    spec = engine.training.init_spec(name, "target")
    columns = [c for c in real_data.frame(name).columns if c != "target"]
    assert spec.task == task and spec.metric == metric
    assert list(spec.features) == columns and spec.excluded == ()
    assert spec.dataset == version.label and spec.dataset_sha256 == version.content_sha256
    assert spec.algorithms[0] in (Algorithm.LOGISTIC, Algorithm.RIDGE) and Algorithm.XGBOOST in spec.algorithms
    assert (spec.split.holdout_share, spec.split.cv_folds, spec.search.kind, spec.search.trials, spec.seed) == (
        0.2, 5, SearchKind.RANDOM, 20, 0)
    assert parse_spec(dump_spec(spec)) == spec
    assert engine.training.validate(spec, gpu=False) == []


def test_task_can_be_overridden(engine: Any, imported: Callable[..., Any]) -> None:
    imported("iris")
    spec = engine.training.init_spec("iris", "target", task=Task.REGRESSION)
    assert spec.task == Task.REGRESSION and spec.metric == "r2"


def test_identifier_pii_and_leaky_columns_are_left_out_with_reasons_and_can_be_put_back(
        engine: Any, imported: Callable[..., Any]) -> None:
    df = real_data.frame("breast_cancer")
    rng = np.random.default_rng(0)
    df.insert(0, "row_id", range(len(df)))
    df["contact"] = [f"patient{i}@example.org" for i in range(len(df))]
    df["leak"] = df["target"] * 10 + rng.normal(0, 0.01, len(df))
    imported("breast_cancer", df)
    spec = engine.training.init_spec("breast_cancer", "target")
    reasons = {e.column: e.reason for e in spec.excluded}
    assert set(reasons) == {"row_id", "contact", "leak"}
    assert "identifier" in reasons["row_id"]
    assert "personal data" in reasons["contact"]
    assert "leakage" in reasons["leak"]
    assert not set(reasons) & set(spec.features) and len(spec.features) == 30
    restored = dataclasses.replace(spec, features=(*spec.features, "row_id"))
    assert engine.training.validate(restored, gpu=False) == []


def test_spec_hash_is_stable_and_follows_the_content(engine: Any, imported: Callable[..., Any]) -> None:
    imported("iris")
    spec = engine.training.init_spec("iris", "target")
    again = parse_spec(dump_spec(spec))
    assert spec_hash(spec) == spec_hash(again) and len(spec_hash(spec)) == 64
    assert spec_hash(dataclasses.replace(spec, seed=1)) != spec_hash(spec)


def test_a_file_that_is_not_toml_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('dataset = "iris@1"\ntarget = "unterminated\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.toml.*line 2, column"):
        load_spec(path)


def test_unknown_keys_and_wrong_values_are_each_a_problem(engine: Any, imported: Callable[..., Any]) -> None:
    imported("iris")
    text = dump_spec(engine.training.init_spec("iris", "target"))
    text = text.replace("seed = 0", "sede = 0").replace("cv_folds = 5", 'cv_folds = "five"').replace(
        'kind = "random"\ntrials', 'kind = "genetic"\ntrials')
    text += "\n[colour]\nred = 1\n"
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(text, source="s.toml")
    fields = {p.field: p.message for p in caught.value.problems}
    assert set(fields) == {"sede", "split.cv_folds", "search.kind", "colour"}
    assert "did you mean 'seed'" in fields["sede"]
    assert "genetic" in fields["search.kind"]


def test_a_spec_from_a_newer_airlock_is_refused() -> None:
    with pytest.raises(InvalidSpec, match="newer Airlock"):
        parse_spec('format_version = 9\ndataset = "x@1"\n')


# --- one test per validation problem --------------------------------------------------------------

Edit = Callable[[TrainingSpec], TrainingSpec]


def _r(**changes: Any) -> Edit:
    return lambda s: dataclasses.replace(s, **changes)


def _split(**changes: Any) -> Edit:
    return lambda s: dataclasses.replace(s, split=dataclasses.replace(s.split, **changes))


def _search(**changes: Any) -> Edit:
    return lambda s: dataclasses.replace(s, search=dataclasses.replace(s.search, **changes))


PROBLEMS: list[tuple[str, Edit, str, str]] = [
    ("unknown feature", _r(features=("sepal length (cm)", "petal lenght (cm)")), "features",
     "'petal lenght (cm)' is not a column of iris@1 (did you mean 'petal length (cm)'"),
    ("unknown target", _r(target="tagret"), "target", "did you mean 'target'"),
    ("target among features", _r(features=("target", "sepal width (cm)")), "features", "cannot also be a feature"),
    ("no features", _r(features=()), "features", "no features"),
    ("binary with three classes", _r(task=Task.BINARY, metric="roc_auc"), "task", "two values"),
    ("time split without a date column", _split(kind=SplitKind.TIME), "split.date_column", "needs a date column"),
    ("time split on a number", _split(kind=SplitKind.TIME, date_column="sepal width (cm)"), "split.date_column",
     "not a date or time"),
    ("group split without a group column", _split(kind=SplitKind.GROUP), "split.group_column", "needs a group column"),
    ("group split on an unknown column", _split(kind=SplitKind.GROUP, group_column="patient"), "split.group_column",
     "'patient' is not a column"),
    ("holdout share zero", _split(holdout_share=0.0), "split.holdout_share", "above 0 and below 0.9"),
    ("holdout share too large", _split(holdout_share=0.95), "split.holdout_share", "above 0 and below 0.9"),
    ("one fold", _split(cv_folds=1), "split.cv_folds", "at least 2 folds"),
    ("unknown metric", _r(metric="roc_auc"), "metric", "not a metric for multiclass"),
    ("algorithm for another task", _r(algorithms=(Algorithm.LINEAR,)), "algorithms", "not available for multiclass"),
    ("no algorithm", _r(algorithms=()), "algorithms", "no algorithm"),
    ("ridge scored by probabilities", _r(algorithms=(Algorithm.RIDGE,), metric="neg_log_loss"), "algorithms",
     "no probabilities"),
    ("no trials", _search(trials=0), "search.trials", "at least 1 trial"),
    ("no minutes", _search(minutes=0.0), "search.minutes", "above 0"),
    ("gpu without a gpu", _r(compute="gpu"), "compute", "no CUDA GPU was found"),
    ("compute that is no address", _r(compute="cluster-7"), "compute", "not a compute target"),
    ("slice not a column", _r(slices=("species",)), "slices", "slice column 'species' is not a column"),
    ("sensitive not a column", _r(sensitive=("sex",)), "sensitive", "sensitive attribute 'sex' is not a column"),
    ("dataset not pinned", _r(dataset="iris"), "dataset", "not pinned"),
    ("content hash differs", _r(dataset_sha256="0" * 64), "dataset_sha256", "now holds other content"),
    ("unknown datetime part", lambda s: dataclasses.replace(
        s, preprocessing=dataclasses.replace(s.preprocessing, datetime_parts=("year", "fortnight"))),
     "preprocessing.datetime_parts", "'fortnight' is not a datetime part"),
    ("seed out of range", _r(seed=-1), "seed", "between 0"),
]


@pytest.fixture
def iris_spec(engine: Any, imported: Callable[..., Any]) -> TrainingSpec:
    imported("iris")
    spec: TrainingSpec = engine.training.init_spec("iris", "target")
    return spec


@pytest.mark.parametrize(("edit", "field", "needle"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_each_problem_is_reported(engine: Any, iris_spec: TrainingSpec, edit: Edit, field: str, needle: str) -> None:
    problems = engine.training.validate(edit(iris_spec), gpu=False)
    assert [p.field for p in problems if needle in p.message] == [field], problems


def test_gpu_is_fine_with_a_gpu_or_a_cpu_fallback(engine: Any, iris_spec: TrainingSpec) -> None:
    gpu = dataclasses.replace(iris_spec, compute="gpu")
    assert engine.training.validate(gpu, gpu=True) == []
    assert engine.training.validate(dataclasses.replace(gpu, allow_cpu_fallback=True), gpu=False) == []
    assert engine.training.validate(dataclasses.replace(iris_spec, compute="dask://127.0.0.1:8786"), gpu=False) == []


def test_a_target_with_one_class_has_nothing_to_learn(engine: Any, imported: Callable[..., Any]) -> None:
    df = real_data.frame("iris")
    df["target"] = 1
    imported("iris", df, as_name="flat")
    version = engine.datasets.version("flat")
    profile = engine.datasets.profile("flat", target="target")
    spec = TrainingSpec(version.label, version.content_sha256, "target", Task.MULTICLASS,
                        ("sepal length (cm)",), metric="f1_macro", algorithms=(Algorithm.LOGISTIC,))
    problems = validate_spec(spec, profile, None, False, dataset_sha256=version.content_sha256)
    assert [p.field for p in problems] == ["target"] and "nothing to learn" in problems[0].message


def test_a_time_split_on_a_date_column_is_fine_and_init_proposes_it(engine: Any, imported: Callable[..., Any]) -> None:
    df = real_data.frame("diabetes")
    df.insert(0, "visit", [f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00" for i in range(len(df))])
    imported("diabetes", df)
    spec = engine.training.init_spec("diabetes", "target")
    assert spec.split.date_column == "visit" and "visit" in spec.features
    timed = dataclasses.replace(spec, split=dataclasses.replace(spec.split, kind=SplitKind.TIME))
    assert engine.training.validate(timed, gpu=False) == []


def test_an_explicit_exclusion_is_informational(iris_spec: TrainingSpec, engine: Any) -> None:
    spec = dataclasses.replace(iris_spec, excluded=(ExcludedColumn("sepal width (cm)", "noisy"),))
    assert engine.training.validate(spec, gpu=False) == []
