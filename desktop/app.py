"""The ``airlock-desktop`` entry point: command-line options, the application, the window.

``airlock-desktop [--workspace W] [--page NAME] [--screenshot OUT.png] [--read-only] [--timing]``

With ``--screenshot`` the window opens on the page, renders it, saves ``window.grab()`` to
the file and exits 0: for the docs, page reviews and the cold-start benchmark. It never
waits on a person: the workspace is unlocked only by the OS keyring or ``AIRLOCK_PASSPHRASE``,
and a missing workspace, a wrong key or a workspace in use ends with the reason on stderr and
exit status 1 instead of a dialog. Imports stay
light until needed (``core.api`` loads when a workspace is opened, a page's module when it
is first shown) so the window appears quickly. No feature logic here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

_IMPORTED_AT = time.perf_counter()

#: The window size of every ``--screenshot``, whatever the page: wide enough for the widest
#: page's minimum, so shots of different pages line up in the docs.
SCREENSHOT_SIZE = (1280, 800)


def seconds_since_process_start() -> float:
    """Wall time since this process started (Linux /proc), else since this module loaded."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rpartition(")")[2].split()
        start_ticks = int(fields[19])  # field 22 of stat(5); fields here start at field 3
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED_AT


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from desktop.pages import PAGES

    parser = argparse.ArgumentParser(prog="airlock-desktop", description="Airlock desktop application.")
    parser.add_argument("--workspace", type=Path, help="workspace file (*.airlock) to open")
    parser.add_argument("--page", choices=[spec.name for spec in PAGES], help="page to show first")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png", help="render the window to OUT.png and exit")
    parser.add_argument("--read-only", action="store_true", help="open the workspace read-only")
    parser.add_argument("--timing", action="store_true", help="print seconds from process start to the window shown")
    return parser.parse_args(list(argv) if argv is not None else None)


def _application() -> tuple[object, bool]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    created = app is None
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Airlock")
        app.setOrganizationName("Airlock")
        app.setStyle("Fusion")
    return app, created


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop; returns the exit code (0 after a ``--screenshot``)."""
    from core.api import configure_runtime

    configure_runtime()  # the process's thread and allocator policy, decided once, here
    args = parse_args(argv)
    app, created = _application()
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow

    assert isinstance(app, QApplication)
    window = MainWindow()
    if args.screenshot is not None:
        window.setFixedSize(*SCREENSHOT_SIZE)  # a page's wider minimum would otherwise widen this shot only
    window.show()  # first, so the unlock dialog has a window behind it and the user sees progress
    app.processEvents()
    if args.timing:
        print(f"window shown after {seconds_since_process_start():.3f} s", flush=True)
    if args.workspace is not None:
        window.workspace_label.setText(f"Opening {args.workspace.name}…")
        app.processEvents()
        if args.screenshot is not None:
            problem = _open_unattended(window, args.workspace, read_only=args.read_only)
            if problem is not None:
                print(f"airlock-desktop: {problem}", file=sys.stderr)
                window.close()
                return 1
        else:
            window.open_path(args.workspace, read_only=args.read_only)
    if args.page and window.engine is not None:
        window.show_page(args.page)
        app.processEvents()
        if args.timing:
            print(f"page {args.page!r} ready after {seconds_since_process_start():.3f} s", flush=True)
    if args.screenshot is not None:
        return _screenshot(window, args.screenshot, app)
    code = app.exec() if created else 0
    return int(code)


def _open_unattended(window: object, path: Path, *, read_only: bool) -> str | None:
    """Open ``path`` in ``window`` without asking anyone; the reason it could not, else None."""
    from core.api import AirlockError, Engine, KeyUnavailable, WrongKey
    from desktop.main_window import MainWindow
    from desktop.opening import PASSPHRASE_ENV, automatic_unlocks

    assert isinstance(window, MainWindow)
    path = path.expanduser().absolute()
    if not path.is_file():
        return f"there is no workspace at {path}."
    unlocks = automatic_unlocks(path)
    if not unlocks:
        return (f"{path.name} needs its passphrase, and a screenshot asks no one: set {PASSPHRASE_ENV} "
                "(or store the key in the OS keyring).")
    tried: list[str] = []
    for unlock, source in unlocks:
        try:
            engine = Engine.open(path, unlock, read_only=read_only)
        except (WrongKey, KeyUnavailable) as exc:
            tried.append(f"{source}: {exc}")
            continue
        except AirlockError as exc:
            return f"could not open {path.name}: {exc}"
        window.set_engine(engine)
        return None
    return f"could not unlock {path.name} ({'; '.join(tried)})."


def _screenshot(window: object, out: Path, app: object) -> int:
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow

    assert isinstance(window, MainWindow) and isinstance(app, QApplication)
    for _ in range(3):  # let layouts settle and deferred paints land
        app.processEvents()
    ok = window.grab().save(str(out))
    window.close()
    app.processEvents()
    if not ok:
        print(f"could not write {out}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
