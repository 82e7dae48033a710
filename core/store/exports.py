"""Writing exported files: data leaves the encrypted workspace only on purpose, audited, owner-only.

An export (a profile report, an evidence file, later a promotion package) is a mutation: it
is refused on a read-only open before any work starts, the destination is checked before
any work starts, the file is created readable by its owner only (0600, like the workspace,
since it holds values from production data), and the audit event is written in the same
transaction as the file is put in place: a failed write leaves neither the file nor the event.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from core.errors import InvalidInput, ReadOnlyWorkspace
from core.store.db import Store, Transaction


def check_destination(store: Store, dest: Path | str, doing: str) -> Path:
    """Refuse an export before any work: read-only workspace, missing or unwritable folder.

    Returns the destination as an absolute path.
    """
    if store.read_only:
        raise ReadOnlyWorkspace(
            f"Cannot {doing}: exports are recorded in the audit log, and this workspace is open "
            "read-only. Reopen it without --read-only to export."
        )
    out = Path(dest).expanduser().absolute()
    folder = out.parent
    if not folder.is_dir():
        raise InvalidInput(f"Cannot {doing}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"Cannot {doing}: the folder {folder} is not writable.")
    if out.is_dir():
        raise InvalidInput(f"Cannot {doing}: {out} is a folder; give a file name.")
    return out


def write_export(tx: Transaction, dest: Path, payload: bytes) -> None:
    """Write ``payload`` to ``dest`` (owner-only) inside the audited transaction ``tx``.

    The bytes go to a temporary name beside ``dest`` and are renamed into place, so a reader
    never sees half a file and a failure leaves the old file (if any) untouched.
    """
    if not tx.writable:
        raise ReadOnlyWorkspace("An export must run in a write transaction (it is audited).")
    tmp = dest.with_name(f".{dest.name}.export-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InvalidInput(f"Could not write {dest}: {exc.strerror or exc}.") from None
