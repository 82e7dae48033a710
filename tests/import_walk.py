"""Every import of every module under a folder, found by walking and parsing the files.

The layering tests use this instead of a list of modules, so a module added tomorrow is checked
the day it appears. Imports inside functions, ``from core import x`` (which imports ``core.x``),
relative imports and ``importlib.import_module("...")`` / ``__import__("...")`` with a literal
name are all reported as the absolute module they load. This module imports nothing it inspects.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Found:
    """One import: the file, its line, and the absolute module it loads."""

    path: Path
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.module}"


def _package_of(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1]  # a module's package; for __init__.py the package itself


def _from_import(path: Path, node: ast.ImportFrom) -> list[str]:
    if node.level:
        package = _package_of(path)
        base = package[: len(package) - node.level + 1]  # level 1 is the module's own package
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    # ``from pkg import name`` may import the submodule pkg.name: report that, so that
    # ``from core import store`` counts as core.store and ``from core import api`` as core.api.
    return [f"{module}.{alias.name}" if alias.name != "*" else module for alias in node.names]


def _dynamic_import(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in ("import_module", "__import__") and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def imports_under(folder: Path) -> Iterator[Found]:
    """Every import in every ``*.py`` file under ``folder`` (recursively)."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Found(path, node.lineno, alias.name)
            elif isinstance(node, ast.ImportFrom):
                for module in _from_import(path, node):
                    yield Found(path, node.lineno, module)
            elif isinstance(node, ast.Call):
                dynamic = _dynamic_import(node)
                if dynamic is not None:
                    yield Found(path, node.lineno, dynamic)


def is_within(module: str, package: str) -> bool:
    """Whether ``module`` is ``package`` or inside it."""
    return module == package or module.startswith(package + ".")


def facade_breaches(folder: Path, allowed: tuple[str, ...] = ("core.api",)) -> list[Found]:
    """Imports of ``core`` under ``folder`` that go through anything but ``allowed``.

    ``from core.api import Engine`` reports ``core.api.Engine``, which is within ``core.api``;
    ``import core`` on its own is a breach (it reaches everything).
    """
    return [f for f in imports_under(folder)
            if is_within(f.module, "core") and not any(is_within(f.module, a) for a in allowed)]
