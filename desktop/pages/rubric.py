"""The Rubric page: a model version's ML Test Score, its history, attestations and report.

Pick a model version; the page shows its latest rubric result (:class:`RubricView`: the four
section sums beside the minimum, the band and the scoring rule, each test with status, outcome
and evidence) and the history of results, newest first, any of which can be shown or compared
with the one on screen. *Run rubric* stores a new result; *Attest…* records a reviewer's manual
attestation (the service refuses the model's own author); *Export report…* writes the sign-off
report as HTML or PDF. Every engine call goes through :meth:`Page.query` / :meth:`Page.mutate`
on its own concern, so a comparison does not drop a run's result. :meth:`RubricPage.show_result`
shows a result value handed to it (the page holds no scoring of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from core.api import (
    Attestation,
    Change,
    Outcome,
    RubricComparison,
    RubricResult,
    TaskContext,
    load_rubric_catalogue,
)
from desktop.bus import EventBus
from desktop.pages.base import MAIN, NOTE_STYLE, Page
from desktop.widgets.rubric_attest import AttestDialog
from desktop.widgets.rubric_compare import RubricCompareDialog
from desktop.widgets.rubric_results import RubricView, moment

LIST = "list"
SHOW = "show"
COMPARE = "compare"
EXPORT = "export"


@dataclass(frozen=True, slots=True)
class Shown:
    """What the page loads for one model version: its results (newest first) and attestations."""

    label: str
    history: tuple[RubricResult, ...]
    attestations: tuple[Attestation, ...]


class RubricPage(Page):
    name = "rubric"
    title = "Rubric"
    watches = frozenset({Change.RUBRIC, Change.TRAINING})

    evidence_requested = Signal(str)
    """The user clicked a record link (``"model_version:ID"``); the shell may open it."""

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.catalogue = load_rubric_catalogue()
        self.shown: Shown | None = None
        self.compare_dialog: RubricCompareDialog | None = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Model version"))
        self.version_box = QComboBox()
        self.version_box.setMinimumWidth(240)
        self.version_box.currentIndexChanged.connect(self._on_version_changed)
        top.addWidget(self.version_box, 1)
        top.addWidget(QLabel("Result"))
        self.history_box = QComboBox()
        self.history_box.setMinimumWidth(260)
        self.history_box.currentIndexChanged.connect(self._on_history_changed)
        top.addWidget(self.history_box, 1)
        self.run_button = QPushButton("Run rubric")
        self.run_button.setToolTip("Check the model version against the rubric and store a new result (audited).")
        self.run_button.clicked.connect(self._on_run_clicked)
        self.attest_button = QPushButton("Attest…")
        self.attest_button.setToolTip("Record that a test was done by hand (a reviewer, not the model's author).")
        self.attest_button.clicked.connect(self._on_attest_clicked)
        self.compare_button = QPushButton("Compare with latest…")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.html_button = QPushButton("Export HTML…")
        self.html_button.clicked.connect(self._on_html_clicked)
        self.pdf_button = QPushButton("Export PDF…")
        self.pdf_button.clicked.connect(self._on_pdf_clicked)
        for b in (self.run_button, self.attest_button, self.compare_button, self.html_button, self.pdf_button):
            top.addWidget(b)
        self.layout_.addLayout(top)
        self.view = RubricView()
        self.view.evidence_clicked.connect(self._on_evidence_clicked)
        self.layout_.addWidget(self.view, 1)
        self.note = QLabel()
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        self.layout_.addWidget(self.note)
        self.runner(LIST).finished.connect(self._on_listed)
        self.runner(SHOW).finished.connect(self._on_shown)
        self.runner().finished.connect(self._on_changed)
        self.runner(COMPARE).finished.connect(self._on_compared)
        self.runner(EXPORT).finished.connect(self._on_exported)
        self._refresh_actions()

    # --- showing --------------------------------------------------------------------------

    def show_result(self, result: RubricResult, attestations: Sequence[Attestation] = (),
                    history: Sequence[RubricResult] = (), label: str = "") -> None:
        """Show ``result`` (with its model version's ``attestations`` and ``history``, newest first)."""
        past = tuple(history) or (result,)
        self.shown = Shown(label or result.model_version_id, past, tuple(attestations))
        self.history_box.blockSignals(True)
        self.history_box.clear()
        for r in past:
            self.history_box.addItem(f"{moment(r.created_at)} · score {r.score.final:g} · {r.created_by}", r.id)
        self.history_box.setCurrentIndex(max(self.history_box.findData(result.id), 0))
        self.history_box.blockSignals(False)
        self.view.show_result(result, self.catalogue, attestations)
        self._refresh_actions()

    def current_result(self) -> RubricResult | None:
        """The result on screen, or None."""
        return self.view.result

    def current_label(self) -> str | None:
        text = self.version_box.currentText()
        return text or None

    def reload(self) -> None:
        if self.engine is None:
            return
        training = self.engine.training

        def listing(ctx: TaskContext) -> list[str]:
            return [v.label for latest in training.models() for v in reversed(training.versions(latest.model))]

        self.query(listing, "Listing model versions", "The rubric page could not list the models.", concern=LIST)

    def load_version(self, label: str) -> None:
        """Load ``label``'s results and attestations in the background."""
        if self.engine is None:
            return
        rubric = self.engine.rubric

        def load(ctx: TaskContext) -> Shown:
            return Shown(label, tuple(reversed(rubric.history(label))), tuple(rubric.attestations(label)))

        self.query(load, f"Loading the rubric of {label}", f"The rubric of {label} could not be loaded.",
                   concern=SHOW)

    @Slot(object)
    def _on_listed(self, result: object) -> None:
        if not isinstance(result, list):
            return
        keep = self.version_box.currentText()
        self.version_box.blockSignals(True)
        self.version_box.clear()
        self.version_box.addItems([str(x) for x in result])
        i = self.version_box.findText(keep)
        self.version_box.setCurrentIndex(i if i >= 0 else 0 if result else -1)
        self.version_box.blockSignals(False)
        if not result:
            self.view.clear("No model versions yet: train one on the Training page first.")
        elif self.version_box.currentText():
            self.load_version(self.version_box.currentText())
        self._refresh_actions()

    @Slot(object)
    def _on_shown(self, result: object) -> None:
        if not isinstance(result, Shown) or result.label != self.version_box.currentText():
            return
        if result.history:
            self.show_result(result.history[0], result.attestations, result.history, result.label)
        else:
            self.shown = result
            self.history_box.clear()
            self.view.clear()
            self._refresh_actions()

    @Slot(int)
    def _on_version_changed(self, _index: int) -> None:
        label = self.version_box.currentText()
        self.view.clear("Loading…")
        if label:
            self.load_version(label)
        self._refresh_actions()

    @Slot(int)
    def _on_history_changed(self, index: int) -> None:
        if self.shown is None or not 0 <= index < len(self.shown.history):
            return
        self.view.show_result(self.shown.history[index], self.catalogue, self.shown.attestations)
        self._refresh_actions()

    def _refresh_actions(self) -> None:
        has_version = self.engine is not None and bool(self.version_box.currentText())
        self.run_button.setEnabled(has_version and self.writable)
        self.attest_button.setEnabled(has_version and self.writable)
        has_result = self.view.result is not None and self.engine is not None
        self.html_button.setEnabled(has_result and self.writable)
        self.pdf_button.setEnabled(has_result and self.writable)
        self.compare_button.setEnabled(has_result and self.shown is not None and len(self.shown.history) > 1
                                       and self.history_box.currentIndex() > 0)

    # --- actions --------------------------------------------------------------------------

    def run_rubric(self) -> None:
        """Run the rubric for the chosen model version (a stored, audited result)."""
        label = self.current_label()
        if self.engine is None or label is None:
            return
        rubric = self.engine.rubric
        self.note.setText(f"Running the rubric for {label}…")
        self.mutate(lambda ctx: rubric.run(label), f"Running the rubric for {label}",
                    f"The rubric could not be run for {label}.")

    def attest(self, test_id: str, statement: str, files: Sequence[Path], expires_at: str) -> None:
        """Store an attestation of ``test_id`` for the chosen model version."""
        label = self.current_label()
        if self.engine is None or label is None:
            return
        rubric, kept = self.engine.rubric, tuple(files)
        self.mutate(lambda ctx: rubric.attest(label, test_id, statement, kept, expires_at),
                    f"Attesting {test_id} of {label}", f"The attestation of {test_id} could not be stored.")

    def export(self, dest: str | Path, fmt: str) -> None:
        """Write the report of the result on screen as ``fmt`` (``html`` or ``pdf``)."""
        result = self.view.result
        if self.engine is None or result is None:
            return
        rubric, target = self.engine.rubric, Path(dest)
        self.mutate(lambda ctx: rubric.export_report(result.id, target, format=fmt), f"Writing {target.name}",
                    f"The report could not be written to {target}.", concern=EXPORT)

    def compare_with_latest(self) -> None:
        """Compare the result on screen with the newest one of its model version."""
        result = self.view.result
        if self.engine is None or result is None or self.shown is None or not self.shown.history:
            return
        rubric, latest = self.engine.rubric, self.shown.history[0]
        self.query(lambda ctx: rubric.compare(result.id, latest.id), "Comparing rubric results",
                   "The rubric results could not be compared.", concern=COMPARE)

    def show_comparison(self, comparison: RubricComparison) -> RubricCompareDialog:
        """Open the comparison dialog (not modal) for ``comparison``."""
        dialog = RubricCompareDialog(comparison, moment(comparison.a.created_at), moment(comparison.b.created_at),
                                     self)
        self.compare_dialog = dialog
        dialog.show()
        return dialog

    @Slot()
    def _on_run_clicked(self) -> None:
        self.run_rubric()

    @Slot()
    def _on_attest_clicked(self) -> None:
        label = self.current_label()
        if label is None:
            return
        dialog = AttestDialog(self.catalogue, label, self.view.current_test(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            v = dialog.values()
            self.attest(v.test_id, v.statement, v.files, v.expires_at)

    @Slot()
    def _on_compare_clicked(self) -> None:
        self.compare_with_latest()

    @Slot()
    def _on_html_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save HTML report", "rubric.html", "HTML (*.html)")
        if path:
            self.export(path, "html")

    @Slot()
    def _on_pdf_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save PDF report", "rubric.pdf", "PDF (*.pdf)")
        if path:
            self.export(path, "pdf")

    @Slot(str)
    def _on_evidence_clicked(self, ref: str) -> None:
        kind, _, ident = ref.partition(":")
        self.note.setText(f"Evidence {kind.replace('_', ' ')} {ident}: open it on the page that shows {kind}s.")
        self.evidence_requested.emit(ref)

    @Slot(object)
    def _on_changed(self, result: object) -> None:
        if isinstance(result, Outcome):
            value = result.value
            if isinstance(value, RubricResult):
                self.note.setText(f"Rubric run: final score {value.score.final:g} ({value.score.band}).")
            elif isinstance(value, Attestation):
                self.note.setText(f"Attested {value.test_id}; it counts from the next rubric run.")

    @Slot(object)
    def _on_compared(self, result: object) -> None:
        if isinstance(result, RubricComparison):
            self.show_comparison(result)

    @Slot(object)
    def _on_exported(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Path):
            self.note.setText(f"Wrote {result.value}")

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        super().on_task_failed(concern, error)
        if concern == MAIN:
            self.note.setText("")


__all__ = ["RubricPage", "Shown"]
