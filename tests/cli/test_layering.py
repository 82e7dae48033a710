"""The command line is a thin layer: it reaches the engine through core.api only, and no Qt."""

from __future__ import annotations

import subprocess
import sys

from tests.import_walk import ROOT, facade_breaches, imports_under, is_within

CLI = ROOT / "core" / "cli"
FORBIDDEN = ("core.store", "sqlalchemy", "sqlcipher3", "alembic", "PySide6", "shiboken6", "desktop")


def test_no_cli_module_imports_below_the_facade() -> None:
    """Every module under core/cli, found by walking the folder (a new command is checked the day it lands)."""
    found = list(imports_under(CLI))
    assert {f.path.name for f in found} >= {"main.py", "common.py"}
    bad = [str(f) for f in found if any(is_within(f.module, p) for p in FORBIDDEN)]
    assert bad == []


def test_the_cli_reaches_core_through_the_facade_only() -> None:
    breaches = facade_breaches(CLI, allowed=("core.api", "core.cli"))
    assert breaches == [], "\n".join(map(str, breaches))


def test_running_the_cli_loads_no_qt() -> None:
    probe = (
        "import sys\n"
        "from core.cli.main import main\n"
        "main(['doctor'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'desktop')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
