"""The Rubric page shows a rubric result the QA lead can act on (pytest-qt, offscreen).

Results are built from the shipped catalogue and scored with ``core.rubric.scoring`` (the
real rule); the page is shown them directly through :meth:`RubricPage.show_result`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl

from core.api import (
    Algorithm,
    Attestation,
    Engine,
    RubricResult,
    SearchSpec,
    SplitSpec,
    Task,
    TestOutcome,
    TestResult,
    TestStatus,
    load_rubric_catalogue,
)
from core.rubric import scoring
from core.rubric.models import AttestationId, RubricResultId
from desktop.bus import EventBus
from desktop.pages import page_spec
from desktop.pages.rubric import RubricPage
from desktop.widgets.rubric_attest import AttestDialog
from desktop.widgets.rubric_results import COLUMNS
from tests.core.data import real_data

TIMEOUT = 60_000

NASTY = "<b>bold</b> & co"


def make_result(rid: str, *, model_automated: bool, at: str) -> RubricResult:
    results = []
    for t in load_rubric_catalogue().tests:
        if t.section.value == "data" or (t.section.value == "model" and model_automated):
            outcome = TestOutcome.FAIL if t.id == "model.5" else TestOutcome.PASS
            results.append(TestResult(t.id, TestStatus.AUTOMATED, outcome, ("model_version:mv1", "evidence:slices"),
                                      at, {"slice_max_gap": 0.05}, f"checked {NASTY}"))
        elif t.id == "infra.3":
            results.append(TestResult(t.id, TestStatus.MANUAL, TestOutcome.PASS, ("attestation:a1",), at, {},
                                      "attested"))
        else:
            results.append(TestResult(t.id, TestStatus.NOT_DONE, None, (), at, {}, "",
                                      reason_not_done="Needs the deployment part."))
    return RubricResult(RubricResultId(rid), "mv1", 1, tuple(results), scoring.score(results), "alice", at)


OLD = make_result("r1", model_automated=False, at="2026-11-01T10:00:00+00:00")
NEW = make_result("r2", model_automated=True, at="2026-12-01T10:00:00+00:00")
ATT = Attestation(AttestationId("a1"), "infra.3", "mv1", f"Integration run reviewed {NASTY}",
                  (("run.log", "cd" * 32),), "bob", "2026-11-20T09:00:00+00:00", "2027-02-01T00:00:00+00:00")


@pytest.fixture
def page(qtbot, bus: EventBus) -> RubricPage:
    p = RubricPage(bus)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show_result(NEW, (ATT,), (NEW, OLD), label="loans@3")
    return p


def test_registered_after_training() -> None:
    spec = page_spec("rubric")
    assert spec is not None and spec.load() is RubricPage
    from desktop.pages import PAGES

    names = [s.name for s in PAGES]
    assert names.index("rubric") == names.index("training") + 1


def test_sections_with_sums_and_the_minimum(page: RubricPage) -> None:
    strip = page.view.score_label.text()
    # data 7 automated, model 7 automated, infra 0.5 (one manual), monitor 0: the minimum is monitoring
    assert "Features and data<br><b>7</b> of 7" in strip
    assert "ML infrastructure<br><b>0.5</b> of 7" in strip
    assert "Monitoring<br><b>0</b> of 7<br><i>the minimum</i>" in strip
    assert strip.count("the minimum") == 1
    assert "Final score 0</b>" in strip
    assert page.view.rule_label.text() == f"Scoring rule: {scoring.rule_text()}"
    tree = page.view.tree
    assert tree.topLevelItemCount() == 4
    assert [tree.topLevelItem(i).text(0) for i in range(4)] == [
        "Features and data: 7 of 7", "Model development: 7 of 7", "ML infrastructure: 0.5 of 7", "Monitoring: 0 of 7"]
    model = tree.topLevelItem(1)
    row = {COLUMNS[c]: model.child(4).text(c) for c in range(len(COLUMNS))}
    assert row["Test"].startswith("model.5 ") and row["Status"] == "automated" and row["Outcome"] == "fail"
    assert row["Evidence"] == "model_version:mv1, evidence:slices" and row["Ran"] == "2026-12-01 10:00"
    assert model.child(4).background(0).color().name() == "#fdecea"
    monitor = tree.topLevelItem(3).child(0)
    assert monitor.text(1) == "not done" and monitor.text(5) == "Needs the deployment part."


def test_detail_escapes_and_links_emit(qtbot, page: RubricPage) -> None:
    assert page.view.select_test("infra.3")
    html = page.view.detail_html("infra.3")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html
    assert "Attested by bob" in html and "(valid)" in html and "run.log" in html
    assert page.view.detail.toPlainText().startswith("infra.3 ")
    assert page.view.select_test("model.5")
    assert "href='record:evidence:slices'" in page.view.detail_html("model.5")
    with qtbot.waitSignal(page.evidence_requested, timeout=2000) as blocker:
        page.view.detail.anchorClicked.emit(QUrl("record:evidence:slices"))
    assert blocker.args == ["evidence:slices"]
    assert "slices" in page.note.text()


def test_history_switches_the_result(page: RubricPage) -> None:
    assert page.history_box.count() == 2
    assert page.current_result() is NEW
    page.history_box.setCurrentIndex(1)
    assert page.current_result() is OLD
    assert page.view.tree.topLevelItem(1).text(0) == "Model development: 0 of 7"


def test_compare_dialog(page: RubricPage) -> None:
    dialog = page.show_comparison(scoring.compare(OLD, NEW))
    assert dialog.sections.rowCount() == 4
    assert [dialog.sections.item(1, j).text() for j in range(4)] == ["Model development", "0", "7", "+7"]
    assert dialog.differences.rowCount() == 7  # every model test went from not done to automated
    assert dialog.differences.item(4, 2).text() == "automated, fail"
    dialog.close()


def test_attest_dialog(qtbot) -> None:
    catalogue = load_rubric_catalogue()
    dialog = AttestDialog(catalogue, "loans@3", "infra.3", today=dt.date(2026, 12, 1))
    qtbot.addWidget(dialog)
    assert dialog.test_box.currentData() == "infra.3"
    assert dialog.instructions.text() == catalogue.test("infra.3").attestation
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.statement.setPlainText("  Reviewed the run.  ")
    assert ok.isEnabled()
    v = dialog.values()
    assert (v.test_id, v.statement, v.files, v.expires_at) == ("infra.3", "Reviewed the run.", (),
                                                              "2027-03-01T00:00:00+00:00")


@pytest.mark.slow  # trains a tiny model
def test_run_history_compare_and_export_through_the_engine(qtbot, engine: Engine, bus: EventBus,
                                                           tmp_path: Path) -> None:
    path = real_data.write_csv("breast_cancer", tmp_path, df=real_data.frame("breast_cancer"))
    version = engine.datasets.import_file(path, name="breast_cancer").value.version
    spec = engine.training.init_spec(version.label, "target", task=Task.BINARY)
    spec = dataclasses.replace(spec, metric="roc_auc", algorithms=(Algorithm.LOGISTIC,), search=SearchSpec(trials=1),
                               split=SplitSpec(cv_folds=2), bootstrap_rounds=30, smoke_rows=100)
    label = engine.training.run(spec, model="cancer").value.label
    p = RubricPage(bus)
    qtbot.addWidget(p)
    bus.changed.connect(p.on_changes)
    p.set_engine(engine)
    qtbot.waitUntil(lambda: p.version_box.count() == 1 and p.shown is not None, timeout=TIMEOUT)
    assert p.version_box.currentText() == label and p.current_result() is None
    assert "run the rubric" in p.view.score_label.text() and p.run_button.isEnabled()
    for runs in (1, 2):
        p.run_rubric()
        qtbot.waitUntil(lambda n=runs: p.shown is not None and len(p.shown.history) == n, timeout=TIMEOUT)
    stored = engine.rubric.history(label)
    assert [r.id for r in p.shown.history] == [r.id for r in reversed(stored)]
    assert p.current_result() == stored[-1]
    assert "Final score" in p.view.score_label.text() and p.view.tree.topLevelItemCount() == 4
    p.history_box.setCurrentIndex(1)
    assert p.current_result() == stored[0] and p.compare_button.isEnabled()
    p.compare_with_latest()
    qtbot.waitUntil(lambda: p.compare_dialog is not None, timeout=TIMEOUT)
    assert p.compare_dialog.sections.rowCount() == 4
    p.compare_dialog.close()
    dest = tmp_path / "rubric.html"
    p.export(dest, "html")
    qtbot.waitUntil(lambda: dest.exists() and "Wrote" in p.note.text(), timeout=TIMEOUT)
    assert f"ML Test Score rubric: {label}" in dest.read_text(encoding="utf-8")
    events, _ = engine.audit.events(action="rubric.report_exported")
    assert events[0].details["result"] == stored[0].id
