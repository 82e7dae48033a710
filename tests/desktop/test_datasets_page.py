"""The Datasets page against a real encrypted workspace: import wizard, profile, schema, drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QWizard

from core.api import Engine
from desktop import tasks
from desktop.bus import EventBus
from desktop.pages.datasets import TAB_DRIFT, TAB_PROFILE, TAB_SCHEMA, DatasetsPage
from desktop.widgets.dataset_import import ImportWizard

TIMEOUT = 30_000


def write_table(path: Path, n: int = 400, *, shift: float = 0.0, sep: str = ",", seed: int = 1) -> Path:
    """A small credit-like table: a numeric that ``shift`` moves, a steady one, a constant, a target."""
    rng = np.random.default_rng(seed)
    steady = np.random.default_rng(99).normal(50.0, 10.0, n)
    amount = rng.normal(20.0, 5.0, n) + shift * 5.0
    target = (rng.random(n) < 0.4).astype(int)
    leak = target * 100 + rng.integers(0, 5, n)
    city = np.random.default_rng(7).choice(["Leeds", "York", "Hull"], n)
    lines = [sep.join(["amount", "steady", "city", "country", "leak", "target"])]
    lines += [sep.join([f"{a:.3f}", f"{s:.3f}", c, "NL", str(lk), str(t)])
              for a, s, c, lk, t in zip(amount, steady, city, leak, target, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def page(qtbot, engine: Engine, bus: EventBus) -> DatasetsPage:
    p = DatasetsPage(bus)
    qtbot.addWidget(p)
    bus.changed.connect(p.on_changes)
    p.set_engine(engine)
    p.resize(1100, 700)
    return p


def wizard_for(page: DatasetsPage, path: Path, monkeypatch: pytest.MonkeyPatch) -> ImportWizard:
    """Open the wizard, go to the file page and pick ``path`` through the (patched) file dialog."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    wizard = page.open_import_wizard()
    assert wizard is not None
    wizard.next()
    assert wizard.currentPage() is wizard.file_page
    wizard.file_page.browse_button.click()
    return wizard


def profile_shown(qtbot, page: DatasetsPage) -> None:
    with qtbot.waitSignal(page.runner("profile").finished, timeout=TIMEOUT):
        page.tabs.setCurrentIndex(TAB_PROFILE)
    assert page.profile_widget.profile is not None


def test_import_a_csv_through_the_wizard(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path, monkeypatch) -> None:
    assert page.dataset_box.count() == 0 and not page.tabs.isEnabled()
    wizard = wizard_for(page, write_table(tmp_path / "loans 2024.csv", n=250, sep=";"), monkeypatch)
    fp = wizard.file_page
    assert "semicolon" in fp.preview.settings and "sniffed" in fp.preview.settings
    headers = [fp.table.horizontalHeaderItem(i).text() for i in range(fp.table.columnCount())]
    assert headers == ["amount", "steady", "city", "country", "leak", "target"]
    assert fp.table.rowCount() == 20
    assert fp.name_box.currentText() == "loans_2024"
    with qtbot.waitSignal(wizard.runner.finished, timeout=TIMEOUT):
        wizard.next()
    assert "Imported loans_2024@1: 250 rows × 6 columns" in wizard.run_page.result.text()
    assert [(v.label, v.row_count) for v in page.version_model.rows()] == [("loans_2024@1", 250)]
    assert "250 rows" in page.version_box.currentText()
    assert page.dataset_box.currentText() == "loans_2024"
    assert "loans 2024.csv" in page.lineage.text()
    assert engine.datasets.version("loans_2024").lineage.imported_by == engine.actor


