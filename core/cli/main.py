"""The ``airlock`` entry point: builds the parser, dispatches, turns errors into exit codes.

Exit codes: 0 success; 1 a check or verification ran and found a problem; 2 the user must
act (an :class:`~core.api.AirlockError`, a usage mistake); 130 cancelled (Ctrl-C);
70 an internal error (its traceback only with ``--debug``); 141 the reader of the output
went away (``airlock … | head -1``), quietly, as a program killed by SIGPIPE.

A command group is a module with ``register(subparsers)``; add it to :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from core import api
from core.api import Cancelled, WorkspaceInUse
from core.cli import assess, audit, common, data, doctor, keys, package, registry, rubric, train, users, workspace

#: Each registers its commands on the top-level subparsers, in this order in ``--help``.
COMMAND_MODULES: list[ModuleType] = [
    workspace,
    users,
    audit,
    doctor,
    assess,
    data,
    train,
    rubric,
    keys,
    package,
    registry,
]

EXIT_OK = 0
EXIT_PROBLEM_FOUND = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL = 70
EXIT_CANCELLED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airlock",
        description="Governed machine learning for air-gapped sites: the command line.",
        epilog=(
            f"Keys come from ${common.ENV_PASSPHRASE} / ${common.ENV_RECOVERY_KEY} or a terminal "
            "prompt, never from the command line."
        ),
        parents=[common.global_options(suppress=False)],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"airlock {api.VERSION}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def _report_error(args: argparse.Namespace | None, code: str, message: str, **extra: object) -> None:
    if args is not None and getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message, **extra}}, ensure_ascii=False))
    else:
        print(f"airlock: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (the console script passes it to ``sys.exit``).

    Called without ``argv`` (the console script, ``python -m``), the process ends with the
    command: the interpreter's last garbage collections at exit (0.2–0.6 s after a profile,
    spent walking every loaded module's objects) are skipped by freezing what is alive,
    after every other exit handler (registered first, so it runs last). The workspace is
    closed by then; ``atexit`` handlers, flushes and thread joins all still run.
    """
    if argv is None:
        atexit.register(gc.freeze)
    try:
        return _run(argv)
    except BrokenPipeError:
        return _output_closed()


def _output_closed() -> int:
    """The reader of stdout is gone: point stdout at devnull, so that the flush at exit cannot fail.

    As Python's documentation on SIGPIPE recommends; no traceback, no message (nobody reads it).
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's capture): nothing to flush
        pass
    return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    api.configure_runtime()  # the process's thread and allocator policy, decided once, here
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USER_ERROR
    try:
        code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:
        raise
    except (Cancelled, KeyboardInterrupt):
        _report_error(args, Cancelled.code, "Cancelled.")
        return EXIT_CANCELLED
    except WorkspaceInUse as exc:
        _report_error(
            args, exc.code, f"{exc} To look at it meanwhile, add --read-only.", host=exc.host, pid=exc.pid
        )
        return EXIT_USER_ERROR
    except api.AirlockError as exc:
        _report_error(args, exc.code, str(exc))
        return EXIT_USER_ERROR
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        _report_error(
            args, "internal",
            f"internal error ({type(exc).__name__}: {exc}). Run again with --debug for the traceback, "
            "and report it.",
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
