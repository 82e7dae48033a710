"""Training runs end to end through the service, in a real encrypted workspace, on scikit-learn's bundled data.

Each run trains in a real child process (spawn). Budgets are small (linear models, 2 trials,
3 folds) so each test takes seconds; the figures stored are checked against scikit-learn's
metrics computed here on the same split with the stored pipeline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Callable
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.metrics import f1_score, r2_score, roc_auc_score

from core.errors import Cancelled, InvalidInput
from core.processes import ChildFailed
from core.store import blobs
from core.tasks import CancelToken, TaskContext
from core.training.models import (
    Algorithm,
    EvidenceKind,
    RunStatus,
    SearchKind,
    SearchSpec,
    SplitSpec,
    Task,
    TrainingSpec,
    spec_hash,
)
from core.training.runner import PIPELINE_ARTEFACT, split_rows
from core.training.spec import InvalidSpec


def _spec(engine: Any, version: Any, *, task: Task, metric: str, algorithms: tuple[Algorithm, ...],
          search: SearchKind = SearchKind.RANDOM, trials: int = 2) -> TrainingSpec:
    spec: TrainingSpec = engine.training.init_spec(version.label, "target", task=task)
    return dataclasses.replace(
        spec, metric=metric, algorithms=algorithms, search=SearchSpec(kind=search, trials=trials),
        split=SplitSpec(cv_folds=3), bootstrap_rounds=60, smoke_rows=200,
    )


def _blob_count(engine: Any) -> int:
    with engine._opened.store.read() as tx:
        return blobs.stats(tx)[0]


def _stored_pipeline(engine: Any, ref: str) -> Any:
    # A test may load what it just trained; the product loads artefacts only in a child.
    return joblib.load(io.BytesIO(engine.training.artefact(ref, PIPELINE_ARTEFACT)))


def _holdout(engine: Any, spec: TrainingSpec, version: Any) -> Any:
    with engine._opened.store.read() as tx:
        data = bytes(blobs.read_bytes(tx, version.content_sha256))
    return split_rows(spec, data)


@pytest.mark.slow  # three child processes (train, repeat, score), each importing scikit-learn
def test_a_binary_run_stores_a_model_version_with_its_lineage_artefact_and_evidence(
    engine: Any, imported: Callable[..., Any],
) -> None:
    version = imported("breast_cancer")
    spec = _spec(engine, version, task=Task.BINARY, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,))
    messages: list[str] = []
    fractions: list[float] = []

    def progress(fraction: float, message: str) -> None:
        fractions.append(fraction)
        messages.append(message)

    outcome = engine.training.run(spec, model="cancer", ctx=TaskContext(progress))
    mv = outcome.value
    assert mv.label == "cancer@1" and mv.algorithm == Algorithm.LOGISTIC
    # Lineage: spec, data, environment, seed, time and memory, who.
    assert mv.spec_hash == spec_hash(spec) and engine.training.spec(mv.spec_hash) == spec
    assert (mv.dataset, mv.dataset_version_id, mv.dataset_sha256) == (version.label, version.id, version.content_sha256)
    packages = dict(mv.environment.packages)
    assert packages["scikit-learn"] == sklearn.__version__ and packages["numpy"] == np.__version__
    assert mv.environment.python and mv.environment.platform and mv.environment.cpu
    assert mv.seed == spec.seed and mv.wall_seconds > 0 and mv.peak_memory_bytes > 50_000_000
    assert mv.created_by == engine.actor
    # Progress came from the child (the service maps its work onto 2–90% of the bar; reports are
    # throttled, so which of them gets through varies), never backwards, and ended at 100%.
    assert any(0.02 < f < 0.9 for f in fractions), messages
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # The audit event names the spec, the data and the figure.
    events, _ = engine.audit.events(action="training.model_trained")
    [event] = events
    assert event.subject == "model:cancer@1"
    assert event.details["spec_hash"] == mv.spec_hash and event.details["content_sha256"] == version.content_sha256
    assert event.details["holdout"] == mv.holdout.value
    # The run row points at the version.
    [run] = engine.training.runs()
    assert run.status == RunStatus.SUCCEEDED and run.model_version == mv.id and run.trials == 2
    # The artefact is the pipeline, its hash recorded; the holdout figure is scikit-learn's on the same split.
    data = engine.training.artefact("cancer@1", PIPELINE_ARTEFACT)
    assert dict(mv.artefacts)[PIPELINE_ARTEFACT] == hashlib.sha256(data).hexdigest()
    pipeline = _stored_pipeline(engine, "cancer@1")
    split = _holdout(engine, spec, version)
    expected = roc_auc_score(split.y_hold, pipeline.predict_proba(split.X_hold)[:, 1])
    assert mv.holdout.value == pytest.approx(expected, abs=1e-12)
    assert mv.holdout.ci_low is not None and mv.holdout.ci_high is not None
    assert mv.holdout.ci_low <= mv.holdout.value <= mv.holdout.ci_high
    # Evidence: the smoke run beat chance, the repeated run gave identical predictions.
    evidence = engine.training.evidence("cancer@1")
    smoke = evidence.item(EvidenceKind.SMOKE)
    assert smoke is not None and smoke.passed and smoke.score > smoke.chance and smoke.rows == 200
    repro = evidence.item(EvidenceKind.REPRODUCIBILITY)
    assert repro is not None and repro.identical and repro.passed and repro.compared == 2 * len(split.y_hold)
    # Scoring through the service (in a child) gives the stored pipeline's predictions.
    rows = {c: split.X_hold[c].tolist()[:15] for c in spec.features}
    assert engine.training.predict("cancer@1", rows) == pipeline.predict(split.X_hold.iloc[:15]).tolist()
    assert [m.label for m in engine.training.models()] == ["cancer@1"]


def test_a_multiclass_grid_search_records_every_trial_and_scores_the_holdout(
    engine: Any, imported: Callable[..., Any],
) -> None:
    version = imported("wine")
    spec = _spec(engine, version, task=Task.MULTICLASS, metric="f1_macro",
                 algorithms=(Algorithm.LOGISTIC, Algorithm.RIDGE), search=SearchKind.GRID, trials=2)
    mv = engine.training.run(spec).value
    assert mv.model == "wine-target"
    [run] = engine.training.runs()
    assert run.trials == 4  # two grid points of each algorithm
    pipeline = _stored_pipeline(engine, mv.label)
    split = _holdout(engine, spec, version)
    assert mv.holdout.value == pytest.approx(f1_score(split.y_hold, pipeline.predict(split.X_hold), average="macro"))
    assert len(set(split.y_hold)) == 3


@pytest.mark.slow  # two runs: four child processes
def test_a_regression_with_a_bayesian_search_trains_and_a_second_run_is_version_2(
    engine: Any, imported: Callable[..., Any],
) -> None:
    version = imported("diabetes")
    spec = _spec(engine, version, task=Task.REGRESSION, metric="r2",
                 algorithms=(Algorithm.LINEAR, Algorithm.RIDGE), search=SearchKind.BAYESIAN, trials=2)
    first = engine.training.run(spec, model="sugar").value
    pipeline = _stored_pipeline(engine, "sugar@1")
    split = _holdout(engine, spec, version)
    assert first.holdout.value == pytest.approx(r2_score(split.y_hold, pipeline.predict(split.X_hold)))
    assert first.algorithm in (Algorithm.LINEAR, Algorithm.RIDGE)
    repro = engine.training.evidence("sugar@1").item(EvidenceKind.REPRODUCIBILITY)
    assert repro is not None and repro.identical
    second = engine.training.run(dataclasses.replace(spec, seed=1), model="sugar").value
    assert second.label == "sugar@2"
    comparison = engine.training.compare("sugar@1", "sugar@2")
    assert "seed" in {f for f, _, _ in comparison.differences}
    assert comparison.holdout_margin == pytest.approx(second.holdout.value - first.holdout.value)


def test_cancel_mid_trial_leaves_no_model_and_no_artefact(engine: Any, imported: Callable[..., Any]) -> None:
    version = imported("breast_cancer")
    spec = _spec(engine, version, task=Task.BINARY, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,), trials=3)
    blobs_before = _blob_count(engine)
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        if 0.02 < fraction < 0.9:  # the child is working (throttled: its first report that gets through)
            token.cancel()

    with pytest.raises(Cancelled):
        engine.training.run(spec, ctx=TaskContext(progress, token))
    [run] = engine.training.runs()
    assert run.status == RunStatus.CANCELLED and run.model_version is None
    assert engine.training.models() == []
    assert _blob_count(engine) == blobs_before
    events, _ = engine.audit.events(action="training.run_cancelled")
    assert [e.subject for e in events] == [f"run:{run.id}"]


def test_runs_cancel_from_elsewhere_stops_the_run_and_stores_nothing(
    engine: Any, imported: Callable[..., Any],
) -> None:
    version = imported("breast_cancer")
    spec = _spec(engine, version, task=Task.BINARY, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,), trials=200)
    asked: list[str] = []

    def progress(fraction: float, message: str) -> None:
        if 0.02 < fraction < 0.9 and not asked:  # the child is working; what `airlock runs cancel` does elsewhere
            [running] = engine.training.runs()
            asked.append(running.id)
            engine.training.cancel_run(running.id[:8])

    with pytest.raises(Cancelled):
        engine.training.run(spec, ctx=TaskContext(progress))
    [run] = engine.training.runs()
    assert run.id == asked[0] and run.status == RunStatus.CANCELLED and "runs cancel" in (run.error or "")
    assert engine.training.models() == []
    with pytest.raises(InvalidInput, match="already ended"):
        engine.training.cancel_run(run.id)


def test_a_child_that_runs_out_of_memory_is_a_clear_error_and_nothing_is_stored(
    engine: Any, imported: Callable[..., Any],
) -> None:
    version = imported("breast_cancer")
    spec = _spec(engine, version, task=Task.BINARY, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,))
    blobs_before = _blob_count(engine)
    with pytest.raises(ChildFailed, match="Nothing was saved"):
        engine.training.run(spec, memory_limit_bytes=64 * 2**20)  # the libraries alone need more
    [run] = engine.training.runs()
    assert run.status == RunStatus.FAILED and "Nothing was saved" in (run.error or "")
    assert engine.training.models() == [] and _blob_count(engine) == blobs_before
    events, _ = engine.audit.events(action="training.run_failed")
    assert len(events) == 1


def test_a_spec_with_problems_is_refused_before_anything_runs(engine: Any, imported: Callable[..., Any]) -> None:
    version = imported("breast_cancer")
    spec = _spec(engine, version, task=Task.BINARY, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,))
    bad = dataclasses.replace(spec, features=(*spec.features, "no such column"))
    with pytest.raises(InvalidSpec) as caught:
        engine.training.run(bad)
    assert any("no such column" in p.message or p.field.startswith("features") for p in caught.value.problems)
    assert engine.training.runs() == []


def test_a_qa_workspace_refuses_to_train(tmp_path: Any) -> None:
    from core.api import Engine, PermissionDenied
    from tests.core.data.real_data import write_csv

    engine, _ = Engine.create(tmp_path / "qa.airlock", name="QA", role="qa", passphrase="correct horse",
                              use_keyring=False)
    with engine:
        engine.datasets.import_file(write_csv("iris", tmp_path), name="iris")
        spec = engine.training.init_spec("iris", target="target")
        with pytest.raises(PermissionDenied, match="development workspace"):
            engine.training.run(spec)
        assert engine.training.runs() == []
