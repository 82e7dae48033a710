"""The import wizard names the dataset from the file as the command line does, typed or browsed."""

from __future__ import annotations

from pathlib import Path

from core.api import Engine, default_name
from desktop.widgets.dataset_import import ImportWizard


def test_a_typed_path_fills_the_dataset_name_like_the_cli(qtbot, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "Sales 2024 (final).csv"
    src.write_text("a,b\n1,2\n3,4\n")
    wizard = ImportWizard(engine.datasets, [])
    qtbot.addWidget(wizard)
    wizard.next()
    page = wizard.file_page
    page.path_edit.setText(str(src))
    page.path_edit.editingFinished.emit()
    assert page.name_box.currentText() == default_name(src) == "Sales_2024_final"
    assert page.preview is not None and page.isComplete()
    # A name the user typed is kept when the path changes; an automatic one follows the file.
    page.name_box.setCurrentText("mine")
    other = tmp_path / "other.csv"
    other.write_text("a\n1\n")
    page.path_edit.setText(str(other))
    page.path_edit.editingFinished.emit()
    assert page.name_box.currentText() == "mine"
