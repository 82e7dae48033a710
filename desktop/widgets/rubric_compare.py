"""Two rubric results side by side: the section sums, the final scores, and the tests that changed.

Shows a :class:`~core.api.RubricComparison` (the service computes it); no engine calls here.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from core.api import RubricComparison


def _p(v: float) -> str:
    return f"{v:g}"


def _name(v: object) -> str:
    text = getattr(v, "value", None)
    return "—" if v is None else str(text if text is not None else v).replace("_", " ")


class RubricCompareDialog(QDialog):
    """``a`` against ``b`` (labels name them, e.g. the times they ran)."""

    def __init__(self, comparison: RubricComparison, a_label: str, b_label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare rubric results")
        layout = QVBoxLayout(self)
        c = comparison
        delta = f"{c.final_delta:+g}" if c.final_delta else "no change"
        self.summary = QLabel(f"Final score {_p(c.a.score.final)} ({c.a.score.band}) → {_p(c.b.score.final)} "
                              f"({c.b.score.band}): {delta}.")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.sections = QTableWidget(len(c.sections), 4)
        self.sections.setHorizontalHeaderLabels(["Section", a_label, b_label, "Change"])
        for i, (section, pa, pb) in enumerate(c.sections):
            for j, text in enumerate((section.heading, _p(pa), _p(pb), f"{pb - pa:+g}" if pb != pa else "")):
                self.sections.setItem(i, j, QTableWidgetItem(text))
        self.sections.resizeColumnsToContents()
        layout.addWidget(self.sections)
        layout.addWidget(QLabel(f"Tests that changed: {len(c.differences)}" if c.differences
                                else "No test changed its status or outcome."))
        self.differences = QTableWidget(len(c.differences), 3)
        self.differences.setHorizontalHeaderLabels(["Test", a_label, b_label])
        for i, d in enumerate(c.differences):
            a_text = f"{_name(d.a_status)}, {_name(d.a_outcome)}"
            b_text = f"{_name(d.b_status)}, {_name(d.b_outcome)}"
            for j, text in enumerate((d.test_id, a_text, b_text)):
                self.differences.setItem(i, j, QTableWidgetItem(text))
        self.differences.resizeColumnsToContents()
        layout.addWidget(self.differences, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 520)
