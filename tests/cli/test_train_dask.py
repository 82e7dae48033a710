"""``airlock train run SPEC --dask ADDR``: asks before data leaves, then trains on a real LocalCluster, audited."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.api import Algorithm, SearchSpec, SplitSpec, dump_spec, load_spec
from tests.core.data import real_data

distributed = pytest.importorskip("distributed")
QUESTION = "Data from wine@1 will be sent to the Dask cluster at {addr}, outside the encrypted workspace. Continue? [y/N]"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from tests.core.training.test_compute_dask import _local_cluster

    with _local_cluster(2) as local:
        yield local


@pytest.fixture
def dev(tmp_path: Path, run: Any) -> Path:
    """A development workspace (the only role that trains) made by ``airlock workspace init``."""
    path = tmp_path / "dev.airlock"
    made = run("workspace", "init", path, "--name", "Dev", "--role", "dev")
    assert made.code == 0, made.err
    return path


def _spec(dev: Path, run: Any, tmp_path: Path) -> tuple[tuple[str, Path], Path]:
    ws = ("--workspace", dev)
    assert run(*ws, "data", "import", real_data.write_csv("wine", tmp_path), "--name", "wine").code == 0
    path = tmp_path / "spec.toml"
    assert run(*ws, "train", "init", "wine", "--target", "target", "--out", path).code == 0
    spec = dataclasses.replace(load_spec(path), algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(trials=2),
                               split=SplitSpec(cv_folds=2), bootstrap_rounds=20, smoke_rows=100)
    path.write_text(dump_spec(spec), encoding="utf-8")
    return ws, path


def _exports(run: Any, ws: tuple[str, Path]) -> list[dict[str, Any]]:
    logged = run(*ws, "audit", "log", "--action", "training.data_sent_to_cluster", "--json")
    assert logged.code == 0, logged.err
    body = json.loads(logged.out)
    return list(body["events"] if isinstance(body, dict) else body)


def test_declined_or_unanswered_sends_nothing(dev: Path, run: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ws, path = _spec(dev, run, tmp_path)
    for answer in ("n\n", "", "maybe\n"):
        monkeypatch.setattr("sys.stdin", io.StringIO(answer))
        refused = run(*ws, "train", "run", path, "--dask", "127.0.0.1:9")
        assert refused.code == 2
        assert QUESTION.format(addr="dask://127.0.0.1:9") in refused.err
        assert "Nothing was sent to dask://127.0.0.1:9 and no run was started" in refused.err
    assert json.loads(run(*ws, "runs", "list", "--json").out) == []
    assert _exports(run, ws) == []


@pytest.mark.slow  # a full run on the cluster: train and repeat children
def test_confirmed_run_trains_on_the_cluster_and_is_audited(dev: Path, run: Any, tmp_path: Path, cluster: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ws, path = _spec(dev, run, tmp_path)
    addr = cluster.scheduler_address.removeprefix("tcp://")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    trained = run(*ws, "train", "run", path, "--dask", addr, "--model", "grapes")
    assert trained.code == 0, trained.err
    assert QUESTION.format(addr=f"dask://{addr}") in trained.err
    assert "Trained grapes@1: logistic on wine@1" in trained.out
    [event] = _exports(run, ws)
    assert event["details"]["address"] == cluster.scheduler_address and event["details"]["rows"] == 178
    # --yes: no question, still audited
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    again = run(*ws, "train", "run", path, "--dask", addr, "--model", "grapes", "--yes")
    assert again.code == 0, again.err
    assert "Continue?" not in again.err
    assert len(_exports(run, ws)) == 2
