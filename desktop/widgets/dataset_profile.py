"""The profile view of one dataset version: overview and alerts, columns, correlations, target.

Shows a :class:`~core.data.models.Profile` the page hands it. Choosing a target column or
asking for the HTML report are requests (signals) the page turns into engine calls; this
widget never calls the engine. Charts are drawn only when their tab or column is shown.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.api import ColumnProfile, Profile, size_text
from desktop.widgets.dataset_plots import (
    HEATMAP_METHODS,
    FigureHolder,
    heatmap_figure,
    histogram_figure,
    top_values_figure,
)
from desktop.widgets.table_model import Column, TableModel, sorting_proxy

SEVERITY_MARK = {"high": "✖ high", "medium": "⚠ medium", "low": "• low", "info": "ℹ info"}
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}
NO_TARGET = "(no target)"
KEPT_MARK = "  ✔ kept"
KEPT_TIP = "A profile for this target is kept with the version: choosing it shows that one, nothing is computed"
SCORE_NAMES = {"roc_auc": "ROC AUC", "balanced_accuracy": "balanced accuracy", "r2": "R²"}


def number(v: Any) -> str:
    """A statistic for a table cell: thousands separators, 4 significant digits for floats."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.3e}"
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.1f}"
    return str(v)


def short_stat(v: Any) -> str:
    """A statistic for a narrow cell: a timestamp keeps its date only."""
    return v[:10] if isinstance(v, str) else number(v)


def table_view(model: TableModel, parent: QWidget | None = None) -> tuple[QTableView, Any]:
    """A sortable, row-selecting, read-only table over ``model``."""
    proxy = sorting_proxy(model, parent)
    view = QTableView(parent)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().setVisible(False)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the model's own order until a header is clicked
    return view, proxy


ALERT_COLUMNS = (
    Column("Severity", lambda a: SEVERITY_RANK.get(a.severity, 9), fmt=lambda r: SEVERITY_MARK[list(SEVERITY_RANK)[r]]),
    Column("Column", lambda a: a.column or "(whole table)"),
    Column("Alert", lambda a: a.message, tooltip=lambda a: a.kind),
)

COLUMN_COLUMNS = (
    Column("Column", lambda c: c.name),
    Column("Kind", lambda c: c.semantic_type, tooltip=lambda c: f"stored as {c.storage_type}"),
    Column("Missing", lambda c: c.missing_fraction, fmt=lambda f: f"{f:.1%}" if f else "–", align_right=True),
    Column("Distinct", lambda c: c.distinct, fmt=number, align_right=True),
    Column("Mean", lambda c: c.stats.get("mean"), fmt=number, align_right=True),
    Column("Min", lambda c: c.stats.get("min"), fmt=lambda v: short_stat(v), align_right=True),
    Column("Max", lambda c: c.stats.get("max"), fmt=lambda v: short_stat(v), align_right=True),
    Column("Notes", lambda c: ", ".join(([f"PII: {c.pii}"] if c.pii else []) + [f.replace("_", " ") for f in c.flags])),
)

ASSOC_COLUMNS = (
    Column("Column", lambda a: a.column),
    Column("Mutual information", lambda a: a.mutual_information, fmt=lambda v: f"{v:.3f}", align_right=True,
           tooltip=lambda a: "How much knowing this column tells about the target (0 = nothing)"),
    Column("Score alone", lambda a: a.model_score, fmt=lambda v: f"{v:.3f}", align_right=True,
           tooltip=lambda a: f"{SCORE_NAMES.get(a.score_name, a.score_name)} of a model that uses only this column "
                             "(the target's average per category or value band), learned on two thirds of the "
                             "sample and scored on the rest, three times"),
    Column("Metric", lambda a: SCORE_NAMES.get(a.score_name, a.score_name)),
    Column("Leakage?", lambda a: a.leakage, fmt=lambda v: "⚠ possible leakage" if v else ""),
)


