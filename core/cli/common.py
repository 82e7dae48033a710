"""What every command shares: global options, opening the engine, keys, output, progress.

Secrets (passphrases, recovery keys) come from the environment or a terminal prompt, never
from the command line, where any user of the machine could read them in the process list.
This module holds no business rules and never imports the storage package or Qt: keys are
handed to :mod:`core.api` as an :class:`~core.api.Unlock` and the engine decides.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from core import api
from core.api import InvalidInput, KeyUnavailable, WrongKey

T = TypeVar("T")
Handler = Callable[[argparse.Namespace], int]

ENV_WORKSPACE = "AIRLOCK_WORKSPACE"
ENV_PASSPHRASE = "AIRLOCK_PASSPHRASE"
ENV_NEW_PASSPHRASE = "AIRLOCK_NEW_PASSPHRASE"
ENV_RECOVERY_KEY = "AIRLOCK_RECOVERY_KEY"
PROMPT_ATTEMPTS = 3


class UsageProblem(api.AirlockError):
    """The command line was used in a way that cannot work (missing workspace, no terminal)."""

    code = "usage"


# --- parser building ----------------------------------------------------------------------


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """The options every command accepts, before or after the subcommand.

    The top-level parser gets real defaults; each subcommand gets the same options with
    ``SUPPRESS`` defaults, so an option given before the subcommand is not reset by it.
    """
    default: Any = argparse.SUPPRESS if suppress else None
    flag: Any = argparse.SUPPRESS if suppress else False
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--workspace", metavar="PATH", default=default,
        help=f"the workspace file (default: ${ENV_WORKSPACE})",
    )
    group.add_argument("--read-only", action="store_true", default=flag, help="open the workspace without changing it")
    group.add_argument(
        "--recovery-key", action="store_true", default=flag,
        help=f"unlock with the recovery key, read from ${ENV_RECOVERY_KEY} or asked for",
    )
    group.add_argument("--json", action="store_true", default=flag, help="machine-readable output on stdout")
    group.add_argument("--debug", action="store_true", default=flag, help="show tracebacks of internal errors")
    return parser


_SUB_GLOBALS = global_options(suppress=True)


def add_group(subparsers: Any, name: str, help: str) -> Any:
    """A command group (``workspace``, ``audit``…); returns the group's own subparsers."""
    parser = subparsers.add_parser(name, help=help, description=help, parents=[_SUB_GLOBALS], allow_abbrev=False)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)


def add_command(subparsers: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
    """A leaf command that runs ``handler(args)`` and exits with what it returns."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=help, parents=[_SUB_GLOBALS], allow_abbrev=False
    )
    parser.set_defaults(handler=handler)
    return parser


# --- keys -------------------------------------------------------------------------------


def interactive() -> bool:
    """Whether a person can be asked for a secret (stdin is a terminal)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin closed
        return False


def _no_terminal(what: str, env: str) -> UsageProblem:
    return UsageProblem(f"No {what} given: set {env} or run in a terminal.")


def read_secret(env: str, prompt: str, what: str) -> str:
    """A secret from ``env`` or, on a terminal, from a hidden prompt."""
    value = os.environ.get(env)
    if value:
        return value
    if not interactive():
        raise _no_terminal(what, env)
    return getpass.getpass(prompt)


def new_passphrase(env: str, prompt: str = "New passphrase: ") -> str:
    """A new passphrase from ``env``, or asked twice on a terminal; they must match."""
    value = os.environ.get(env)
    if value:
        return value
    if not interactive():
        raise _no_terminal("passphrase", env)
    first = getpass.getpass(prompt)
    if not first:
        raise InvalidInput("The passphrase must not be empty.")
    if getpass.getpass("Repeat it: ") != first:
        raise InvalidInput("The two passphrases differ; nothing was changed.")
    return first


def workspace_path(args: argparse.Namespace) -> Path:
    given = getattr(args, "workspace", None) or os.environ.get(ENV_WORKSPACE)
    if not given:
        raise UsageProblem(f"Which workspace? Give --workspace PATH or set {ENV_WORKSPACE}.")
    return Path(given).expanduser()


def unlock_and(path: Path, args: argparse.Namespace, attempt: Callable[[api.Unlock], T]) -> T:
    """Run ``attempt`` with the first key that opens ``path``: keyring, then passphrase.

    ``--recovery-key`` uses only the recovery key. A keyring that has no entry is never a
    reason to create anything: opening never creates, and we fall back to the passphrase.
    """
    if args.recovery_key:
        return attempt(api.Unlock.with_recovery_key(read_secret(ENV_RECOVERY_KEY, "Recovery key: ", "recovery key")))
    if not api.has_key_header(path):
        # Without a header only a recovery key can open the file; the engine explains why
        # (missing file, plain SQLite, lost header) before it uses any key, so ask for none.
        return attempt(api.Unlock.with_keyring())
    keyring_problem = ""
    if api.header_uses_keyring(path):
        ok, why = api.keyring_status()
        if ok:
            try:
                return attempt(api.Unlock.with_keyring())
            except (KeyUnavailable, WrongKey) as exc:  # no entry, or a stale one
                keyring_problem = str(exc)
        else:
            keyring_problem = f"The keyring is not available here ({why})."
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return attempt(api.Unlock.with_passphrase(env))
    if not interactive():
        hint = f"{keyring_problem} " if keyring_problem else ""
        raise UsageProblem(
            f"{hint}No passphrase given: set {ENV_PASSPHRASE} or run in a terminal "
            "(or use --recovery-key)."
        )
    if keyring_problem:
        print(f"{keyring_problem} Falling back to the passphrase.", file=sys.stderr)
    for left in range(PROMPT_ATTEMPTS - 1, -1, -1):
        try:
            return attempt(api.Unlock.with_passphrase(getpass.getpass(f"Passphrase for {path.name}: ")))
        except WrongKey:
            if not left:
                raise
            print("That passphrase does not open it; try again.", file=sys.stderr)
    raise AssertionError("unreachable")


def open_engine(args: argparse.Namespace) -> api.Engine:
    """The engine over the workspace named by ``--workspace`` / ``$AIRLOCK_WORKSPACE``."""
    path = workspace_path(args)
    engine = unlock_and(path, args, lambda unlock: api.Engine.open(path, unlock, read_only=args.read_only))
    for notice in engine.notices:  # said once: what they report is gone after this open
        print(notice, file=sys.stderr)
    return engine


def unlock_for_file(path: Path, args: argparse.Namespace) -> api.Unlock:
    """The key that opens ``path`` (a backup), proven by a read-only open that changes nothing.

    Used where the real work (verify, restore) wraps key errors in its own, so the
    keyring-then-passphrase fallback could not see them.
    """
    def probe(unlock: api.Unlock) -> api.Unlock:
        api.Engine.open(path, unlock, read_only=True).close()
        return unlock

    return unlock_and(path, args, probe)


# --- output -----------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Dataclasses become dicts, paths strings, sets sorted lists; the rest as JSON has it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def emit(args: argparse.Namespace, data: Any, text: str | Iterable[str]) -> None:
    """Print ``data`` as JSON under ``--json``, otherwise the human ``text``."""
    if args.json:
        print(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))
    else:
        print(text if isinstance(text, str) else "\n".join(text))


