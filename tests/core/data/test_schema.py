"""Schemas on real data (scikit-learn's bundled sets): inferred levels, integer domains and
ranges, every check on a re-typed column, natural bounds, and the false-alarm rate of the
default tolerances over many random halves of the same data."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from core.api import Engine, Unlock
from core.data import profiling
from core.data import schema as schema_mod
from core.data.models import AnomalyKind, ColumnSchema, ColumnType, Severity
from core.data.service import DatasetService
from tests.core.data import real_data

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "release-0.1.0"
#: The false-alarm bound the test holds the default tolerances to (share of random halves
#: flagged, all datasets together). Measured: 3.3% over these 40 halves of each dataset, 1.9% over
#: 200 (the tolerances of release 0.1.0: 85%).
FALSE_ALARM_BOUND = 0.05


def _import(datasets: DatasetService, tmp_path: Path, df: pd.DataFrame, file: str, name: str = "ds") -> str:
    path = tmp_path / f"{file}.csv"
    df.to_csv(path, index=False)
    return datasets.import_file(path, name=name).value.version.label


def _kinds(report: object) -> set[tuple[str, str | None, str]]:
    return {(a.kind, a.column, a.severity) for a in report.anomalies}  # type: ignore[attr-defined]


def test_a_15_level_category_gets_all_its_levels_and_an_unseen_one_is_an_anomaly(
        datasets: DatasetService, tmp_path: Path) -> None:
    digits = real_data.frame("digits")
    # A real column with 17 levels (pixel intensities 0..16) as a text category.
    level = digits["pixel_3_3"].astype(int)
    assert level.nunique() == 17
    df = pd.DataFrame({"shade": "s" + level.astype(str), "target": digits["target"]})
    reference = df[level < 15]  # 15 levels, more than the 10 top values a profile keeps
    ref = _import(datasets, tmp_path, reference, "ref")
    assert len(datasets.profile(ref).column("shade").top_values) == 10
    schema = datasets.infer_schema(ref).value
    shade = schema.column("shade")
    assert shade is not None and shade.allowed_values == tuple(sorted(reference["shade"].unique()))
    assert len(shade.allowed_values) == 15
    assert datasets.validate("ds", ref).ok
    cur = _import(datasets, tmp_path, df, "cur")
    report = datasets.validate("ds", cur)
    unknown = [a for a in report.anomalies if a.kind == AnomalyKind.UNKNOWN_VALUE]
    assert not report.ok and len(unknown) == 1 and unknown[0].column == "shade"
    assert unknown[0].severity == Severity.MEDIUM and unknown[0].count == int((level >= 15).sum())


def test_integer_flags_and_codes_get_a_domain(datasets: DatasetService, tmp_path: Path) -> None:
    cancer = real_data.frame("breast_cancer")
    ref = _import(datasets, tmp_path, cancer, "ref")
    schema = datasets.infer_schema(ref).value
    target = schema.column("target")
    assert target is not None and target.type == ColumnType.INTEGER and target.allowed_values == ("0", "1")
    bad = cancer.copy()
    bad.loc[bad.index[:3], "target"] = 2  # a 2 in a 0/1 column
    report = datasets.validate("ds", _import(datasets, tmp_path, bad, "bad"))
    assert not report.ok
    assert [(a.column, a.kind, a.count) for a in report.anomalies if a.severity != Severity.LOW] == [
        ("target", AnomalyKind.UNKNOWN_VALUE, 3)]
    iris = schema_mod.infer(profiling.profile_table(pa.Table.from_pandas(real_data.frame("iris"))), "iris", 1, "iris@1",
                            pa.Table.from_pandas(real_data.frame("iris")))
    assert iris.column("target").allowed_values == ("0", "1", "2")  # type: ignore[union-attr]


def test_integer_ranges_are_whole_numbers_and_bounds_show_rounded(datasets: DatasetService, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    linnerud = real_data.frame("linnerud")
    assert (linnerud == linnerud.round()).all().all()
    linnerud = linnerud.astype(int)  # whole counts and measures, written as a user's file holds them: 5, not 5.0
    ref = _import(datasets, tmp_path, linnerud, "ref")
    datasets.infer_schema(ref)
    stored = datasets.schema("ds")  # read back from the store
    for name in ("Chins", "Situps", "Jumps", "Weight", "Waist", "Pulse"):
        col = stored.column(name)
        assert col is not None and col.type == ColumnType.INTEGER
        lo, hi = float(linnerud[name].min()), float(linnerud[name].max())
        span = hi - lo
        assert isinstance(col.minimum, int) and isinstance(col.maximum, int)
        assert col.minimum == math.ceil(max(0.0, lo - 0.1 * span)) and col.maximum == math.floor(hi + 0.1 * span)
    iris = real_data.frame("iris")
    _import(datasets, tmp_path, iris, "iris", name="iris")
    width = datasets.infer_schema("iris").value.column("sepal width (cm)")
    assert width is not None and width.maximum is not None
    exact = 4.4 + 0.1 * (4.4 - 2.0)
    assert width.maximum == exact and repr(exact) == "4.640000000000001"  # stored exactly, not rounded
    assert width.bound_text(width.maximum) == "4.64"
    assert ColumnSchema("x", ColumnType.FLOAT, "numeric").bound_text(0.5999999999999996) == "0.6"  # type: ignore[arg-type]

    from core.cli.main import main

    monkeypatch.setattr("core.cli.data.open_engine", _engine_of(datasets))
    assert main(["data", "schema", "show", "iris"]) == 0
    out = capsys.readouterr().out
    assert "4.64" in out and repr(exact) not in out
    assert main(["data", "schema", "show", "iris", "--json"]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert next(c for c in as_json["columns"] if c["name"] == "sepal width (cm)")["maximum"] == exact


def _engine_of(datasets: DatasetService) -> object:
    """``open_engine`` for the CLI that hands out the test's open engine (the workspace stays open)."""
    from contextlib import contextmanager

    class _Engine:
        def __init__(self) -> None:
            self.datasets = datasets

    @contextmanager
    def opener(args: object):  # type: ignore[no-untyped-def]
        yield _Engine()

    return opener


