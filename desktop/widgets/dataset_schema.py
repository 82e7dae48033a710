"""The schema view of one dataset: expectations per column, a field editor, validation.

Shows the latest :class:`~core.data.models.Schema` revision of one dataset. Inferring a
schema, saving an edit (a new audited revision) and validating a version are requests
(signals) the page turns into engine calls; this widget never calls the engine. Editing only
sends the fields the user changed. Bounds are stored exactly and shown rounded
(``ColumnSchema.bound_text``). Showing another dataset clears the validation results, and a
late result about another dataset is dropped.
"""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.api import ColumnSchema, Schema, ValidationReport
from desktop.widgets.dataset_profile import (
    SEVERITY_MARK,
    SEVERITY_RANK,
    table_view,
)
from desktop.widgets.table_model import Column, TableModel

TYPES = ("integer", "float", "boolean", "datetime", "string")
BAD = "color: #b00020; font-weight: bold;"
OK = "color: #1b5e20; font-weight: bold;"


def _allowed(c: ColumnSchema) -> str:
    if c.allowed_values is None:
        return "any"
    text = ", ".join(c.allowed_values)
    return text if len(text) <= 60 else text[:59] + "…"


SCHEMA_COLUMNS = (
    Column("Column", lambda c: c.name),
    Column("Type", lambda c: c.type, tooltip=lambda c: f"semantic type: {c.semantic_type}"),
    Column("Required", lambda c: c.required, fmt=lambda v: "yes" if v else "no"),
    Column("Max missing", lambda c: c.max_missing_fraction, fmt=lambda v: f"{v:.1%}", align_right=True),
    Column("Minimum", lambda c: c.bound_text(c.minimum), align_right=True,
           tooltip=lambda c: _tolerance_tip(c)),
    Column("Maximum", lambda c: c.bound_text(c.maximum), align_right=True,
           tooltip=lambda c: _tolerance_tip(c)),
    Column("Unique", lambda c: c.unique, fmt=lambda v: "yes" if v else ""),
    Column("Allowed values", _allowed, tooltip=lambda c: ", ".join(c.allowed_values or ())),
)

ANOMALY_COLUMNS = (
    Column("Severity", lambda a: SEVERITY_RANK.get(a.severity, 9), fmt=lambda r: SEVERITY_MARK[list(SEVERITY_RANK)[r]]),
    Column("Column", lambda a: a.column or ""),
    Column("Problem", lambda a: a.kind.replace("_", " ")),
    Column("Rows", lambda a: a.count, fmt=lambda n: f"{n:,}" if n else "", align_right=True),
    Column("Details", lambda a: a.message),
)


def _tolerance_tip(c: ColumnSchema) -> str:
    if c.minimum is None and c.maximum is None:
        return "no range"
    return (f"up to {c.max_out_of_range_fraction:.2%} of the values may lie outside the range "
            "(fewer are a note, not a problem)")


def _dataset_of(label: str) -> str:
    return label.rpartition("@")[0] or label


def _optional_float(text: str, what: str) -> float | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, or empty for no limit.") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number.")
    return value


