"""Import never changes a value silently, and reads the files real tools write.

Real data: scikit-learn's bundled datasets (:mod:`tests.core.data.real_data`), written the
way R (``write.csv``), a European spreadsheet (``;`` and a decimal comma) or Windows
(UTF-16) would write them; every value read back is compared with the frame it came from.
"""

from __future__ import annotations

import csv
import random
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data import importing
from core.data.models import CsvOptions
from core.data.service import DatasetService
from core.errors import IntegrityError, InvalidInput
from tests.core.data import real_data


def _same_numbers(table: pa.Table, df: pd.DataFrame) -> None:
    for name in df.columns:
        got = np.asarray(table.column(str(name)).to_pylist(), dtype=float)
        assert np.array_equal(got, df[name].to_numpy(dtype=float)), name


# --- identifiers and types ------------------------------------------------------------------


def test_an_r_write_csv_file_imports_with_its_row_names_as_rownames(datasets: DatasetService, tmp_path: Path) -> None:
    df = real_data.frame("iris")
    df.index = [str(i) for i in range(1, len(df) + 1)]  # R's row names, quoted as write.csv quotes them
    path = tmp_path / "iris_r.csv"
    df.to_csv(path, quoting=csv.QUOTE_NONNUMERIC)
    assert path.read_text().startswith('"","sepal length (cm)"')
    v = datasets.import_file(path, name="iris").value.version
    assert [c.name for c in v.columns] == ["rownames", *df.columns]
    assert v.columns[0].type == "int64"
    assert any("'rownames'" in w and "write.csv" in w for w in v.warnings)
    table = datasets.read_table("iris")
    assert table.column("rownames").to_pylist() == list(range(1, 151))
    _same_numbers(table, df)
    profile = datasets.profile("iris", target="target")  # row numbers are an identifier, not a predictor
    assert profile.columns[0].name == "rownames" and profile.columns[0].semantic_type == "identifier"
    # The same file written by pandas with its index, read line by line (another encoding).
    pandas_path = tmp_path / "iris_pd.csv"
    real_data.frame("iris").to_csv(pandas_path, encoding="latin-1")
    v = datasets.import_file(pandas_path, name="iris_pd", csv=CsvOptions(encoding="latin-1")).value.version
    assert v.columns[0].name == "rownames" and datasets.read_table("iris_pd").column(0).to_pylist()[:3] == [0, 1, 2]


