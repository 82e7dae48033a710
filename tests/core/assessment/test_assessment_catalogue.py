"""Model files: the built-ins load, and a broken file names its problem and path."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from core.assessment.catalogue import (
    BUILTIN_DIR,
    ModelFileError,
    builtin_models,
    load_model_file,
    parse_model,
)

AIRLOCK = json.loads((BUILTIN_DIR / "airlock-data-ml.json").read_text(encoding="utf-8"))


def test_builtins_load_with_expected_scales() -> None:
    models = {m.id: m for m in builtin_models()}
    assert set(models) == {"airlock-data-ml", "azure-mlops", "google-mlops"}
    assert (models["airlock-data-ml"].min_level, models["airlock-data-ml"].max_level) == (0, 5)
    assert models["azure-mlops"].max_level == 4
    assert models["google-mlops"].max_level == 2
    azure = [d.name for d in models["azure-mlops"].dimensions]
    assert azure == ["People", "Model creation", "Model release", "Application integration"]


def test_airlock_model_covers_required_dimensions_with_full_descriptors() -> None:
    m = next(m for m in builtin_models() if m.id == "airlock-data-ml")
    assert {d.id for d in m.dimensions} >= {
        "strategy", "people", "data", "platform", "process", "governance", "security"}
    process = {q.id for q in m.dimension("process").questions}
    assert {"process.discovery", "process.training", "process.testing",
            "process.deployment", "process.monitoring"} <= process
    for q in m.questions():
        assert sorted(q.descriptors) == [0, 1, 2, 3, 4, 5], q.id
    for d in m.dimensions:
        assert len(d.questions) >= 3
        assert {r.level for r in d.recommendations} == {1, 2, 3, 4, 5}


def _broken(mutate) -> str:  # type: ignore[no-untyped-def]
    raw = copy.deepcopy(AIRLOCK)
    mutate(raw)
    with pytest.raises(ModelFileError) as err:
        parse_model(raw, "broken.json")
    return str(err.value)


def test_missing_level_descriptor_names_its_path() -> None:
    msg = _broken(lambda r: r["dimensions"][2]["questions"][0]["levels"].pop("3"))
    assert "broken.json" in msg
    assert "dimensions[2].questions[0].levels: missing level 3" in msg


def test_unknown_scoring_rule_is_refused() -> None:
    msg = _broken(lambda r: r["scoring"].update(overall="median"))
    assert "scoring.overall: unknown rule 'median'" in msg


def test_unknown_dependency_and_cycle_are_refused() -> None:
    def unknown(r):  # type: ignore[no-untyped-def]
        r["dimensions"][0]["recommendations"]["1"][0]["depends_on"] = ["no-such-step"]
    assert "depends on unknown recommendation 'no-such-step'" in _broken(unknown)

    def cycle(r):  # type: ignore[no-untyped-def]
        r["dimensions"][0]["recommendations"]["1"][0]["depends_on"] = ["strategy-2-backlog"]
    assert "dependency cycle" in _broken(cycle)


def test_duplicate_ids_missing_recommendations_and_bad_probe() -> None:
    def dup(r):  # type: ignore[no-untyped-def]
        r["dimensions"][1]["questions"][0]["id"] = "strategy.sponsor"
    assert "duplicate question id 'strategy.sponsor'" in _broken(dup)
    assert "dimensions[0].recommendations: missing recommendations for level 4" in _broken(
        lambda r: r["dimensions"][0]["recommendations"].pop("4"))
    assert "unknown evidence probe 'crystal_ball'" in _broken(
        lambda r: r["dimensions"][0]["questions"][0].update(evidence="crystal_ball"))


def test_wrong_format_version_and_bad_json(tmp_path: Path) -> None:
    msg = _broken(lambda r: r.update(format_version=99))
    assert "format_version" in msg and "99" in msg
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1,\n "id": }', encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"(?s)bad.json.*line 2"):
        load_model_file(bad)
