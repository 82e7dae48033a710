"""The command line is a thin layer: it reaches the engine through core.api only, and no Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import core.cli

CLI = Path(core.cli.__file__).parent
OWN_MODULES = ("__init__", "main", "common", "workspace", "audit", "users", "doctor")
FORBIDDEN = ("core.store", "sqlalchemy", "sqlcipher3", "alembic", "PySide6", "shiboken6", "desktop")


@pytest.mark.parametrize("name", OWN_MODULES)
def test_module_imports_nothing_below_the_facade(name: str) -> None:
    tree = ast.parse((CLI / f"{name}.py").read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    bad = [m for m in imported if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []


def test_running_the_cli_loads_no_qt() -> None:
    probe = (
        "import sys\n"
        "from core.cli.main import main\n"
        "main(['doctor'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'desktop')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