def test_a_retyped_column_gets_every_check(datasets: DatasetService, tmp_path: Path) -> None:
    iris = real_data.frame("iris")
    ref = _import(datasets, tmp_path, iris, "ref")
    datasets.infer_schema(ref)
    rng = np.random.default_rng(0)
    bad = iris.astype({"sepal length (cm)": object})
    gone = rng.choice(len(bad), size=45, replace=False)  # 30% missing
    bad.loc[bad.index[gone], "sepal length (cm)"] = None
    kept = [i for i in range(len(bad)) if i not in set(gone)]
    bad.loc[bad.index[kept[0]], "sepal length (cm)"] = "not measured"  # the column becomes text
    bad.loc[bad.index[kept[1]], "sepal length (cm)"] = "580"  # and a misplaced decimal point
    report = datasets.validate("ds", _import(datasets, tmp_path, bad, "bad"))
    kinds = _kinds(report)
    assert ("type_mismatch", "sepal length (cm)", "high") in kinds
    assert ("missing_values", "sepal length (cm)", "high") in kinds
    assert ("out_of_range", "sepal length (cm)", "medium") in kinds
    missing = next(a for a in report.anomalies if a.kind == AnomalyKind.MISSING_VALUES)
    assert missing.count == 45


def test_a_percentage_is_bounded_at_100_and_a_share_at_1(datasets: DatasetService, tmp_path: Path) -> None:
    cancer = real_data.frame("breast_cancer")
    # Percentile ranks of a real measurement: [0, 100]; the reference's highest is 99.8.
    pct = (cancer["mean radius"].rank(method="first") / len(cancer) * 100).round(1)
    df = pd.DataFrame({"radius_pct": pct, "radius_share": pct / 100, "target": cancer["target"]})
    reference = df[pct <= 99.8]
    assert reference["radius_pct"].max() == 99.8
    ref = _import(datasets, tmp_path, reference, "ref")
    schema = datasets.infer_schema(ref).value
    assert schema.column("radius_pct").maximum == 100.0  # type: ignore[union-attr]
    assert schema.column("radius_share").maximum == 1.0  # type: ignore[union-attr]
    report = datasets.validate("ds", _import(datasets, tmp_path, df, "all"))
    assert report.ok and not [a for a in report.anomalies if a.kind == AnomalyKind.OUT_OF_RANGE]
    over = df.copy()
    over.loc[over.index[:10], "radius_pct"] = 140.0
    assert ("out_of_range", "radius_pct", "medium") in _kinds(datasets.validate("ds", _import(datasets, tmp_path, over, "o")))


