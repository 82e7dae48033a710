"""The files Airlock ships beside its code: maturity models, rubric catalogues, default policies.

They live in the repository's top-level ``resources/`` folder, which is installed as the import
package ``airlock_resources`` (``[tool.setuptools] package-dir`` in ``pyproject.toml``), so
they are read with :mod:`importlib.resources` the same way in an editable checkout and in an
installed wheel with no source tree. Every area reads its built-in files through this module;
none builds a path from ``__file__``.

This module only reads. It never writes into the installation, never touches the store, and
never reaches the network.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from core.errors import AirlockError

#: The import package that holds the repository's ``resources/`` folder once installed.
RESOURCE_PACKAGE = "airlock_resources"


class ResourceMissing(AirlockError):
    """A file Airlock ships is not where the installation should have put it."""

    code = "resource_missing"


def resource_root() -> Traversable:
    """The root of Airlock's shipped resources (``resources/`` in the repository).

    Raises
    ------
    ResourceMissing
        When the ``airlock_resources`` package is not installed (a broken installation).
    """
    try:
        return resources.files(RESOURCE_PACKAGE)
    except ModuleNotFoundError:
        raise ResourceMissing(
            f"Airlock's built-in resources are missing: the package {RESOURCE_PACKAGE!r} is not "
            "installed beside 'core'. Reinstall Airlock from its wheel or offline bundle "
            "(or run 'make venv' in a source checkout)."
        ) from None


def resource_files(kind: str) -> Traversable:
    """The folder of one kind of shipped resource, e.g. ``resource_files("maturity")``.

    Parameters
    ----------
    kind
        The folder's name under ``resources/`` (one path component).

    Returns
    -------
    Traversable
        The folder; read it with ``iterdir()``, ``/`` and ``read_text()``.

    Raises
    ------
    ResourceMissing
        When the folder is not part of this installation.
    """
    if not kind or "/" in kind or "\\" in kind or kind in {".", ".."}:
        raise ValueError(f"a resource kind is one folder name, not {kind!r}")
    folder = resource_root() / kind
    if not folder.is_dir():
        raise ResourceMissing(
            f"Airlock's built-in resources have no folder {kind!r} (looked in {folder}). "
            "The installation is incomplete: reinstall Airlock from its wheel or offline bundle."
        )
    return folder


def list_resources(kind: str, suffix: str = ".json") -> tuple[Traversable, ...]:
    """The files of one kind whose names end with ``suffix``, sorted by name."""
    return tuple(sorted(
        (f for f in resource_files(kind).iterdir() if f.is_file() and f.name.endswith(suffix)),
        key=lambda f: f.name,
    ))


def read_resource(kind: str, name: str) -> str:
    """The text (UTF-8) of one shipped file, e.g. ``read_resource("maturity", "azure-mlops.json")``.

    Raises
    ------
    ResourceMissing
        When the file is not part of this installation.
    """
    item = resource_files(kind) / name
    if not item.is_file():
        raise ResourceMissing(
            f"Airlock's built-in resource {kind}/{name} is missing (looked in {item}). "
            "Reinstall Airlock from its wheel or offline bundle."
        )
    return item.read_text(encoding="utf-8")