def test_an_unnamed_column_elsewhere_is_still_refused(datasets: DatasetService, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,,c\n1,2,3\n")
    with pytest.raises(InvalidInput, match="column 2 has an empty name"):
        datasets.import_file(path)


def test_timestamps_with_a_time_zone_are_utc_datetimes_with_their_offsets_named(
    datasets: DatasetService, tmp_path: Path,
) -> None:
    df = real_data.frame("iris")
    base = pd.Timestamp("2013-01-01T10:00:00", tz="UTC")
    offsets = ["Z", "+00:00", "+02:00", "-05:30"]
    stamps = []
    for i in range(len(df)):
        moment = base + pd.Timedelta(hours=i)
        offset = offsets[i % 4]
        local = moment.tz_convert(pd.Timestamp("2013-01-01T00:00:00" + ("+00:00" if offset == "Z" else offset)).tz)
        stamps.append(local.strftime("%Y-%m-%dT%H:%M:%S") + offset)
    df["measured"] = stamps
    path = real_data.write_csv("iris_tz", tmp_path, df=df)
    v = datasets.import_file(path, name="tz").value.version
    assert dict((c.name, c.type) for c in v.columns)["measured"] == "timestamp[us, tz=UTC]"
    got = datasets.read_table("tz").column("measured").to_pylist()
    expected = pd.to_datetime(pd.Series(stamps), utc=True, format="ISO8601")
    assert [g.timestamp() for g in got] == [e.timestamp() for e in expected]
    assert got[2].isoformat() == "2013-01-01T12:00:00+00:00"  # 14:00+02:00 is 12:00 UTC
    warning = next(w for w in v.warnings if "'measured'" in w)
    assert all(o in warning for o in offsets) and "UTC" in warning
    # Naive timestamps stay naive; a column mixing the two is text (never one silently shifted).
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("t\n2013-01-01T10:00:00Z\n2013-01-01 10:00:00\n")
    assert datasets.import_file(mixed).value.version.columns[0].type == "string"


def test_a_european_csv_is_sniffed_and_its_numbers_are_numbers(datasets: DatasetService, tmp_path: Path) -> None:
    df = real_data.frame("wine")
    path = tmp_path / "wine_eu.csv"
    df.to_csv(path, sep=";", decimal=",", index=False)
    assert ";" in path.read_text().splitlines()[1] and "," in path.read_text().splitlines()[1]
    assert importing.sniff(path, CsvOptions()).decimal == ","
    v = datasets.import_file(path, name="wine").value.version
    types = {c.name: c.type for c in v.columns}
    assert all(types[c] == "double" for c in df.columns if df[c].dtype.kind == "f")
    assert types["target"] == "int64" and not v.warnings
    _same_numbers(datasets.read_table("wine"), df)


def test_the_decimal_mark_can_be_overridden_and_text_keeps_its_commas(datasets: DatasetService, tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("name;amount\n" + "".join(f"Smith, J{i};{i},5\n" for i in range(40)) + "Doe, A;1.234,5\n")
    v = datasets.import_file(path, name="eu").value.version
    table = datasets.read_table("eu")
    assert table.column("name").to_pylist()[0] == "Smith, J0"  # text is never touched
    # "1.234,5" holds a point: with a decimal comma it is not read as a number (thousands?).
    assert v.columns[1].type == "string" and any("mixed types" in w for w in v.warnings)
    plain = tmp_path / "plain.csv"
    plain.write_text("a;b\n" + "".join(f"{i},25;x\n" for i in range(30)))
    forced = datasets.import_file(plain, name="p", csv=CsvOptions(decimal=".")).value.version
    assert forced.columns[0].type == "string"  # told the decimal mark is a point: "0,25" is not a number
    assert datasets.import_file(plain, name="p2").value.version.columns[0].type == "double"
    with pytest.raises(InvalidInput, match="cannot also be the delimiter"):
        datasets.import_file(plain, name="p3", csv=CsvOptions(delimiter=",", decimal=","))


def test_the_cli_takes_a_decimal_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from core.api import Engine, Unlock
    from core.cli.main import main

    ws = tmp_path / "w.airlock"
    Engine.create(ws, name="T", passphrase="correct horse", use_keyring=False)[0].close()
    monkeypatch.setenv("AIRLOCK_WORKSPACE", str(ws))
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "correct horse")
    path = tmp_path / "tabs.tsv"
    path.write_text("x\ty\n" + "".join(f"{i},5\t{i}\n" for i in range(20)))
    assert main(["data", "import", str(path), "--decimal", ".", "--json"]) == 0
    capsys.readouterr()
    assert main(["data", "import", str(path), "--name", "t2", "--decimal", ","]) == 0
    assert "Imported t2@1" in capsys.readouterr().out
    with Engine.open(ws, Unlock.with_passphrase("correct horse")) as eng:
        assert [c.type for c in eng.datasets.version("tabs").columns] == ["string", "int64"]
        assert eng.datasets.read_table("t2").column("x").to_pylist()[:2] == [0.5, 1.5]


def test_a_sql_integer_column_null_in_its_first_batch_is_an_integer_column(
    datasets: DatasetService, tmp_path: Path,
) -> None:
    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.execute("create table t (id integer, late integer, never text)")
    con.executemany("insert into t values (?,?,?)",
                    [(i, None if i < 60_000 else i, None) for i in range(60_010)])  # a batch is 50,000 rows
    con.commit()
    con.close()
    v = datasets.import_sql(f"sqlite:///{db}", "select * from t order by id", name="s").value.version
    assert [c.type for c in v.columns] == ["int64", "int64", "string"]
    late = datasets.read_table("s").column("late").to_pylist()
    assert late[:60_000] == [None] * 60_000 and late[60_000:] == list(range(60_000, 60_010))


# --- import never changes a value silently --------------------------------------------------


def _ids(n: int, seed: int) -> list[int]:
    """Customer numbers of 19–20 digits, issued in sequence, across the end of int64's range."""
    rng = random.Random(seed)
    ids, value = [], 2**63 - 4 * n
    for _ in range(n):
        value += rng.randrange(1, 9)
        ids.append(value)
    return ids


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])  # the one-pass check, and the line-by-line scan
def test_integers_beyond_int64_stay_distinct_as_text(datasets: DatasetService, tmp_path: Path, encoding: str) -> None:
    df = real_data.frame("digits").iloc[:1001].copy()
    ids = _ids(1001, 1)
    assert any(i > 2**63 - 1 for i in ids) and len({float(i) for i in ids}) < 10  # as floats they would merge
    df.insert(0, "customer_id", ids)
    path = tmp_path / "digits_ids.csv"
    df.to_csv(path, index=False, encoding=encoding)
    v = datasets.import_file(path, name="digits", csv=CsvOptions(encoding=encoding)).value.version
    assert v.columns[0].type == "string"
    got = datasets.read_table("digits").column("customer_id").to_pylist()
    assert len(set(got)) == 1001 and got == [str(i) for i in ids]
    assert any("'customer_id'" in w and "64-bit integer range" in w for w in v.warnings)
    _same_numbers(datasets.read_table("digits"), df.drop(columns="customer_id"))


