"""Child process for the staging crash test: imports a file and stops in the middle.

Usage: python _staging_child.py WORKSPACE SOURCE (the recovery key on stdin, one line).
Prints "staged N" (flushed) once N chunks of the snapshot are committed in the workspace
while the import is still in flight (its blob not yet finalised), then waits to be killed
without ever finishing the import. Prints "finished" if the import ends before any chunk
was seen (the parent then fails: the file was too small).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from sqlalchemy import text

from core import tasks
from core.api import Engine, TaskContext, Unlock
from core.store import blobs
from core.store.db import orm


def main() -> None:
    path, source = Path(sys.argv[1]), Path(sys.argv[2])
    recovery = sys.stdin.readline().strip()
    blobs.STAGE_BATCH_BYTES = blobs.CHUNK_SIZE  # a transaction per chunk: chunks appear early
    tasks._MIN_INTERVAL_S = 0.0  # every progress report reaches on_progress
    engine = Engine.open(path, Unlock.with_recovery_key(recovery))
    store = engine._opened.store

    def on_progress(fraction: float, message: str) -> None:
        with store.read() as tx:
            chunks = orm(tx).execute(text(
                "SELECT count(*) FROM blob_chunk c JOIN blob b ON b.id = c.blob_id WHERE b.sha256 IS NULL"
            )).scalar_one()
        if chunks:
            print(f"staged {chunks}", flush=True)
            threading.Event().wait()  # never returns: the parent kills this process here

    engine.datasets.import_file(source, name="big", ctx=TaskContext(on_progress))
    print("finished", flush=True)


if __name__ == "__main__":
    main()
