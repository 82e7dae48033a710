"""``airlock workspace …``: create, describe, re-key, check, back up and restore a workspace.

Each handler parses nothing and decides nothing: it gathers keys, calls :mod:`core.api`
and prints what came back.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from core import api
from core.cli.common import (
    ENV_NEW_PASSPHRASE,
    ENV_PASSPHRASE,
    add_command,
    add_group,
    emit,
    local_time,
    megabytes,
    new_passphrase,
    open_engine,
    run_task,
    to_jsonable,
    unlock_for_file,
)

RULE = "=" * 68


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "workspace", "create, inspect, check, back up and restore a workspace")
    p = add_command(group, "init", cmd_init, "create a new encrypted workspace")
    p.add_argument("path", metavar="PATH", help="the new workspace file, e.g. lab.airlock")
    p.add_argument("--role", choices=api.WORKSPACE_ROLES, default="dev", help="what this workspace is for (default: dev)")
    p.add_argument("--name", help="a display name (default: the file name)")
    p.add_argument("--no-keyring", action="store_true", help="use a passphrase even where a safe OS keyring works")
    add_command(group, "info", cmd_info, "what the workspace holds and when it was last backed up")
    add_command(group, "passwd", cmd_passwd, f"set or change the passphrase (new one from ${ENV_NEW_PASSPHRASE} or asked twice)")
    p = add_command(group, "check", cmd_check, "check structure, page authentication, the audit chain and the last backup's head")
    p.add_argument("--against", metavar="BACKUP", help="compare the log with this backup's head (default: the last backup)")
    p = add_command(group, "backup", cmd_backup, "write a verified, encrypted backup to a new file")
    p.add_argument("dest", metavar="DEST", help="the backup file to create (never overwritten)")
    p = add_command(group, "verify-backup", cmd_verify_backup, "check a backup file without restoring it")
    p.add_argument("backup", metavar="BACKUP", help="the backup file")
    p = add_command(group, "restore", cmd_restore, "verify a backup and restore it into a new workspace file")
    p.add_argument("backup", metavar="BACKUP", help="the backup file")
    p.add_argument("dest", metavar="DEST", help="the new workspace file to create")


def _default_name(path: Path) -> str:
    name = path.name
    for suffix in (".airlock", ".db"):
        name = name.removesuffix(suffix)
    return name or path.name


def recovery_key_block(recovery_key: str, path: Path) -> list[str]:
    return [
        "",
        RULE,
        "  RECOVERY KEY",
        "",
        f"  {recovery_key}",
        "",
        "  Write this down now and keep it somewhere safe, away from this computer.",
        "  It is shown only now: Airlock does not store it anywhere.",
        "  It opens the workspace if the passphrase is forgotten or the keyring",
        "  entry is lost:",
        f"    airlock --workspace {path} --recovery-key workspace info",
        RULE,
    ]


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser().absolute()
    keyring_ok, backend = api.keyring_status()
    use_keyring = keyring_ok and not args.no_keyring
    if use_keyring:
        passphrase = os.environ.get(ENV_PASSPHRASE) or None  # optional second way in
    else:
        passphrase = new_passphrase(ENV_PASSPHRASE, "Passphrase for the new workspace: ")
    name = args.name or _default_name(path)
    engine, recovery_key = api.Engine.create(
        path, name=name, role=args.role, passphrase=passphrase, use_keyring=use_keyring
    )
    with engine:
        info = engine.workspace.info()
    ways = (["OS keyring (" + backend + ")"] if use_keyring else []) + (["passphrase"] if passphrase else [])
    data = {
        "workspace": info,
        "recovery_key": recovery_key,
        "recovery_key_note": "shown only now; it opens the workspace if the passphrase or keyring entry is lost",
    }
    lines = [
        f"Created workspace {info.name!r} ({info.role}) at {info.path}",
        f"Unlocks with: {', '.join(ways)}, or the recovery key below.",
        f"You ({engine.actor}) are its admin.",
        *recovery_key_block(recovery_key, info.path),
    ]
    if not use_keyring and not args.no_keyring:
        lines.append(f"(No keyring: {backend}.)")
    emit(args, data, lines)
    return 0


def info_lines(info: api.WorkspaceInfo) -> list[str]:
    keys = [w for w, on in (("keyring", info.keyring), ("passphrase", info.passphrase)) if on] + ["recovery key"]
    if info.last_backup_at:
        backup = f"{local_time(info.last_backup_at)} to {info.last_backup_path}"
    else:
        backup = "never — run `airlock workspace backup DEST`"
    rows = [
        ("Workspace", f"{info.name} ({info.role})" + ("  [read-only]" if info.read_only else "")),
        ("Path", str(info.path)),
        ("Id", info.id),
        ("Size", megabytes(info.size_bytes)),
        ("Created", f"{local_time(info.created_at)} by {info.created_by} (Airlock {info.app_version})"),
        ("Users", str(info.users)),
        ("Audit log", f"{info.audit_events} entries, head #{info.audit_head.seq} {info.audit_head.hash[:12]}"),
        ("Blobs", f"{info.blobs} ({megabytes(info.blob_bytes)})"),
        ("Unlocks with", ", ".join(keys)),
        ("Last backup", backup),
    ]
    return [f"{label + ':':<14}{value}" for label, value in rows]


def cmd_info(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        info = engine.workspace.info()
    emit(args, info, info_lines(info))
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        passphrase = new_passphrase(ENV_NEW_PASSPHRASE)
        engine.workspace.change_passphrase(passphrase)
        path = engine.path
    emit(args, {"path": path, "passphrase_changed": True},
         f"Passphrase changed for {path}. The recovery key is unchanged.")
    return 0


def report_lines(report: api.IntegrityReport) -> list[str]:
    mark = "ok" if report.ok else "PROBLEM FOUND"
    return [
        f"Database structure:   {report.integrity}",
        f"Page authentication:  {report.cipher_integrity}",
        f"Audit chain:          {report.chain.describe()}",
        *([f"Against backup:       {report.anchor.detail}"] if report.anchor is not None else []),
        f"Result:               {mark}",
    ]


def cmd_check(args: argparse.Namespace) -> int:
    against = Path(args.against).expanduser() if args.against else None
    with open_engine(args) as engine:
        report = run_task(lambda ctx: engine.workspace.check(ctx, against))
    emit(args, {"ok": report.ok, **_dict(report)}, report_lines(report))
    return 0 if report.ok else 1


def cmd_backup(args: argparse.Namespace) -> int:
    dest = Path(args.dest).expanduser().absolute()
    beside_other = False
    try:
        engine = open_engine(args)
    except api.WorkspaceInUse:
        # Another instance has it open: one read transaction is enough for a consistent copy.
        args.read_only = beside_other = True
        engine = open_engine(args)
    with engine:
        result = run_task(lambda ctx: engine.workspace.backup(dest, ctx)).value
    lines = [
        f"Backup written: {result.path} ({megabytes(result.size)})",
        *(["Another Airlock instance has the workspace open: the backup was taken from a read transaction; "
           "its own header records the audit head (the workspace's log does not record this backup)."]
          if beside_other or engine.read_only else []),
        f"Taken at {local_time(result.taken_at)}, audit head #{result.audit_head.seq} {result.audit_head.hash[:12]}",
        *report_lines(result.report),
        "It opens with the same passphrase, keyring entry or recovery key as the workspace.",
        f"Keep {result.path.name}.keys beside it: it holds the key slots.",
    ]
    emit(args, result, lines)
    return 0


def _verification_lines(v: api.BackupVerification) -> list[str]:
    recorded = f"#{v.recorded_head.seq} {v.recorded_head.hash[:12]}" if v.recorded_head else "not recorded"
    found = v.report.chain.head
    lines = [
        f"Backup of workspace {v.workspace_id}, taken {local_time(v.taken_at) or 'at an unknown time'}",
        f"Audit head recorded at backup time: {recorded}; found: #{found.seq} {found.hash[:12]}",
        *report_lines(v.report),
    ]
    if v.report.ok and not v.ok:
        lines.append("PROBLEM FOUND: the backup's audit head differs from the one recorded when it was taken.")
    if v.recorded_head is not None and v.head_authenticated is None:
        lines.append("Note: this backup's header has no authentication code (an older Airlock made it).")
    return lines


def _dict(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = to_jsonable(value)
    return result


def cmd_verify_backup(args: argparse.Namespace) -> int:
    backup = Path(args.backup).expanduser().absolute()
    unlock = unlock_for_file(backup, args)
    verification = run_task(lambda ctx: api.verify_backup(backup, unlock, ctx))
    emit(args, {"ok": verification.ok, **_dict(verification)}, _verification_lines(verification))
    return 0 if verification.ok else 1


def cmd_restore(args: argparse.Namespace) -> int:
    backup = Path(args.backup).expanduser().absolute()
    dest = Path(args.dest).expanduser().absolute()
    unlock = unlock_for_file(backup, args)
    verification = run_task(lambda ctx: api.restore_backup(backup, dest, unlock, ctx))
    lines = [f"Restored {backup} into {dest}.", *_verification_lines(verification),
             f"Open it with: airlock --workspace {dest} workspace info"]
    emit(args, {"ok": verification.ok, "restored_to": dest, **_dict(verification)}, lines)
    return 0
