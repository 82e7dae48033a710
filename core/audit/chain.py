"""Hashing and verifying the audit chain. Pure functions: no storage, no clock.

Each entry's hash covers its sequence number, time, actor, action, subject, canonical
details and the previous entry's hash. The first entry links to a genesis hash derived from
the workspace id, so a chain cannot be moved from one workspace to another unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from core.audit.models import AuditEvent, ChainHead, ChainReport


def genesis_hash(workspace_id: str) -> str:
    return hashlib.sha256(f"airlock-audit-genesis:{workspace_id}".encode()).hexdigest()


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, subject: str, details_json: str, prev_hash: str) -> str:
    payload = json.dumps(
        [seq, at, actor, action, subject, details_json, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def verify_chain(
    events: Iterable[AuditEvent], workspace_id: str, recorded_head: ChainHead | None = None
) -> ChainReport:
    """Walk the chain in sequence order and name the first entry that does not hold.

    Detects an edited entry (its hash no longer matches), a deleted or reordered entry (a
    gap in the sequence, or a link to the wrong predecessor) and a truncated tail (the chain
    ends before ``recorded_head``, the head the workspace recorded at its last append).
    """
    expected_prev = genesis_hash(workspace_id)
    expected_seq = 1
    last = ChainHead(0, expected_prev)
    count = 0
    for event in events:
        if event.seq != expected_seq:
            missing = "missing or moved" if event.seq > expected_seq else "out of order"
            return ChainReport(
                False, count, last, expected_seq, f"entry #{expected_seq} is {missing} (found #{event.seq} in its place).",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False, count, last, event.seq,
                "it does not link to the entry before it (deleted, inserted or reordered entries).",
            )
        recomputed = entry_hash(
            event.seq, event.at, event.actor, event.action, event.subject,
            canonical_details(event.details), event.prev_hash,
        )
        if recomputed != event.hash:
            return ChainReport(False, count, last, event.seq, "its content was changed after it was written.")
        expected_prev = event.hash
        expected_seq += 1
        count += 1
        last = ChainHead(event.seq, event.hash)
    if recorded_head is not None and (last.seq, last.hash) != (recorded_head.seq, recorded_head.hash):
        if last.seq < recorded_head.seq:
            return ChainReport(
                False, count, last, last.seq + 1,
                f"the log ends at #{last.seq} but the workspace recorded #{recorded_head.seq} (entries cut off the end).",
            )
        return ChainReport(
            False, count, last, recorded_head.seq, "the newest entries do not match the head the workspace recorded.",
        )
    return ChainReport(True, count, last)