def test_19_digit_ids_within_int64_stay_exact_integers(datasets: DatasetService, tmp_path: Path) -> None:
    ids = [2**63 - 1 - 7 * i for i in range(500)]
    path = tmp_path / "ids.csv"
    path.write_text("id,x\n" + "".join(f"{i},{k}.5\n" for k, i in enumerate(ids)))
    v = datasets.import_file(path).value.version
    assert v.columns[0].type == "int64" and datasets.read_table("ids").column("id").to_pylist() == ids


def test_a_number_beyond_float_range_is_reported(datasets: DatasetService, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("x,y\n" + "".join(f"{i}.5,{i}\n" for i in range(100)) + "1e400,3\n")
    v = datasets.import_file(path).value.version
    assert v.columns[0].type == "double" and datasets.read_table("big").column("x").to_pylist()[-1] == float("inf")
    assert any("'x'" in w and "infinite" in w and "data row 101" in w for w in v.warnings)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_nul_byte_far_into_the_file_is_refused_with_its_line_and_column(
    datasets: DatasetService, tmp_path: Path, encoding: str,
) -> None:
    path = real_data.write_csv("digits", tmp_path)
    lines = path.read_bytes().split(b"\n")
    assert sum(len(ln) + 1 for ln in lines[:1000]) > 64 * 1024  # beyond the sniffed sample
    lines[1000] = lines[1000][:4] + b"\x00" + lines[1000][4:]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InvalidInput, match=r"line 1001, column 5: a NUL byte"):
        datasets.import_file(path, csv=CsvOptions(encoding=encoding))
    assert datasets.list() == []


def test_a_very_wide_file_fails_fast_naming_the_count_and_the_cap(datasets: DatasetService, tmp_path: Path) -> None:
    width = 100_000
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(width)) + "\n" + ("\n".join([",".join(["1"] * width)] * 5)) + "\n")
    assert path.stat().st_size > 1_500_000
    message = f"{width:,} columns, more than the {importing.MAX_COLUMNS:,}"
    with pytest.raises(InvalidInput, match=message):
        datasets.import_file(path)
    with pytest.raises(InvalidInput, match=message):
        datasets.import_file(path, csv=CsvOptions(encoding="latin-1"))
    with pytest.raises(InvalidInput, match=message):
        datasets.preview_file(path)
    fits = tmp_path / "fits.csv"
    fits.write_text(",".join(f"c{i}" for i in range(importing.MAX_COLUMNS)) + "\n"
                    + ",".join(["1"] * importing.MAX_COLUMNS) + "\n")
    assert datasets.import_file(fits).value.version.column_count == importing.MAX_COLUMNS


