"""Importing a SQL query: SQLite always, PostgreSQL when its server binaries are installed."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.data.service import DatasetService
from core.errors import InvalidInput


def _sqlite(tmp_path: Path) -> str:
    db = tmp_path / "src.db"
    con = sqlite3.connect(db)
    con.execute("create table t (id integer, amount real, city text)")
    con.executemany("insert into t values (?,?,?)", [(i, i * 1.5, f"c{i % 3}") for i in range(1000)])
    con.commit()
    con.close()
    return f"sqlite:///{db}"


def test_sqlite_query_becomes_a_version_with_lineage(datasets: DatasetService, tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    v = datasets.import_sql(url, "select * from t where id < 600", name="orders").value.version
    assert (v.row_count, [c.type for c in v.columns]) == (600, ["int64", "double", "string"])
    assert v.lineage.source_kind == "sql" and v.lineage.query == "select * from t where id < 600"
    assert datasets.read_table("orders").column("amount").to_pylist()[:2] == [0.0, 1.5]


def test_bad_sql_is_invalid_input_and_nothing_is_stored(datasets: DatasetService, tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    with pytest.raises(InvalidInput, match="query failed"):
        datasets.import_sql(url, "select nope from t", name="x")
    with pytest.raises(InvalidInput, match="no rows"):
        datasets.import_sql(url, "select * from t where 0", name="x")
    with pytest.raises(InvalidInput, match="Not a database URL"):
        datasets.import_sql("::nonsense", "select 1", name="x")
    assert datasets.list() == []


def _initdb() -> str | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None)
    return found


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[tuple[str, str]]:
    initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="airlock-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the package's postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run initdb as")
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    bindir = Path(initdb).parent
    data, sock, pwfile = root / "pg", root / "sock", root / "pw"
    pwfile.write_text("s3cret-pw\n")
    if as_user:
        shutil.chown(pwfile, "postgres")
    subprocess.run([*as_user, "mkdir", str(sock)], check=True)
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "airlock", "--pwfile", str(pwfile),
                        "-A", "scram-sha-256"], check=True, capture_output=True)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"),
                        "-o", f"-k {sock} -c listen_addresses=''", "start"], check=True, capture_output=True)
        yield f"postgresql+psycopg://airlock@/postgres?host={sock}", "s3cret-pw"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_import_never_stores_the_password(
    engine: object, datasets: DatasetService, postgres: tuple[str, str]
) -> None:
    url, password = postgres
    with_pw = url.replace("airlock@", f"airlock:{password}@")
    v = datasets.import_sql(with_pw, "select g as n, g * 2.5 as x from generate_series(1, 500) g", name="pg").value.version
    assert v.row_count == 500 and password not in v.lineage.source
    events, _ = engine.audit.events(action="dataset.imported")  # type: ignore[attr-defined]
    assert all(password not in str(e.details) for e in events)
    with pytest.raises(InvalidInput) as info:
        datasets.import_sql(url, "select 1", name="pg2", password="wrong-" + password)
    assert password not in str(info.value)


def test_postgresql_integer_column_null_in_its_first_batch_stays_integer(
    datasets: DatasetService, postgres: tuple[str, str]
) -> None:
    url, password = postgres
    query = ("select g as id, case when g > 60000 then g end as late, null::int as never, "
             "case when g > 60000 then g * 0.5 end as half from generate_series(1, 60010) g order by g")
    v = datasets.import_sql(url, query, name="pg_late", password=password).value.version
    assert [c.type for c in v.columns] == ["int64", "int64", "string", "double"]
    late = datasets.read_table("pg_late").column("late").to_pylist()
    assert late[:60_000] == [None] * 60_000 and late[60_000:] == list(range(60_001, 60_011))
