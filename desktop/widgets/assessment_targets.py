"""The table of target levels, one row per dimension, edited in place and saved together.

Each row shows where the dimension stands and the level it aims at: the assessors' own
target, or the default the plan uses (the next level up). The user changes levels with spin
boxes and presses *Save targets* (beside the title, so it stays in view); the widget emits the changed levels and the page saves
them through the service (each one audited). This widget never calls the engine.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.api import AssessmentScore, MaturityModel

_COLUMNS = ("Dimension", "Now", "Target", "")
_BASIS_TIPS = {
    "set": "Set by the assessors.",
    "default": "Not set: the plan aims one level above where the dimension stands.",
    "at the top": "Already at the model's top level.",
}


class TargetsWidget(QWidget):
    """Per-dimension target levels with *Save targets* and *Revert*."""

    targets_requested = Signal(object)
    """Save targets; payload: ``dict[str, int]`` of dimension id to level, changed rows only."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Targets</b>"))
        row.addStretch(1)
        self.save_button = QPushButton("Save targets")
        self.save_button.setToolTip("Store the changed targets (audited); the recommendations follow them.")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self._on_revert_clicked)
        row.addWidget(self.save_button)
        row.addWidget(self.revert_button)
        layout.addLayout(row)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        layout.addStretch(1)
        self._dims: list[str] = []
        self._loaded: list[int] = []
        self._spins: list[QSpinBox] = []
        self._basis: list[str] = []
        self._editable = False
        self._update_buttons()

    def set_targets(
        self, model: MaturityModel, score: AssessmentScore, effective: Mapping[str, int],
        own: Mapping[str, int], *, editable: bool,
    ) -> None:
        """Show every dimension of ``model``: its score, and its own or default target."""
        self._editable = editable
        self._dims, self._loaded, self._spins, self._basis = [], [], [], []
        self.table.clearContents()
        self.table.setRowCount(len(model.dimensions))
        for r, dim in enumerate(model.dimensions):
            s = score.of(dim.id).score
            level = effective.get(dim.id, model.max_level)
            if dim.id in own:
                basis = "set"
            elif dim.id in effective:
                basis = "default"
            else:
                basis = "at the top"
            name = QTableWidgetItem(dim.name)
            name.setToolTip(dim.description)
            now = QTableWidgetItem("—" if s is None else f"{s:.1f}")
            now.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 1, now)
            self.table.setItem(r, 3, QTableWidgetItem())
            spin = QSpinBox()
            spin.setRange(model.min_level, model.max_level)
            spin.setValue(level)
            spin.setEnabled(editable)
            spin.setToolTip(" · ".join(f"{lv.number} {lv.name}" for lv in model.levels))
            spin.valueChanged.connect(self._on_spin_value_changed)
            self.table.setCellWidget(r, 2, spin)
            self._dims.append(dim.id)
            self._loaded.append(level)
            self._spins.append(spin)
            self._basis.append(basis)
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(rows + self.table.horizontalHeader().height() + 2 * self.table.frameWidth())
        self._paint_basis()

    def changes(self) -> dict[str, int]:
        """Rows whose level differs from what was loaded: dimension id to new level."""
        return {d: s.value() for d, s, old in zip(self._dims, self._spins, self._loaded, strict=True) if s.value() != old}

    def set_level(self, dimension_id: str, level: int) -> None:
        """Set one row's spin box, as the user would."""
        self._spins[self._dims.index(dimension_id)].setValue(level)

    def _paint_basis(self) -> None:
        """Say per row where its target comes from, or that it is changed and not saved."""
        for r, (spin, old, basis) in enumerate(zip(self._spins, self._loaded, self._basis, strict=True)):
            item = self.table.item(r, 3)
            if item is None:
                continue
            if spin.value() != old:
                item.setText("not saved")
                item.setForeground(QColor("#b35c00"))
            else:
                item.setText(basis)
                item.setToolTip(_BASIS_TIPS.get(basis, ""))
                item.setForeground(QColor("#1b1b1b" if basis == "set" else "#777777"))
        self._update_buttons()

    def _update_buttons(self) -> None:
        changed = bool(self.changes())
        self.save_button.setEnabled(self._editable and changed)
        self.revert_button.setEnabled(changed)

    @Slot(int)
    def _on_spin_value_changed(self, _value: int) -> None:
        self._paint_basis()

    @Slot()
    def _on_save_clicked(self) -> None:
        wanted = self.changes()
        if wanted:
            self.targets_requested.emit(wanted)

    @Slot()
    def _on_revert_clicked(self) -> None:
        for spin, old in zip(self._spins, self._loaded, strict=True):
            spin.blockSignals(True)
            spin.setValue(old)
            spin.blockSignals(False)
        self._paint_basis()