def test_a_few_values_out_of_range_are_a_note_a_far_one_is_a_problem(datasets: DatasetService, tmp_path: Path) -> None:
    wine = real_data.frame("wine")
    ref = _import(datasets, tmp_path, wine, "ref")
    schema = datasets.infer_schema(ref).value
    col = schema.column("magnesium")
    assert col is not None and col.maximum is not None and col.max_out_of_range_fraction == pytest.approx(5 / 178, abs=1e-4)
    near = wine.copy()
    near.loc[near.index[:2], "magnesium"] = col.maximum + 1
    report = datasets.validate("ds", _import(datasets, tmp_path, near, "near"))
    assert report.ok and ("out_of_range", "magnesium", "low") in _kinds(report)
    far = wine.copy()
    far.loc[far.index[0], "magnesium"] = -999999
    report = datasets.validate("ds", _import(datasets, tmp_path, far, "far"))
    assert not report.ok and ("out_of_range", "magnesium", "medium") in _kinds(report)


def _halves(table: pa.Table, seed: int) -> tuple[pa.Table, pa.Table]:
    order = np.random.default_rng(seed).permutation(table.num_rows)
    half = table.num_rows // 2
    return table.take(np.sort(order[:half])), table.take(np.sort(order[half:]))


def test_the_default_tolerances_do_not_flag_a_random_half_of_the_same_data(tmp_path: Path) -> None:
    """Infer from one random half, validate the other: the false-alarm rate stays under the bound."""
    splits, flagged, per_dataset = 0, 0, {}
    for name in real_data.BUNDLED:
        table = pcsv.read_csv(real_data.write_csv(name, tmp_path))  # as a user's CSV import reads it
        whole = schema_mod.infer(profiling.profile_table(table), name, 1, name, table)
        hits = 0
        for seed in range(40):
            a, b = _halves(table, seed)
            assert schema_mod.validate(whole, b, "half").ok  # a half of the inferred data always conforms
            inferred = schema_mod.infer(profiling.profile_table(a), name, 1, "a", a)
            hits += not schema_mod.validate(inferred, b, "b").ok
            splits += 1
        flagged += hits
        per_dataset[name] = hits
    assert flagged / splits <= FALSE_ALARM_BOUND, per_dataset
    assert max(per_dataset.values()) <= 6, per_dataset  # no dataset above 15% of its 40 halves (measured: wine 4)


def test_a_schema_stored_by_release_0_1_0_still_reads_and_validates(tmp_path: Path) -> None:
    for item in FIXTURE.glob("release-0.1.0.airlock*"):
        if not item.name.endswith(".lock"):
            shutil.copy(item, tmp_path / item.name)
    with Engine.open(tmp_path / "release-0.1.0.airlock", Unlock(passphrase="release-0.1.0-fixture")) as eng:
        schema = eng.datasets.schema("loans")
        assert schema.revision == 1 and schema.columns
        assert all(c.max_out_of_range_fraction == 0.0 for c in schema.columns)  # version 1 had no tolerance
        assert eng.datasets.validate("loans", "loans").ok
