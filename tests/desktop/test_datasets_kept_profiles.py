"""The Profile tab shows the profiles kept with a version (the CLI's too) and computes only what is not kept;
status lines about what was shown go when the selection or the tab changes; sizes read as in the reports."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from core.api import Engine, size_text
from desktop.bus import EventBus
from desktop.pages.datasets import TAB_DRIFT, TAB_PROFILE, DatasetsPage, ProfileRun
from desktop.widgets.dataset_profile import KEPT_MARK, NO_TARGET
from tests.desktop.test_datasets_page import write_table

TIMEOUT = 30_000


@pytest.fixture
def page(qtbot, engine: Engine, bus: EventBus) -> DatasetsPage:
    p = DatasetsPage(bus)
    qtbot.addWidget(p)
    bus.changed.connect(p.on_changes)
    p.set_engine(engine)
    p.resize(1100, 700)
    return p


def _open_profile(qtbot, page: DatasetsPage) -> ProfileRun:
    with qtbot.waitSignal(page.runner("profile").finished, timeout=TIMEOUT) as blocker:
        page.tabs.setCurrentIndex(TAB_PROFILE)
    run = blocker.args[0]
    assert isinstance(run, ProfileRun)
    return run


def _item_texts(page: DatasetsPage) -> dict[object, str]:
    box = page.profile_widget.target_box
    return {box.itemData(i): box.itemText(i) for i in range(box.count())}


def test_a_profile_kept_with_a_target_is_shown_not_recomputed(qtbot, page: DatasetsPage, engine: Engine,
                                                              tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    # What `airlock data profile loans --target target` keeps.
    engine.datasets.save_profile(engine.datasets.profile("loans", target="target"))
    page.reload()
    with qtbot.assertNotEmitted(page.runner("profile-save").started):
        run = _open_profile(qtbot, page)
    pw = page.profile_widget
    assert run.kept and run.kept_targets == ("target",)
    assert pw.profile is not None and pw.profile.target == "target"
    assert pw.target_box.currentData() == "target"
    assert {a.column for a in pw.assoc_model.rows()} >= {"amount", "leak"}
    texts = _item_texts(page)
    assert texts["target"] == "target" + KEPT_MARK and texts[None] == NO_TARGET  # only the kept one is marked
    assert engine.datasets.profile_targets("loans") == ["target"]  # no second profile kept behind the user's back


def test_choosing_targets_computes_only_what_is_not_kept(qtbot, page: DatasetsPage, engine: Engine,
                                                         tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    engine.datasets.save_profile(engine.datasets.profile("loans", target="target"))
    page.reload()
    _open_profile(qtbot, page)
    pw, box = page.profile_widget, page.profile_widget.target_box

    none_index = box.findData(None)
    box.setCurrentIndex(none_index)
    with qtbot.waitSignal(page.runner("profile-save").finished, timeout=TIMEOUT), \
            qtbot.waitSignal(page.runner("profile").finished, timeout=TIMEOUT) as computed:
        box.activated.emit(none_index)
    assert not computed.args[0].kept and pw.profile is not None and pw.profile.target is None
    assert _item_texts(page)[None] == NO_TARGET + KEPT_MARK  # kept now, and the selector says so
    assert engine.datasets.profile_targets("loans") == [None, "target"]

    index = box.findData("target")
    box.setCurrentIndex(index)
    with qtbot.assertNotEmitted(page.runner("profile-save").started), \
            qtbot.waitSignal(page.runner("profile").finished, timeout=TIMEOUT) as shown:
        box.activated.emit(index)
    assert shown.args[0].kept and pw.profile is not None and pw.profile.target == "target"


def test_a_version_with_nothing_kept_is_profiled_and_kept_without_target(qtbot, page: DatasetsPage, engine: Engine,
                                                                         tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    page.reload()
    with qtbot.waitSignal(page.runner("profile-save").finished, timeout=TIMEOUT):
        run = _open_profile(qtbot, page)
    assert not run.kept and run.kept_targets == ()
    assert engine.datasets.profile_targets("loans") == [None]


def test_the_export_message_goes_when_the_tab_or_the_version_changes(qtbot, page: DatasetsPage, engine: Engine,
                                                                     tmp_path: Path, monkeypatch) -> None:
    engine.datasets.import_file(write_table(tmp_path / "a.csv"), name="loans")
    engine.datasets.import_file(write_table(tmp_path / "b.csv", shift=1.0, seed=2), name="loans")
    page.reload()
    _open_profile(qtbot, page)
    dest = tmp_path / "report.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(dest), "")))

    def export() -> None:
        with qtbot.waitSignal(page.runner("export").finished, timeout=TIMEOUT):
            page.profile_widget.export_button.click()
        assert str(dest) in page.status.text() and page.status.isVisibleTo(page)

    export()
    page.tabs.setCurrentIndex(TAB_DRIFT)
    assert page.status.text() == "" and not page.status.isVisibleTo(page)

    page.tabs.setCurrentIndex(TAB_PROFILE)  # the profile is on show already
    export()
    assert page.version is not None and page.version.number == 2
    with qtbot.waitSignal(page.runner("profile").finished, timeout=TIMEOUT):
        page.select_version(1)
    assert page.status.text() == "" and not page.status.isVisibleTo(page)


def test_memory_reads_as_in_the_report(qtbot, page: DatasetsPage, engine: Engine, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv", n=20_000), name="loans")
    page.reload()
    run = _open_profile(qtbot, page)
    shown = size_text(run.profile.memory_bytes)
    assert shown.endswith((" kB", " MB")) and "KiB" not in page.profile_widget.summary.text()
    assert f"{shown} in memory" in page.profile_widget.summary.text()
    report = engine.datasets.profile_report("loans", format="html").decode("utf-8")
    assert html.escape(shown) in report