def test_a_bad_csv_names_the_line_and_adds_nothing(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path,
                                                   monkeypatch, messages) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n", encoding="utf-8")
    wizard = wizard_for(page, bad, monkeypatch)
    assert "line 4" in wizard.file_page.problem_label.text()
    with qtbot.waitSignal(wizard.runner.failed, timeout=TIMEOUT):
        wizard.next()
    text = wizard.run_page.result.text()
    assert "Nothing was imported" in text and "line 4" in text and "expected 3 fields, found 4" in text
    assert "Traceback" not in text
    assert engine.datasets.list() == []
    assert messages.shown == []
    assert not wizard.run_page.isComplete()
    assert wizard.button(QWizard.WizardButton.BackButton).isEnabled()


def test_preview_says_when_the_delimiter_looks_wrong(qtbot, page: DatasetsPage, tmp_path: Path, monkeypatch) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a;b;c\n1;2;3\n4;5;6;7\n", encoding="utf-8")  # the ragged row defeats csv.Sniffer
    wizard = wizard_for(page, odd, monkeypatch)
    # The fallback still finds the semicolons, so the preview points at the ragged line.
    assert wizard.file_page.preview.names == ["a", "b", "c"]
    assert "line 3: 4 fields, expected 3" in wizard.file_page.problem_label.text()
    assert "(sniffed)" in wizard.file_page.settings_label.text()
    wizard.file_page.delimiter_box.setCurrentIndex(wizard.file_page.delimiter_box.findData(","))
    assert "only one column" in wizard.file_page.problem_label.text()
    assert "(chosen)" in wizard.file_page.settings_label.text()
    wizard.reject()


def test_cancelling_an_import_leaves_nothing(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path, monkeypatch) -> None:
    big = write_table(tmp_path / "big.csv", n=300_000)
    wizard = wizard_for(page, big, monkeypatch)
    wizard.runner.progressed.connect(lambda *_: wizard.run_page.cancel_button.click())
    with qtbot.waitSignal(wizard.runner.cancelled, timeout=TIMEOUT):
        wizard.next()
    assert "Cancelled: nothing was imported" in wizard.run_page.result.text()
    assert engine.datasets.list() == []
    assert page.dataset_box.count() == 0


