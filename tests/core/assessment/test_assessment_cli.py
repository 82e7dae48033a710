"""``airlock assess …`` end to end on a real workspace: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from tests.conftest import PASSPHRASE


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from core.api import Engine

    path = tmp_path / "w.airlock"
    engine, _ = Engine.create(path, name="T", passphrase=PASSPHRASE, use_keyring=False)
    engine.close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(path))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", PASSPHRASE)
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_assess_flow(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = _json(capsys, ["assess", "models"])
    assert {m["id"] for m in models} == {"airlock-data-ml", "azure-mlops", "google-mlops"}  # type: ignore[union-attr]
    a = _json(capsys, ["assess", "new", "--model", "google-mlops", "--unit", "Ops",
                       "--target", "training=2"])
    aid = a["id"]  # type: ignore[index]
    assert main(["assess", "answer", aid[:8], "google.training.process", "1", "--note", "pipeline"]) == 0
    capsys.readouterr()
    shown = _json(capsys, ["assess", "show", aid])
    assert shown["score"]["dimensions"][0]["score"] == 1.0  # type: ignore[index]
    steps = [s["recommendation"]["id"] for s in shown["recommendations"]]  # type: ignore[index]
    # The explicit target's step comes after its prerequisite; dimensions without a target
    # aim one level up, so their first steps are planned too.
    assert steps.index("google-validation-1") < steps.index("google-training-2")
    assert {"google-metadata-1", "google-ops-1"} <= set(steps)
    capsys.readouterr()
    assert main(["assess", "show", aid]) == 0
    out = capsys.readouterr().out
    assert "Scoring rule:" in out and "1 of 7 questions done" in out
    assert main(["assess", "report", aid, "--html", str(tmp_path / "r.html")]) == 0
    assert main(["assess", "report", aid, "--pdf", str(tmp_path / "r.pdf")]) == 0
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert main(["assess", "finalise", aid]) == 2  # 6 questions open: confirmation needed
    assert "--force" in capsys.readouterr().err
    assert main(["assess", "finalise", aid, "--force"]) == 0
    assert "6 questions left open" in capsys.readouterr().out
    assert main(["assess", "answer", aid, "google.training.process", "2"]) == 0
    assert "revision 2" in capsys.readouterr().out
    assert main(["assess", "compare", aid, aid]) == 0


def test_user_errors_exit_2_without_traceback(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", "new", "--model", "nope", "--unit", "U"]) == 2
    err = capsys.readouterr().err
    assert "No maturity model 'nope'" in err and "Traceback" not in err
    a = _json(capsys, ["assess", "new", "--model", "google-mlops", "--unit", "U"])
    bad = tmp_path / "bad.csv"
    bad.write_text("question,level\ngoogle.training.process,x\n", encoding="utf-8")
    assert main(["assess", "import", a["id"], str(bad)]) == 2  # type: ignore[index]
    assert "row 2" in capsys.readouterr().err
    assert main(["assess", "answer", a["id"], "google.training.process", "9"]) == 2  # type: ignore[index]
