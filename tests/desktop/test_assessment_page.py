"""The assessment page with pytest-qt: answering saves at once, and reopening shows it."""

from __future__ import annotations

import datetime as dt
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
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.panel.save_button.click()
    stored = engine.assessments.get(created.id).answers["security.backup"]
    assert (stored.level, stored.note) == (2, "nightly job, never restored")
    assert "1 of 24 questions done" in page.summary.text()
    # No targets set: every dimension aims one level up, so the security step is planned.
    recs = [page.recs.item(i).text().lower() for i in range(page.recs.count())]
    assert any("security of environments" in r for r in recs)

    _select(page, "security.encryption")
    page.panel.skip_reason.setText("no one from infrastructure")
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.panel.skip_button.click()

    page.grab().save(str(tmp_path / "assessment_page.png"))
    reopened = _page(qtbot, engine)
    _select(reopened, "security.backup")
    assert reopened.panel.group.checkedId() == 2
    assert reopened.panel.note.toPlainText() == "nightly job, never restored"
    _select(reopened, "security.encryption")
    assert "Skipped: no one from infrastructure" in reopened.panel.status.text()


def test_finalised_assessment_revises_on_change(qtbot, engine, messages) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    created = engine.assessments.create("google-mlops", "Ops").value
    page = _page(qtbot, engine)
    messages.answer = QMessageBox.StandardButton.Yes  # finalise with every question open
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.finalise_button.click()
    assert page.current is not None and page.current.locked
    assert not page.finalise_button.isEnabled()
    _select(page, "google.training.process")
    page.panel.choose(1)
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.panel.save_button.click()
    assert page.current.revision == 2 and not page.current.locked
    assert engine.assessments.get(created.id).answers == {}
    draft_id = page.current.id
    _select(page, "google.ops.monitoring")
    page.panel.choose(2)
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.panel.save_button.click()
    assert page.current.id == draft_id  # the second change goes into the same draft
    assert {q: a.level for q, a in page.current.answers.items()} == {
        "google.training.process": 1, "google.ops.monitoring": 2}
    assert page.picker.count() == 2  # revision 1 (final) and one draft, not two


def test_finalising_with_open_questions_asks_first(qtbot, engine, messages) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    created = engine.assessments.create("google-mlops", "Ops").value
    engine.assessments.answer(created.id, "google.training.process", 1)
    page = _page(qtbot, engine)
    messages.answer = QMessageBox.StandardButton.No
    with qtbot.assertNotEmitted(page.runner().started, wait=200):
        page.finalise_button.click()
    assert messages.shown and messages.shown[-1][0] == "Finalise with open questions?"
    assert "6 of 7 questions" in messages.shown[-1][1]
    assert not engine.assessments.get(created.id).locked and "Not finalised" in page.note.text()

    messages.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.finalise_button.click()
    assert engine.assessments.get(created.id).locked
    events, _ = engine.audit.events(action="assessment.finalised")
    assert events[0].details["left_open"] == 6


def test_a_complete_assessment_finalises_without_asking(qtbot, engine, messages) -> None:  # type: ignore[no-untyped-def]
    created = engine.assessments.create("google-mlops", "Ops").value
    for q in engine.assessments.model("google-mlops").questions():
        engine.assessments.answer(created.id, q.id, 1)
    page = _page(qtbot, engine)
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.finalise_button.click()
    assert messages.shown == [] and engine.assessments.get(created.id).locked


def test_question_texts_wrap_in_the_tree(qtbot, engine) -> None:  # type: ignore[no-untyped-def]
    engine.assessments.create("airlock-data-ml", "Risk Analytics")
    page = _page(qtbot, engine)
    page.show()
    qtbot.waitExposed(page)
    page.tree.setColumnWidth(0, 260)
    qtbot.wait(50)  # the delayed item layout runs
    top = page.tree.topLevelItem(0)
    long_item = max((top.child(j) for j in range(top.childCount())), key=lambda it: len(it.text(0)))
    one_line = page.tree.fontMetrics().height()
    rect = page.tree.visualItemRect(long_item)
    assert rect.height() >= 2 * one_line, (rect.height(), one_line)  # the whole text, on several lines
    assert page.tree.wordWrap()
    assert long_item.text(0) in long_item.toolTip(0) and str(long_item.data(0, 0x0100)) in long_item.toolTip(0)


def _recs(page: AssessmentPage) -> list[str]:
    return [page.recs.item(i).text() for i in range(page.recs.count())]


def test_setting_a_target_changes_the_recommendations(qtbot, engine) -> None:  # type: ignore[no-untyped-def]
    created = engine.assessments.create("google-mlops", "Ops").value
    page = _page(qtbot, engine)
    page.tabs.setCurrentWidget(page.results)
    targets = page.results.targets
    assert not any("CI/CD so new pipeline versions" in r for r in _recs(page))  # default aims at level 1
    assert not targets.save_button.isEnabled()
    old_canvases = list(page.results.canvases)

    targets.set_level("training", 2)
    assert targets.changes() == {"training": 2} and targets.save_button.isEnabled()
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        targets.save_button.click()

    assert engine.assessments.get(created.id).targets == {"training": 2}
    recs = _recs(page)
    assert any("Training and pipelines → level 2" in r and "CI/CD" in r for r in recs), recs
    assert page.tabs.currentWidget() is page.results  # saving does not jump back to the questions
    assert targets.table.item(0, 3).text() == "set" and not targets.save_button.isEnabled()
    assert page.results.canvases and page.results.canvases[0] is not old_canvases[0]  # redrawn