def test_profile_shows_columns_alerts_and_a_plot(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    page.reload()
    profile_shown(qtbot, page)
    pw = page.profile_widget
    names = [pw.column_proxy.data(pw.column_proxy.index(r, 0)) for r in range(pw.column_proxy.rowCount())]
    assert names == ["amount", "steady", "city", "country", "leak", "target"]
    alerts = [pw.alert_proxy.data(pw.alert_proxy.index(r, 2)) for r in range(pw.alert_proxy.rowCount())]
    assert any("country has a single value" in a for a in alerts)
    assert pw.alert_proxy.data(pw.alert_proxy.index(0, 0)).endswith("high")
    assert "400 rows × 6 columns" in pw.summary.text()
    pw.tabs.setCurrentIndex(1)
    pw.column_table.selectRow(names.index("amount"))
    assert pw.histogram.figure is not None and pw.histogram.canvas is not None
    pw.column_table.selectRow(names.index("city"))
    assert pw.top_values.figure is not None
    pw.tabs.setCurrentIndex(2)
    assert pw.heatmap.figure is not None


def test_choosing_a_target_shows_associations(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    page.reload()
    profile_shown(qtbot, page)
    pw = page.profile_widget
    assert pw.assoc_model.rowCount() == 0
    index = pw.target_box.findData("target")
    pw.target_box.setCurrentIndex(index)
    with qtbot.waitSignal(page.runner("profile").finished, timeout=TIMEOUT):
        pw.target_box.activated.emit(index)
    rows = {a.column: a for a in pw.assoc_model.rows()}
    assert set(rows) == {"amount", "steady", "city", "leak"}  # a constant column has nothing to measure
    assert rows["leak"].leakage and not rows["steady"].leakage
    assert "leak" in pw.target_note.text() and "leakage" in pw.target_note.text()
    assert pw.profile is not None and pw.profile.target == "target"


def test_schema_edit_saves_a_revision_and_validation_lists_anomalies(qtbot, page: DatasetsPage, engine: Engine,
                                                                     tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "a.csv"), name="loans")
    page.reload()
    page.tabs.setCurrentIndex(TAB_SCHEMA)
    sw = page.schema_widget
    assert "no schema yet" in sw.heading.text()
    with qtbot.waitSignal(page.runner("schema").finished, timeout=TIMEOUT):
        sw.infer_button.click()
    assert sw.schema is not None and sw.schema.revision == 1
    sw.select_column("amount")
    assert sw.editor.isEnabled() and "amount" in sw.editor.title()
    sw.max_edit.setText("30")
    assert sw.changes() == {"maximum": 30.0}
    with qtbot.waitSignal(page.runner("schema").finished, timeout=TIMEOUT):
        sw.save_button.click()
    saved = engine.datasets.schema("loans")
    assert saved.revision == 2 and saved.column("amount").maximum == 30.0
    assert "revision 2" in sw.heading.text()
    events, _ = engine.audit.events(action="dataset.schema_edited")
    assert len(events) == 1 and events[0].details["after"] == {"maximum": 30.0}

    engine.datasets.import_file(write_table(tmp_path / "b.csv", shift=3.0, seed=2), name="loans")
    page.reload()
    sw.version_box.setCurrentText("loans@2")
    with qtbot.waitSignal(page.runner("validate").finished, timeout=TIMEOUT):
        sw.validate_button.click()
    kinds = {(a.column, a.kind) for a in sw.anomaly_model.rows()}
    assert ("amount", "out_of_range") in kinds
    assert "problem" in sw.verdict.text() and "loans@2" in sw.verdict.text()


def test_drift_compare_flags_the_shifted_column(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "a.csv", n=1000), name="loans")
    engine.datasets.import_file(write_table(tmp_path / "b.csv", n=1000, shift=1.0, seed=2), name="loans")
    page.reload()
    page.tabs.setCurrentIndex(TAB_DRIFT)
    dw = page.drift_widget
    assert (dw.reference_box.currentText(), dw.current_box.currentText()) == ("loans@1", "loans@2")
    with qtbot.waitSignal(page.runner("drift").finished, timeout=TIMEOUT):
        dw.compare_button.click()
    assert dw.report is not None and dw.report.drifted_columns == ("amount",)
    first = dw.model.rows()[0]
    assert first.column == "amount" and dw.proxy.data(dw.proxy.index(0, 1)) == "⚠ yes"
    steady_row = [r for r in range(dw.proxy.rowCount()) if dw.proxy.data(dw.proxy.index(r, 0)) == "steady"][0]
    assert dw.proxy.data(dw.proxy.index(steady_row, 1)) == "no"
    assert "drift in 1 of" in dw.verdict.text() and "amount" in dw.verdict.text()
    assert dw.chart.figure is not None


def test_export_writes_the_html_report(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path, monkeypatch) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    page.reload()
    profile_shown(qtbot, page)
    dest = tmp_path / "report.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(dest), "")))
    with qtbot.waitSignal(page.runner("export").finished, timeout=TIMEOUT):
        page.profile_widget.export_button.click()
    assert "Profile of loans@1" in dest.read_text(encoding="utf-8")
    assert str(dest) in page.status.text()
    assert "<script" not in dest.read_text(encoding="utf-8").lower()


