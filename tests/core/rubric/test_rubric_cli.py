"""``airlock rubric …`` end to end on a model trained on breast_cancer: output, JSON and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.api import Engine, Unlock
from core.cli.main import main
from tests.conftest import PASSPHRASE


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow  # trains a model in a child process
def test_rubric_run_show_attest_history_compare(
    engine: Any, trained: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mv = trained()
    engine.users.add("rita", ["reviewer"])
    path = engine.path
    engine.close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(path))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", PASSPHRASE)

    assert main(["rubric", "show", mv.label]) == 2  # never ran: a clear error, not a traceback
    assert "never ran" in capsys.readouterr().err
    first = _json(capsys, ["rubric", "run", "cancer"])
    assert len(first["result"]["results"]) == 28 and first["result"]["model_version_id"] == mv.id
    assert first["next_steps"] and first["next_steps"][0]["gain"] > 0

    assert main(["rubric", "show", "cancer@1"]) == 0
    out = capsys.readouterr().out
    assert "Scoring rule:" in out and "minimum" in out and "data.1" in out and "monitor.7" in out
    assert "What to do next" in out and "final " in out and "sections: data" in out

    # the author may not attest; rita (a reviewer) may
    assert main(["rubric", "attest", "cancer@1", "data.7", "--statement", "tested", "--expires", "2099-01-01"]) == 2
    assert "cannot attest" in capsys.readouterr().err
    monkeypatch.setenv("LOGNAME", "rita")
    log = tmp_path / "ci.txt"
    log.write_text("ok", encoding="utf-8")
    att = _json(capsys, ["rubric", "attest", "cancer@1", "data.7", "--statement", "feature tests pass",
                         "--expires", "2099-01-01", "--file", str(log)])
    assert att["attested_by"] == "rita" and att["evidence_files"][0][0] == "ci.txt"
    assert main(["rubric", "attest", "cancer@1", "data.99", "--statement", "x", "--expires", "2099-01-01"]) == 2
    capsys.readouterr()

    second = _json(capsys, ["rubric", "run", "cancer@1"])
    data = {s["section"]: s["points"] for s in second["result"]["score"]["sections"]}
    before = {s["section"]: s["points"] for s in first["result"]["score"]["sections"]}
    assert data["data"] == before["data"] + 0.5
    history = _json(capsys, ["rubric", "history", "cancer"])
    assert [h["id"] for h in history] == [first["result"]["id"], second["result"]["id"]]
    compared = _json(capsys, ["rubric", "compare", first["result"]["id"][:8], "cancer@1"])
    assert {d["test_id"] for d in compared["differences"]} == {"data.7"}
    assert compared["sections"][0] == {"section": "data", "a": before["data"], "b": data["data"]}
    assert main(["rubric", "compare", "cancer@1", "nosuch"]) == 2
    capsys.readouterr()
    assert main(["rubric", "history", "cancer@1"]) == 0
    assert "FINAL" in capsys.readouterr().out

    assert main(["rubric", "policy"]) == 0
    assert "version 1 (built-in defaults)" in capsys.readouterr().out
    policy = _json(capsys, ["rubric", "policy", "--set", "slice_max_gap=0.1", "--set", "deny_list=ssn, email"])
    assert policy["version"] == 2 and policy["slice_max_gap"] == 0.1 and policy["deny_list"] == ["ssn", "email"]
    assert main(["rubric", "policy", "--set", "slice_max_gap=wide"]) == 2
    assert "not a number" in capsys.readouterr().err
    third = _json(capsys, ["rubric", "run", "cancer@1"])
    assert third["result"]["policy_version"] == 2

    with Engine.open(path, Unlock.with_passphrase(PASSPHRASE)) as again:
        actions = [e.action for e in again.audit.events(action="rubric.")[0]]
    assert actions.count("rubric.run") == 3 and actions.count("rubric.attested") == 1
    assert actions.count("rubric.policy_changed") == 1

