"""Fixtures of the discovery tests: a dataset service over a real encrypted workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.data.service import DatasetService


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[object]:
    from core.api import Engine

    eng, _ = Engine.create(tmp_path / "w.airlock", name="Test", passphrase="correct horse", use_keyring=False)
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def datasets(engine: object) -> DatasetService:
    return engine.datasets  # type: ignore[attr-defined, no-any-return]
