"""Child process for the leak test: puts a marker everywhere, works the temp paths hard.

Usage: python _leak_child.py FOLDER MARKER MODE   (MODE: workspace | control)
Runs with TMPDIR and SQLITE_TMPDIR pointing at a folder the parent scans. While SQLite is
busy, a progress handler reads every temporary file the process holds open (SQLite unlinks
its temp files at once, so they can only be seen through /proc/self/fd) and notes any that
holds the marker. Prints one JSON line: {"fd_hits": [...], "temp_files_seen": N}.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import sys
from pathlib import Path

FORMS: tuple[bytes, ...] = ()
seen: set[str] = set()
hits: set[str] = set()


def scan_open_files() -> int:
    tmp = os.environ["SQLITE_TMPDIR"]
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not (target.startswith((tmp, "/tmp", "/var/tmp")) or target.endswith("(deleted)")):
            continue
        seen.add(target)
        try:
            with open(f"/proc/self/fd/{fd}", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if any(form in data for form in FORMS):
            hits.add(target)
    return 0


def heavy_queries(execute) -> None:  # type: ignore[no-untyped-def]
    execute("SELECT body FROM canary ORDER BY body DESC")
    execute("SELECT DISTINCT body FROM canary")
    execute("SELECT grp, count(*), max(body) FROM canary GROUP BY grp ORDER BY 3")
    execute("SELECT body FROM canary ORDER BY random()")
    execute("SELECT a.body FROM canary a JOIN canary b ON a.grp = b.id ORDER BY a.body LIMIT 5")
    execute("CREATE TEMP TABLE IF NOT EXISTS spill AS SELECT * FROM canary")
    execute("CREATE INDEX IF NOT EXISTS temp.spill_body ON spill(body)")
    execute("SELECT body FROM spill ORDER BY body || 'z'")
    execute("DROP TABLE spill")


def _drain(result) -> None:  # type: ignore[no-untyped-def]
    if result.returns_rows:
        result.fetchall()


def make_rows(marker: str) -> list[tuple[int, str, int]]:
    rng = random.Random(1)
    return [(i, f"{marker} {i} " + rng.randbytes(120).hex(), i % 97) for i in range(20_000)]


def run_workspace(folder: Path, marker: str) -> None:
    from sqlalchemy import text

    from core.api import Engine
    from core.store import blobs, keys
    from core.store.db import orm

    keys.KDF_ITERATIONS = 2_000
    engine, _ = Engine.create(folder / "w.airlock", name=f"Canary {marker}", passphrase="correct horse", use_keyring=False)
    store = engine._opened.store
    engine.users.add("canary", {"analyst"}, display_name=f"Ms {marker}")
    with store.write(engine.actor) as tx:
        tx.audit("test.canary", f"item:{marker}", {"note": marker, "list": [marker] * 3})
        orm(tx).execute(text("CREATE TABLE canary(id INTEGER PRIMARY KEY, body TEXT, grp INTEGER)"))
        params = [dict(zip("ibg", r, strict=True)) for r in make_rows(marker)]
        orm(tx).execute(text("INSERT INTO canary VALUES (:i, :b, :g)"), params)
        blobs.put_stream(tx, io.BytesIO((marker.encode() + b" blob payload ") * 300_000))
    with store.write(engine.actor) as tx:  # many-row update: a statement journal
        orm(tx).execute(text("UPDATE canary SET body = body || ' updated' WHERE grp < 50"))
    with store.read() as tx:
        conn = orm(tx).connection().connection.driver_connection
        conn.set_progress_handler(scan_open_files, 100_000)
        heavy_queries(lambda sql: _drain(orm(tx).execute(text(sql))))
        conn.set_progress_handler(None, 0)
    with store.raw_connection() as raw:
        raw.set_progress_handler(scan_open_files, 100_000)
        heavy_queries(lambda sql: raw.execute(sql).fetchall())
        raw.execute("VACUUM")
        raw.set_progress_handler(None, 0)
    engine.workspace.backup(folder / "backups" / "b.airlock")
    engine.close()


def run_control(folder: Path, marker: str) -> None:
    """The detector's own check: plain SQLite with temp files on disk must be caught."""
    conn = sqlite3.connect(folder / "plain.db", isolation_level=None)
    conn.execute("PRAGMA temp_store = FILE")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE canary(id INTEGER PRIMARY KEY, body TEXT, grp INTEGER)")
    conn.executemany("INSERT INTO canary VALUES (?,?,?)", make_rows(marker))
    conn.execute("COMMIT")
    conn.execute("PRAGMA cache_size = 20")
    conn.set_progress_handler(scan_open_files, 100_000)
    conn.execute("SELECT body FROM canary ORDER BY body DESC").fetchall()
    conn.execute("CREATE TEMP TABLE spill AS SELECT * FROM canary")
    conn.close()


def main() -> None:
    global FORMS
    folder, marker, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    FORMS = (marker.encode(), marker.encode("utf-16-le"), marker.encode("utf-16-be"))
    (folder / "backups").mkdir(exist_ok=True)
    run_workspace(folder, marker) if mode == "workspace" else run_control(folder, marker)
    print(json.dumps({"fd_hits": sorted(hits), "temp_files_seen": len(seen)}))


if __name__ == "__main__":
    main()
