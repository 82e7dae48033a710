"""The Dask path against real ``distributed.LocalCluster`` worker processes started by the tests.

Every cluster binds to 127.0.0.1 (the suite refuses other sockets) without a dashboard. The
trials must run on the workers (their process ids, the scheduler's task stream), give the same
results as the local loop with the same seed, XGBoost must train there through
``xgboost.dask``, TLS must work with certificates made here, and a run through the service
must audit what it sent.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import InvalidInput
from core.tasks import TaskContext
from core.training import compute, runner
from core.training.models import Algorithm, Device, SearchKind, SearchSpec, SplitSpec, Task, TrainingSpec
from tests.core.data import real_data

distributed = pytest.importorskip("distributed")


def _local_cluster(n_workers: int, **options: Any) -> Any:
    """Worker processes on 127.0.0.1, no dashboard; the scheduler's small HTTP server (health
    routes, always started) on a free loopback port rather than its default 8787."""
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                    **options)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with _local_cluster(2) as local:
        yield local


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    with distributed.Client(cluster) as c:
        yield c


def _worker_pid(number: int) -> tuple[int, int]:
    return number, os.getpid()


def _parquet(frame: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


def _spec(frame: Any, task: Task, metric: str, algorithms: tuple[Algorithm, ...], trials: int,
          kind: SearchKind = SearchKind.RANDOM) -> TrainingSpec:
    return TrainingSpec(dataset="data@1", dataset_sha256="0" * 64, target="target", task=task,
                        features=tuple(c for c in frame.columns if c != "target"), metric=metric,
                        algorithms=algorithms, search=SearchSpec(kind, trials), split=SplitSpec(cv_folds=3),
                        seed=7, compute="dask://127.0.0.1:1")


def test_calls_run_in_the_worker_processes(client: Any) -> None:
    workers = set(client.run(os.getpid).values())
    seen: list[float] = []
    results = compute.search_on_dask(client, _worker_pid, [(i,) for i in range(6)],
                                     ctx=TaskContext(lambda f, m: seen.append(f)))
    assert [n for n, _ in results] == list(range(6))  # in the order asked, whatever order they finished in
    pids = {pid for _, pid in results}
    assert pids <= workers and os.getpid() not in pids
    assert seen and seen[-1] == 1.0


def test_trials_on_the_cluster_equal_the_local_ones(client: Any) -> None:
    frame = real_data.frame("breast_cancer")
    spec = _spec(frame, Task.BINARY, "roc_auc", (Algorithm.LOGISTIC, Algorithm.RANDOM_FOREST), 2)
    split = runner.split_rows(spec, _parquet(frame))
    planned = runner.candidates(spec)
    local = [runner.cross_validate(TaskContext(), spec, split, Device.CPU, n, len(planned), a, p)
             for n, (a, p) in enumerate(planned, start=1)]
    with distributed.get_task_stream(client) as stream:
        remote = compute.trials_on_dask(TaskContext(), client, spec, split, Device.CPU, planned)
    assert len(remote) == len(local) == 4
    for mine, theirs in zip(local, remote, strict=True):
        assert (theirs.number, theirs.algorithm, theirs.params, theirs.error) == \
               (mine.number, mine.algorithm, mine.params, None)
        assert theirs.score == mine.score and theirs.score_sd == mine.score_sd
    ran_on = {task["worker"] for task in stream.data}
    assert ran_on and ran_on <= set(client.scheduler_info(n_workers=-1)["workers"])


def test_only_the_training_part_is_sent() -> None:
    frame = real_data.frame("breast_cancer")
    spec = _spec(frame, Task.BINARY, "roc_auc", (Algorithm.LOGISTIC,), 1)
    split = runner.split_rows(spec, _parquet(frame))
    part = compute.training_part(split)
    assert len(part.X_hold) == len(part.y_hold) == len(part.frame_hold) == 0 < len(split.X_hold)
    assert part.X_train is split.X_train and part.folds is split.folds


def test_bayesian_search_on_the_cluster(client: Any) -> None:
    frame = real_data.frame("breast_cancer")
    spec = _spec(frame, Task.BINARY, "roc_auc", (Algorithm.LOGISTIC,), 3, SearchKind.BAYESIAN)
    split = runner.split_rows(spec, _parquet(frame))
    trials = compute.bayesian_on_dask(TaskContext(), client, spec, split, Device.CPU)
    assert [t.number for t in trials] == [1, 2, 3]
    assert all(t.score is not None and 0.9 < t.score <= 1.0 for t in trials)
    # each trial's score is the local cross-validation of the parameters Optuna drew
    again = runner.cross_validate(TaskContext(), spec, split, Device.CPU, 1, 3, Algorithm.LOGISTIC,
                                  {f"model__{k}": v for k, v in trials[0].params.items()})
    assert again.score == trials[0].score


def test_xgboost_trains_on_the_cluster_and_stores_like_a_local_model(client: Any) -> None:
    import joblib
    import xgboost

    frame = real_data.frame("wine")
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    spec = _spec(frame, Task.MULTICLASS, "f1_macro", (Algorithm.XGBOOST,), 1)
    split = runner.split_rows(spec, _parquet(frame))
    pipeline = runner._pipeline(spec, split.column_types, Algorithm.XGBOOST, {"n_estimators": 40}, Device.CPU)
    with distributed.get_task_stream(client) as stream:
        fitted = compute.refit_on_dask(client, pipeline, split.X_train, split.y_train, spec.task)
    assert stream.data  # the training ran as tasks on the workers
    assert {t["worker"] for t in stream.data} <= set(client.scheduler_info(n_workers=-1)["workers"])
    model = fitted.named_steps["model"]
    assert list(model.classes_) == ["barbera", "barolo", "grignolino"]
    predicted = fitted.predict(split.X_hold)
    assert set(predicted) <= set(model.classes_)
    assert np.mean(predicted == split.y_hold.to_numpy()) > 0.8
    # the stored artefacts: the joblib pipeline round-trips, the UBJ booster gives the same output
    names = dict(runner._artefacts(fitted, Algorithm.XGBOOST))
    again = joblib.load(io.BytesIO(names[runner.PIPELINE_ARTEFACT]))
    assert np.array_equal(again.predict_proba(split.X_hold), fitted.predict_proba(split.X_hold))
    booster = xgboost.Booster()
    booster.load_model(bytearray(names[runner.XGBOOST_ARTEFACT]))
    features = fitted.named_steps["preprocess"].transform(split.X_hold)
    assert np.allclose(booster.predict(xgboost.DMatrix(np.asarray(features, dtype=np.float32))),
                       fitted.predict_proba(split.X_hold), atol=1e-6)


def test_xgboost_regression_on_the_cluster(client: Any) -> None:
    from sklearn.metrics import r2_score

    frame = real_data.frame("diabetes")
    split_at = int(len(frame) * 0.8)
    X, y = frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()
    model = compute.fit_xgboost_on_dask(client, X[:split_at], y[:split_at],
                                        {"n_estimators": 60, "max_depth": 3, "learning_rate": 0.1, "n_jobs": 1},
                                        Task.REGRESSION)
    assert type(model).__name__ == "XGBRegressor" and model.get_params()["n_estimators"] == 60
    assert r2_score(y[split_at:], model.predict(X[split_at:])) > 0.2
    assert model.get_booster().num_boosted_rounds() == 60


def test_tls_cluster_with_certificates_made_here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    security = distributed.Security.temporary()
    files = {"AIRLOCK_DASK_TLS_CA_FILE": security.tls_ca_file, "AIRLOCK_DASK_TLS_CERT_FILE": security.tls_client_cert,
             "AIRLOCK_DASK_TLS_KEY_FILE": security.tls_client_key}
    for var, pem in files.items():
        path = tmp_path / f"{var.lower()}.pem"
        path.write_text(pem)
        path.chmod(0o600)
        monkeypatch.setenv(var, str(path))
    with _local_cluster(1, protocol="tls", security=security) as tls_cluster:
        address = tls_cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        target = compute.dask_target(address)
        assert target.encrypted
        results = compute.search_on_dask(target, _worker_pid, [(1,), (2,)])
        assert [n for n, _ in results] == [1, 2] and all(pid != os.getpid() for _, pid in results)
        # a certificate the cluster's authority did not sign is refused
        other = distributed.Security.temporary()
        for var, pem in (("AIRLOCK_DASK_TLS_CERT_FILE", other.tls_client_cert),
                         ("AIRLOCK_DASK_TLS_KEY_FILE", other.tls_client_key)):
            (tmp_path / f"{var.lower()}.pem").write_text(pem)
        monkeypatch.setattr(compute, "CONNECT_TIMEOUT_S", 3)
        with pytest.raises(InvalidInput, match="Could not connect to the Dask scheduler"):
            compute.search_on_dask(compute.dask_target(address), _worker_pid, [(1,)])


@pytest.mark.slow
def test_service_run_on_the_cluster_is_audited(cluster: Any, engine: Any, imported: Callable[..., Any]) -> None:
    version = imported("breast_cancer")
    spec = engine.training.init_spec(version.label, "target")
    address = cluster.scheduler_address.replace("tcp://", "dask://")
    spec = dataclasses.replace(spec, compute=address, algorithms=(Algorithm.LOGISTIC, Algorithm.XGBOOST),
                               search=SearchSpec(SearchKind.RANDOM, 1), split=SplitSpec(cv_folds=2),
                               bootstrap_rounds=20)
    with pytest.raises(InvalidInput, match="outside the encrypted workspace"):
        engine.training.run(spec)
    stored = engine.training.run(spec, allow_data_export=True).value
    assert stored.device == Device.CPU
    events, _ = engine.audit.events(action="training.")
    sent = [e for e in events if e.action == compute.EXPORT_AUDIT_ACTION]
    assert len(sent) == 1
    details = sent[0].details
    assert details["address"] == cluster.scheduler_address and details["tls"] is False
    assert details["dataset"] == version.label and details["dataset_version"] == version.id
    assert details["rows"] == version.row_count == len(real_data.frame("breast_cancer"))
    assert details["columns"] == [*spec.features, "target"]
    started = next(e for e in events if e.action == "training.run_started")
    assert sent[0].seq == started.seq + 1  # same transaction as the run's start, before any data left
    run = next(r for r in engine.training.runs() if r.model_version == stored.id)
    assert run.trials == 2
