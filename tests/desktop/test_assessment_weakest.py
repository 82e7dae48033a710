"""The assessment summary names a weakest dimension only when there is one to compare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.api import Engine
from desktop import tasks
from desktop.bus import EventBus
from desktop.pages.assessment import AssessmentPage


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng, _ = Engine.create(tmp_path / "w.airlock", name="T", passphrase="correct horse", use_keyring=False)
    yield eng
    tasks.shutdown(5000)
    eng.close()


def _page(qtbot, engine: Engine) -> AssessmentPage:  # type: ignore[no-untyped-def]
    page = AssessmentPage(EventBus())
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.set_engine(engine)
    return page


def test_one_answered_dimension_has_no_weakest(qtbot, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    created = engine.assessments.create("airlock-data-ml", "Risk Analytics").value
    first, second = engine.assessments.model_of(created).dimensions[:2]
    engine.assessments.answer(created.id, first.questions[0].id, 1)
    page = _page(qtbot, engine)
    assert "weakest: —" in page.summary.text() and first.name not in page.summary.text()

    engine.assessments.answer(created.id, second.questions[0].id, 3)
    later = _page(qtbot, engine)
    assert f"weakest: {first.name}" in later.summary.text()
