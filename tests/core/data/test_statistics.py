"""Profile statistics on real data (scikit-learn's bundled sets) against independent references.

Spearman against scipy and pandas with missing values on different rows; mutual information
against scikit-learn's plug-in estimate with Miller–Madow's correction worked out from the
contingency table; the permutation p-value against real shuffles; the one-column model
against a constant; Tukey's outliers against numpy; identifiers found by content (row
numbers, sequences, names) and names treated as personal data unless the user says not.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats
from sklearn.metrics import mutual_info_score

from core import formats
from core.data import associations, profiling
from core.data.models import REDACTED, Profile
from core.data.profiling import HIGH_CORRELATION, profile_parquet, profile_table
from core.errors import InvalidInput
from tests.core.data import real_data

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Katherine", "Margaret",
          "Niklaus", "Radia", "Sophie", "Tim", "Ken", "Dennis", "Hedy", "Claude", "Anita", "Leslie", "Robin"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Johnson", "Hamilton",
         "Wirth", "Perlman", "Wilson", "Berners-Lee", "Thompson", "Ritchie", "Lamarr", "Shannon", "Borg", "Lamport",
         "Milner", "O'Neil", "McCarthy", "Kay", "Hoare", "Floyd"]


def _names(n: int) -> list[str]:
    names = [f"{a} {b}" for a, b in itertools.product(_FIRST, _LAST)]
    names += [f"{a} {m}. {b}" for a, m, b in itertools.product(_FIRST, "BCDJMRS", _LAST)]
    order = np.random.default_rng(7).permutation(len(names))[:n]
    return [names[i] for i in order]


def _table(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def _by_pair(prof: Profile, method: str) -> dict[frozenset[str], float]:
    return {frozenset((c.a, c.b)): c.value for c in prof.correlations if c.method == method}


# --- Spearman ------------------------------------------------------------------------------

def test_spearman_equals_scipy_on_pairwise_complete_rows_with_missing_values_on_different_rows() -> None:
    wine = real_data.frame("wine").drop(columns="target")
    rng = np.random.default_rng(11)
    for k, name in enumerate(["alcohol", "malic_acid", "ash", "magnesium", "proline"]):
        wine.loc[rng.random(len(wine)) < 0.1 + 0.05 * k, name] = np.nan  # different rows in each
    prof = profile_table(_table(wine))
    got = _by_pair(prof, "spearman")
    reference = wine.corr(method="spearman")
    worst_old = 0.0
    for a, b in itertools.combinations(wine.columns, 2):
        rho = stats.spearmanr(wine[a], wine[b], nan_policy="omit").statistic
        assert got[frozenset((a, b))] == pytest.approx(rho, abs=1e-12)
        assert got[frozenset((a, b))] == pytest.approx(reference.loc[a, b], abs=1e-12)
        # What the profile computed before: each column ranked once over all its own values.
        ra, rb = wine[a].rank(), wine[b].rank()
        worst_old = max(worst_old, abs(ra.corr(rb) - rho))
    assert worst_old > 1e-3  # the old way is measurably off on these rows: the test can fail


def test_spearman_reuses_global_ranks_where_missing_patterns_agree() -> None:
    x = real_data.frame("diabetes").drop(columns="target").to_numpy()[:, :6].copy()
    gone = np.random.default_rng(3).random(x.shape[0]) < 0.2
    x[gone, 2] = np.nan
    x[gone, 3] = np.nan  # the same rows: both columns' own ranks are the pair's ranks
    x[np.random.default_rng(4).random(x.shape[0]) < 0.1, 4] = np.nan
    np.testing.assert_allclose(associations.spearman_matrix(np.asfortranarray(x)),
                               pd.DataFrame(x).corr(method="spearman").to_numpy(), rtol=0, atol=1e-12)


# --- mutual information --------------------------------------------------------------------

def _codes(frame: pd.DataFrame, name: str, bins: int) -> np.ndarray:
    return associations._bin_codes(frame[name].to_numpy(dtype=float), False, bins)


def test_mutual_information_is_plug_in_minus_miller_madow_on_occupied_cells() -> None:
    data = real_data.frame("diabetes")
    bins = associations.bins_for(len(data))
    y = _codes(data, "target", bins)
    for name in ("bmi", "s5", "age", "sex"):
        x = _codes(data, name, bins)
        table = pd.crosstab(x, y).to_numpy()
        occupied, kx, ky = int((table > 0).sum()), int((table.sum(1) > 0).sum()), int((table.sum(0) > 0).sum())
        expected = max(mutual_info_score(x, y) - (occupied - kx - ky + 1) / (2 * len(data)), 0.0)
        assert associations.mutual_information(x, y) == pytest.approx(expected, abs=1e-12)


def test_real_signal_ranks_above_noise_on_small_data() -> None:
    data = real_data.frame("diabetes").head(120).copy()
    rng = np.random.default_rng(0)
    for k in range(3):
        data[f"noise{k}"] = rng.normal(size=len(data))
    r2 = np.corrcoef(data["bmi"], data["target"])[0, 1] ** 2
    assert r2 > 0.2  # a real relation, on 120 rows
    prof = profile_table(_table(data), target="target")
    by = {a.column: a for a in prof.target_associations}
    bmi, noise = by["bmi"], [by[f"noise{k}"] for k in range(3)]
    assert bmi.mutual_information > 0 and all(bmi.mutual_information > n.mutual_information for n in noise)
    assert all(bmi.model_score > n.model_score for n in noise)
    order = [a.column for a in prof.target_associations]
    assert all(order.index("bmi") < order.index(n.column) for n in noise)
    assert bmi.p_value is not None and bmi.p_value <= 0.05
    assert all(n.p_value is not None and n.p_value > 0.05 for n in noise)
    # The old correction, (Bx − 1)(By − 1) / 2n with 20 bins, is larger than bmi's plug-in figure.
    x20, y20 = _codes(data, "bmi", 20), _codes(data, "target", 20)
    assert mutual_info_score(x20, y20) - 19 * 19 / (2 * len(data)) <= 0


def test_permutation_p_value_matches_real_shuffles() -> None:
    data = real_data.frame("breast_cancer")
    y = data["target"].to_numpy()
    bins = associations.bins_for(len(data))
    rng = np.random.default_rng(5)
    for name in ("mean fractal dimension", "texture error", "symmetry error", "smoothness error"):
        x = _codes(data, name, bins)
        joint = associations.contingency(x, y)
        observed = mutual_info_score(x, y)
        shuffles = np.array([mutual_info_score(x, rng.permutation(y)) for _ in range(400)])
        by_shuffling = (1 + np.sum(shuffles >= observed - 1e-12)) / 401
        ours = associations.permutation_p_value(joint, permutations=399)
        assert ours == pytest.approx(by_shuffling, abs=0.08)  # Monte Carlo error of both
    assert associations.permutation_p_value(associations.contingency(_codes(data, "worst perimeter", bins), y)) == 1 / 200


# --- the one-column model ------------------------------------------------------------------

@pytest.mark.parametrize(("name", "target", "rows"), [
    ("linnerud", "Weight", None), ("linnerud", "Pulse", None), ("diabetes", "target", 60),
    ("iris", "target", None), ("wine", "target", 45), ("breast_cancer", "target", 40),
])
def test_the_one_column_model_is_never_worse_than_a_constant(name: str, target: str, rows: int | None) -> None:
    data = real_data.frame(name)
    if rows is not None:
        data = data.sample(rows, random_state=0)
    prof = profile_table(_table(data), target=target)
    assert prof.target_associations
    for a in prof.target_associations:
        floor = {"r2": 0.0, "roc_auc": 0.5}.get(a.score_name, 1 / data[target].nunique())
        assert a.model_score >= floor - 1e-12, (a.column, a.score_name, a.model_score)
        assert a.p_value is not None and 0 < a.p_value <= 1


def test_bins_follow_the_data_size() -> None:
    assert [associations.bins_for(n) for n in (20, 60, 150, 442, 20_000)] == [2, 2, 5, 14, 20]


# --- outliers, high correlation, leakage ---------------------------------------------------

def test_tukey_outliers_match_numpy_and_skip_zero_iqr_and_flags() -> None:
    digits = real_data.frame("digits")
    data = digits[["pixel_0_3", "pixel_0_1", "pixel_3_3", "pixel_2_2"]].copy()
    data["flag"] = (digits["target"] == 3).astype(int)
    prof = profile_table(_table(data))
    for name in data.columns:
        v = data[name].to_numpy(dtype=float)
        q1, q3 = np.quantile(v, [0.25, 0.75])
        col = prof.column(name)
        if q3 - q1 == 0 or np.unique(v).size <= 2:
            assert "outliers" not in col.stats
            assert not any(a.kind == "outliers" and a.column == name for a in prof.alerts)
        else:
            assert col.stats["outliers"] == int(np.sum((v < q1 - 1.5 * (q3 - q1)) | (v > q3 + 1.5 * (q3 - q1))))
    assert "outliers" not in prof.column("pixel_0_1").stats  # mostly zeros: IQR 0
    assert "outliers" not in prof.column("flag").stats
    data = real_data.frame("breast_cancer")
    prof = profile_table(_table(data))
    alert = next(a for a in prof.alerts if a.kind == "outliers" and a.column == "area error")
    assert "1.5×IQR" in alert.message and "Tukey" in alert.message


def test_high_correlation_alerts_name_both_columns_of_every_pair_above_the_threshold() -> None:
    data = real_data.frame("breast_cancer")
    prof = profile_table(_table(data), target="target")
    features = data.drop(columns="target")
    pearson, spearman = features.corr(), features.corr(method="spearman")
    expected = {frozenset((a, b)) for a, b in itertools.combinations(features.columns, 2)
                if max(abs(pearson.loc[a, b]), abs(spearman.loc[a, b])) > HIGH_CORRELATION}
    alerts = [a for a in prof.alerts if a.kind == "high_correlation"]
    got = set()
    for a in alerts:
        pair = frozenset(n for n in features.columns if f"{n} and " in a.message or f" and {n} are" in a.message)
        assert len(pair) == 2 and a.column in pair
        got.add(pair)
    assert got == expected and frozenset(("mean radius", "mean perimeter")) in got


def test_leakage_names_the_column_even_where_binning_hides_it() -> None:
    data = real_data.frame("diabetes").head(80).copy()
    data["target_in_cents"] = data["target"] * 100 + 1  # the target itself, rescaled
    prof = profile_table(_table(data), target="target")
    by = {a.column: a for a in prof.target_associations}
    assert by["target_in_cents"].leakage and not by["bmi"].leakage
    leaks = [a for a in prof.alerts if a.kind == "leakage"]
    assert [a.column for a in leaks] == ["target_in_cents"] and "target_in_cents" in leaks[0].message


# --- identifiers and personal data ---------------------------------------------------------

def _with_ids(name: str) -> pd.DataFrame:
    data = real_data.frame(name)
    n = len(data)
    data.insert(0, "rownames", np.arange(1, n + 1))  # what R's write.csv adds
    data["shuffled"] = np.random.default_rng(1).permutation(n) + 1
    data["sequence"] = 1000 + 7 * np.arange(n) + np.random.default_rng(2).integers(0, 5, n)  # increasing, gaps
    data["person"] = _names(n)
    return data


def test_identifiers_are_found_by_content_and_left_out_with_the_reason() -> None:
    data = _with_ids("iris")
    prof = profile_table(_table(data), target="target")
    for name, reason in (("rownames", "row numbers"), ("shuffled", "row numbers"), ("sequence", "increasing"),
                         ("person", "text unique per row")):
        col = prof.column(name)
        assert col.semantic_type == "identifier" and col.identifier is not None and reason in col.identifier
        assert not any(name in (c.a, c.b) for c in prof.correlations)
        assert name not in {a.column for a in prof.target_associations}
        excluded = next(a for a in prof.alerts if a.kind == "target_excluded" and a.column == name)
        assert "identifier" in excluded.message or "PII" in excluded.message
        shown = next(a for a in prof.alerts if a.kind == "identifier" and a.column == name)
        assert col.identifier in shown.message and "drift" in shown.message
    # No column of a bundled set is taken for an identifier.
    for name in real_data.BUNDLED:
        plain = profile_table(_table(real_data.frame(name)))
        assert not [c.name for c in plain.columns if c.semantic_type == "identifier"], name


def test_names_and_free_text_unique_per_row_are_personal_data_unless_the_user_says_not() -> None:
    data = _with_ids("wine")
    data["note"] = [f"Tasted on day {i} by the panel, who found it {w} and worth another glass"
                    for i, w in zip(range(len(data)), itertools.cycle(["dry", "round", "sharp"]), strict=False)]
    table = _table(data)
    prof = profile_table(table)
    person, note = prof.column("person"), prof.column("note")
    assert (person.pii, note.pii) == ("person_name", "free_text") and note.semantic_type == "text"
    for col in (person, note):
        assert col.top_values and all(v == REDACTED for v, _ in col.top_values)
    text = formats.dumps(prof).decode("utf-8")
    assert data["person"].iloc[0] not in text and "Tasted on day" not in text
    assert {a.column for a in prof.alerts if a.kind == "pii"} >= {"person", "note"}
    shown = profile_table(table, not_pii=("person",))
    assert shown.not_pii == ("person",) and shown.column("person").pii is None
    assert {v for v, _ in shown.column("person").top_values} <= set(data["person"])
    assert shown.column("note").pii == "free_text" and shown.column("person").semantic_type == "identifier"
    with pytest.raises(InvalidInput, match="nobody"):
        profile_table(table, not_pii=("nobody",))


def test_streamed_profile_finds_the_same_identifiers_and_personal_data(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    table = _table(_with_ids("breast_cancer"))
    pq.write_table(table, tmp_path / "b.parquet", row_group_size=100)
    streamed = profile_parquet(tmp_path / "b.parquet", target="target", not_pii=("shuffled",))
    whole = profile_table(table, target="target", not_pii=("shuffled",))
    assert streamed.columns == whole.columns and streamed.alerts == whole.alerts
    assert streamed.column("person").pii == "person_name"


def test_imported_csv_with_row_numbers_and_names(datasets: object, tmp_path: Path) -> None:
    path = real_data.write_csv("diabetes", tmp_path, df=_with_ids("diabetes"))
    datasets.import_file(path, name="diabetes")  # type: ignore[attr-defined]
    prof = datasets.profile("diabetes", target="target")  # type: ignore[attr-defined]
    assert prof.column("rownames").semantic_type == "identifier" and prof.column("person").pii == "person_name"
    assert {"rownames", "person", "shuffled", "sequence"}.isdisjoint(a.column for a in prof.target_associations)


def test_a_version_1_profile_still_reads() -> None:
    prof = profile_table(_table(_with_ids("iris")), target="target")
    body = json.loads(formats.dumps(prof))
    body["format_version"] = 1
    del body["not_pii"]
    for col in body["columns"]:
        del col["identifier"]
    for a in body["target_associations"]:
        del a["p_value"]
    old = formats.loads(Profile, json.dumps(body))
    assert old.column("rownames").identifier == "identifier" and old.column("sepal length (cm)").identifier is None
    assert old.target_associations[0].p_value is None and old.not_pii == ()


def test_identifier_reason_of_a_raw_column_is_the_profiles_decision() -> None:
    table = _table(_with_ids("wine"))
    prof = profile_table(table)
    for name in table.column_names:
        assert profiling.identifier_reason(name, table.column(name)) == prof.column(name).identifier, name
