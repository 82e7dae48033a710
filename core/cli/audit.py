"""``airlock audit …``: read the tamper-evident audit log and verify its hash chain."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core.cli.common import add_command, add_group, emit, local_time, open_engine, run_task, table, to_jsonable

DETAILS_WIDTH = 60


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "audit", "read and verify the audit log")
    p = add_command(group, "log", cmd_log, "the newest audit entries, filtered")
    p.add_argument("--limit", type=_positive, default=20, metavar="N", help="how many entries (default: 20)")
    p.add_argument("--action", metavar="PREFIX", help="actions starting with PREFIX, e.g. user.")
    p.add_argument("--actor", metavar="NAME", help="entries by this user only")
    p.add_argument("--grep", metavar="TEXT", help="TEXT anywhere in the action, subject or details")
    p = add_command(group, "verify", cmd_verify, "walk the whole hash chain; exit 1 at the first bad entry")
    p.add_argument(
        "--against", metavar="BACKUP", action="append", default=[],
        help="also check that the log still holds the audit head BACKUP's header recorded (repeatable)",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _details(details: dict[str, Any]) -> str:
    text = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if details else ""
    return text if len(text) <= DETAILS_WIDTH else text[: DETAILS_WIDTH - 1] + "…"


def cmd_log(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        events, total = engine.audit.events(limit=args.limit, action=args.action, actor=args.actor, text=args.grep)
    if not events:
        text = "No audit entries match." if total == 0 else "No entries on this page."
    else:
        rows = [(f"#{e.seq}", local_time(e.at), e.actor, e.action, e.subject, _details(e.details)) for e in events]
        text = table(("SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT", "DETAILS"), rows)
        text += f"\n\n{len(events)} of {total} matching entries, newest first."
    emit(args, {"events": events, "total": total}, text)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """The chain, read the way ``workspace check`` reads it, so the two always agree."""
    with open_engine(args) as engine:
        full = run_task(engine.workspace.check)  # pages, structure, chain, last backup's head
        anchors = [engine.workspace.compare_with_backup(Path(b).expanduser()) for b in args.against]
    report = full.chain
    lines = [report.describe()]
    if not report.ok and report.first_bad_seq is not None:
        lines.append(
            f"Entries up to #{report.head.seq} hold; entry #{report.first_bad_seq} does not. "
            "Keep the workspace as it is for investigation and compare it with your latest backup."
        )
    if full.integrity != "ok" or full.cipher_integrity != "ok":
        lines.append(
            f"PROBLEM FOUND: the workspace has damaged pages (structure: {full.integrity}; page "
            f"authentication: {full.cipher_integrity}), as `airlock workspace check` reports. Restore it from a backup."
        )
    if full.anchor is not None:
        anchors.insert(0, full.anchor)
    for anchor in anchors:
        lines.append(("" if anchor.ok else "PROBLEM FOUND: ") + anchor.detail)
    ok = full.ok and all(a.ok for a in anchors)
    if report.ok and any(not a.ok for a in anchors):
        lines.append(
            "The chain is consistent in itself but does not hold what a backup recorded: someone holding the "
            "key cut or rewrote it. Keep the workspace as it is and compare it with that backup."
        )
    data = {**to_jsonable(report), "ok": ok, "integrity": full.integrity,
            "cipher_integrity": full.cipher_integrity, "anchors": anchors}
    emit(args, data, lines)
    return 0 if ok else 1
