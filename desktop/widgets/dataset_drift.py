"""The compare view: pick a reference and a current version, see drift column by column.

Shows a :class:`~core.data.models.DriftReport`: the dataset's verdict, a table per column
(PSI and the PSI expected by chance, test statistic, adjusted p-value, change in missing
share, distance, level, drifted and why) with drifted columns first, the columns not
compared and why, and a PSI chart against the thresholds. Comparing is a request (signal) the page
turns into an engine call; this widget never calls the engine.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.api import DriftReport
from desktop.widgets.dataset_plots import FigureHolder, drift_figure
from desktop.widgets.dataset_profile import table_view
from desktop.widgets.table_model import Column, TableModel

LEVEL_RANK = {"major": 0, "moderate": 1, "none": 2}
TESTS = {"ks": "KS", "chi2": "χ²"}
DISTANCES = {"wasserstein_std": "Wasserstein (in ref. std)", "jensen_shannon": "Jensen–Shannon"}


def _p(v: float) -> str:
    return "< 0.0001" if v < 1e-4 else f"{v:.4f}"


DRIFT_COLUMNS = (
    Column("Column", lambda c: c.column),
    Column("Drifted", lambda c: 0 if c.drifted else 1, fmt=lambda v: "⚠ yes" if v == 0 else "no"),
    Column("Level", lambda c: LEVEL_RANK.get(c.level, 3), fmt=lambda r: list(LEVEL_RANK)[r] if r < 3 else "?"),
    Column("PSI", lambda c: c.psi, fmt=lambda v: f"{v:.3f}", align_right=True,
           tooltip=lambda c: "Population stability index: < 0.1 stable, 0.1–0.25 moderate shift, ≥ 0.25 major shift"),
    Column("Test", lambda c: c.test, fmt=lambda t: TESTS.get(t, t),
           tooltip=lambda c: "two-sample Kolmogorov–Smirnov" if c.test == "ks" else "chi-square test of homogeneity"),
    Column("Statistic", lambda c: c.statistic, fmt=lambda v: f"{v:.4g}", align_right=True),
    Column("p (adjusted)", lambda c: c.p_adjusted, fmt=_p, align_right=True,
           tooltip=lambda c: f"raw p = {c.p_value:.3g}; adjusted for testing many columns at once"),
    Column("PSI by chance", lambda c: c.psi_expected, fmt=lambda v: f"{v:.3f}", align_right=True,
           tooltip=lambda c: f"The PSI two samples of these sizes show on average with no drift ({c.cells} cells); "
                             "only PSI beyond it counts"),
    Column("Missing", lambda c: c.missing_current - c.missing_reference,
           fmt=lambda v: "" if v == 0 else f"{100 * v:+.1f} pts", align_right=True,
           tooltip=lambda c: f"Missing values: {100 * c.missing_reference:.1f}% of the reference's rows, "
                             f"{100 * c.missing_current:.1f}% of the current rows (adjusted p = {c.missing_p_adjusted:.3g})"),
    Column("Why", lambda c: ", ".join(c.reasons)),
    Column("Distance", lambda c: c.distance, fmt=lambda v: f"{v:.3f}", align_right=True,
           tooltip=lambda c: DISTANCES.get(c.distance_name, c.distance_name)),
    Column("Measure", lambda c: c.distance_name, fmt=lambda n: DISTANCES.get(n, n)),
    Column("Kind", lambda c: c.kind),
)


class DriftWidget(QWidget):
    """Reference and current pickers, the verdict, the per-column table and the PSI chart."""

    compare_requested = Signal(str, str)
    """The user asked for a comparison; payload: reference and current version references."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: DriftReport | None = None
        self._seed: str | None = None
        self.reference_box = QComboBox()
        self.current_box = QComboBox()
        for box in (self.reference_box, self.current_box):
            box.setMinimumWidth(160)
        self.reference_box.setToolTip("The data the model was trained on, or the last accepted batch")
        self.current_box.setToolTip("The newer data to check")
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Reference:"))
        top.addWidget(self.reference_box)
        top.addWidget(QLabel("→ Current:"))
        top.addWidget(self.current_box)
        top.addWidget(self.compare_button)
        top.addStretch(1)
        self.verdict = QLabel("Pick two versions (of this or another dataset with the same columns) and compare.")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet("color: #555;")
        self.model = TableModel(DRIFT_COLUMNS, self)
        self.table, self.proxy = table_view(self.model, self)
        self.chart = FigureHolder("")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.chart)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(scroll)
        split.setSizes([680, 320])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.verdict)
        layout.addWidget(self.rule)
        layout.addWidget(split, 1)

    def set_versions(self, labels: list[str], current: str | None) -> None:
        """Offer ``labels``; preselect ``current`` and, as reference, the version before it.

        Called again with the same labels and current version, it keeps the user's picks.
        """
        existing = [self.reference_box.itemText(i) for i in range(self.reference_box.count())]
        if existing == labels and current == self._seed:
            return
        self._seed = current
        for box in (self.reference_box, self.current_box):
            box.blockSignals(True)
            box.clear()
            box.addItems(labels)
            box.blockSignals(False)
        if current in labels:
            i = labels.index(current)
            self.current_box.setCurrentIndex(i)
            self.reference_box.setCurrentIndex(i - 1 if i > 0 else (1 if len(labels) > 1 else 0))
        self.compare_button.setEnabled(bool(labels))

    def set_busy(self) -> None:
        self.verdict.setStyleSheet("")
        self.verdict.setText(f"Comparing {self.reference_box.currentText()} → {self.current_box.currentText()}…")

    def set_report(self, report: DriftReport | None) -> None:
        self.report = report
        # Drifted columns first, then by PSI: the order a reader wants, kept until a header is clicked.
        self.model.set_rows(sorted(report.columns, key=lambda c: (not c.drifted, -c.psi)) if report else [])
        if report is None:
            self.chart.set_figure(None)
            self.rule.setText("")
            return
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        e = html.escape
        compared = f"{len(report.columns)} columns compared"
        if report.drift:
            self.verdict.setStyleSheet("color: #b00020; font-size: 13pt;")
            names = ", ".join(report.drifted_columns)
            self.verdict.setText(f"<b>⚠ {e(report.reference)} → {e(report.current)}: {e(report.verdict)}</b> — {e(names)}")
        elif report.few_shared or not report.columns:
            self.verdict.setStyleSheet("color: #8a5a00; font-size: 13pt;")
            self.verdict.setText(f"<b>⚠ {e(report.reference)} → {e(report.current)}: {e(report.verdict)}</b> ({compared})")
        else:
            self.verdict.setStyleSheet("color: #1b5e20; font-size: 13pt;")
            self.verdict.setText(f"<b>✔ {e(report.reference)} → {e(report.current)}: no drift</b> ({compared})")
        correction = {"bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni"}.get(report.correction, report.correction)
        skipped = f" Not compared: {'; '.join(report.skipped)}." if report.skipped else ""
        self.rule.setText(
            f"A column drifts when its test is significant (adjusted p < {report.alpha:g}, {correction}) and its PSI "
            f"exceeds what chance gives at these sample sizes by ≥ {report.psi_moderate:g} (major from "
            f"{report.psi_major:g}), or when its share of missing values moves significantly by ≥ "
            f"{100 * report.missing_moderate:g} points (major from {100 * report.missing_major:g}).{skipped}"
        )
        self.chart.set_figure(drift_figure(report))

    @Slot()
    def _on_compare_clicked(self) -> None:
        ref, cur = self.reference_box.currentText(), self.current_box.currentText()
        if ref and cur:
            self.compare_requested.emit(ref, cur)