def export_reports(
    args: argparse.Namespace, export: Callable[[api.Engine, str, str], Path], what: str = "the report",
) -> int:
    """Write the ``--html``/``--pdf`` files a report command asked for, each its own audited export.

    ``export(engine, format, dest)`` writes one file and returns its path.
    """
    wanted = [(fmt, dest) for fmt, dest in (("html", args.html), ("pdf", args.pdf)) if dest]
    if not wanted:
        raise UsageProblem(f"Say where to write {what}: --html FILE, --pdf FILE, or both.")
    with open_engine(args) as engine:
        written = [str(export(engine, fmt, dest)) for fmt, dest in wanted]
    emit(args, {"files": written}, [f"Wrote {w}" for w in written])
    return 0


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, with a header rule."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def local_time(iso: str | None) -> str:
    """An ISO timestamp (UTC) shown in local time to the second; '' stays ''."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1_000_000:.1f} MB"


# --- progress and cancellation ----------------------------------------------------------


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; silent when the stream is not one."""

    def __init__(self, stream: TextIO | None = None, *, width: int = 28) -> None:
        self._stream = stream or sys.stderr
        try:
            self.enabled = self._stream.isatty()
        except (AttributeError, ValueError):
            self.enabled = False
        self._width = width
        self._drawn = False
        self._lock = threading.Lock()

    def update(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        filled = int(round(max(0.0, min(1.0, fraction)) * self._width))
        line = f"[{'#' * filled}{'.' * (self._width - filled)}] {fraction * 100:3.0f}%  {message}"
        columns = shutil.get_terminal_size((80, 24)).columns
        with self._lock:
            self._stream.write("\r" + line[: max(10, columns - 1)] + "\x1b[K")
            self._stream.flush()
            self._drawn = True

    def note(self, message: str) -> None:
        """A line of its own (e.g. "Cancelling…") without breaking the bar."""
        with self._lock:
            self._stream.write(("\r\x1b[K" if self._drawn else "") + message + "\n")
            self._stream.flush()

    def finish(self) -> None:
        """Erase the bar, so what follows starts on a clean line."""
        with self._lock:
            if self._drawn:
                self._stream.write("\r\x1b[K")
                self._stream.flush()
                self._drawn = False


def run_task(work: Callable[[api.TaskContext], T], bar: ProgressBar | None = None) -> T:
    """Run long ``work`` in a worker thread with a progress bar; Ctrl-C cancels it.

    The worker, not the main thread, runs the engine call so that Ctrl-C is seen at once
    even while the database is busy in C code: it sets the cancel token, the engine stops
    at its next check (cleaning up its partial files) and raises ``Cancelled``. A second
    Ctrl-C stops waiting.
    """
    bar = bar or ProgressBar()
    ctx = api.TaskContext(bar.update, api.CancelToken())
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = work(ctx)
        except BaseException as exc:  # handed to the main thread, which re-raises it
            box["error"] = exc
        finally:
            done.set()

    # Wait on an Event, not Thread.join: a KeyboardInterrupt inside join() can mark a
    # still-running thread as finished (CPython 3.11, bpo-45274).
    threading.Thread(target=target, name="airlock-cli-task", daemon=True).start()
    try:
        try:
            while not done.wait(0.1):
                pass
        except KeyboardInterrupt:
            ctx.token.cancel()
            bar.note("Cancelling…")
            while not done.wait(0.1):
                pass
    finally:
        bar.finish()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
