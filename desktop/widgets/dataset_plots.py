"""Charts for the Datasets page, drawn from profile and drift values, and a canvas holder.

Core stores the numbers (histogram counts and edges, top values, correlations, PSI) but
builds no figures for them, so the figures are made here on
:class:`matplotlib.figure.Figure` (never pyplot). matplotlib is imported inside the
functions: loading this module costs nothing until a chart is first shown.
No engine calls and no feature logic: only drawing what a core value already holds.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.api import REDACTED, ColumnProfile, Correlation, DriftReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BAR = "#4a7bb7"
DRIFT = "#c0392b"
MODERATE = "#e67e22"

#: Heatmap choices: label → correlation methods shown, in order of preference per pair.
HEATMAP_METHODS: dict[str, tuple[str, ...]] = {
    "Mixed (|Spearman|, Cramér's V, η)": ("spearman", "cramers_v", "correlation_ratio"),
    "Pearson (numeric columns)": ("pearson",),
    "Spearman (numeric columns)": ("spearman",),
    "Cramér's V (categorical columns)": ("cramers_v",),
}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=90, layout="constrained")


def histogram_figure(col: ColumnProfile) -> Figure | None:
    """The column's stored histogram (numbers or dates); None when it has none (e.g. redacted)."""
    counts, edges = col.histogram.get("counts"), col.histogram.get("edges")
    if not counts or not edges:
        return None
    fig = _figure(5.0, 2.6)
    ax = fig.add_subplot()
    lefts: list[Any] = list(edges[:-1])
    widths: list[float] = [b - a for a, b in itertools.pairwise(edges)]
    if col.semantic_type == "datetime":
        from matplotlib import dates as mdates

        # Edges are seconds since the epoch; matplotlib's date unit is days.
        lefts = [mdates.date2num(_utc(s)) for s in edges[:-1]]  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
        widths = [w / 86400.0 for w in widths]
        ax.xaxis_date()
        fig.autofmt_xdate()
    ax.bar(lefts, counts, width=widths, align="edge", color=BAR, edgecolor="white", linewidth=0.5)
    ax.set_title(f"Distribution of {col.name}", fontsize=10)
    ax.set_ylabel("rows")
    ax.tick_params(labelsize=8)
    return fig


def _utc(seconds: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC)


def top_values_figure(col: ColumnProfile) -> Figure | None:
    """Horizontal bars of the most common values; None when there are none or they are redacted."""
    values = [(v, n) for v, n in col.top_values if v != REDACTED]
    if not values:
        return None
    values = values[::-1]  # most common at the top
    fig = _figure(5.0, max(1.6, 0.28 * len(values) + 0.8))
    ax = fig.add_subplot()
    labels = [v if len(v) <= 28 else v[:27] + "…" for v, _ in values]
    ax.barh(range(len(values)), [n for _, n in values], color=BAR)
    ax.set_yticks(range(len(values)), labels, fontsize=8)
    ax.set_title(f"Most common values of {col.name}", fontsize=10)
    ax.set_xlabel("rows")
    ax.tick_params(axis="x", labelsize=8)
    return fig


def correlation_matrix(
    correlations: tuple[Correlation, ...], methods: tuple[str, ...]
) -> tuple[list[str], list[list[float | None]]]:
    """Column names and a symmetric matrix of the first available method per pair (absolute
    values when several methods mix, since Cramér's V and η have no sign)."""
    best: dict[frozenset[str], float] = {}
    rank: dict[frozenset[str], int] = {}
    names: list[str] = []
    for c in correlations:
        if c.method not in methods:
            continue
        key = frozenset((c.a, c.b))
        r = methods.index(c.method)
        if key in rank and rank[key] <= r:
            continue
        rank[key] = r
        best[key] = abs(c.value) if len(methods) > 1 else c.value
        for n in (c.a, c.b):
            if n not in names:
                names.append(n)
    matrix: list[list[float | None]] = [
        [1.0 if a == b else best.get(frozenset((a, b))) for b in names] for a in names
    ]
    return names, matrix