def column_details(c: ColumnProfile) -> str:
    """HTML: the statistics of one column, as a compact two-column table."""
    e = html.escape
    rows: list[tuple[str, str]] = [
        ("kind", f"{c.semantic_type} (stored as {c.storage_type})"),
        ("rows", number(c.count)),
        ("missing", f"{c.missing:,} ({c.missing_fraction:.1%})"),
        ("distinct", number(c.distinct)),
    ]
    if c.pii:
        rows.append(("PII", f"looks like {c.pii.replace('_', ' ')}: values redacted"))
    rows += [(k.replace("_", " "), number(v)) for k, v in c.stats.items()]
    if c.quantiles:
        rows.append(("percentiles", " · ".join(f"p{float(q) * 100:g}: {number(v)}" for q, v in c.quantiles.items())))
    if c.flags:
        rows.append(("flags", ", ".join(f.replace("_", " ") for f in c.flags)))
    body = "".join(f"<tr><td style='color:#555;padding-right:12px'>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in rows)
    return f"<h3 style='margin:0'>{e(c.name)}</h3><table>{body}</table>"


class ProfileWidget(QWidget):
    """One version's profile; ``set_profile`` shows it, ``set_busy`` says one is coming."""

    target_requested = Signal(object)
    """The user chose a target column; payload: its name, or None for no target."""

    export_requested = Signal()
    """The user asked for a report (HTML or PDF) of the shown profile; no payload."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile: Profile | None = None
        self.kept_targets: set[str | None] = set()
        self.summary = QLabel("Pick a version to see its profile.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.target_box = QComboBox()
        self.target_box.setMinimumWidth(180)
        self.target_box.setToolTip("The column a model would predict: every other column's association with it is "
                                   "measured, and a column that predicts it almost perfectly is flagged as leakage")
        self.target_box.activated.connect(self._on_target_activated)
        self.export_button = QPushButton("Export report…")
        self.export_button.setToolTip("One self-contained HTML page or PDF with the statistics and charts (no raw rows)")
        self.export_button.clicked.connect(self.export_requested)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(QLabel("Target:"))
        top.addWidget(self.target_box)
        top.addWidget(self.export_button)

        self.tabs = QTabWidget()
        self.alert_model = TableModel(ALERT_COLUMNS, self)
        self.alert_table, self.alert_proxy = table_view(self.alert_model, self)
        self.alert_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tabs.addTab(self.alert_table, "Alerts")

        self.column_model = TableModel(COLUMN_COLUMNS, self)
        self.column_table, self.column_proxy = table_view(self.column_model, self)
        self.column_table.selectionModel().selectionChanged.connect(self._on_column_selection_changed)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.histogram = FigureHolder("")
        self.top_values = FigureHolder("")
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.addWidget(self.details)
        detail_layout.addWidget(self.histogram)
        detail_layout.addWidget(self.top_values)
        detail_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(detail_box)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.column_table)
        split.addWidget(scroll)
        split.setSizes([460, 440])
        self.tabs.addTab(split, "Columns")

        corr = QWidget()
        corr_layout = QVBoxLayout(corr)
        self.method_box = QComboBox()
        self.method_box.addItems(list(HEATMAP_METHODS))
        self.method_box.currentIndexChanged.connect(self._on_method_changed)
        method_row = QHBoxLayout()
        method_row.addWidget(QLabel("Measure:"))
        method_row.addWidget(self.method_box)
        self.sample_note = QLabel()
        method_row.addWidget(self.sample_note, 1)
        corr_layout.addLayout(method_row)
        self.heatmap = FigureHolder("No pair of columns has this measure.", natural_size=True)
        corr_scroll = QScrollArea()
        corr_scroll.setWidgetResizable(True)
        corr_scroll.setWidget(self.heatmap)
        corr_layout.addWidget(corr_scroll, 1)
        self.tabs.addTab(corr, "Correlations")

        target = QWidget()
        target_layout = QVBoxLayout(target)
        self.target_note = QLabel("Choose a target column above to measure each column's association with it.")
        self.target_note.setWordWrap(True)
        self.assoc_model = TableModel(ASSOC_COLUMNS, self)
        self.assoc_table, self.assoc_proxy = table_view(self.assoc_model, self)
        target_layout.addWidget(self.target_note)
        target_layout.addWidget(self.assoc_table, 1)
        self.tabs.addTab(target, "Target associations")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self._heatmap_drawn = False
        self.set_profile(None)

    # --- showing ---------------------------------------------------------------------------

    def set_profile(self, profile: Profile | None, label: str = "",
                    kept_targets: tuple[str | None, ...] = ()) -> None:
        """Show ``profile`` (of version ``label``), or nothing.

        ``kept_targets`` are the targets the version has kept profiles for; the target
        selector marks them, since choosing one shows it without computing anything.
        """
        self.profile = profile
        self.kept_targets = set(kept_targets)
        self._heatmap_drawn = False
        self.export_button.setEnabled(profile is not None)
        self.target_box.setEnabled(profile is not None)
        if profile is None:
            self.alert_model.set_rows([])
            self.column_model.set_rows([])
            self.assoc_model.set_rows([])
            self.details.setText("")
            self.histogram.set_figure(None)
            self.top_values.set_figure(None)
            self.heatmap.set_figure(None)
            return
        cells = profile.row_count * profile.column_count
        missing = sum(c.missing for c in profile.columns)
        counts = {s: sum(1 for a in profile.alerts if a.severity == s) for s in SEVERITY_RANK}
        alerts = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
        self.summary.setText(
            f"<b>{html.escape(label)}</b> — {profile.row_count:,} rows × {profile.column_count} columns<br>"
            f"missing cells {missing / cells if cells else 0:.1%} · duplicate rows {profile.duplicate_rows:,} · "
            f"{size_text(profile.memory_bytes)} in memory · alerts: {alerts}"
        )
        self.tabs.setTabText(0, f"Alerts ({len(profile.alerts)})")
        self.alert_model.set_rows(profile.alerts)
        self.column_model.set_rows(profile.columns)
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem(NO_TARGET, None)
        for c in profile.columns:
            self.target_box.addItem(c.name, c.name)
        self.target_box.setCurrentIndex(max(0, self.target_box.findData(profile.target)) if profile.target else 0)
        self.target_box.blockSignals(False)
        self._mark_kept_targets()
        self._show_associations(profile)
        self.sample_note.setText(f"(computed on a sample of {profile.sampled_rows:,} rows)" if profile.sampled_rows else "")
        if profile.columns:
            self.column_table.selectRow(0)
        self._on_tab_changed(self.tabs.currentIndex())

    def mark_kept(self, target: str | None) -> None:
        """Say in the target selector that a profile for ``target`` is now kept."""
        self.kept_targets.add(target)
        self._mark_kept_targets()

    def _mark_kept_targets(self) -> None:
        for i in range(self.target_box.count()):
            target = self.target_box.itemData(i)
            name = NO_TARGET if target is None else str(target)
            kept = target in self.kept_targets
            self.target_box.setItemText(i, f"{name}{KEPT_MARK}" if kept else name)
            self.target_box.setItemData(i, KEPT_TIP if kept else None, Qt.ItemDataRole.ToolTipRole)

    def set_busy(self, text: str) -> None:
        """Say that a profile is being computed (the old one stays visible until it lands)."""
        self.summary.setText(text)

    def _show_associations(self, profile: Profile) -> None:
        rows = sorted(profile.target_associations, key=lambda a: -a.mutual_information)
        self.assoc_model.set_rows(rows)
        if profile.target is None:
            self.target_note.setText("Choose a target column above to measure each column's association with it "
                                     "(and catch columns that leak the answer).")
        else:
            leaks = [a.column for a in rows if a.leakage]
            note = f"Association of every column with <b>{html.escape(profile.target)}</b>, strongest first."
            if leaks:
                note += (f" <span style='color:#b00020'>⚠ {html.escape(', '.join(leaks))} alone predict(s) the target "
                         "almost perfectly: check for leakage before training.</span>")
            self.target_note.setText(note)
        self.tabs.setTabText(3, f"Target associations{f' ({profile.target})' if profile.target else ''}")

    def selected_column(self) -> ColumnProfile | None:
        rows = self.column_table.selectionModel().selectedRows()
        if not rows:
            return None
        obj = self.column_proxy.data(rows[0], Qt.ItemDataRole.UserRole)
        return obj if isinstance(obj, ColumnProfile) else None

    def show_column(self, col: ColumnProfile | None) -> None:
        if col is None:
            self.details.setText("")
            self.histogram.set_figure(None)
            self.top_values.set_figure(None)
            return
        self.details.setText(column_details(col))
        if self.tabs.currentIndex() != 1:
            return  # drawn when the Columns tab is shown
        hist = histogram_figure(col)
        redacted = col.pii or col.semantic_type == "identifier"
        self.histogram.set_figure(hist, "Values redacted: no chart." if redacted else "")
        top = None if col.semantic_type in ("numeric", "datetime") and hist is not None else top_values_figure(col)
        self.top_values.set_figure(top, "")

    # --- slots -----------------------------------------------------------------------------

    @Slot(int)
    def _on_target_activated(self, index: int) -> None:
        target = self.target_box.itemData(index)
        if self.profile is not None and target != self.profile.target:
            self.target_requested.emit(target)

    @Slot(QItemSelection, QItemSelection)
    def _on_column_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        self.show_column(self.selected_column())

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        if index == 1:
            self.show_column(self.selected_column())
        elif index == 2 and not self._heatmap_drawn and self.profile is not None:
            self._draw_heatmap()

    @Slot(int)
    def _on_method_changed(self, index: int) -> None:
        if self.profile is not None:
            self._draw_heatmap()

    def _draw_heatmap(self) -> None:
        assert self.profile is not None
        self._heatmap_drawn = True
        self.heatmap.set_figure(heatmap_figure(self.profile.correlations, self.method_box.currentText()))
