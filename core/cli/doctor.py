"""``airlock doctor``: what this installation can do (SQLCipher, keyring, GPU, Dask).

Needs no workspace and no key. Exit 1 only when something Airlock cannot work without
(SQLCipher) is missing; optional extras are reported, not failed.
"""

from __future__ import annotations

import argparse
from typing import Any

from core import api
from core.cli.common import add_command, emit, table


def register(subparsers: Any) -> None:
    add_command(subparsers, "doctor", cmd_doctor, "check this installation (encryption, keyring, GPU, Dask)")


def cmd_doctor(args: argparse.Namespace) -> int:
    report = api.doctor()
    rows = [("ok" if c.ok else "no", c.name, c.detail) for c in report.checks]
    verdict = "Airlock can run here." if report.ok else "Airlock cannot run here: see the failed checks above."
    emit(args, {"ok": report.ok, "checks": report.checks}, table(("", "CHECK", "DETAIL"), rows) + "\n\n" + verdict)
    return 0 if report.ok else 1