def heatmap_figure(correlations: tuple[Correlation, ...], label: str) -> Figure | None:
    """A correlation heatmap for one of :data:`HEATMAP_METHODS`; None when no pair has it."""
    import numpy as np

    methods = HEATMAP_METHODS[label]
    names, matrix = correlation_matrix(correlations, methods)
    if len(names) < 2:
        return None
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    signed = len(methods) == 1 and methods[0] in ("pearson", "spearman")
    # Square cells: the figure is as wide as the matrix plus its labels and colour bar, no wider
    # (shown at this natural size, see FigureHolder's ``natural_size``), so no empty band is left.
    longest = max(len(n) for n in names)
    labels_in = 0.07 * min(18, longest) + 0.3
    size = min(9.0, 3.0 + 0.4 * len(names))
    fig = _figure(size + labels_in + 1.0, size + labels_in)
    ax = fig.add_subplot()
    image = ax.imshow(data, cmap="RdBu_r" if signed else "Blues", vmin=-1.0 if signed else 0.0, vmax=1.0)
    short = [n if len(n) <= 18 else n[:17] + "…" for n in names]
    ax.set_xticks(range(len(names)), short, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), short, fontsize=8)
    if len(names) <= 14:
        for i in range(len(names)):
            for j in range(len(names)):
                if not np.isnan(data[i, j]) and i != j:
                    ax.text(j, i, f"{data[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(data[i, j]) > 0.6 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(label, fontsize=10)
    return fig


def drift_figure(report: DriftReport) -> Figure | None:
    """PSI per column with the moderate and major thresholds; drifted columns in red."""
    if not report.columns:
        return None
    cols = sorted(report.columns, key=lambda c: c.psi)
    fig = _figure(5.5, max(2.0, 0.3 * len(cols) + 1.0))
    ax = fig.add_subplot()
    colours = [DRIFT if c.drifted else (MODERATE if c.level == "moderate" else BAR) for c in cols]
    ax.barh(range(len(cols)), [c.psi for c in cols], color=colours)
    ax.set_yticks(range(len(cols)), [c.column for c in cols], fontsize=8)
    ax.axvline(report.psi_moderate, color=MODERATE, linestyle="--", linewidth=1, label=f"moderate ({report.psi_moderate:g})")
    ax.axvline(report.psi_major, color=DRIFT, linestyle="--", linewidth=1, label=f"major ({report.psi_major:g})")
    ax.set_xlabel("population stability index (PSI)")
    ax.set_title(f"{report.reference} → {report.current}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.tick_params(axis="x", labelsize=8)
    return fig


class FigureHolder(QWidget):
    """Shows one matplotlib Figure at a time, or a short note when there is nothing to plot."""

    def __init__(self, empty_text: str = "Nothing to plot.", parent: QWidget | None = None, *,
                 natural_size: bool = False) -> None:
        super().__init__(parent)
        #: Show a figure at its own size at the top left (a square heatmap), not stretched to the space.
        self.natural_size = natural_size
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel(empty_text)
        self.note.setWordWrap(True)
        self._layout.addWidget(self.note)
        self._empty_text = empty_text
        self.canvas: QWidget | None = None
        self.figure: Figure | None = None

    def set_figure(self, fig: Figure | None, empty_text: str | None = None) -> None:
        """Show ``fig`` (replacing the one before), or the note when ``fig`` is None."""
        if self.canvas is not None:
            self._layout.removeWidget(self.canvas)
            self.canvas.setParent(None)
            self.canvas.deleteLater()
            self.canvas = None
        self.figure = fig
        if fig is None:
            self.note.setText(empty_text or self._empty_text)
            self.note.setVisible(True)
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        canvas = FigureCanvasQTAgg(fig)  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
        self.canvas = canvas
        self.note.setVisible(False)
        if self.natural_size:
            canvas.setFixedSize(int(fig.get_figwidth() * fig.dpi), int(fig.get_figheight() * fig.dpi))
            self._layout.addWidget(canvas, 1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            return
        canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        canvas.setMinimumHeight(int(fig.get_figheight() * fig.dpi * 0.6))
        self._layout.addWidget(canvas, 1)
