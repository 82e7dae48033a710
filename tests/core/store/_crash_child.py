"""Child process for the crash test: writes audited transactions until it is killed.

Usage: python _crash_child.py WORKSPACE RECOVERY_KEY FIRST_INDEX SEED
Prints "ready" once open, then "committed I" (flushed) after each commit returns.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from core.identity.service import os_user
from core.store import blobs
from core.store.db import orm, utc_now
from core.store.keys import Unlock
from core.store.opening import open_store
from core.store.schema import UserRow


def main() -> None:
    path, recovery, first, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    # the storage layer only: the facade would import every area (slow start, fewer kills)
    store = open_store(Path(path), Unlock.with_recovery_key(recovery)).store
    actor = os_user()
    print("ready", flush=True)
    i = first
    while True:
        with store.write(actor) as tx:
            orm(tx).add(UserRow(name=f"crash{i}", display_name=f"Crash {i}", roles="analyst", active=1, created_at=utc_now()))
            if i % 8 == 0:
                blobs.put_bytes(tx, rng.randbytes(rng.randint(1, 1536 * 1024)))
            tx.audit("test.write", f"item:{i}", {"i": i, "pad": "x" * rng.randint(0, 5000)})
        print(f"committed {i}", flush=True)
        if i % 11 == 0:
            store.checkpoint()
        i += 1


if __name__ == "__main__":
    main()
