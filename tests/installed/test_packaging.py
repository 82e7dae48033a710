"""What the wheel will hold: every package in the checkout, every shipped resource.

``pyproject.toml`` lists its packages by hand (``resources/`` is installed under another name,
``airlock_resources``, which package discovery cannot do), so a package someone adds and
forgets to list would be missing from the wheel; these tests name it. ``make smoke`` then
proves the built wheel works.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from core.resources import list_resources, read_resource, resource_files, resource_root

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    found = {"airlock_resources"}
    for top in ("core", "desktop"):
        for init in (REPO / top).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(REPO).parts))
    return found


def test_every_package_in_the_checkout_is_listed_in_pyproject() -> None:
    listed = set(SETUPTOOLS["packages"])
    missing = sorted(_packages_on_disk() - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml, or the wheel lacks them"
    stale = sorted(listed - _packages_on_disk())
    assert not stale, f"[tool.setuptools] packages lists {stale}, which no longer exist"


def test_resources_folder_is_installed_as_airlock_resources() -> None:
    assert SETUPTOOLS["package-dir"] == {"airlock_resources": "resources"}
    assert Path(str(resource_root())).resolve() == REPO / "resources"


def test_package_data_covers_every_file_under_resources() -> None:
    patterns = SETUPTOOLS["package-data"]["airlock_resources"]
    files = [p.relative_to(REPO / "resources").as_posix() for p in (REPO / "resources").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"]
    assert files, "resources/ holds no data file"
    # setuptools expands "**/" to any depth, including none.
    uncovered = [f for f in files
                 if not any(fnmatch.fnmatch(f, pat) or fnmatch.fnmatch(f, pat.removeprefix("**/")) for pat in patterns)]
    assert not uncovered, f"no package-data pattern ships {uncovered}: add their suffix in pyproject.toml"


def test_the_helper_reads_the_shipped_maturity_models() -> None:
    names = [f.name for f in list_resources("maturity")]
    assert "airlock-data-ml.json" in names
    assert '"id": "airlock-data-ml"' in read_resource("maturity", "airlock-data-ml.json")
    assert resource_files("maturity").is_dir()
