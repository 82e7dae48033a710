"""Two model versions side by side on the Training page.

:func:`comparison_rows` lines up what a reviewer compares (lineage, the holdout figure, CV,
baselines beaten, weak slices, inclusion gaps, reproducibility, the most important inputs,
cost) from each version and its evidence; a figure a version lacks reads "not computed".
:class:`CompareView` shows them as a table, with rows that differ in bold. Display only.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.api import (
    Baselines,
    CrossValidation,
    Evidence,
    EvidenceKind,
    Inclusion,
    ModelVersion,
    PermutationImportance,
    ReproducibilityResult,
    SliceReport,
    size_text,
)
from desktop.pages.workspace import short_time
from desktop.widgets.training_model import NOT_COMPUTED, num, params_text


@dataclass(frozen=True, slots=True)
class Side:
    """One side of the comparison: a version and its evidence (None: none stored)."""

    version: ModelVersion
    evidence: Evidence | None


def _facts(s: Side) -> list[tuple[str, str]]:
    v, ev = s.version, s.evidence

    def item(kind: EvidenceKind) -> object:
        return ev.item(kind) if ev is not None else None

    holdout = v.holdout
    ci = f" ({num(holdout.ci_low)} – {num(holdout.ci_high)})" if holdout.ci_low is not None else ""
    facts = [
        ("Dataset", v.dataset), ("Spec", v.spec_hash[:12]), ("Algorithm", str(v.algorithm)),
        ("Parameters", params_text(v.params)),
        ("Metric", v.metric), ("Holdout", num(holdout.value) + ci),
    ]
    cv = item(EvidenceKind.CV)
    facts.append(("CV", f"{num(cv.mean)} ± {num(cv.sd)}" if isinstance(cv, CrossValidation) else NOT_COMPUTED))
    base = item(EvidenceKind.BASELINES)
    facts.append(("Baselines beaten", f"{sum(b.beaten for b in base.baselines)} of {len(base.baselines)}"
                  if isinstance(base, Baselines) else NOT_COMPUTED))
    slices = item(EvidenceKind.SLICES)
    facts.append(("Weak slices", (", ".join(f"{w.column}={w.level}" for w in slices.weak) or "none")
                  if isinstance(slices, SliceReport) else NOT_COMPUTED))
    inclusion = item(EvidenceKind.FAIRNESS)
    facts.append(("Inclusion (largest parity gap)",
                  num(max((a.demographic_parity_difference for a in inclusion.attributes
                           if a.demographic_parity_difference is not None), default=None))
                  if isinstance(inclusion, Inclusion) else NOT_COMPUTED))
    repro = item(EvidenceKind.REPRODUCIBILITY)
    facts.append(("Reproducible", ("identical" if repro.identical else "within tolerance" if repro.passed else "no")
                  if isinstance(repro, ReproducibilityResult) else NOT_COMPUTED))
    importance = item(EvidenceKind.IMPORTANCE)
    facts.append(("Top inputs", ", ".join(f.feature for f in importance.features[:3])
                  if isinstance(importance, PermutationImportance) else NOT_COMPUTED))
    facts += [("Device", str(v.device)), ("Seed", str(v.seed)), ("Wall time", f"{v.wall_seconds:.1f} s"),
              ("Peak memory", size_text(v.peak_memory_bytes)), ("Created", f"{short_time(v.created_at)} by {v.created_by}")]
    return facts


def comparison_rows(a: Side, b: Side) -> list[tuple[str, str, str]]:
    """``(what, a's value, b's value)`` in reading order."""
    fa, fb = _facts(a), dict(_facts(b))
    return [(name, value, fb.get(name, NOT_COMPUTED)) for name, value in fa]


class CompareView(QWidget):
    """Two version pickers and the side-by-side table."""

    compare_requested = Signal(str, str)
    """The user asked to compare two versions; payload: their labels (``model@N``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.a_box = QComboBox()
        self.b_box = QComboBox()
        for box in (self.a_box, self.b_box):
            box.setMinimumWidth(200)
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("A:"))
        top.addWidget(self.a_box)
        top.addWidget(QLabel("B:"))
        top.addWidget(self.b_box)
        top.addWidget(self.compare_button)
        top.addStretch(1)
        self.note = QLabel("Pick two model versions; rows that differ are in bold.")
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.set_versions([])

    def set_versions(self, labels: list[str]) -> None:
        """Offer ``labels``; A defaults to the second newest and B to the newest."""
        keep_a, keep_b = self.a_box.currentText(), self.b_box.currentText()
        if keep_a == keep_b:  # nothing chosen yet (or only one version before): take the defaults
            keep_a = keep_b = ""
        for box, keep, default in ((self.a_box, keep_a, 1), (self.b_box, keep_b, 0)):
            box.clear()
            box.addItems(labels)
            box.setCurrentIndex(labels.index(keep) if keep in labels else min(default, len(labels) - 1))
        self.compare_button.setEnabled(len(labels) >= 2)

    def set_sides(self, a: Side, b: Side, margin: float | None = None) -> None:
        rows = comparison_rows(a, b)
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(["", a.version.label, b.version.label])
        bold = QFont()
        bold.setBold(True)
        for r, (name, va, vb) in enumerate(rows):
            for c, text in enumerate((name, va, vb)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                if va != vb and name != "Created":
                    cell.setFont(bold)
                self.table.setItem(r, c, cell)
        if margin is not None:
            better = b.version.label if margin > 0 else a.version.label
            self.note.setText(f"Holdout {a.version.metric}: {b.version.label} minus {a.version.label} = "
                              f"{num(margin)} ({better} is ahead)." if margin else "Same holdout figure.")
        else:
            self.note.setText("The two versions optimise different metrics: their holdout figures do not compare."
                              if a.version.metric != b.version.metric else "Rows that differ are in bold.")

    def rows(self) -> list[tuple[str, str, str]]:
        def text(r: int, c: int) -> str:
            cell = self.table.item(r, c)
            return cell.text() if cell is not None else ""

        return [(text(r, 0), text(r, 1), text(r, 2)) for r in range(self.table.rowCount())]

    @Slot()
    def _on_compare_clicked(self) -> None:
        a, b = self.a_box.currentText(), self.b_box.currentText()
        if a and b:
            self.compare_requested.emit(a, b)
