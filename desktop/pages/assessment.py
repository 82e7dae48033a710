"""Maturity assessments: pick or start one, answer question by question, see the result.

Everything goes through ``engine.assessments``; saves run on the write pool and each
answer is stored as soon as it is saved. The radar chart is core's Figure in a Qt canvas.
A final assessment shows read-only answers until one is changed, which makes a revision.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QHeaderView,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.assessment.models import Assessment, AssessmentScore, EvidenceSuggestion, MaturityModel
from core.outcome import Outcome
from core.tasks import TaskContext
from desktop.bus import EventBus
from desktop.pages.base import NOTE_STYLE, Page
from desktop.widgets.assessment_question import QuestionPanel

ASSESSMENTS = "assessments"


class NewAssessmentDialog(QDialog):
    def __init__(self, models: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New assessment")
        self.model_box = QComboBox()
        for mid, name in models:
            self.model_box.addItem(name, mid)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("e.g. Risk Analytics team")
        self.assessors = QLineEdit()
        self.assessors.setPlaceholderText("names, separated by commas")
        form = QFormLayout(self)
        form.addRow("Model:", self.model_box)
        form.addRow("Unit:", self.unit)
        form.addRow("Assessors:", self.assessors)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class AssessmentPage(Page):
    name = "assessment"
    title = "Maturity assessment"
    watches = frozenset({ASSESSMENTS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.current: Assessment | None = None
        self.model: MaturityModel | None = None
        self.tips: dict[str, EvidenceSuggestion] = {}
        self._pending_id: str | None = None
        top = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setMinimumWidth(340)
        self.picker.currentIndexChanged.connect(self._on_picker_changed)
        top.addWidget(self.picker, 1)
        self.new_button = QPushButton("New…")
        self.new_button.clicked.connect(self._on_new_clicked)
        self.finalise_button = QPushButton("Finalise")
        self.finalise_button.clicked.connect(self._on_finalise_clicked)
        self.html_button = QPushButton("Report HTML…")
        self.html_button.clicked.connect(self._on_html_clicked)
        self.pdf_button = QPushButton("Report PDF…")
        self.pdf_button.clicked.connect(self._on_pdf_clicked)
        for b in (self.new_button, self.finalise_button, self.html_button, self.pdf_button):
            top.addWidget(b)
        self.layout_.addLayout(top)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.layout_.addWidget(self.summary)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Question", "Answer"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setMinimumWidth(360)
        self.tree.currentItemChanged.connect(self._on_tree_current_changed)
        split.addWidget(self.tree)
        self.tabs = QTabWidget()
        self.panel = QuestionPanel()
        self.panel.answer_requested.connect(self._on_panel_answer_requested)
        self.panel.skip_requested.connect(self._on_panel_skip_requested)
        self.tabs.addTab(self.panel, "Answer")
        self.results = QWidget()
        self.results_layout = QVBoxLayout(self.results)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.rule.setStyleSheet("color: #444;")
        self.results_layout.addWidget(self.rule)
        self.canvas_holder = QVBoxLayout()
        self.results_layout.addLayout(self.canvas_holder, 3)
        self.results_layout.addWidget(QLabel("<b>Recommendations, in order</b>"))
        self.recs = QListWidget()
        self.recs.setWordWrap(True)
        self.results_layout.addWidget(self.recs, 2)
        self.tabs.addTab(self.results, "Results")
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self.layout_.addWidget(split, 1)
        self.note = QLabel()
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        self.layout_.addWidget(self.note)
        self.runner.finished.connect(self._on_runner_finished)
        self._canvas: QWidget | None = None

    # --- loading -------------------------------------------------------------------------

    def reload(self) -> None:
        if self.engine is None:
            return
        svc = self.engine.assessments
        keep = self._pending_id or (self.current.id if self.current else None)
        self._pending_id = None
        items = svc.list()
        self.picker.blockSignals(True)
        self.picker.clear()
        for a in items:
            self.picker.addItem(
                f"{a.unit} — {a.assessed_on.isoformat()} — {a.model_id} rev {a.revision} ({a.status.value})",
                a.id)
        index = self.picker.findData(keep) if keep else len(items) - 1
        self.picker.setCurrentIndex(max(index, 0) if items else -1)
        self.picker.blockSignals(False)
        self._show(self.picker.currentData())

    def open_assessment(self, assessment_id: str) -> None:
        """Show one assessment (selects it in the picker)."""
        self._pending_id = assessment_id
        self.reload()

    def _show(self, assessment_id: str | None) -> None:
        if self.engine is None or not assessment_id:
            self.current = self.model = None
            self.tree.clear()
            self.summary.setText("No assessment yet: press New… to start one.")
            self._update_buttons()
            return
        svc = self.engine.assessments
        previous_q = self.panel.question.id if self.panel.question else None
        self.current = svc.get(assessment_id)
        self.model = svc.model_of(self.current)
        self.tips = svc.suggestions(self.current)
        result = svc.score(self.current)
        done = svc.completion(self.current)
        overall = "—" if result.overall is None else f"{result.overall:.1f}"
        weakest = ", ".join(result.of(d).name for d in result.weakest) or "—"
        state = "final (locked: a change makes a new revision)" if self.current.locked else "draft, saved as you go"
        self.summary.setText(
            f"<b>{self.current.unit}</b> · {self.model.name} {self.model.version} · "
            f"revision {self.current.revision}, {state}<br>"
            f"{done.describe()} · overall <b>{overall}</b> · weakest: {weakest}")
        self._fill_tree(result, previous_q)
        self._fill_results(result)
        self._update_buttons()

    def _fill_tree(self, result: AssessmentScore, select: str | None) -> None:
        assert self.current is not None and self.model is not None
        self.tree.blockSignals(True)
        self.tree.clear()
        chosen: QTreeWidgetItem | None = None
        for dim in self.model.dimensions:
            s = result.of(dim.id).score
            top = QTreeWidgetItem([dim.name, "—" if s is None else f"{s:.1f}"])
            self.tree.addTopLevelItem(top)
            for q in dim.questions:
                ans = self.current.answers.get(q.id)
                shown = "" if ans is None else ("skipped" if ans.skipped else str(ans.level))
                item = QTreeWidgetItem([q.text, shown])
                item.setData(0, Qt.ItemDataRole.UserRole, q.id)
                item.setToolTip(0, q.text)
                top.addChild(item)
                if q.id == select:
                    chosen = item
            top.setExpanded(True)
        self.tree.blockSignals(False)
        if chosen is None and self.tree.topLevelItemCount():
            chosen = self.tree.topLevelItem(0).child(0)
        if chosen is not None:
            self.tree.setCurrentItem(chosen)

    def _fill_results(self, result: AssessmentScore) -> None:
        assert self.engine is not None and self.current is not None and self.model is not None
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        from core.assessment import charts

        svc = self.engine.assessments
        prev = svc.previous(self.current)
        prev_score = svc.score(prev) if prev else None
        fig = charts.radar(self.model, result, dict(self.current.targets), prev_score, size=(5, 4))
        if self._canvas is not None:
            self._canvas.setParent(None)
            self._canvas.deleteLater()
        self._canvas = FigureCanvasQTAgg(fig)
        self.canvas_holder.addWidget(self._canvas)
        self.rule.setText(f"<b>Scoring rule:</b> {result.rule}")
        self.recs.clear()
        steps = svc.plan(self.current)
        if not steps:
            self.recs.addItem("No gaps to the targets (set targets with `airlock assess target`).")
        for step in steps:
            r = step.recommendation
            self.recs.addItem(f"{step.position}. [{step.dimension_name} → {r.level}] {r.text}")

    def _update_buttons(self) -> None:
        has = self.current is not None
        self.new_button.setEnabled(self.writable)
        self.finalise_button.setEnabled(self.writable and has and not self.current.locked)  # type: ignore[union-attr]
        self.html_button.setEnabled(has)
        self.pdf_button.setEnabled(has)
        self.panel.set_editable(self.writable and has)
        if self.engine is not None and self.engine.read_only:
            self.note.setText("The workspace is open read-only: answers cannot be changed.")

    # --- actions -------------------------------------------------------------------------

    def create(self, model_id: str, unit: str, assessors: list[str]) -> None:
        if self.engine is None:
            return
        svc = self.engine.assessments

        def work(ctx: TaskContext) -> object:
            return svc.create(model_id, unit, assessors=assessors)

        self.run(work, f"Starting an assessment of {unit}", "The assessment was not created.", writes=True)

    def save_answer(self, question_id: str, level: int, note: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> object:
            return svc.answer(aid, question_id, level, note)

        self.run(work, "Saving the answer", "The answer was not saved.", writes=True)

    def skip(self, question_id: str, reason: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> object:
            return svc.skip(aid, question_id, reason)

        self.run(work, "Skipping the question", "The question was not skipped.", writes=True)

    def finalise(self) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> object:
            return svc.finalise(aid)

        self.run(work, "Finalising", "The assessment was not finalised.", writes=True)

    def export(self, path: str, kind: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> object:
            return svc.export_report(aid, path, kind=kind)

        self.run(work, f"Writing the {kind.upper()} report", "The report was not written.", writes=True)

    # --- slots ---------------------------------------------------------------------------

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Assessment):
            self.open_assessment(result.value.id)
            self.note.setText("Saved.")
        elif result is not None and not isinstance(result, Outcome):
            self.note.setText(f"Wrote {result}")

    @Slot(int)
    def _on_picker_changed(self, index: int) -> None:
        self._show(self.picker.itemData(index))

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_tree_current_changed(self, item: QTreeWidgetItem | None, _old: QTreeWidgetItem | None) -> None:
        if item is None or self.current is None or self.model is None:
            return
        qid = item.data(0, Qt.ItemDataRole.UserRole)
        if not qid:
            return
        self.tabs.setCurrentWidget(self.panel)
        self.panel.show_question(self.model, self.model.question(qid), self.current.answers.get(qid),
                                 self.tips.get(qid))
        self.panel.set_editable(self.writable)

    @Slot(str, int, str)
    def _on_panel_answer_requested(self, question_id: str, level: int, note: str) -> None:
        self.save_answer(question_id, level, note)

    @Slot(str, str)
    def _on_panel_skip_requested(self, question_id: str, reason: str) -> None:
        self.skip(question_id, reason)

    @Slot()
    def _on_new_clicked(self) -> None:
        if self.engine is None:
            return
        models = [(m.id, f"{m.name} ({m.version})") for m in self.engine.assessments.models()]
        dialog = NewAssessmentDialog(models, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            people = [p.strip() for p in dialog.assessors.text().split(",") if p.strip()]
            self.create(dialog.model_box.currentData(), dialog.unit.text(), people)

    @Slot()
    def _on_finalise_clicked(self) -> None:
        self.finalise()

    @Slot()
    def _on_html_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save HTML report", "assessment.html", "HTML (*.html)")
        if path:
            self.export(path, "html")

    @Slot()
    def _on_pdf_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save PDF report", "assessment.pdf", "PDF (*.pdf)")
        if path:
            self.export(path, "pdf")
