"""Changing the passphrase so that the change and its audit entry are one outcome.

1. The key header is rewritten with the old slots kept and the new slot marked *pending*
   with a change id (both passphrases work from here on).
2. ``workspace.passphrase_changed`` is appended with that change id and committed.
3. The header is rewritten with only the new slot.

A crash before 2 commits leaves a pending slot the log does not know: the next open drops
it (the change did not happen, the old passphrase stays, and the new one is refused). A
crash after 2 leaves a pending slot the log confirms: the next open finishes the change.
This module must not decide who may change a passphrase (the service does).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import sqlcipher3

from core.errors import InvalidInput, WrongKey
from core.store import keys
from core.store.db import Store
from core.store.keys import KeyHeader

ACTION = "workspace.passphrase_changed"


def change_passphrase(store: Store, header: KeyHeader | None, new_passphrase: str, actor: str) -> KeyHeader:
    """Set or replace the passphrase of the open ``store``; returns the header now in force."""
    header_file = keys.header_path(store.path)
    current = header or KeyHeader(
        store.workspace_id, keys.key_check(store.key, store.workspace_id), file_salt=keys.read_file_salt(store.path)
    )
    change = uuid.uuid4().hex
    staged = current.with_pending_passphrase(store.key, new_passphrase, change)
    try:
        staged.write(header_file)
    except OSError as exc:
        raise InvalidInput(
            f"The passphrase was not changed: the key header could not be written ({exc.strerror}). "
            "The old passphrase still works."
        ) from None
    try:
        with store.write(actor) as tx:
            tx.audit(ACTION, f"workspace:{store.workspace_id}", {"had_passphrase": current.has_passphrase, "change": change})
    except BaseException:
        try:
            current.write(header_file)
        except OSError:
            pass  # the pending slot is not in the log: the next open drops it
        raise
    final = staged.settled(change)
    try:
        final.write(header_file)
    except OSError:
        pass  # logged: the next open settles the header; both passphrases work until then
    return final


def logged_changes(conn: sqlcipher3.Connection) -> set[str]:
    """The change ids of every passphrase change the audit log records."""
    found: set[str] = set()
    for (details,) in conn.execute("SELECT details FROM audit_event WHERE action = ?", (ACTION,)):
        try:
            body: Any = json.loads(details)
        except (TypeError, ValueError):
            continue
        if isinstance(body, dict) and body.get("change"):
            found.add(str(body["change"]))
    return found


def reconcile(
    conn: sqlcipher3.Connection, header: KeyHeader, header_file: Path, *, writable: bool
) -> tuple[KeyHeader, list[str]]:
    """Settle pending slots against the log; the header to use and what was done.

    Raises :class:`WrongKey` when the passphrase given was the pending one of a change that
    never committed (after dropping that slot, when ``writable``).
    """
    pending = header.pending_changes
    if not pending:
        return header, []
    logged = logged_changes(conn)
    settled = header
    notes: list[str] = []
    for change in pending:
        if change in logged:
            settled = settled.settled(change)
            notes.append("Finished an interrupted passphrase change (its audit entry had been written): "
                         "the new passphrase is the one that works now.")
        else:
            settled = settled.without_pending(change)
            notes.append("Undid an interrupted passphrase change that never reached the audit log: "
                         "the previous passphrase still works.")
    opened_by = header.opened_by_pending
    if writable:
        settled.write(header_file)
    else:
        notes = []
    if opened_by is not None and opened_by not in logged:
        raise WrongKey(
            "That passphrase was being set by a passphrase change that was interrupted before it was "
            "recorded, so it never took effect: open the workspace with the previous passphrase."
        )
    return settled, notes

