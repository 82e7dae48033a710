"""``airlock train run``, ``runs …`` and ``models …`` end to end on scikit-learn's wine data, in a real workspace."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from core.api import Algorithm, SearchSpec, SplitSpec, dump_spec, load_spec
from core.cli import common
from tests.cli.conftest import RECOVERY_KEY, Made
from tests.cli.test_progress import CtrlCDuringWork
from tests.core.data import real_data


@pytest.fixture
def made(tmp_path: Path, run) -> Made:  # type: ignore[no-untyped-def]
    """A development workspace: models are trained only there."""
    path = tmp_path / "dev.airlock"
    result = run("workspace", "init", path, "--name", "Dev", "--role", "dev")
    assert result.code == 0, result.err
    return Made(path, RECOVERY_KEY.findall(result.out)[0], result)


def _small_spec(made: Made, run, tmp_path: Path) -> tuple[tuple[str, Path], Path]:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    csv = real_data.write_csv("wine", tmp_path)
    assert run(*ws, "data", "import", csv, "--name", "wine").code == 0
    path = tmp_path / "spec.toml"
    made_spec = run(*ws, "train", "init", "wine", "--target", "target", "--out", path)
    assert made_spec.code == 0, made_spec.err
    spec = dataclasses.replace(
        load_spec(path), algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(trials=2), split=SplitSpec(cv_folds=3),
        bootstrap_rounds=50, smoke_rows=100,
    )
    path.write_text(dump_spec(spec), encoding="utf-8")
    return ws, path


@pytest.mark.slow  # a full run: train and repeat children
def test_train_run_then_models_and_runs_in_json(made: Made, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws, path = _small_spec(made, run, tmp_path)
    trained = run(*ws, "train", "run", path, "--cpu", "--model", "grapes")
    assert trained.code == 0, trained.err
    assert "Trained grapes@1: logistic on wine@1, holdout f1_macro" in trained.out
    listed = run(*ws, "models", "list", "--json")
    assert listed.code == 0, listed.err
    [latest] = json.loads(listed.out)
    assert latest["model"] == "grapes" and latest["number"] == 1 and latest["dataset"] == "wine@1"
    shown = run(*ws, "models", "show", "grapes@1", "--json")
    body = json.loads(shown.out)
    assert body["model_version"]["spec_hash"] == latest["spec_hash"]
    kinds = {item["kind"] for item in body["evidence"]}
    assert {"smoke", "reproducibility"} <= kinds
    runs = json.loads(run(*ws, "runs", "list", "--json").out)
    assert [r["status"] for r in runs] == ["succeeded"] and runs[0]["model_version"] == latest["id"]
    detail = run(*ws, "runs", "show", runs[0]["id"][:8])
    assert detail.code == 0 and "status:   succeeded" in detail.out and "grapes@1" in detail.out
    same = run(*ws, "runs", "compare", runs[0]["id"][:8], runs[0]["id"][:8])
    assert same.code == 0 and "no differences" in same.out
    ended = run(*ws, "runs", "cancel", runs[0]["id"][:8])
    assert ended.code == 2 and "already ended" in ended.err


class CtrlCInATrial(CtrlCDuringWork):
    """Presses Ctrl-C at the first report from the training child (the service maps the child's work onto
    2–90% of the bar), whichever of its reports gets through the throttle."""

    def update(self, fraction: float, message: str) -> None:
        if 0.02 < fraction < 0.9:
            super().update(fraction, message)


def test_ctrl_c_during_train_run_exits_130_and_stores_no_model(  # type: ignore[no-untyped-def]
    made: Made, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws, path = _small_spec(made, run, tmp_path)
    bar = common.ProgressBar
    monkeypatch.setattr(common, "ProgressBar", CtrlCInATrial)
    result = run(*ws, "train", "run", path)
    assert result.code == 130 and "Cancelled." in result.err
    monkeypatch.setattr(common, "ProgressBar", bar)
    assert json.loads(run(*ws, "models", "list", "--json").out) == []
    assert [r["status"] for r in json.loads(run(*ws, "runs", "list", "--json").out)] == ["cancelled"]
