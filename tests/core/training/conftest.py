"""Fixtures of the training tests: real bundled datasets imported into a real encrypted workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.core.data import real_data


@pytest.fixture
def engine(workspace: tuple[Any, str]) -> Any:
    return workspace[0]


@pytest.fixture
def imported(engine: Any, tmp_path: Path) -> Callable[..., Any]:
    """``imported(name, df=None)``: the DatasetVersion of bundled dataset ``name`` (or ``df``) imported as ``name``."""

    def _import(name: str, df: Any = None, *, as_name: str | None = None) -> Any:
        folder = tmp_path / "files"
        folder.mkdir(exist_ok=True)
        path = real_data.write_csv(as_name or name, folder, df=real_data.frame(name) if df is None else df)
        return engine.datasets.import_file(path, name=as_name or name).value.version

    return _import