def test_utf16_with_a_byte_order_mark_is_read_and_utf8_bom_still_is(datasets: DatasetService, tmp_path: Path) -> None:
    df = real_data.frame("diabetes")
    path = tmp_path / "diabetes16.csv"
    df.to_csv(path, index=False, encoding="utf-16")
    assert path.read_bytes()[:2] == b"\xff\xfe"
    v = datasets.import_file(path, name="d16").value.version
    assert [c.name for c in v.columns] == list(df.columns)
    assert any("UTF-16" in w for w in v.warnings)
    _same_numbers(datasets.read_table("d16"), df)
    assert "utf-16" in datasets.preview_file(path).settings
    with pytest.raises(InvalidInput, match="--encoding utf-16"):
        datasets.import_file(path, name="x", csv=CsvOptions(encoding="latin-1"))
    bom8 = tmp_path / "diabetes8.csv"
    df.to_csv(bom8, index=False, encoding="utf-8-sig")
    v = datasets.import_file(bom8, name="d8").value.version
    assert [c.name for c in v.columns] == list(df.columns) and not v.warnings
    _same_numbers(datasets.read_table("d8"), df)


def test_parquet_types_the_profile_cannot_describe_are_refused_or_converted_exactly(
    datasets: DatasetService, tmp_path: Path,
) -> None:
    n = 200
    nested = pa.table({
        "k": pa.array(range(n)),
        "s": pa.array([{"a": i} for i in range(n)]),
        "m": pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int64())),
        "deep": pa.array([[[i]] for i in range(n)]),
    })
    pq.write_table(nested, tmp_path / "nested.parquet")
    with pytest.raises(InvalidInput, match=r"3 columns.*'s' \(column 2.*'m' \(column 3.*'deep' \(column 4"):
        datasets.import_file(tmp_path / "nested.parquet")
    df = real_data.frame("iris")
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.append_column("big", pa.array([2**64 - 1 - i for i in range(len(df))], pa.uint64()))
    table = table.append_column("small", pa.array(range(len(df)), pa.uint64()))
    table = table.append_column("nothing", pa.nulls(len(df)))
    pq.write_table(table, tmp_path / "iris.parquet")
    v = datasets.import_file(tmp_path / "iris.parquet").value.version
    types = {c.name: c.type for c in v.columns}
    assert (types["big"], types["small"], types["nothing"]) == ("string", "int64", "string")
    got = datasets.read_table("iris")
    assert got.column("big").to_pylist() == [str(2**64 - 1 - i) for i in range(len(df))]
    assert got.column("small").to_pylist() == list(range(len(df)))
    assert any("'big'" in w and "exact digits" in w for w in v.warnings)
    _same_numbers(got, df)
    profile = datasets.profile("iris")  # and the profile, schema and drift now work on it
    assert {c.name for c in profile.columns} >= {"big", "small", "nothing"}
    datasets.infer_schema("iris")
    assert datasets.validate("iris", "iris").ok
    assert not datasets.drift("iris", "iris").drift


def test_an_altered_snapshot_is_an_integrity_error_in_the_profile(
    workspace: tuple[object, str], tmp_path: Path,
) -> None:
    from core.api import Engine, Unlock
    from core.store import keys
    from tests.core.helpers import tamper_connection

    engine, recovery = workspace
    path = real_data.write_csv("breast_cancer", tmp_path)
    engine.datasets.import_file(path, name="bc")  # type: ignore[attr-defined]
    where = engine.path  # type: ignore[attr-defined]
    engine.close()  # type: ignore[attr-defined]
    conn = tamper_connection(where, keys.parse_recovery_key(recovery))
    (data,) = conn.execute("SELECT data FROM blob_chunk WHERE seq = 0").fetchone()
    altered = bytearray(data)
    middle = len(altered) // 2
    altered[middle : middle + 64] = bytes(64)  # inside a compressed page, same size
    conn.execute("UPDATE blob_chunk SET data = ? WHERE seq = 0", (bytes(altered),))
    conn.close()
    with Engine.open(where, Unlock.with_recovery_key(recovery)) as again:
        for work in (lambda: again.datasets.profile("bc"), lambda: again.datasets.read_table("bc"),
                     lambda: again.datasets.drift("bc", "bc")):
            with pytest.raises(IntegrityError, match=r"bc@1.*does not match its hash"):
                work()
