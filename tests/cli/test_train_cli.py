"""``airlock train init`` and ``train validate`` end to end, on a real bundled dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.api import load_spec
from tests.core.data import real_data


def _imported(run: Any, made: Any, tmp_path: Path) -> None:
    df = real_data.frame("breast_cancer")
    df.insert(0, "row_id", range(len(df)))
    csv = real_data.write_csv("cancer", tmp_path, df=df)
    assert run("--workspace", made.path, "data", "import", csv).code == 0


def test_init_writes_a_spec_that_validates(run: Any, made: Any, tmp_path: Path) -> None:
    _imported(run, made, tmp_path)
    out = tmp_path / "spec.toml"
    init = run("--workspace", made.path, "train", "init", "cancer", "--target", "target", "--out", out)
    assert init.code == 0, init.err
    assert "cancer@1: predict target (binary" in init.out
    assert "row_id: identifier" in init.out  # what was left out, and why
    spec = load_spec(out)
    assert spec.dataset == "cancer@1" and "row_id" not in spec.features and len(spec.features) == 30
    ok = run("--workspace", made.path, "train", "validate", out)
    assert ok.code == 0 and "can run" in ok.out

    again = run("--workspace", made.path, "train", "init", "cancer", "--target", "target", "--out", out)
    assert again.code == 2 and "--force" in again.err


def test_validate_prints_each_problem_and_exits_1(run: Any, made: Any, tmp_path: Path) -> None:
    _imported(run, made, tmp_path)
    out = tmp_path / "spec.toml"
    assert run("--workspace", made.path, "train", "init", "cancer", "--target", "target", "--out", out).code == 0
    text = out.read_text(encoding="utf-8")
    out.write_text(text.replace("cv_folds = 5", "cv_folds = 1").replace('compute = "cpu"', 'compute = "gpu"'),
                   encoding="utf-8")
    bad = run("--workspace", made.path, "--json", "train", "validate", out)
    assert bad.code == 1
    found = json.loads(bad.out)
    assert not found["ok"]
    assert {p["field"] for p in found["problems"]} >= {"split.cv_folds"}

    out.write_text(text.replace("seed = 0", "sede = 0"), encoding="utf-8")
    unknown = run("--workspace", made.path, "train", "validate", out)
    assert unknown.code == 1 and "sede: unknown key 'sede' (did you mean 'seed'?)" in unknown.out

    out.write_text(text + "\nbroken = [\n", encoding="utf-8")
    malformed = run("--workspace", made.path, "train", "validate", out)
    assert malformed.code == 2 and "not valid TOML" in malformed.err and "spec.toml" in malformed.err


def test_init_without_out_prints_the_toml(run: Any, made: Any, tmp_path: Path) -> None:
    _imported(run, made, tmp_path)
    printed = run("--workspace", made.path, "train", "init", "cancer", "--target", "target", "--task", "regression")
    assert printed.code == 0
    assert 'task = "regression"' in printed.out and 'metric = "r2"' in printed.out
    assert "Left out" in printed.err
