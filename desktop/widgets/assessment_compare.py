"""The Compare dialog: a unit's assessments over time and two of them side by side.

It lists every assessment of the unit (latest revision of each, oldest first) and shows a
:class:`~core.assessment.models.Comparison` dimension by dimension with the change marked
↑ or ↓. Picking other assessments emits :attr:`CompareDialog.compare_requested`; the page
computes the comparison through its task runner and hands it back with
:meth:`CompareDialog.show_comparison`. This widget never calls the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.api import Assessment, Comparison

_UP, _DOWN, _SAME = QColor("#1b5e20"), QColor("#b00020"), QColor("#666666")


@dataclass(frozen=True, slots=True)
class CompareData:
    """What the dialog opens with: the unit's history and a first comparison, if any."""

    current: Assessment
    history: tuple[tuple[Assessment, float | None], ...]
    """Each assessment of the unit (latest revision) with its overall score, oldest first."""
    comparison: Comparison | None


def change_text(delta: float | None) -> str:
    """A change as a team lead reads it: ``↑ +1.0``, ``↓ −0.5``, ``= 0.0`` or ``—``."""
    if delta is None:
        return "—"
    if delta > 0.05:
        return f"↑ +{delta:.1f}"
    if delta < -0.05:
        return f"↓ −{-delta:.1f}"
    return "= 0.0"


def _label(a: Assessment) -> str:
    return f"{a.assessed_on.isoformat()} · rev {a.revision} ({a.status.value})"


def _cell(text: str, *, right: bool = False, bold: bool = False, colour: QColor | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        font = QFont()
        font.setBold(True)
        item.setFont(font)
    if colour is not None:
        item.setForeground(colour)
    return item


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col in range(1, len(headers)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


class CompareDialog(QDialog):
    """History of one unit and a dimension-by-dimension comparison of two assessments."""

    compare_requested = Signal(str, str)
    """Compare two assessments; payload: the ids picked as before and after."""

    def __init__(self, data: CompareData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        unit = data.current.unit
        self.setWindowTitle(f"Compare assessments of {unit}")
        self.resize(760, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Assessments of <b>{unit}</b>, oldest first (bold: the one open on the page):"))
        self.history = _table(["Model", "Assessed on", "Revision", "Status", "Overall"])
        for a, overall in data.history:
            r = self.history.rowCount()
            self.history.insertRow(r)
            mark = a.lineage_id == data.current.lineage_id
            cells = (a.model_id, a.assessed_on.isoformat(), str(a.revision), a.status.value,
                     "—" if overall is None else f"{overall:.1f}")
            for c, text in enumerate(cells):
                self.history.setItem(r, c, _cell(text, right=c in (2, 4), bold=mark))
        self.history.resizeRowsToContents()
        shown = sum(self.history.rowHeight(r) for r in range(min(self.history.rowCount(), 6)))
        self.history.setFixedHeight(shown + self.history.horizontalHeader().height() + 2 * self.history.frameWidth())
        self.history.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self.history)

        pick = QHBoxLayout()
        pick.addWidget(QLabel("Compare"))
        self.before_box = QComboBox()
        self.after_box = QComboBox()
        same_model = [a for a, _ in data.history if a.model_id == data.current.model_id]
        for a in same_model:
            self.before_box.addItem(_label(a), a.id)
            self.after_box.addItem(_label(a), a.id)
        pick.addWidget(self.before_box, 1)
        pick.addWidget(QLabel("with"))
        pick.addWidget(self.after_box, 1)
        layout.addLayout(pick)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #8a5a00;")
        self.note.hide()
        layout.addWidget(self.note)
        self.table = _table(["Dimension", "Before", "After", "Change"])
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        if data.comparison is not None:
            self._select(data.comparison.before.id, data.comparison.after.id)
            self.show_comparison(data.comparison)
        else:
            self._select(data.current.id, data.current.id)
            self._say(
                "This is the only assessment of this unit with this model so far. Start another one "
                "(New…, with a later date) to see how the unit changes over time.")
        enough = len(same_model) > 1
        self.before_box.setEnabled(enough)
        self.after_box.setEnabled(enough)
        self.before_box.currentIndexChanged.connect(self._on_before_box_changed)
        self.after_box.currentIndexChanged.connect(self._on_after_box_changed)

    def _select(self, before_id: str, after_id: str) -> None:
        self.before_box.setCurrentIndex(max(self.before_box.findData(before_id), 0))
        self.after_box.setCurrentIndex(max(self.after_box.findData(after_id), 0))

    def pick(self, before_id: str, after_id: str) -> None:
        """Choose two assessments as the user would (emits :attr:`compare_requested`)."""
        self.before_box.setCurrentIndex(self.before_box.findData(before_id))
        self.after_box.setCurrentIndex(self.after_box.findData(after_id))

    def show_comparison(self, cmp: Comparison) -> None:
        """Fill the table: one row per dimension, then the overall level."""
        self._say("")
        self.table.setHorizontalHeaderLabels([
            "Dimension", f"Before ({cmp.before.assessed_on.isoformat()})",
            f"After ({cmp.after.assessed_on.isoformat()})", "Change"])
        rows = [(c.name, c.before, c.after, c.delta, False) for c in cmp.changes]
        delta = (None if cmp.overall_before is None or cmp.overall_after is None
                 else cmp.overall_after - cmp.overall_before)
        rows.append(("Overall", cmp.overall_before, cmp.overall_after, delta, True))
        self.table.setRowCount(0)
        for name, before, after, change, bold in rows:
            r = self.table.rowCount()
            self.table.insertRow(r)
            colour = _SAME if change is None or abs(change) <= 0.05 else (_UP if change > 0 else _DOWN)
            self.table.setItem(r, 0, _cell(name, bold=bold))
            self.table.setItem(r, 1, _cell("—" if before is None else f"{before:.1f}", right=True, bold=bold))
            self.table.setItem(r, 2, _cell("—" if after is None else f"{after:.1f}", right=True, bold=bold))
            self.table.setItem(r, 3, _cell(change_text(change), right=True, bold=bold, colour=colour))

    def changes_shown(self) -> list[tuple[str, str, str, str]]:
        """The comparison table's rows as text: dimension, before, after, change."""
        rows: list[tuple[str, str, str, str]] = []
        for r in range(self.table.rowCount()):
            a, b, c, d = (cell.text() if (cell := self.table.item(r, i)) is not None else "" for i in range(4))
            rows.append((a, b, c, d))
        return rows

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _request(self) -> None:
        before, after = self.before_box.currentData(), self.after_box.currentData()
        if not before or not after:
            return
        if before == after:
            self.table.setRowCount(0)
            self._say("Pick two different assessments to compare.")
            return
        self.compare_requested.emit(before, after)

    @Slot(int)
    def _on_before_box_changed(self, _index: int) -> None:
        self._request()

    @Slot(int)
    def _on_after_box_changed(self, _index: int) -> None:
        self._request()
