"""The status bar shows every running task on its own line, and each Cancel stops only its own task."""

from __future__ import annotations

from pathlib import Path

from core.api import Engine
from desktop.main_window import MainWindow
from desktop.pages.datasets import TAB_DRIFT, TAB_PROFILE, DatasetsPage
from tests.desktop.test_datasets_page import write_table

TIMEOUT = 60_000


def test_a_profile_and_a_comparison_each_get_a_line_and_a_cancel(qtbot, engine: Engine, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "a.csv", n=150_000), name="loans")
    engine.datasets.import_file(write_table(tmp_path / "b.csv", n=150_000, shift=1.0, seed=2), name="loans")
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.set_engine(engine)
    page = window.show_page("datasets")
    assert isinstance(page, DatasetsPage)
    progress = window.progress
    profile, drift = page.runner("profile"), page.runner("drift")
    try:
        with qtbot.waitSignal(profile.progressed, timeout=TIMEOUT):
            page.tabs.setCurrentIndex(TAB_PROFILE)
        page.tabs.setCurrentIndex(TAB_DRIFT)
        page.drift_widget.compare_button.click()
        assert profile.busy and drift.busy
        lines = progress.lines()
        assert [line.runner for line in lines] == [profile, drift]  # oldest first, both on show
        assert progress.isVisibleTo(window) and all(line.isVisibleTo(window) for line in lines)
        profile_line, drift_line = lines
        assert "Profiling loans@2" in profile_line.text and "Profiling loans@2" in profile_line.cancel_button.toolTip()
        assert "Comparing loans@1 → loans@2" in drift_line.text
        assert "Comparing loans@1 → loans@2" in drift_line.cancel_button.toolTip()

        # The comparison takes no cancel request (core's drift has no ctx), so the profile is stopped here.
        with qtbot.assertNotEmitted(drift.cancelled), qtbot.waitSignal(profile.cancelled, timeout=TIMEOUT):
            profile_line.cancel_button.click()  # the profile's own Cancel
            assert profile_line.text.startswith("Cancelling profiling")
            assert drift_line.cancel_button.isEnabled() and drift.busy
        assert progress.lines() == ([drift_line] if drift.busy else [])  # the profile's line went, and only it
        qtbot.waitUntil(lambda: not drift.busy, timeout=TIMEOUT)
        assert not progress.lines() and not progress.isVisibleTo(window)
        assert page.drift_widget.report is not None  # the comparison ran to its end
    finally:
        window.engine = None  # the fixture closes the engine
        for p in window.pages.values():
            p.cancel_all()
