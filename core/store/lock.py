"""One writer per workspace: an advisory lock file that names its holder.

The lock is ``flock`` on ``NAME.airlock.lock``; the kernel drops it when the holder dies,
so a crash never leaves a workspace locked. The file is left in place (unlinking a lock
file races with the next locker) and holds ``host pid`` for the "in use by" message.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from core.errors import WorkspaceInUse


def lock_path(workspace: Path) -> Path:
    return workspace.with_name(workspace.name + ".lock")


class WorkspaceLock:
    def __init__(self, workspace: Path) -> None:
        self.path = lock_path(workspace)
        self._fd: int | None = None
        self._created = False

    def acquire(self) -> None:
        self._created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 300).decode("utf-8", "replace").split()
            os.close(fd)
            host, pid = (holder[0], int(holder[1])) if len(holder) >= 2 and holder[1].isdigit() else ("?", 0)
            raise WorkspaceInUse(
                f"The workspace is open in another Airlock instance (host {host}, pid {pid}). "
                "Close it there, or open this one read-only.",
                host=host,
                pid=pid,
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        self._fd = fd

    def release(self, *, discard: bool = False) -> None:
        """Unlock. ``discard`` also removes a lock file this lock created (after a failed open,
        so a foreign file gets no litter beside it; such a file has no other legitimate locker)."""
        if self._fd is not None:
            if discard and self._created:
                self.path.unlink(missing_ok=True)
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
