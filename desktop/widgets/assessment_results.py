"""The Results tab: radar, maturity curve and per-dimension bars, targets and the plan.

The charts are core's :class:`matplotlib.figure.Figure` objects (``core.assessment.charts``)
in Qt canvases. matplotlib is heavy, so nothing here imports it until the tab is first
shown (:meth:`ResultsWidget.set_active`); until then, and whenever the tab is hidden, new
results are only remembered and drawn when the tab shows again. The targets table and the
recommendation list are plain widgets and are always up to date. This widget never calls
the engine: the page hands it values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.api import Assessment, AssessmentScore, MaturityModel, PlannedStep
from desktop.widgets.assessment_targets import TargetsWidget

#: Titles of the chart tabs, in order.
CHARTS = ("Radar", "Maturity curve", "By dimension")
#: Charts and plan never shrink below these heights; the tab scrolls instead.
_CHART_HEIGHT = 330
_PLAN_HEIGHT = 230


@dataclass(frozen=True, slots=True)
class ResultsView:
    """Everything the Results tab shows for one assessment."""

    model: MaturityModel
    score: AssessmentScore
    targets: Mapping[str, int]
    """Effective targets: the assessors' own, else the next level up."""
    own_targets: Mapping[str, int]
    plan: Sequence[PlannedStep]
    previous: Assessment | None = None
    """The unit's previous finalised assessment with the same model."""
    previous_score: AssessmentScore | None = None
    editable: bool = False


class ResultsWidget(QWidget):
    """Charts in tabs over the targets table and the ordered recommendations, then the rule."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        self.previous_note = QLabel()
        self.previous_note.setWordWrap(True)
        self.previous_note.setStyleSheet("color: #555;")
        layout.addWidget(self.previous_note)
        self.charts = QTabWidget()
        self.charts.setMinimumHeight(_CHART_HEIGHT)
        self._holders: list[QVBoxLayout] = []
        for title in CHARTS:
            page = QWidget()
            holder = QVBoxLayout(page)
            holder.setContentsMargins(0, 0, 0, 0)
            self._holders.append(holder)
            self.charts.addTab(page, title)
        layout.addWidget(self.charts, 3)
        bottom = QHBoxLayout()
        self.targets = TargetsWidget()
        bottom.addWidget(self.targets, 2)
        recs_box = QVBoxLayout()
        recs_box.addWidget(QLabel("<b>Recommendations, in order</b>"))
        self.recs = QListWidget()
        self.recs.setWordWrap(True)
        self.recs.setAlternatingRowColors(True)
        self.recs.setMinimumHeight(_PLAN_HEIGHT)
        recs_box.addWidget(self.recs, 1)
        bottom.addLayout(recs_box, 3)
        layout.addLayout(bottom, 2)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet("color: #555; font-size: 8pt;")
        layout.addWidget(self.rule)
        self.canvases: list[QWidget] = []
        self._view: ResultsView | None = None
        self._active = False
        self._dirty = False

    def set_view(self, view: ResultsView) -> None:
        """Show ``view``; the charts are redrawn now if the tab is shown, else when it is."""
        self._view = view
        self.rule.setText(f"<b>Scoring rule:</b> {view.score.rule}")
        if view.previous is not None:
            overall = view.previous_score.overall if view.previous_score else None
            shown = "—" if overall is None else f"{overall:.1f}"
            self.previous_note.setText(
                f"<b>Previous finalised assessment</b> (grey in the charts): assessed "
                f"{view.previous.assessed_on.isoformat()}, "
                f"revision {view.previous.revision}, overall {shown}.")
        else:
            self.previous_note.setText(
                "No earlier finalised assessment of this unit with this model to compare with.")
        self.targets.set_targets(view.model, view.score, view.targets, view.own_targets, editable=view.editable)
        self._fill_plan(view.plan)
        self._dirty = True
        if self._active:
            self._render()

    def set_active(self, active: bool) -> None:
        """Whether the tab is shown; showing it draws any results not drawn yet."""
        self._active = active
        if active and self._dirty:
            self._render()

    def _fill_plan(self, steps: Sequence[PlannedStep]) -> None:
        self.recs.clear()
        if not steps:
            self.recs.addItem("No gaps to the targets. Raise a target to plan further steps.")
        for step in steps:
            r = step.recommendation
            prefix = "(prerequisite) " if step.prerequisite_only else ""
            item = QListWidgetItem(f"{step.position}. {prefix}{step.dimension_name} → level {r.level}: {r.text}")
            item.setToolTip(step.reason)
            self.recs.addItem(item)

    def _render(self) -> None:
        view = self._view
        if view is None:
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        from core.api import assessment_charts as charts

        # Keyed by the model's own dimension ids (the charts take DimensionId keys; the view
        # holds the service's plain-string mapping). A target for no dimension is not drawn.
        targets = {d.id: view.targets[d.id] for d in view.model.dimensions if d.id in view.targets}
        figures = (
            charts.radar(view.model, view.score, targets, view.previous_score, size=(5.0, 4.0)),
            charts.curve(view.model, view.score.overall,
                         previous=view.previous_score.overall if view.previous_score else None,
                         size=(6.0, 3.0)),
            charts.bars(view.model, view.score, targets, view.previous_score, size=(6.0, 3.6)),
        )
        for canvas in self.canvases:
            canvas.setParent(None)
            canvas.deleteLater()
        self.canvases = []
        for holder, fig in zip(self._holders, figures, strict=True):
            canvas = FigureCanvasQTAgg(fig)  # type: ignore[no-untyped-call]  # matplotlib leaves it untyped
            holder.addWidget(canvas)
            self.canvases.append(canvas)
        self._dirty = False
