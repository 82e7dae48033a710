"""Child process for the passphrase-change crash test: SIGKILLs itself at the Nth fsync.

Usage: python _rekey_child.py WORKSPACE OLD_PASSPHRASE NEW_PASSPHRASE N
N = 0 never kills and prints "fsyncs K" (how many fsyncs a whole change makes).
The hook is this test file's monkeypatch of os.fsync; production code has no such hook.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from core.api import Engine, Unlock
from core.store import keys


def main() -> None:
    path, old, new, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    keys.KDF_ITERATIONS = 2_000  # as the test suite's fast-KDF fixture does
    engine = Engine.open(Path(path), Unlock.with_passphrase(old))
    real_fsync = os.fsync
    calls = 0

    def fsync(fd: int) -> None:
        nonlocal calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        real_fsync(fd)

    os.fsync = fsync
    engine.workspace.change_passphrase(new)
    os.fsync = real_fsync
    print(f"fsyncs {calls}", flush=True)
    engine.close()


if __name__ == "__main__":
    main()
