"""Sweeping what interrupted Airlock processes left behind: partial backups, half-made
workspaces, half-restored copies and temporary key headers.

Each temporary name carries the pid of the process that made it. A leftover is removed only
when that process is gone (a live backup into the same folder is never touched); temporary
key headers of a workspace are removed when the caller holds that workspace's writer lock.
This module must not open databases; it only lists and removes files by name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_PID_SUFFIX = re.compile(r"^\.(?P<name>.+)\.(?P<kind>partial|creating|restoring)-(?P<pid>\d+)(?P<side>-wal|-shm|\.keys)?$")
_HEADER_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")
_KINDS = {"partial": "an interrupted backup", "creating": "an interrupted creation", "restoring": "an interrupted restore"}


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def sweep(folder: Path, *, locked_header: Path | None = None) -> list[str]:
    """Remove leftovers of dead processes in ``folder``; one sentence per removed file.

    ``locked_header``: the key header of a workspace whose writer lock the caller holds;
    its temporary files (any pid, any age) are removed too.
    """
    notes: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return notes
    for entry in entries:
        if not entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        why = None
        match = _PID_SUFFIX.match(entry.name)
        if match and not _alive(int(match["pid"])):
            why = _KINDS[match["kind"]] + f" of {match['name']}"
        tmp = _HEADER_TMP.match(entry.name)
        if tmp and (not _alive(int(tmp["pid"])) or (locked_header is not None and tmp["name"] == locked_header.name)):
            why = f"an interrupted key-header write of {tmp['name']}"
        if locked_header is not None and entry.name.startswith(f".{locked_header.name}.") and entry.name.endswith(".tmp"):
            why = f"an interrupted key-header write of {locked_header.name}"  # older names had no pid
        if why is None:
            continue
        try:
            size = entry.stat(follow_symlinks=False).st_size
            os.unlink(entry.path)
        except OSError:
            continue
        notes.append(f"Removed {entry.name} ({size:,} bytes), left by {why}.")
    return notes