class SchemaWidget(QWidget):
    """A dataset's current schema, an editor for one column, and validation results."""

    infer_requested = Signal()
    """The user asked to infer a schema from the selected version; no payload."""

    edit_requested = Signal(str, object)
    """Save one column's changes as a new revision; payload: column name, dict of changed fields."""

    validate_requested = Signal(str)
    """Check a version against the schema; payload: the version reference (``name@N``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.schema: Schema | None = None
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.infer_button = QPushButton("Infer from selected version")
        self.infer_button.setToolTip("Make a new revision that the selected version satisfies, with a little slack")
        self.infer_button.clicked.connect(self.infer_requested)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.infer_button)

        self.model = TableModel(SCHEMA_COLUMNS, self)
        self.table, self.proxy = table_view(self.model, self)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)

        self.editor = QGroupBox("Edit column")
        self.type_box = QComboBox()
        self.type_box.addItems(list(TYPES))
        self.required_box = QCheckBox("no missing values allowed")
        self.missing_spin = QDoubleSpinBox()
        self.missing_spin.setRange(0.0, 100.0)
        self.missing_spin.setDecimals(1)
        self.missing_spin.setSuffix(" %")
        self.min_edit = QLineEdit()
        self.min_edit.setPlaceholderText("no lower limit")
        self.max_edit = QLineEdit()
        self.max_edit.setPlaceholderText("no upper limit")
        self.allowed_edit = QLineEdit()
        self.allowed_edit.setPlaceholderText("any value (or: a, b, c)")
        self.unique_box = QCheckBox("every value differs")
        self.range_tolerance_spin = QDoubleSpinBox()
        self.range_tolerance_spin.setRange(0.0, 100.0)
        self.range_tolerance_spin.setDecimals(2)
        self.range_tolerance_spin.setSuffix(" %")
        self.range_tolerance_spin.setToolTip("Share of the values that may lie outside the range before it is a problem")
        self.save_button = QPushButton("Save as new revision")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.edit_problem = QLabel()
        self.edit_problem.setStyleSheet(BAD)
        self.edit_problem.setWordWrap(True)
        form = QFormLayout(self.editor)
        form.addRow("Type:", self.type_box)
        form.addRow("Required:", self.required_box)
        form.addRow("Max missing:", self.missing_spin)
        form.addRow("Minimum:", self.min_edit)
        form.addRow("Maximum:", self.max_edit)
        form.addRow("Outside range allowed:", self.range_tolerance_spin)
        form.addRow("Allowed values:", self.allowed_edit)
        form.addRow("Unique:", self.unique_box)
        form.addRow(self.save_button)
        form.addRow(self.edit_problem)

        self.version_box = QComboBox()
        self.version_box.setMinimumWidth(140)
        self.validate_button = QPushButton("Validate")
        self.validate_button.setToolTip("Read the version and list every way it departs from this schema")
        self.validate_button.clicked.connect(self._on_validate_clicked)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.anomaly_model = TableModel(ANOMALY_COLUMNS, self)
        self.anomaly_table, self.anomaly_proxy = table_view(self.anomaly_model, self)
        check = QWidget()
        check_layout = QVBoxLayout(check)
        check_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Check version:"))
        row.addWidget(self.version_box)
        row.addWidget(self.validate_button)
        row.addWidget(self.verdict, 1)
        check_layout.addLayout(row)
        check_layout.addWidget(self.anomaly_table, 1)

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.table)
        upper.addWidget(self.editor)
        upper.setSizes([620, 300])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(check)
        split.setSizes([330, 200])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.writable = True
        self.dataset = ""
        self.set_schema(None, "")

    def set_versions(self, labels: list[str], selected: str | None) -> None:
        """The versions that can be validated; ``selected`` is preselected."""
        self.version_box.clear()
        self.version_box.addItems(labels)
        if selected in labels:
            self.version_box.setCurrentText(selected)
        self._update_buttons()

    def set_schema(self, schema: Schema | None, dataset: str) -> None:
        """Show dataset ``dataset``'s ``schema`` (None: it has none yet), keeping the selected column.

        Another dataset than the one shown clears the validation results.
        """
        if dataset != self.dataset:
            self.set_validation(None)
        self.dataset = dataset
        keep = self.selected_column() if schema is not None and self.schema is not None \
            and schema.dataset_name == self.schema.dataset_name else None
        self.schema = schema
        self.model.set_rows(schema.columns if schema else [])
        if schema is None:
            self.heading.setText(f"<b>{html.escape(dataset)}</b> has no schema yet: infer one from a version, "
                                 "then tighten it." if dataset else "Pick a dataset.")
        else:
            based = f", inferred from {schema.based_on}" if schema.based_on else ""
            self.heading.setText(f"<b>{html.escape(schema.dataset_name)}</b> — schema revision {schema.revision}{based}. "
                                 "Each saved edit is a new, audited revision.")
        if keep is not None and schema is not None:
            names = [c.name for c in schema.columns]
            if keep.name in names:
                self.table.selectRow(self.proxy.mapFromSource(self.model.index(names.index(keep.name), 0)).row())
        self._on_selection_changed(QItemSelection(), QItemSelection())

    def set_validation(self, report: ValidationReport | None) -> None:
        """Show a validation report (None: clear); one about another dataset is dropped.

        The verdict counts the rows listed: problems (high and medium) and notes (low).
        """
        if report is not None and _dataset_of(report.version_label) != self.dataset:
            return
        self.anomaly_model.set_rows(report.anomalies if report else [])
        if report is None:
            self.verdict.setStyleSheet("")
            self.verdict.setText("")
            return
        problems = sum(1 for a in report.anomalies if a.severity in ("high", "medium"))
        notes = len(report.anomalies) - problems
        note_text = f"{notes} note{'s' if notes != 1 else ''}"
        if report.ok:
            self.verdict.setStyleSheet(OK)
            extra = f" ({note_text}, low severity)" if notes else ""
            self.verdict.setText(f"✔ {report.version_label} conforms to revision {report.schema_revision}{extra}.")
        else:
            self.verdict.setStyleSheet(BAD)
            extra = f" and {note_text}" if notes else ""
            self.verdict.setText(f"✖ {report.version_label}: {problems} problem{'s' if problems != 1 else ''}{extra} "
                                 f"against revision {report.schema_revision}.")

    def selected_column(self) -> ColumnSchema | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        obj = self.proxy.data(rows[0], Qt.ItemDataRole.UserRole)
        return obj if isinstance(obj, ColumnSchema) else None

    def select_column(self, name: str) -> None:
        for r in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(r, 0)) == name:
                self.table.selectRow(r)
                return

    def changes(self) -> dict[str, Any]:
        """The fields of the selected column the editor changes (raises ValueError on bad input)."""
        col = self.selected_column()
        if col is None:
            return {}
        allowed_text = self.allowed_edit.text().strip()
        new: dict[str, Any] = {
            "type": self.type_box.currentText(),
            "required": self.required_box.isChecked(),
            "max_missing_fraction": round(self.missing_spin.value() / 100.0, 4),
            "minimum": _optional_float(self.min_edit.text(), "Minimum"),
            "maximum": _optional_float(self.max_edit.text(), "Maximum"),
            "allowed_values": tuple(v.strip() for v in allowed_text.split(",") if v.strip()) if allowed_text else None,
            "unique": self.unique_box.isChecked(),
            "max_out_of_range_fraction": round(self.range_tolerance_spin.value() / 100.0, 6),
        }
        if new["minimum"] is not None and new["maximum"] is not None and new["minimum"] > new["maximum"]:
            raise ValueError("Minimum is above maximum.")
        out: dict[str, Any] = {}
        for key, value in new.items():
            old = getattr(col, key)
            same = (old is None and value is None) or (
                isinstance(value, float) and isinstance(old, (int, float))
                and math.isclose(value, old, rel_tol=1e-5, abs_tol=1e-9)
            ) or old == value
            if not same:
                out[key] = value
        return out

    def _fill_editor(self, col: ColumnSchema | None) -> None:
        self.editor.setTitle(f"Edit column {col.name}" if col else "Edit column (select one)")
        self.type_box.setCurrentText(col.type if col else "string")
        self.required_box.setChecked(bool(col and col.required))
        self.missing_spin.setValue((col.max_missing_fraction if col else 0.0) * 100.0)
        self.min_edit.setText("" if col is None else col.bound_text(col.minimum))
        self.max_edit.setText("" if col is None else col.bound_text(col.maximum))
        self.range_tolerance_spin.setValue((col.max_out_of_range_fraction if col else 0.0) * 100.0)
        self.allowed_edit.setText(", ".join(col.allowed_values) if col and col.allowed_values else "")
        self.unique_box.setChecked(bool(col and col.unique))
        self.edit_problem.setText("")

    def _update_buttons(self) -> None:
        has = self.schema is not None
        self.editor.setEnabled(has and self.writable and self.selected_column() is not None)
        self.validate_button.setEnabled(has and self.version_box.count() > 0)
        self.infer_button.setEnabled(self.writable)

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self._fill_editor(self.selected_column())
        self._update_buttons()

    @Slot()
    def _on_save_clicked(self) -> None:
        col = self.selected_column()
        if col is None:
            return
        try:
            changes = self.changes()
        except ValueError as exc:
            self.edit_problem.setText(str(exc))
            return
        if not changes:
            self.edit_problem.setText("Nothing changed.")
            return
        self.edit_problem.setText("")
        self.edit_requested.emit(col.name, changes)

    @Slot()
    def _on_validate_clicked(self) -> None:
        if self.version_box.currentText():
            self.verdict.setStyleSheet("")
            self.verdict.setText("Validating…")
            self.validate_requested.emit(self.version_box.currentText())
