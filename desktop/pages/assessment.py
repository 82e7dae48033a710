"""Maturity assessments: pick or start one, answer question by question, see the result.

Everything goes through ``engine.assessments``; saves, imports, attachments and targets run
on the write thread as mutations and each change is stored at once (audited by the
service); the history, comparisons and report exports run on runners of their own
concerns, so opening Compare does not drop a save's result. The Results
tab (charts, targets, recommendations) and the Compare dialog are widgets of their own in
``desktop.widgets``; this page wires them to the service. A final assessment shows
read-only answers until one is changed, which makes a revision. matplotlib is imported
only when the Results tab is first shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from core.api import (
    Assessment,
    AssessmentScore,
    Change,
    Comparison,
    EvidenceSuggestion,
    MaturityModel,
    Outcome,
    TaskContext,
)
from desktop.bus import EventBus
from desktop.pages.base import MAIN, NOTE_STYLE, Page
from desktop.widgets.assessment_compare import CompareData, CompareDialog
from desktop.widgets.assessment_new import NewAssessmentDialog
from desktop.widgets.assessment_question import QuestionPanel
from desktop.widgets.assessment_results import ResultsView, ResultsWidget
from desktop.widgets.assessment_tree import WrappingDelegate

COMPARE = "compare"
EXPORT = "export"


class AssessmentPage(Page):
    name = "assessment"
    title = "Maturity assessment"
    watches = frozenset({Change.ASSESSMENTS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.current: Assessment | None = None
        self.model: MaturityModel | None = None
        self.tips: dict[str, EvidenceSuggestion] = {}
        self.compare_dialog: CompareDialog | None = None
        self._pending_id: str | None = None
        self._done_note = ""
        top = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setMinimumWidth(340)
        self.picker.currentIndexChanged.connect(self._on_picker_changed)
        top.addWidget(self.picker, 1)
        self.new_button = QPushButton("New…")
        self.new_button.clicked.connect(self._on_new_clicked)
        self.import_button = QPushButton("Import answers…")
        self.import_button.setToolTip("Apply a filled-in questionnaire (CSV or JSON); a bad file changes nothing.")
        self.import_button.clicked.connect(self._on_import_clicked)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip("This unit's assessments over time, dimension by dimension.")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.finalise_button = QPushButton("Finalise")
        self.finalise_button.clicked.connect(self._on_finalise_clicked)
        self.html_button = QPushButton("Report HTML…")
        self.html_button.clicked.connect(self._on_html_clicked)
        self.pdf_button = QPushButton("Report PDF…")
        self.pdf_button.clicked.connect(self._on_pdf_clicked)
        for b in (self.new_button, self.import_button, self.compare_button, self.finalise_button,
                  self.html_button, self.pdf_button):
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
        # Question texts are sentences: they wrap onto as many lines as they need (rows are
        # not of one height), and the tooltip and the Answer tab show them whole as well.
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setItemDelegate(WrappingDelegate(self.tree))
        header.sectionResized.connect(self._on_tree_section_resized)
        self.tree.currentItemChanged.connect(self._on_tree_current_changed)
        split.addWidget(self.tree)
        self.tabs = QTabWidget()
        self.panel = QuestionPanel()
        self.panel.answer_requested.connect(self._on_panel_answer_requested)
        self.panel.skip_requested.connect(self._on_panel_skip_requested)
        self.panel.evidence_attach_requested.connect(self._on_panel_evidence_attach_requested)
        self.panel.evidence_save_requested.connect(self._on_panel_evidence_save_requested)
        self.tabs.addTab(self.panel, "Answer")
        self.results = ResultsWidget()
        self.results.targets.targets_requested.connect(self._on_targets_requested)
        self.recs = self.results.recs
        self.tabs.addTab(self.results, "Results")
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        self.layout_.addWidget(split, 1)
        self.note = QLabel()
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        self.layout_.addWidget(self.note)
        self.runner().finished.connect(self._on_edit_finished)
        self.runner(COMPARE).finished.connect(self._on_compare_finished)
        self.runner(EXPORT).finished.connect(self._on_export_finished)

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
        prev = svc.previous(self.current)
        self.results.set_view(ResultsView(
            model=self.model, score=result, targets=svc.targets(self.current),
            own_targets={str(k): v for k, v in self.current.targets.items()}, plan=svc.plan(self.current), previous=prev,
            previous_score=svc.score(prev) if prev else None, editable=self.writable))
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
                shown = "" if ans is None or ans.pending else ("skipped" if ans.skipped else str(ans.level))
                if ans is not None and ans.evidence:
                    files = len(ans.evidence)
                    shown = f"{shown} · {files} file{'s' if files > 1 else ''}".lstrip(" ·")
                item = QTreeWidgetItem([q.text, shown])
                item.setData(0, Qt.ItemDataRole.UserRole, q.id)
                item.setToolTip(0, f"<p>{escape(q.text)}</p><p><i>{escape(q.id)}</i></p>")
                top.addChild(item)
                if q.id == select:
                    chosen = item
            top.setExpanded(True)
        if chosen is None and self.tree.topLevelItemCount():
            first = self.tree.topLevelItem(0)
            chosen = first.child(0) if first is not None else None
        if chosen is not None:
            self.tree.setCurrentItem(chosen)
        self.tree.blockSignals(False)
        self._show_question(chosen)

    def _show_question(self, item: QTreeWidgetItem | None) -> bool:
        if item is None or self.current is None or self.model is None:
            return False
        qid = item.data(0, Qt.ItemDataRole.UserRole)
        if not qid:
            return False
        self.panel.show_question(self.model, self.model.question(qid), self.current.answers.get(qid),
                                 self.tips.get(qid))
        self.panel.set_editable(self.writable)
        return True

    def _update_buttons(self) -> None:
        has = self.current is not None
        self.new_button.setEnabled(self.writable)
        self.import_button.setEnabled(self.writable and has)
        self.compare_button.setEnabled(has)
        self.finalise_button.setEnabled(self.writable and self.current is not None and not self.current.locked)
        self.html_button.setEnabled(has)
        self.pdf_button.setEnabled(has)
        self.panel.set_editable(self.writable and has)
        if self.engine is not None and self.engine.read_only:
            self.note.setText("The workspace is open read-only: answers cannot be changed.")

    # --- actions -------------------------------------------------------------------------

    def _write(self, work: Callable[[TaskContext], Outcome[Assessment]], description: str, doing: str,
               done: str) -> None:
        """Store a change to the assessment; ``done`` is shown when it succeeds."""
        self._done_note = done
        self.mutate(work, description, doing)

    def start_assessment(self, model_id: str, unit: str, assessors: list[str], assessed_on: dt.date | None = None) -> None:
        if self.engine is None:
            return
        svc = self.engine.assessments

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            return svc.create(model_id, unit, assessors=assessors, assessed_on=assessed_on)

        self._write(work, f"Starting an assessment of {unit}", "The assessment was not created.", "Started.")

    def save_answer(self, question_id: str, level: int, note: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            return svc.answer(aid, question_id, level, note)

        self._write(work, "Saving the answer", "The answer was not saved.", "Saved.")

    def skip(self, question_id: str, reason: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            return svc.skip(aid, question_id, reason)

        self._write(work, "Skipping the question", "The question was not skipped.", "Saved.")

    def attach(self, question_id: str, path: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid, name = self.engine.assessments, self.current.id, Path(path).name

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            return svc.attach_evidence(aid, question_id, path)

        self._write(work, f"Attaching {name}", f"{name} was not attached.", f"Attached {name} (encrypted).")

    def save_evidence_copy(self, digest: str, dest: str) -> None:
        if self.engine is None:
            return
        if self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> Outcome[Path]:  # audited: data leaves the workspace
            return svc.export_evidence(aid, digest, dest)

        self.mutate(work, "Saving a copy of the evidence", "The copy was not saved.", concern=EXPORT)

    def import_answers(self, path: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid, name = self.engine.assessments, self.current.id, Path(path).name

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            return svc.import_answers(aid, path)

        self._write(work, f"Importing answers from {name}", f"No answers were imported from {name}.",
                    f"Imported the answers in {name}.")

    def set_targets(self, levels: dict[str, int]) -> None:
        if self.engine is None or self.current is None:
            return
        if not levels:
            return
        svc, first, steps = self.engine.assessments, self.current.id, list(levels.items())

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            out = svc.set_target(first, *steps[0])
            changed = set(out.changes)
            for dim, level in steps[1:]:
                out = svc.set_target(out.value.id, dim, level)  # a final assessment was revised by the first
                changed |= out.changes
            return Outcome(out.value, frozenset(changed))

        self._write(work, "Saving targets", "The targets were not saved.", "Targets saved.")

    def finalise(self) -> None:
        """Lock the assessment; with open questions, only after the user confirms it."""
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id
        done = svc.completion(self.current)
        force = False
        if done.open:
            answer = QMessageBox.question(
                self, "Finalise with open questions?",
                f"{done.open} of {done.total} questions are neither answered nor skipped.\n\n"
                "Finalise anyway? They stay open: the levels leave them out and the report says "
                f"{done.open} {'were' if done.open != 1 else 'was'} left open. A later change makes a new revision.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                self.note.setText("Not finalised: answer or skip the open questions first.")
                return
            force = True

        def work(ctx: TaskContext) -> Outcome[Assessment]:
            return svc.finalise(aid, force=force)

        self._write(work, "Finalising", "The assessment was not finalised.", "Finalised.")

    def export(self, path: str, kind: str) -> None:
        if self.engine is None or self.current is None:
            return
        svc, aid = self.engine.assessments, self.current.id

        def work(ctx: TaskContext) -> Outcome[Path]:  # audited: data leaves the workspace
            return svc.export_report(aid, path, kind=kind)

        self.mutate(work, f"Writing the {kind.upper()} report", "The report was not written.", concern=EXPORT)

    def open_compare(self) -> None:
        """Load the unit's history and open the Compare dialog when it is ready."""
        if self.engine is None or self.current is None:
            return
        svc, current = self.engine.assessments, self.current

        def work(ctx: TaskContext) -> CompareData:
            history = svc.history(current.unit)
            rows = tuple((a, svc.score(a).overall) for a in history)
            mine = next((a for a in history if a.lineage_id == current.lineage_id), current)
            same = [a for a in history if a.model_id == current.model_id]
            at = next((i for i, a in enumerate(same) if a.id == mine.id), 0)
            cmp = None
            if len(same) > 1:
                before, after = (same[at - 1], mine) if at > 0 else (mine, same[1])
                cmp = svc.compare(before.id, after.id)
            return CompareData(mine, rows, cmp)

        self.query(work, f"Loading the history of {current.unit}", "The history could not be loaded.",
                   concern=COMPARE)

    def compare(self, before_id: str, after_id: str) -> None:
        if self.engine is None:
            return
        svc = self.engine.assessments

        def work(ctx: TaskContext) -> Comparison:
            return svc.compare(before_id, after_id)

        self.query(work, "Comparing assessments", "The assessments could not be compared.", concern=COMPARE)

    # --- slots ---------------------------------------------------------------------------

    @Slot(object)
    def _on_edit_finished(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Assessment):
            self.open_assessment(result.value.id)
            self.note.setText(self._done_note or "Saved.")

    @Slot(object)
    def _on_compare_finished(self, result: object) -> None:
        if isinstance(result, CompareData):
            if self.compare_dialog is not None:
                self.compare_dialog.close()
            self.compare_dialog = CompareDialog(result, self)
            self.compare_dialog.compare_requested.connect(self._on_compare_dialog_compare_requested)
            self.compare_dialog.show()
        elif isinstance(result, Comparison) and self.compare_dialog is not None:
            self.compare_dialog.show_comparison(result)

    @Slot(object)
    def _on_export_finished(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Path):
            self.note.setText(f"Wrote {result.value}")

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        super().on_task_failed(concern, error)
        if concern == MAIN and self.current is not None:  # show what the store holds now, whatever got through
            self.open_assessment(self.current.id)

    @Slot(int, int, int)
    def _on_tree_section_resized(self, _index: int, _old: int, _new: int) -> None:
        self.tree.scheduleDelayedItemsLayout()  # wrapped rows take their new heights

    @Slot(int)
    def _on_picker_changed(self, index: int) -> None:
        self._show(self.picker.itemData(index))

    @Slot(int)
    def _on_tabs_current_changed(self, _index: int) -> None:
        self.results.set_active(self.tabs.currentWidget() is self.results)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_tree_current_changed(self, item: QTreeWidgetItem | None, _old: QTreeWidgetItem | None) -> None:
        if self._show_question(item):
            self.tabs.setCurrentWidget(self.panel)

    @Slot(str, int, str)
    def _on_panel_answer_requested(self, question_id: str, level: int, note: str) -> None:
        self.save_answer(question_id, level, note)

    @Slot(str, str)
    def _on_panel_skip_requested(self, question_id: str, reason: str) -> None:
        self.skip(question_id, reason)

    @Slot(str, str)
    def _on_panel_evidence_attach_requested(self, question_id: str, path: str) -> None:
        self.attach(question_id, path)

    @Slot(str, str)
    def _on_panel_evidence_save_requested(self, digest: str, dest: str) -> None:
        self.save_evidence_copy(digest, dest)

    @Slot(object)
    def _on_targets_requested(self, levels: object) -> None:
        if isinstance(levels, dict):
            self.set_targets(levels)

    @Slot(str, str)
    def _on_compare_dialog_compare_requested(self, before_id: str, after_id: str) -> None:
        self.compare(before_id, after_id)

    @Slot()
    def _on_new_clicked(self) -> None:
        if self.engine is None:
            return
        models = [(m.id, f"{m.name} ({m.version})") for m in self.engine.assessments.models()]
        dialog = NewAssessmentDialog(models, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.start_assessment(dialog.model_box.currentData(), dialog.unit.text(), dialog.people(), dialog.assessed_on())

    @Slot()
    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import answers", "", "Filled-in questionnaire (*.csv *.json);;All files (*)")
        if path:
            self.import_answers(path)

    @Slot()
    def _on_compare_clicked(self) -> None:
        self.open_compare()

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
