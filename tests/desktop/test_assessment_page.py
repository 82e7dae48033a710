"""The assessment page with pytest-qt: answering saves at once, and reopening shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from core.api import Engine  # noqa: E402
from desktop import tasks  # noqa: E402
from desktop.bus import EventBus  # noqa: E402
from desktop.pages.assessment import AssessmentPage  # noqa: E402

PASSPHRASE = "correct horse"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRLOCK_NO_KEYRING", "1")
    eng, _ = Engine.create(tmp_path / "w.airlock", name="T", passphrase=PASSPHRASE, use_keyring=False)
    yield eng
    tasks.shutdown(5000)
    eng.close()


def _page(qtbot, engine) -> AssessmentPage:  # type: ignore[no-untyped-def]
    page = AssessmentPage(EventBus())
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.set_engine(engine)
    return page


def _select(page: AssessmentPage, question_id: str) -> None:
    for i in range(page.tree.topLevelItemCount()):
        top = page.tree.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).data(0, 0x0100) == question_id:
                page.tree.setCurrentItem(top.child(j))
                return
    raise AssertionError(question_id)


def test_answer_save_and_reopen(qtbot, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = engine.assessments.create("airlock-data-ml", "Risk Analytics", targets={"security": 3}).value
    page = _page(qtbot, engine)
    assert page.current is not None and page.current.id == created.id
    assert "0 of 24 questions done" in page.summary.text()

    _select(page, "security.backup")
    assert page.panel.question is not None and page.panel.question.id == "security.backup"
    assert page.panel.suggestion.isVisibleTo(page)  # the workspace has no backup: a suggestion
    assert "no backup on record" in page.panel.suggestion.text()
    assert page.panel.group.checkedId() == -1  # ...that does not answer for the assessor

    page.panel.choose(2)
    page.panel.note.setPlainText("nightly job, never restored")
    with qtbot.waitSignal(page.runner.finished, timeout=10000):
        page.panel.save_button.click()
    stored = engine.assessments.get(created.id).answers["security.backup"]
    assert (stored.level, stored.note) == (2, "nightly job, never restored")
    assert "1 of 24 questions done" in page.summary.text()
    # No targets set: every dimension aims one level up, so the security step is planned.
    recs = [page.recs.item(i).text().lower() for i in range(page.recs.count())]
    assert any("security of environments" in r for r in recs)

    _select(page, "security.encryption")
    page.panel.skip_reason.setText("no one from infrastructure")
    with qtbot.waitSignal(page.runner.finished, timeout=10000):
        page.panel.skip_button.click()

    page.grab().save(str(tmp_path / "assessment_page.png"))
    reopened = _page(qtbot, engine)
    _select(reopened, "security.backup")
    assert reopened.panel.group.checkedId() == 2
    assert reopened.panel.note.toPlainText() == "nightly job, never restored"
    _select(reopened, "security.encryption")
    assert "Skipped: no one from infrastructure" in reopened.panel.status.text()


def test_finalised_assessment_revises_on_change(qtbot, engine) -> None:  # type: ignore[no-untyped-def]
    created = engine.assessments.create("google-mlops", "Ops").value
    page = _page(qtbot, engine)
    with qtbot.waitSignal(page.runner.finished, timeout=10000):
        page.finalise_button.click()
    assert page.current is not None and page.current.locked
    assert not page.finalise_button.isEnabled()
    _select(page, "google.training.process")
    page.panel.choose(1)
    with qtbot.waitSignal(page.runner.finished, timeout=10000):
        page.panel.save_button.click()
    assert page.current.revision == 2 and not page.current.locked
    assert engine.assessments.get(created.id).answers == {}
