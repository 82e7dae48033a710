"""``airlock registry …``: admitted versions, the champion, its history, promote, rollback, attest.

Only :mod:`core.api` is imported.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from core.cli.common import add_command, add_group, emit, local_time, open_engine, table

if TYPE_CHECKING:
    from core.api import PromotionService, RegistryEvent

from core.cli.package import _passphrase


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "registry", "admitted models in a QA or production workspace: champion, history")
    p = add_command(group, "list", cmd_list, "every admitted version, which is champion")
    p.add_argument("model", nargs="?", metavar="MODEL")
    p = add_command(group, "show", cmd_show, "one model: its versions and the full history of its champion")
    p.add_argument("model", metavar="MODEL")
    p = add_command(group, "promote", cmd_promote, "make an admitted version the champion")
    p.add_argument("model", metavar="MODEL@N")
    p.add_argument("--reason", required=True)
    p = add_command(group, "rollback", cmd_rollback, "make the previous champion current again, in one step")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--reason", required=True)
    p = add_command(group, "attest", cmd_attest, "at a QA site: sign that MODEL@N was admitted and canaried here")
    p.add_argument("model", metavar="MODEL@N")
    p.add_argument("--out", required=True, metavar="FILE.json",
                   help="put it in the package's FILE.airpkg.approvals/ folder for production")
    p.add_argument("--signer", required=True, metavar="ID", help="this site's key id")


def _service(engine: Any) -> PromotionService:
    return engine.promotion  # type: ignore[no-any-return]


def cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        versions = _service(engine).registry(args.model)
    rows = [[v.label, "yes" if v.champion else "", v.author, ", ".join(v.approvers), v.policy_version,
             local_time(v.admitted_at), v.package_digest[:16] + "…"] for v in versions]
    text = table(["VERSION", "CHAMPION", "AUTHOR", "APPROVED BY", "POLICY", "ADMITTED", "PACKAGE"], rows) \
        if versions else "Nothing admitted here yet (airlock package admit FILE)."
    emit(args, [v for v in versions], text)
    return 0


def _history_rows(events: list[RegistryEvent]) -> list[list[object]]:
    return [[e.seq, local_time(e.at), e.action, f"{e.model}@{e.version}",
             f"@{e.previous}" if e.previous is not None else "", e.actor,
             f"{e.duration_seconds:.3f} s" if e.duration_seconds is not None else "", e.reason[:60]] for e in events]


def cmd_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = _service(engine)
        versions = service.registry(args.model)
        events = service.history(args.model)
    champion = next((v.label for v in versions if v.champion), "none")
    text = [f"{args.model}: {len(versions)} admitted version(s); champion {champion}", "",
            table(["#", "AT", "ACTION", "VERSION", "BEFORE", "BY", "TOOK", "REASON"], _history_rows(events))]
    emit(args, {"versions": [v for v in versions], "history": [e for e in events]}, text)
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        event = _service(engine).promote(args.model, args.reason).value
    before = f" (was @{event.previous})" if event.previous is not None else ""
    emit(args, event, f"{event.model}@{event.version} is the champion now{before}.")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        event = _service(engine).rollback(args.model, args.reason).value
    emit(args, event, f"Rolled back: {event.model}@{event.version} is the champion again "
                                   f"(was @{event.previous}); took {event.duration_seconds or 0:.3f} s, recorded.")
    return 0


def cmd_attest(args: argparse.Namespace) -> int:
    passphrase = _passphrase(args.signer)
    with open_engine(args) as engine:
        out = _service(engine).attest(args.model, args.out, signer=args.signer, passphrase=passphrase).value
    emit(args, {"file": str(out)}, f"Wrote the site attestation {out}.")
    return 0
