"""Encrypted workspace store vs plain SQLite: the same SQLAlchemy code against both.

(a) core.store.db.Store on a SQLCipher file with a raw key (the workspace's own connection
settings: pinned cipher pragmas, temp_store=MEMORY, WAL, synchronous=FULL); (b) a plain
sqlite3 file through SQLAlchemy with the same pragmas. Row operations: a bulk insert in one
transaction, point lookups by primary key, a GROUP BY. Blobs: MB/s through
core.store.blobs put_stream/iter_chunks vs the same chunked table in plain SQLite.

Targets: encrypted ≤ 1.5× plain for row operations, blob throughput ≥ 150 MB/s.
Run: .venv/bin/python benchmarks/store_bench.py [--rows N] [--blob-mb N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Engine, Integer, String, create_engine, event, func, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from core.store import blobs
from core.store.db import Store, Transaction, orm
from core.store.schema import Base as StoreBase
from core.store.schema import BlobChunkRow, BlobRow

SEED = 1234
MB = 1024 * 1024


class BenchBase(DeclarativeBase):
    pass


class Measurement(BenchBase):
    __tablename__ = "bench_measurement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(20))
    value: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(80))


def plain_engine(path: Path) -> Engine:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    engine = create_engine("sqlite+pysqlite://", creator=connect)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


class PlainTx(Transaction):
    """A transaction over the plain SQLite file (no audit chain): enough for the blob functions."""

    def __init__(self, session: Session) -> None:
        super().__init__(session, "bench", "bench", writable=True)


@contextlib.contextmanager
def plain_scope(engine: Engine) -> Iterator[PlainTx]:
    with Session(engine, expire_on_commit=False) as session:
        yield PlainTx(session)
        session.commit()


def rows(n: int) -> list[dict[str, object]]:
    rng = random.Random(SEED)
    sites = [f"site-{i}" for i in range(50)]
    return [
        {"id": i, "site": rng.choice(sites), "value": rng.randint(0, 10**6), "note": rng.randbytes(24).hex()}
        for i in range(1, n + 1)
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


Scope = Callable[[], AbstractContextManager[Transaction]]


def run_rows(scope: Scope, engine: Engine, data: list[dict[str, object]], lookups: list[int]) -> dict[str, float]:
    BenchBase.metadata.create_all(engine)
    out: dict[str, float] = {}

    def bulk_insert() -> None:
        with scope() as tx:
            orm(tx).execute(insert(Measurement), data)

    def lookup() -> None:
        with scope() as tx:
            for key in lookups:
                orm(tx).execute(select(Measurement.value).where(Measurement.id == key)).scalar_one()

    def aggregate() -> None:
        with scope() as tx:
            orm(tx).execute(
                select(Measurement.site, func.count(), func.avg(Measurement.value)).group_by(Measurement.site)
            ).all()

    out[f"bulk insert {len(data):,} rows"] = timed(bulk_insert)
    out[f"{len(lookups):,} point lookups"] = timed(lookup)
    out["GROUP BY aggregate"] = timed(aggregate)
    return out


class Generated(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size
        self.block = random.Random(SEED).randbytes(MB)  # reused: generation must not be the bottleneck

    def read(self, n: int = -1) -> bytes:
        n = min(self.left, MB if n < 0 else n)
        self.left -= n
        return self.block[:n]


def run_blob(scope: Scope, size: int) -> tuple[float, float]:
    with scope() as tx:
        start = time.perf_counter()
        sha = blobs.put_stream(tx, Generated(size)).sha256
        write_s = time.perf_counter() - start
    with scope() as tx:
        start = time.perf_counter()
        total = sum(len(c) for c in blobs.iter_chunks(tx, sha))
        read_s = time.perf_counter() - start
    assert total == size
    return write_s, read_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--blob-mb", type=int, default=512)
    args = parser.parse_args()
    data = rows(args.rows)
    lookups = random.Random(SEED + 1).sample(range(1, args.rows + 1), args.lookups)
    size = args.blob_mb * MB
    with tempfile.TemporaryDirectory(prefix="airlock-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        key = os.urandom(32)
        store = Store(folder / "enc.airlock", key, str(uuid.uuid4()))
        StoreBase.metadata.create_all(store.engine)
        enc_rows = run_rows(lambda: store.write("bench"), store.engine, data, lookups)
        enc_blob = run_blob(lambda: store.write("bench"), size)
        store.close()

        engine = plain_engine(folder / "plain.db")
        tables = [StoreBase.metadata.tables[row.__tablename__] for row in (BlobRow, BlobChunkRow)]
        StoreBase.metadata.create_all(engine, tables=tables)
        plain_rows = run_rows(lambda: plain_scope(engine), engine, data, lookups)
        plain_blob = run_blob(lambda: plain_scope(engine), size)
        engine.dispose()

    print(f"{'operation':<34}{'plain s':>10}{'encrypted s':>13}{'ratio':>8}  target")
    for name, enc in enc_rows.items():
        plain = plain_rows[name]
        ratio = enc / plain
        print(f"{name:<34}{plain:>10.3f}{enc:>13.3f}{ratio:>7.2f}x  {'ok' if ratio <= 1.5 else 'MISSED (<=1.5x)'}")
    print()
    print(f"{'blob ' + str(args.blob_mb) + ' MB':<34}{'plain MB/s':>10}{'enc MB/s':>13}{'ratio':>8}  target")
    for label, i in (("write (put_stream)", 0), ("read (iter_chunks)", 1)):
        p_rate, e_rate = args.blob_mb / plain_blob[i], args.blob_mb / enc_blob[i]
        verdict = "ok" if e_rate >= 150 else "MISSED (>=150 MB/s)"
        print(f"{label:<34}{p_rate:>10.0f}{e_rate:>13.0f}{enc_blob[i] / plain_blob[i]:>7.2f}x  {verdict}")


if __name__ == "__main__":
    main()