def test_datasets_page_loads_no_heavy_library() -> None:
    code = (
        "import sys, desktop.pages.datasets\n"
        "print([m for m in ('matplotlib', 'pandas', 'pyarrow', 'sqlalchemy', 'core.store.db') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_comparing_versions_does_not_cancel_a_running_profile(qtbot, page: DatasetsPage, engine: Engine,
                                                             tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "a.csv", n=150_000), name="loans")
    engine.datasets.import_file(write_table(tmp_path / "b.csv", n=150_000, shift=1.0, seed=2), name="loans")
    page.reload()
    profile, drift = page.runner("profile"), page.runner("drift")
    with qtbot.waitSignal(profile.progressed, timeout=TIMEOUT):
        page.tabs.setCurrentIndex(TAB_PROFILE)
    assert profile.busy, "the profile must still be running when the comparison starts"
    dw = page.drift_widget
    with qtbot.assertNotEmitted(profile.cancelled), \
            qtbot.waitSignals([drift.finished, profile.finished], timeout=TIMEOUT):
        page.tabs.setCurrentIndex(TAB_DRIFT)
        dw.compare_button.click()
        assert profile.busy and drift.busy
    assert dw.report is not None and dw.report.drifted_columns == ("amount",)
    assert page.profile_widget.profile is not None
    assert page.profile_widget.profile.version_id == engine.datasets.version("loans@2").id
    qtbot.waitUntil(lambda: engine.datasets.stored_profile("loans@2") is not None, timeout=TIMEOUT)


def test_a_second_comparison_supersedes_the_first(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "a.csv", n=150_000), name="loans")
    engine.datasets.import_file(write_table(tmp_path / "b.csv", n=150_000, shift=1.0, seed=2), name="loans")
    page.reload()
    page.tabs.setCurrentIndex(TAB_DRIFT)
    drift, dw = page.runner("drift"), page.drift_widget
    reports: list[object] = []
    drift.finished.connect(reports.append)
    dw.compare_button.click()  # loans@1 → loans@2
    dw.reference_box.setCurrentText("loans@2")
    with qtbot.waitSignal(drift.finished, timeout=TIMEOUT):
        dw.compare_button.click()  # loans@2 → loans@2 supersedes it
    with qtbot.assertNotEmitted(drift.finished, wait=300):
        assert tasks.read_pool().waitForDone(TIMEOUT)  # the first one ends, and its result is dropped
    assert len(reports) == 1 and dw.report is not None and dw.report.reference == "loans@2"
    assert not dw.report.drift


def test_the_schema_tab_follows_the_selected_dataset(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path) -> None:
    from tests.core.data import real_data

    engine.datasets.import_file(write_table(tmp_path / "a.csv"), name="loans")
    engine.datasets.infer_schema("loans")
    engine.datasets.import_file(write_table(tmp_path / "b.csv", shift=3.0, seed=2), name="loans")
    engine.datasets.import_file(real_data.write_csv("iris", tmp_path), name="iris")
    page.reload()
    page.dataset_box.setCurrentText("loans")
    page.tabs.setCurrentIndex(TAB_SCHEMA)
    sw = page.schema_widget
    sw.version_box.setCurrentText("loans@2")
    with qtbot.waitSignal(page.runner("validate").finished, timeout=TIMEOUT) as late:
        sw.validate_button.click()
    listed = sw.anomaly_model.rows()
    problems = sum(1 for a in listed if a.severity in ("high", "medium"))
    notes = len(listed) - problems
    assert problems and f"{problems} problem" in sw.verdict.text()  # the verdict counts the rows listed
    assert notes == 0 or f"{notes} note" in sw.verdict.text()

    page.dataset_box.setCurrentText("iris")
    assert sw.schema is None and "iris" in sw.heading.text() and "no schema yet" in sw.heading.text()
    assert sw.anomaly_model.rowCount() == 0 and sw.verdict.text() == ""
    assert [sw.version_box.itemText(i) for i in range(sw.version_box.count())] == ["iris@1"]
    page._on_validated(late.args[0])  # a late result about loans is not shown over iris
    assert sw.anomaly_model.rowCount() == 0 and sw.verdict.text() == ""
    with qtbot.waitSignal(page.runner("schema").finished, timeout=TIMEOUT):
        sw.infer_button.click()
    assert sw.schema is not None and sw.schema.dataset_name == "iris"
    assert sw.schema.column("target").allowed_values == ("0", "1", "2")
    page.dataset_box.setCurrentText("loans")
    assert sw.schema is not None and sw.schema.dataset_name == "loans" and sw.anomaly_model.rowCount() == 0
