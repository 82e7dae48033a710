"""The correlation heatmap sits at the left at its own size: no wide empty band beside it."""

from __future__ import annotations

from pathlib import Path

from core.api import Engine
from desktop.bus import EventBus
from desktop.pages.datasets import TAB_PROFILE, DatasetsPage
from tests.desktop.test_datasets_page import write_table


def test_the_heatmap_leaves_no_empty_band_on_its_left(qtbot, engine: Engine, bus: EventBus, tmp_path: Path) -> None:
    engine.datasets.import_file(write_table(tmp_path / "t.csv"), name="loans")
    page = DatasetsPage(bus)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    page.set_engine(engine)
    with qtbot.waitSignal(page.runner("profile").finished, timeout=30_000):
        page.tabs.setCurrentIndex(TAB_PROFILE)
    pw = page.profile_widget
    pw.tabs.setCurrentIndex(2)
    holder, fig = pw.heatmap, pw.heatmap.figure
    assert fig is not None and holder.canvas is not None
    qtbot.waitUntil(lambda: holder.canvas is not None and holder.canvas.isVisible())
    canvas = holder.canvas
    assert holder.width() > canvas.width() + 200  # the space is wider than the chart needs...
    assert canvas.x() == 0 and canvas.width() == int(fig.get_figwidth() * fig.dpi)  # ...which sits left, unstretched
    fig.canvas.draw()
    ax = fig.axes[0]
    labels_left = ax.get_tightbbox(fig.canvas.get_renderer()).x0
    assert labels_left < 0.12 * fig.bbox.width  # the tick labels start near the figure's left edge
