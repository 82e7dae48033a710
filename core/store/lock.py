"""One writer per workspace *file*, whatever names it is reached by.

Two locks are taken, both with ``flock`` (the kernel drops them when the holder dies, so a
crash never leaves a workspace locked):

* on the database file itself: the lock belongs to the file's identity (device and inode),
  so a second name for the same file (a hard link made after the first open, a rename
  while it is open) cannot get a second writer in;
* on ``NAME.airlock.lock`` beside the resolved path, which holds ``host pid`` for the
  "in use by" message. It is left in place (unlinking a lock file races with the next locker).

``flock`` and the POSIX byte-range locks SQLite takes on the same file are independent on
local file systems (network file systems are refused before this). Callers resolve symbolic
links first and refuse files with more than one hard link; this module must not open the
database.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from core.errors import WorkspaceInUse


def lock_path(workspace: Path) -> Path:
    return workspace.with_name(workspace.name + ".lock")


def _holder(fd: int) -> tuple[str, int]:
    holder = os.pread(fd, 300, 0).decode("utf-8", "replace").split()
    if len(holder) >= 2 and holder[1].isdigit():
        return holder[0], int(holder[1])
    return "?", 0


class WorkspaceLock:
    """The writer lock of one (already resolved) workspace path."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.path = lock_path(workspace)
        self._fd: int | None = None
        self._file_fd: int | None = None
        self._created = False

    def acquire(self) -> None:
        self._created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            host, pid = _holder(fd)
            os.close(fd)
            raise WorkspaceInUse(
                f"The workspace is open in another Airlock instance (host {host}, pid {pid}). "
                "Close it there, or open this one read-only.",
                host=host,
                pid=pid,
            ) from None
        try:
            file_fd = os.open(self.workspace, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise
        try:
            fcntl.flock(file_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(file_fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise WorkspaceInUse(
                f"{self.workspace} is open for writing in another Airlock instance under another "
                "name (a hard link or a renamed file points at the same workspace). Close it there, "
                "or open this one read-only.",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{socket.gethostname()} {os.getpid()}\n".encode(), 0)
        self._fd = fd
        self._file_fd = file_fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self, *, discard: bool = False) -> None:
        """Unlock. ``discard`` also removes a lock file this lock created (after a failed open,
        so a foreign file gets no litter beside it; such a file has no other legitimate locker)."""
        if self._file_fd is not None:
            fcntl.flock(self._file_fd, fcntl.LOCK_UN)
            os.close(self._file_fd)
            self._file_fd = None
        if self._fd is not None:
            if discard and self._created:
                self.path.unlink(missing_ok=True)
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
