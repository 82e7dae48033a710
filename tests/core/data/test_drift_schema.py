"""Drift: a known shift is found, none is not; schemas: inferred, edited (audited), validated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import false_discovery_control

from core.data import drift
from core.data.service import DatasetService
from core.errors import InvalidInput


def _table(seed: int, shift: float = 0.0, probs: tuple[float, ...] = (0.5, 0.3, 0.2), n: int = 5000) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "income": rng.normal(50 + shift * 10, 10, n),
        "age": rng.integers(18, 80, n),
        "segment": rng.choice(["a", "b", "c"], n, p=list(probs)),
    })


def test_no_shift_raises_no_alarm() -> None:
    for seed in range(5):
        report = drift.compare(_table(seed), _table(seed + 100))
        assert not report.drift, report
        assert all(c.psi < 0.1 for c in report.columns)


def test_known_shifts_are_found_in_the_right_columns() -> None:
    report = drift.compare(_table(1), _table(2, shift=1.0, probs=(0.2, 0.3, 0.5)))
    assert set(report.drifted_columns) == {"income", "segment"}
    income = next(c for c in report.columns if c.column == "income")
    assert income.level == "major" and income.distance == pytest.approx(1.0, abs=0.1)


def test_corrections_match_scipy() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.5]
    assert drift.adjust(p, "bh") == pytest.approx(list(false_discovery_control(p)))
    assert drift.adjust(p, "bonferroni") == pytest.approx([0.05, 0.2, 0.15, 1.0, 1.0])
    with pytest.raises(InvalidInput):
        drift.compare(_table(1), _table(2), correction="holm")


def _import(datasets: DatasetService, tmp_path: Path, name: str, table: pa.Table) -> str:
    import pyarrow.parquet as pq

    path = tmp_path / f"{name}.parquet"
    pq.write_table(table, path)
    return datasets.import_file(path, name="ds").value.version.label


def test_schema_infer_edit_validate(engine: object, datasets: DatasetService, tmp_path: Path) -> None:
    ref = _import(datasets, tmp_path, "r", _table(1))
    schema = datasets.infer_schema(ref).value
    assert schema.column("segment").allowed_values == ("a", "b", "c")
    assert datasets.validate("ds", ref).ok
    bad = _table(2).set_column(0, "income", pa.array([-1e6] + [None] * 4999, pa.float64()))
    bad = bad.append_column("extra", pa.array([1] * 5000)).drop_columns(["segment"])
    cur = _import(datasets, tmp_path, "c", bad)
    kinds = {(a.kind, a.column, a.severity) for a in datasets.validate("ds", cur).anomalies}
    assert ("missing_column", "segment", "high") in kinds and ("unexpected_column", "extra", "low") in kinds
    assert ("missing_values", "income", "high") in kinds and ("out_of_range", "income", "medium") in kinds
    edited = datasets.edit_schema("ds", "income", required=False, max_missing_fraction=1.0, minimum=None).value
    assert edited.revision == 2 and datasets.schema("ds").column("income").minimum is None
    events, _ = engine.audit.events(action="dataset.schema_edited")  # type: ignore[attr-defined]
    assert events and events[0].details["column"] == "income"
    with pytest.raises(InvalidInput):
        datasets.edit_schema("ds", "income", colour="red")


def test_service_drift_between_versions(datasets: DatasetService, tmp_path: Path) -> None:
    ref = _import(datasets, tmp_path, "r", _table(1))
    cur = _import(datasets, tmp_path, "c", _table(3, shift=0.8))
    report = datasets.drift(ref, cur)
    assert report.drift and report.drifted_columns == ("income",)
    assert not datasets.drift(ref, ref).drift


@pytest.mark.parametrize("sizes", [(300, 500), (150_000, 200_000)])
def test_ks_and_wasserstein_match_scipy(sizes: tuple[int, int]) -> None:
    from scipy.stats import ks_2samp, wasserstein_distance

    from core.data.drift import ks_and_wasserstein

    rng = np.random.default_rng(sizes[0])
    for ref, cur in ((rng.normal(0, 1, sizes[0]), rng.normal(0.02, 1.1, sizes[1])),
                     (np.round(rng.normal(0, 2, sizes[0])), np.round(rng.normal(0.3, 2, sizes[1])))):  # ties
        d, p, w = ks_and_wasserstein(ref, cur)
        ks = ks_2samp(ref, cur)
        assert d == pytest.approx(ks.statistic, abs=1e-12)
        assert p == pytest.approx(ks.pvalue, rel=5e-3, abs=1e-300)
        assert w == pytest.approx(wasserstein_distance(ref, cur), rel=1e-9)


def test_identifier_columns_are_not_compared() -> None:
    # New ids in every version would otherwise look like total drift (PSI over unseen categories).
    ref = _table(1).append_column("email", pa.array([f"r{i}@example.com" for i in range(5000)]))
    ref = ref.append_column("order_id", pa.array(np.arange(5000)))
    cur = _table(2).append_column("email", pa.array([f"c{i}@example.com" for i in range(5000)]))
    cur = cur.append_column("order_id", pa.array(np.arange(5000, 10_000)))
    report = drift.compare(ref, cur)
    assert {c.column for c in report.columns} == {"income", "age", "segment"}
    assert {"email: identifier", "order_id: identifier"} <= set(report.skipped)
    assert not report.drift


def test_chi_square_and_jensen_shannon_match_scipy() -> None:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(0)
    table = rng.integers(0, 500, (2, 12)).astype(float) + 0.5
    stat, p, _, _ = chi2_contingency(table, correction=False)
    assert drift.chi_square(table) == pytest.approx((stat, p), rel=1e-12)
    a, b = table[0] / table[0].sum(), np.append(table[1, :-1], 0.0) / table[1, :-1].sum()
    assert drift.jensen_shannon(a, b) == pytest.approx(jensenshannon(a, b, base=2), rel=1e-12)


def test_drift_from_the_snapshots_equals_drift_of_the_tables(tmp_path) -> None:
    # The service reads text columns as dictionary codes from the snapshot; the figures must
    # be those of the decoded tables, identifiers and missing categories included.
    from core.api import Engine

    rng = np.random.default_rng(4)

    def write(path, shift: float) -> None:
        n = 3000
        city = rng.choice(["Leeds", "York", "Hull", None], n, p=[0.5 - shift, 0.3, 0.1 + shift, 0.1])
        ids = [f"cust-{rng.integers(1e9)}" for _ in range(n)]
        amount = rng.normal(10 + shift * 10, 2, n)
        pa_table = pa.table({"city": pa.array(city, pa.string()), "customer_id": ids, "amount": amount,
                             "flag": rng.random(n) < 0.3 + shift})
        pq.write_table(pa_table, path)

    write(tmp_path / "a.parquet", 0.0)
    write(tmp_path / "b.parquet", 0.2)
    eng, _ = Engine.create(tmp_path / "w.airlock", name="T", passphrase="correct horse", use_keyring=False)
    try:
        eng.datasets.import_file(tmp_path / "a.parquet", name="d")
        eng.datasets.import_file(tmp_path / "b.parquet", name="d")
        from_snapshots = eng.datasets.drift("d@1", "d@2")
        from_tables = drift.compare(eng.datasets.read_table("d@1"), eng.datasets.read_table("d@2"), "d@1", "d@2")
    finally:
        eng.close()
    assert from_snapshots == from_tables
    assert "customer_id: identifier" in from_snapshots.skipped
    assert set(from_snapshots.drifted_columns) >= {"city", "amount", "flag"}
