"""The page shown when no workspace is open: create one, open one, or pick a recent one.

Laid out as one compact column at the top left (title, a sentence, the two buttons, the
recent list), whatever the window's size: on a fresh home with no recent workspace nothing
is spread over the empty space. It only emits requests; the main window carries them out.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

#: The column never grows wider than this (a sentence stays readable) …
COLUMN_WIDTH = 680
#: … and the recent list no taller than about ten entries.
RECENT_HEIGHT = 240


class WelcomePage(QWidget):
    create_requested = Signal()
    """The user wants a new workspace; no payload."""

    open_requested = Signal(str)
    """The user wants to open a workspace; payload: its path, or "" to choose one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h1 style='margin-bottom:0'>Welcome to Airlock</h1>")
        intro = QLabel(
            "Airlock keeps your datasets, models, reviews and audit log in one encrypted "
            "<i>workspace</i> file. Create a workspace to start, or open one you already have."
        )
        intro.setWordWrap(True)
        self.create_button = QPushButton("Create a new workspace…")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self._on_create_clicked)
        self.open_button = QPushButton("Open a workspace…")
        self.open_button.clicked.connect(self._on_open_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        self.recent_label = QLabel("<b>Recent workspaces</b> (double-click to open)")
        self.recent = QListWidget()
        self.recent.setMaximumHeight(RECENT_HEIGHT)
        self.recent.itemActivated.connect(self._on_recent_activated)
        column = QWidget()
        column.setMaximumWidth(COLUMN_WIDTH)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addSpacing(16)
        layout.addWidget(self.recent_label)
        layout.addWidget(self.recent)
        row = QHBoxLayout()
        row.addWidget(column, 1)
        row.addStretch(0)  # the column keeps its width; any wider window leaves the rest free
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 30, 40, 30)
        outer.addLayout(row)
        outer.addStretch(1)  # the free space stays below the content, not between its lines
        self.set_recent([])

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(f"{Path(path).name}    —    {Path(path).parent}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            self.recent.addItem(item)
        self.recent_label.setVisible(bool(paths))
        self.recent.setVisible(bool(paths))

    @Slot()
    def _on_create_clicked(self) -> None:
        self.create_requested.emit()

    @Slot()
    def _on_open_clicked(self) -> None:
        self.open_requested.emit("")

    @Slot(QListWidgetItem)
    def _on_recent_activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(str(item.data(Qt.ItemDataRole.UserRole)))
