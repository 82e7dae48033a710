"""Profile statistics against independent references (numpy, pandas, scipy) on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer, load_iris

from core import formats
from core.data import associations, profiling
from core.data.models import REDACTED, Profile
from core.data.profiling import QUANTILES, profile_table
from core.data.report import render_html


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["species"] = load_iris().target_names[frame["target"]]
    return frame.drop(columns="target")


def test_every_numeric_statistic_matches_numpy(iris: pd.DataFrame) -> None:
    df = iris.copy()
    df.loc[::7, "sepal length (cm)"] = np.nan
    prof = profile_table(pa.Table.from_pandas(df, preserve_index=False))
    for name in df.columns[:4]:
        col, values = prof.column(name), df[name].dropna().to_numpy()
        assert (col.count, col.missing, col.distinct) == (len(df), df[name].isna().sum(), len(np.unique(values)))
        assert col.stats["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert col.stats["std"] == pytest.approx(values.std(ddof=1), rel=1e-12)
        assert (col.stats["min"], col.stats["max"]) == (values.min(), values.max())
        for q in QUANTILES:
            assert col.quantiles[str(q)] == pytest.approx(np.quantile(values, q), rel=1e-12)
        assert sum(col.histogram["counts"]) == len(values)
        assert col.semantic_type == "numeric"
    assert prof.column("species").semantic_type == "categorical"
    assert dict(prof.column("species").top_values) == {"setosa": 50, "versicolor": 50, "virginica": 50}
    assert prof.duplicate_rows == int(df.duplicated().sum())


def test_correlations_match_pandas_and_cramers_v_is_known(iris: pd.DataFrame) -> None:
    prof = profile_table(pa.Table.from_pandas(iris, preserve_index=False))
    a, b = "petal length (cm)", "petal width (cm)"
    got = {(c.a, c.b, c.method): c.value for c in prof.correlations}
    assert got[(a, b, "pearson")] == pytest.approx(iris[a].corr(iris[b]), rel=1e-9)
    assert got[(a, b, "spearman")] == pytest.approx(iris[a].corr(iris[b], method="spearman"), rel=1e-9)
    eta = got[(a, "species", "correlation_ratio")]
    assert 0.9 < eta <= 1.0  # species explains petal length almost entirely
    same = associations.cramers_v(np.array([0, 1, 2] * 50), np.array([0, 1, 2] * 50))
    indep = associations.cramers_v(np.repeat([0, 1], 100), np.tile([0, 1], 100))
    assert same == pytest.approx(1.0) and indep == pytest.approx(0.0)


def test_pii_and_identifiers_are_flagged_and_redacted() -> None:
    n = 200
    table = pa.table({
        "customer_id": list(range(1000, 1000 + n)),
        "email": [f"person{i}@example.com" for i in range(n)],
        "card": ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"] * 66 + ["4111111111111111"] * 2,
        "ssn": [f"{100 + i % 800:03d}-{10 + i % 80:02d}-{1000 + i:04d}" for i in range(n)],
        "plan": ["gold", "silver"] * 100,
    })
    prof = profile_table(table)
    assert prof.column("customer_id").semantic_type == "identifier"
    assert [prof.column(c).pii for c in ("email", "card", "ssn", "plan")] == ["email", "card", "national_id", None]
    for name in ("customer_id", "email", "card", "ssn"):
        col = prof.column(name)
        assert all(v == REDACTED for v, _ in col.top_values) and "min" not in col.stats
    text = formats.dumps(prof).decode("utf-8")
    assert "person0@example.com" not in text and "4111" not in text
    assert {a.kind for a in prof.alerts if a.severity == "high"} >= {"pii"}


def test_alerts_are_ranked_and_constant_columns_found() -> None:
    table = pa.table({"k": [1] * 100, "x": list(range(100)), "gap": [None] * 60 + list(range(40))})
    prof = profile_table(table)
    sev = [a.severity for a in prof.alerts]
    assert sev == sorted(sev, key=["high", "medium", "low", "info"].index)
    assert any(a.kind == "constant" and a.column == "k" for a in prof.alerts)
    assert any(a.kind == "missing" and a.column == "gap" and a.severity == "high" for a in prof.alerts)


def test_target_leakage_is_flagged_and_profile_round_trips() -> None:
    data = load_breast_cancer(as_frame=True).frame
    data["leak"] = data["target"] * 10 + 3
    prof = profile_table(pa.Table.from_pandas(data, preserve_index=False), target="target")
    by = {a.column: a for a in prof.target_associations}
    assert by["leak"].leakage and by["leak"].model_score > 0.99
    assert not by["mean fractal dimension"].leakage
    assert by["worst perimeter"].mutual_information > by["mean fractal dimension"].mutual_information
    assert formats.loads(Profile, formats.dumps(prof)) == prof


def test_html_report_is_self_contained(iris: pd.DataFrame) -> None:
    prof = profile_table(pa.Table.from_pandas(iris.assign(note="<script>x</script>"), preserve_index=False))
    page = render_html(prof, "Iris <1>")
    assert "<svg" in page and "<script>" not in page  # charts are inline SVG
    assert "http://" not in page and "https://" not in page and "src='http" not in page


def test_service_profile_is_stored_with_the_version(datasets: object, tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "d.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(100)))
    datasets.import_file(path, name="d")  # type: ignore[attr-defined]
    first = datasets.profile("d")  # type: ignore[attr-defined]
    assert datasets.profile("d") == first and first.column("a").stats["mean"] == pytest.approx(49.5)  # type: ignore[attr-defined]


def _mixed_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(4)
    x = rng.normal(10, 3, rows)
    x[rng.random(rows) < 0.1] = np.nan
    return pa.table({
        "x": x,
        "n": pa.array(rng.integers(-5, 500, rows), mask=rng.random(rows) < 0.05),
        "when": pa.array(np.datetime64("2024-01-01T00:00:00.000000") + rng.integers(0, 10**12, rows).astype("timedelta64[us]")),
        "city": pa.array(rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], rows), mask=rng.random(rows) < 0.2),
        "code": [f"c{i}" for i in rng.integers(0, rows // 2, rows)],
        "flag": pa.array(rng.random(rows) < 0.3),
    })


def test_parquet_row_groups_and_several_passes_give_the_same_profile(tmp_path: object) -> None:
    from pathlib import Path

    import pyarrow.parquet as pq

    table = _mixed_table(30_000)
    path = Path(str(tmp_path)) / "t.parquet"
    pq.write_table(table, path, row_group_size=4_000)
    whole = profile_table(table, target="flag")
    streamed = profiling.profile_parquet(path, target="flag", gather_bytes=30_000 * 8)  # one column per pass
    assert pq.ParquetFile(path).num_row_groups == 8
    assert streamed.columns == whole.columns
    assert (streamed.duplicate_rows, streamed.correlations, streamed.target_associations, streamed.alerts) == (
        whole.duplicate_rows, whole.correlations, whole.target_associations, whole.alerts)
    codes = table.column("code").to_pandas()
    assert streamed.column("code").distinct == codes.nunique()
    edges = streamed.column("when").histogram["edges"]
    assert edges[0] == pytest.approx(np.datetime64("2024-01-01", "s").astype(np.int64), abs=86_400 * 12)
    assert streamed.column("city").top_values[0][1] == table.column("city").to_pandas().value_counts().iloc[0]
    # Text is read as dictionaries; the size in memory is still that of the text itself.
    assert streamed.memory_bytes == pytest.approx(whole.memory_bytes, rel=1e-2)  # buffers per row group differ a little


def test_profiling_reports_progress_and_stops_when_cancelled(tmp_path: object) -> None:
    from pathlib import Path

    import pyarrow.parquet as pq

    from core.errors import Cancelled
    from core.tasks import CancelToken, TaskContext

    path = Path(str(tmp_path)) / "t.parquet"
    pq.write_table(_mixed_table(20_000), path, row_group_size=1_000)
    seen: list[tuple[float, str]] = []
    profiling.profile_parquet(path, ctx=TaskContext(lambda f, m: seen.append((f, m))))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and any("Reading rows" in m for _, m in seen)
    token = CancelToken()
    calls: list[str] = []

    def progress(fraction: float, message: str) -> None:
        # The first report always gets through the throttle: cancel at the first row group
        # (a later fraction could be skipped by the throttle on a fast machine).
        calls.append(message)
        if "Reading rows" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        profiling.profile_parquet(path, ctx=TaskContext(progress, token))
    assert not any("Correlations" in m for m in calls)


def test_service_profiles_from_the_store_without_reading_the_snapshot_whole(
    datasets: object, tmp_path: object, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    import pyarrow.parquet as pq

    from core.store import blobs

    table = _mixed_table(5_000)
    path = Path(str(tmp_path)) / "m.parquet"
    pq.write_table(table, path)
    datasets.import_file(path, name="m")  # type: ignore[attr-defined]

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the profile read the whole snapshot")

    monkeypatch.setattr(blobs, "read_bytes", refuse)
    prof = datasets.profile("m", refresh=True)  # type: ignore[attr-defined]
    assert prof.columns == profile_table(table).columns


def test_spearman_matches_pandas_with_and_without_missing_values() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5_000, 6))
    x[:, 1] = x[:, 0] ** 3 + rng.normal(0, 0.1, 5_000)
    x[:, 2] = np.round(x[:, 2])  # ties
    got = associations.spearman_matrix(x)
    np.testing.assert_allclose(got, pd.DataFrame(x).corr(method="spearman").to_numpy(), rtol=1e-10, atol=1e-12)
    x[rng.random(5_000) < 0.2, 3] = np.nan
    x[rng.random(5_000) < 0.3, 4] = np.nan
    np.testing.assert_allclose(associations.spearman_matrix(x), pd.DataFrame(x).corr(method="spearman").to_numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(associations.pearson_matrix(x), pd.DataFrame(x).corr().to_numpy(), rtol=1e-10, atol=1e-12)


def test_identifier_and_pii_columns_are_left_out_of_target_associations() -> None:
    # An e-mail address and a customer id, unique per row, "predict" the target on the rows
    # they were seen on and on no others: they must not look like a feature or a leak.
    data = load_breast_cancer(as_frame=True).frame
    data["email"] = [f"person{i}@example.com" for i in range(len(data))]
    data["customer_id"] = np.arange(len(data)) * 7 + 1000
    data["leak"] = data["target"] * 10 + 3
    prof = profile_table(pa.Table.from_pandas(data, preserve_index=False), target="target")
    measured = {a.column for a in prof.target_associations}
    assert {"email", "customer_id"}.isdisjoint(measured) and "leak" in measured
    excluded = {a.column: a.message for a in prof.alerts if a.kind == "target_excluded"}
    assert "identifier" in excluded["customer_id"] and "PII" in excluded["email"]


def test_mutual_information_is_plug_in_with_miller_madow_correction() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 20_000)
    noise = rng.integers(0, 2_000, 20_000)  # many levels, unrelated to y: plug-in bias ≈ 0.05
    assert associations.mutual_information(noise, y) < 0.01
    same = associations.mutual_information(y, y)
    p = np.bincount(y) / y.size
    assert same == pytest.approx(-np.sum(p * np.log(p)), abs=1e-3)  # H(y), in nats


def test_the_one_column_model_scores_agree_with_scikit_learn_metrics() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 3000)
    score = np.round(rng.normal(size=3000) + y, 1)  # ties on purpose
    assert associations._auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)

    codes = rng.integers(0, 8, 3000)
    decisive = np.where(codes < 4, 0, 1)
    assert associations.binned_model_score(codes, decisive, 3, "roc_auc") == pytest.approx(1.0)
    assert associations.binned_model_score(codes, y, 3, "roc_auc") == pytest.approx(0.5, abs=0.05)
    three = codes % 3
    assert associations.binned_model_score(codes, three, 3, "balanced_accuracy") == pytest.approx(1.0)
    assert associations.binned_model_score(codes, rng.integers(0, 3, 3000), 3, "balanced_accuracy") < 0.4
    step = codes * 2.0 + rng.normal(scale=0.01, size=3000)
    assert associations.binned_model_score(codes, step, 3, "r2") > 0.99
    assert associations.binned_model_score(codes, rng.normal(size=3000), 3, "r2") < 0.01


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-3, 3).map(float)), min_size=1, max_size=300))
@example(values=[0.0, 5e-324])  # once crashed the profile: too narrow a range for two bins
def test_figures_from_one_sort_equal_numpys_own(values: list[float]) -> None:
    v = np.array(values)
    s = np.sort(v)
    assert np.array_equal(profiling.quantiles_of_sorted(s, profiling.QUANTILES), np.quantile(v, profiling.QUANTILES))
    col = profiling.profile_column("x", pa.chunked_array([pa.array(v)]))
    try:
        counts, edges = np.histogram(v, bins=min(profiling.HIST_BINS, np.unique(v).size))
    except ValueError:  # numpy refuses that many bins over a subnormal range; the profile uses one
        counts, edges = np.histogram(v, bins=1)
    assert col.histogram["counts"] == [float(c) for c in counts] and col.histogram["edges"] == [float(e) for e in edges]
    uniq, ucounts = np.unique(v, return_counts=True)
    expected = [(profiling._num_text(uniq[i]), int(ucounts[i])) for i in np.argsort(-ucounts, kind="stable")[: profiling.TOP_N]]
    assert col.top_values == expected
    assert (col.stats["zeros"], col.stats["negatives"]) == (int(np.sum(v == 0)), int(np.sum(v < 0)))


def test_correlation_ratios_equal_a_groupby_reference() -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(-1, 6, 5000)
    x = np.column_stack([rng.normal(size=5000) + codes * 0.3, rng.normal(size=5000)])
    x[rng.random(5000) < 0.1, 1] = np.nan
    got = associations.correlation_ratios([codes], np.asfortranarray(x))[0]
    for k in range(2):
        frame = pd.DataFrame({"c": codes, "v": x[:, k]})
        frame = frame[(frame.c >= 0) & frame.v.notna()]
        mean = frame.v.mean()
        between = frame.groupby("c").v.agg(lambda g, mean=mean: len(g) * (g.mean() - mean) ** 2).sum()
        total = ((frame.v - frame.v.mean()) ** 2).sum()
        assert got[k] == pytest.approx(np.sqrt(between / total), rel=1e-9)


@pytest.mark.parametrize("column", [
    # Nanoseconds below a microsecond (what pandas and time.time_ns write): Arrow's cast to
    # microseconds refuses to cut them, which once ended profile and drift in an internal error.
    pa.array([1_000_000_001, 2_000_000_003, None, 1_000_000_001, 86_400_000_000_007], pa.timestamp("ns")),
    pa.array([1_000_000_001, 2_000_000_003, None, 1_000_000_001, 86_400_000_000_007], pa.timestamp("ns", tz="UTC")),
    pa.array([0, 3, None, 3, 20_000], pa.date32()),
    pa.array([5, 6, 6, None, 7_000_000_000], pa.timestamp("s")),
], ids=["ns", "ns-utc", "date32", "s"])
def test_datetime_columns_of_every_unit_profile_as_numpy_counts_them(column: pa.Array) -> None:
    prof = profile_table(pa.table({"t": pa.chunked_array([column[:2], column[2:]])}))
    col = prof.columns[0]
    stored = column.cast(pa.int32() if pa.types.is_date32(column.type) else pa.int64())  # the integers as stored
    ints = np.array([v for v in stored.to_pylist() if v is not None], dtype=np.float64)
    per_second = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[column.type.unit] if pa.types.is_timestamp(column.type) \
        else 1 / 86_400
    counts, edges = np.histogram(ints / per_second, bins=profiling.HIST_BINS)
    assert col.distinct == len(np.unique(ints)) == 3
    assert col.missing == 1
    np.testing.assert_array_equal(col.histogram["counts"], counts)
    np.testing.assert_allclose(col.histogram["edges"], edges, rtol=1e-12)


def test_drift_compares_nanosecond_timestamps_without_an_error() -> None:
    from core.data import drift

    times = pa.array(np.arange(1, 2001, dtype=np.int64) * 1_000_000_001, pa.timestamp("ns"))
    table = pa.table({"t": times, "x": np.arange(2000.0)})
    report = drift.compare(table, table)
    assert not any(c.drifted for c in report.columns)