def test_attached_evidence_is_listed_stored_and_saved_back(qtbot, engine, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    created = engine.assessments.create("airlock-data-ml", "Risk Analytics").value
    log = tmp_path / "restore-log.txt"
    log.write_bytes(b"restore tested 2025-03-01\n" * 100)
    page = _page(qtbot, engine)
    _select(page, "security.backup")
    assert page.panel.attachments() == [] and not page.panel.save_copy_button.isEnabled()
    assert page.panel.suggestion.isVisibleTo(page)  # the workspace suggestion stays beside it

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(log), "")))
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.panel.attach_button.click()

    stored = engine.assessments.get(created.id).answers["security.backup"].evidence
    assert [(e.filename, e.size) for e in stored] == [("restore-log.txt", 2600)]
    shown = page.panel.attachments()
    assert [(e.filename, e.digest) for e in shown] == [("restore-log.txt", stored[0].digest)]
    assert page.panel.evidence.topLevelItem(0).text(1) == "2.5 KB"
    assert page.panel.question is not None and page.panel.question.id == "security.backup"
    assert "Attached restore-log.txt" in page.note.text()

    page.panel.evidence.setCurrentItem(page.panel.evidence.topLevelItem(0))
    copy = tmp_path / "copy.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(copy), "")))
    with qtbot.waitSignal(page.runner("export").finished, timeout=10000):
        page.panel.save_copy_button.click()
    assert copy.read_bytes() == log.read_bytes()


def test_importing_a_bad_file_names_the_row_and_changes_nothing(qtbot, engine, tmp_path: Path, monkeypatch, messages) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog

    created = engine.assessments.create("google-mlops", "Ops").value
    bad = tmp_path / "filled.csv"
    bad.write_text("question,level,note\ngoogle.training.process,1,ok\ngoogle.training.continuous,7,\n",
                   encoding="utf-8")
    page = _page(qtbot, engine)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    with qtbot.waitSignal(page.runner().failed, timeout=10000):
        page.import_button.click()

    assert len(messages.shown) == 1
    title, text = messages.shown[0]
    assert title == "Check your input"
    assert "row 3" in text and "level 7" in text and "google.training.continuous" in text
    assert "Traceback" not in text
    assert engine.assessments.get(created.id).answers == {}
    assert "0 of 7 questions done" in page.summary.text()

    bad.write_text("question,level,note\ngoogle.training.process,1,ok\n", encoding="utf-8")
    with qtbot.waitSignal(page.runner().finished, timeout=10000):
        page.import_button.click()
    assert engine.assessments.get(created.id).answers["google.training.process"].level == 1
    assert "1 of 7 questions done" in page.summary.text()


def test_results_tab_draws_three_charts_only_when_shown(qtbot, engine) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

    from desktop.widgets.assessment_results import CHARTS

    engine.assessments.create("airlock-data-ml", "Risk Analytics")
    page = _page(qtbot, engine)
    assert page.results.canvases == []  # nothing drawn while the Answer tab is shown
    page.tabs.setCurrentWidget(page.results)
    assert len(page.results.canvases) == 3
    assert all(isinstance(c, FigureCanvasQTAgg) for c in page.results.canvases)
    assert [page.results.charts.tabText(i) for i in range(3)] == list(CHARTS)
    radar = page.results.canvases[0].figure  # type: ignore[attr-defined]
    assert radar.axes[0].name == "polar"


def test_compare_shows_each_dimension_before_and_after(qtbot, engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    old = svc.create("google-mlops", "Ops", assessed_on=dt.date(2024, 1, 1)).value
    new = svc.create("google-mlops", "Ops", assessed_on=dt.date(2025, 1, 1)).value
    later = svc.create("google-mlops", "Ops", assessed_on=dt.date(2025, 6, 1)).value
    for q in svc.model("google-mlops").questions():
        svc.answer(old.id, q.id, 0)
        svc.answer(new.id, q.id, 1)
        svc.answer(later.id, q.id, 2 if q.id.startswith("google.training") else 0)
    svc.create("google-mlops", "Elsewhere")
    page = _page(qtbot, engine)
    page.open_assessment(new.id)
    with qtbot.waitSignal(page.runner("compare").finished, timeout=10000):
        page.compare_button.click()
    dialog = page.compare_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.history.rowCount() == 3  # the unit's assessments only
    rows = dialog.changes_shown()
    assert rows[0] == ("Training and pipelines", "0.0", "1.0", "↑ +1.0")
    assert rows[-1] == ("Overall", "0.0", "1.0", "↑ +1.0")
    assert "2024-01-01" in dialog.table.horizontalHeaderItem(1).text()
    assert dialog.history.item(0, 1).text() == "2024-01-01"

    with qtbot.waitSignal(page.runner("compare").finished, timeout=10000):
        dialog.pick(new.id, later.id)
    rows = dict((r[0], r[3]) for r in dialog.changes_shown())
    assert rows["Training and pipelines"] == "↑ +1.0"
    assert rows["Data and model validation"] == "↓ −1.0"
    dialog.close()
