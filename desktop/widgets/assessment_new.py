"""The dialog that starts an assessment: model, unit, assessors and the date assessed.

The date matters for history: charts and the Compare view order a unit's assessments by
it, so an assessment written up later can carry the day it was actually made. This
dialog only collects the fields; the page creates the assessment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)


class NewAssessmentDialog(QDialog):
    """Model, unit, assessors (comma-separated) and date of a new assessment."""

    def __init__(self, models: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New assessment")
        self.model_box = QComboBox()
        for mid, name in models:
            self.model_box.addItem(name, mid)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("e.g. Risk Analytics team")
        self.assessors = QLineEdit()
        self.assessors.setPlaceholderText("names, separated by commas")
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        form = QFormLayout(self)
        form.addRow("Model:", self.model_box)
        form.addRow("Unit:", self.unit)
        form.addRow("Assessors:", self.assessors)
        form.addRow("Assessed on:", self.date)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def people(self) -> list[str]:
        return [p.strip() for p in self.assessors.text().split(",") if p.strip()]

    def assessed_on(self) -> dt.date:
        d = self.date.date()
        return dt.date(d.year(), d.month(), d.day())
