"""The attest dialog: a reviewer records that a rubric test was done by hand for a model version.

The reviewer picks the test (the catalogue's instructions for attesting it are shown beside
it), writes the statement, adds the files that back it (stored encrypted by the service) and
sets when the attestation stops counting. :meth:`AttestDialog.values` gives what the service's
``attest`` takes; the dialog itself stores nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.api import RubricCatalogue

#: How long an attestation counts unless the reviewer says otherwise.
DEFAULT_DAYS = 90


@dataclass(frozen=True, slots=True)
class AttestInput:
    """What the reviewer entered: the test, the statement, the files and the expiry (ISO 8601, UTC)."""

    test_id: str
    statement: str
    files: tuple[Path, ...]
    expires_at: str


class AttestDialog(QDialog):
    """Attest one test of ``model_label``; ``test_id`` is preselected when given."""

    def __init__(self, catalogue: RubricCatalogue, model_label: str, test_id: str | None = None,
                 parent: QWidget | None = None, *, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Attest a rubric test of {model_label}")
        self.catalogue = catalogue
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.test_box = QComboBox()
        for t in catalogue.tests:
            self.test_box.addItem(f"{t.id} {t.title}", t.id)
        if test_id is not None and (i := self.test_box.findData(test_id)) >= 0:
            self.test_box.setCurrentIndex(i)
        self.test_box.currentIndexChanged.connect(self._on_test_changed)
        form.addRow("Test", self.test_box)
        self.instructions = QLabel()
        self.instructions.setWordWrap(True)
        self.instructions.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("What to record", self.instructions)
        self.statement = QPlainTextEdit()
        self.statement.setPlaceholderText("What was done, by whom, and what the attached files show.")
        self.statement.textChanged.connect(self._update_ok)
        form.addRow("Statement", self.statement)
        files_row = QHBoxLayout()
        self.files = QListWidget()
        self.files.setMaximumHeight(90)
        files_row.addWidget(self.files, 1)
        buttons = QVBoxLayout()
        add, remove = QPushButton("Add files…"), QPushButton("Remove")
        add.clicked.connect(self._on_add)
        remove.clicked.connect(self._on_remove)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        files_row.addLayout(buttons)
        form.addRow("Files", files_row)
        start = today or dt.datetime.now(dt.UTC).date()
        self.expires = QDateEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd")
        first = start + dt.timedelta(days=1)
        self.expires.setMinimumDate(QDate(first.year, first.month, first.day))
        until = start + dt.timedelta(days=DEFAULT_DAYS)
        self.expires.setDate(QDate(until.year, until.month, until.day))
        form.addRow("Counts until", self.expires)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Attest")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._on_test_changed()
        self._update_ok()
        self.resize(640, 480)

    def add_files(self, paths: list[Path]) -> None:
        """Add files to attach (each once)."""
        have = {self.files.item(i).text() for i in range(self.files.count())}
        for p in paths:
            if str(p) not in have:
                self.files.addItem(str(p))

    def values(self) -> AttestInput:
        """What the reviewer entered."""
        d = self.expires.date()
        expires = dt.datetime(d.year(), d.month(), d.day(), tzinfo=dt.UTC)
        return AttestInput(
            test_id=str(self.test_box.currentData()),
            statement=self.statement.toPlainText().strip(),
            files=tuple(Path(self.files.item(i).text()) for i in range(self.files.count())),
            expires_at=expires.isoformat(),
        )

    @Slot()
    def _on_test_changed(self) -> None:
        test_id = self.test_box.currentData()
        if isinstance(test_id, str):
            self.instructions.setText(self.catalogue.test(test_id).attestation)

    @Slot()
    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.statement.toPlainText().strip()))

    @Slot()
    def _on_add(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Files that back the attestation")
        self.add_files([Path(n) for n in names])

    @Slot()
    def _on_remove(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
