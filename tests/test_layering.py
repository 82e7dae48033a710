"""The engine loads no GUI: checked in a fresh interpreter and by import-linter's contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.import_walk import facade_breaches, imports_under

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PySide6", "shiboken6", "matplotlib.pyplot", "desktop")


def test_importing_the_engine_loads_no_gui() -> None:
    code = (
        "import json, sys; import core.api; "
        "print(json.dumps(sorted(m for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    modules = json.loads(out.stdout)
    assert "core.api" in modules
    loaded = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert loaded == [], f"import core.api loaded {loaded}"


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "broken" not in out.stdout.lower().replace("0 broken", "")


# --- The facade is the one door -------------------------------------------------------------
# Walks every module (no list to keep up to date); see tests/import_walk.py. The CLI's walk is
# in tests/cli/test_layering.py.


def test_the_desktop_imports_only_the_facade_of_core() -> None:
    found = list(imports_under(ROOT / "desktop"))
    assert any(f.path.name == "tasks.py" and f.module.startswith("core.api.") for f in found)  # the walk sees code
    breaches = facade_breaches(ROOT / "desktop")
    assert breaches == [], "the desktop reaches past core.api:\n" + "\n".join(map(str, breaches))


def test_the_walk_catches_a_new_module_and_every_form_of_import(tmp_path: Path, monkeypatch) -> None:
    import tests.import_walk as walk

    monkeypatch.setattr(walk, "ROOT", tmp_path)
    pkg = tmp_path / "desktop" / "pages"
    pkg.mkdir(parents=True)
    (pkg / "brand_new.py").write_text(
        "from core.api import Engine\n"
        "import core\n"
        "from core import outcome, api\n"
        "def later():\n"
        "    from core.store import db\n"
        "    import importlib\n"
        "    importlib.import_module('core.data.service')\n",
        encoding="utf-8",
    )
    cli = tmp_path / "core" / "cli"
    cli.mkdir(parents=True)
    (cli / "sneaky.py").write_text("from . import common\nfrom .. import store\nfrom ..api import Engine\n", encoding="utf-8")
    assert sorted(f.module for f in walk.facade_breaches(tmp_path / "desktop")) == [
        "core", "core.data.service", "core.outcome", "core.store.db"]
    assert [f.module for f in walk.facade_breaches(tmp_path / "core" / "cli", allowed=("core.api", "core.cli"))] == [
        "core.store"]
