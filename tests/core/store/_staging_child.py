"""Child process for the staging crash test: imports a file and stops in the middle.

Usage: python _staging_child.py WORKSPACE SOURCE (the recovery key on stdin, one line).
Prints "staged N" (flushed) right after the first staged batch of the snapshot is committed
in the workspace while the import is still in flight (its blob not yet finalised), then waits
to be killed without ever finishing the import. Prints "finished" if the import ends before any chunk
was seen (the parent then fails: the file was too small).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from sqlalchemy import text

from core.api import Engine, Unlock
from core.store import blobs
from core.store.db import orm


def main() -> None:
    path, source = Path(sys.argv[1]), Path(sys.argv[2])
    recovery = sys.stdin.readline().strip()
    blobs.STAGE_BATCH_BYTES = blobs.CHUNK_SIZE  # a transaction per chunk: chunks appear early
    engine = Engine.open(path, Unlock.with_recovery_key(recovery))
    store = engine._opened.store
    append = blobs.StagedBlob._append

    def held_append(self: blobs.StagedBlob, first_seq: int, chunks: list[bytes]) -> None:
        append(self, first_seq, chunks)  # this batch is committed now
        with store.read() as tx:
            staged = orm(tx).execute(text(
                "SELECT count(*) FROM blob_chunk c JOIN blob b ON b.id = c.blob_id WHERE b.sha256 IS NULL"
            )).scalar_one()
        if staged:
            print(f"staged {staged}", flush=True)
            threading.Event().wait()  # never returns: the parent kills this process here

    blobs.StagedBlob._append = held_append  # type: ignore[method-assign]
    engine.datasets.import_file(source, name="big")
    print("finished", flush=True)


if __name__ == "__main__":
    main()
