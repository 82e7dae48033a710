"""The panel where one question is answered: a level per descriptor, a note, or a skip.

It shows the workspace's evidence suggestion beside the question but never applies it: the
assessor picks the level. It lists the files attached as evidence and asks which file to
attach or where to save a copy, then emits what the user asked for: the page does the work
(through its task runner). This widget never calls the engine.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.api import Answer, EvidenceRef, EvidenceSuggestion, MaturityModel, Question


def file_size(n: int) -> str:
    """A byte count as people read it: ``512 bytes``, ``12.3 KB``, ``4.0 MB``."""
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


class QuestionPanel(QWidget):
    """Answer, note and skip controls for the selected question."""

    answer_requested = Signal(str, int, str)
    """Save an answer; payload: question id, level, note."""

    skip_requested = Signal(str, str)
    """Skip a question; payload: question id, reason."""

    evidence_attach_requested = Signal(str, str)
    """Attach a file as evidence; payload: question id, path of the chosen file."""

    evidence_save_requested = Signal(str, str)
    """Save a copy of an attachment; payload: its sha256 digest, destination path."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question: Question | None = None
        layout = QVBoxLayout(self)
        self.text = QLabel("Select a question on the left.")
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-weight: bold; font-size: 11pt;")
        layout.addWidget(self.text)
        self.suggestion = QLabel()
        self.suggestion.setWordWrap(True)
        self.suggestion.setStyleSheet(
            "background: #fff8e1; border: 1px solid #e0c060; padding: 6px; color: #5d4200;")
        self.suggestion.hide()
        layout.addWidget(self.suggestion)
        self.levels_box = QVBoxLayout()
        layout.addLayout(self.levels_box)
        self.group = QButtonGroup(self)
        self.buttons: list[QRadioButton] = []
        layout.addWidget(QLabel("Note (what you saw, who confirmed it):"))
        self.note = QPlainTextEdit()
        self.note.setMaximumHeight(70)
        layout.addWidget(self.note)
        row = QHBoxLayout()
        self.save_button = QPushButton("Save answer")
        self.save_button.clicked.connect(self._on_save_clicked)
        row.addWidget(self.save_button)
        self.skip_reason = QLineEdit()
        self.skip_reason.setPlaceholderText("reason to skip")
        row.addWidget(self.skip_reason, 1)
        self.skip_button = QPushButton("Skip")
        self.skip_button.clicked.connect(self._on_skip_clicked)
        row.addWidget(self.skip_button)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("<b>Evidence</b> (kept encrypted in the workspace):"))
        self.evidence = QTreeWidget()
        self.evidence.setHeaderLabels(["File", "Size"])
        self.evidence.setRootIsDecorated(False)
        self.evidence.setMaximumHeight(110)
        header = self.evidence.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.evidence.currentItemChanged.connect(self._on_evidence_current_changed)
        layout.addWidget(self.evidence)
        files_row = QHBoxLayout()
        self.attach_button = QPushButton("Attach evidence…")
        self.attach_button.clicked.connect(self._on_attach_clicked)
        files_row.addWidget(self.attach_button)
        self.save_copy_button = QPushButton("Save a copy…")
        self.save_copy_button.clicked.connect(self._on_save_copy_clicked)
        files_row.addWidget(self.save_copy_button)
        files_row.addStretch(1)
        layout.addLayout(files_row)
        layout.addStretch(1)
        self._editable = False
        self.set_editable(False)

    def show_question(
        self, model: MaturityModel, question: Question, answer: Answer | None,
        suggestion: EvidenceSuggestion | None,
    ) -> None:
        self.question = question
        self.text.setText(question.text)
        for b in self.buttons:
            self.group.removeButton(b)
            self.levels_box.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.buttons = []
        for lv in model.levels:
            b = QRadioButton(f"{lv.number} — {question.descriptors[lv.number]}")
            b.setToolTip(f"{lv.name}: {lv.summary}")
            self.group.addButton(b, lv.number)
            self.levels_box.addWidget(b)
            self.buttons.append(b)
        if answer is not None and answer.level is not None:
            self.group.button(answer.level).setChecked(True)
        self.note.setPlainText(answer.note if answer else "")
        self.skip_reason.setText(answer.skip_reason or "" if answer else "")
        if suggestion is not None:
            tip = f"From this workspace: {suggestion.summary}"
            if suggestion.suggested_level is not None:
                tip += f" (suggests level {suggestion.suggested_level}; your answer decides)"
            self.suggestion.setText(tip)
            self.suggestion.show()
        else:
            self.suggestion.hide()
        if answer is None:
            self.status.setText("Not answered yet.")
        elif answer.pending:
            self.status.setText("No level yet: evidence is attached, but the question still needs an answer.")
        elif answer.skipped:
            self.status.setText(f"Skipped: {answer.skip_reason}")
        else:
            self.status.setText(f"Answered {answer.level}.")
        self._fill_evidence(answer.evidence if answer else ())

    def _fill_evidence(self, refs: tuple[EvidenceRef, ...]) -> None:
        self.evidence.clear()
        for ref in refs:
            item = QTreeWidgetItem([ref.filename, file_size(ref.size)])
            item.setData(0, Qt.ItemDataRole.UserRole, ref)
            item.setToolTip(0, f"{ref.filename} · {ref.media_type} · sha256 {ref.digest[:16]}…")
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.evidence.addTopLevelItem(item)
        if not refs:
            placeholder = QTreeWidgetItem(["No files attached.", ""])
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.evidence.addTopLevelItem(placeholder)
        self._update_evidence_buttons()

    def attachments(self) -> list[EvidenceRef]:
        """The attachments listed for the shown question."""
        out = []
        for i in range(self.evidence.topLevelItemCount()):
            item = self.evidence.topLevelItem(i)
            ref = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
            if isinstance(ref, EvidenceRef):
                out.append(ref)
        return out

    def set_editable(self, editable: bool) -> None:
        self._editable = editable
        for w in (self.save_button, self.skip_button, self.note, self.skip_reason):
            w.setEnabled(editable and self.question is not None)
        self._update_evidence_buttons()

    def _update_evidence_buttons(self) -> None:
        self.attach_button.setEnabled(self._editable and self.question is not None)
        self.save_copy_button.setEnabled(self._selected_ref() is not None)

    def _selected_ref(self) -> EvidenceRef | None:
        item = self.evidence.currentItem()
        ref = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return ref if isinstance(ref, EvidenceRef) else None

    def choose(self, level: int) -> None:
        self.group.button(level).setChecked(True)

    @Slot()
    def _on_save_clicked(self) -> None:
        if self.question is None:
            return
        level = self.group.checkedId()
        if level < 0:
            self.status.setText("Pick a level first.")
            return
        self.answer_requested.emit(self.question.id, level, self.note.toPlainText())

    @Slot()
    def _on_skip_clicked(self) -> None:
        if self.question is None:
            return
        reason = self.skip_reason.text().strip()
        if not reason:
            self.status.setText("Say why the question is skipped.")
            return
        self.skip_requested.emit(self.question.id, reason)

    @Slot()
    def _on_attach_clicked(self) -> None:
        if self.question is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Attach evidence", "", "All files (*)")
        if path:
            self.evidence_attach_requested.emit(self.question.id, path)

    @Slot()
    def _on_save_copy_clicked(self) -> None:
        ref = self._selected_ref()
        if ref is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save a copy of the evidence", ref.filename)
        if path:
            self.evidence_save_requested.emit(ref.digest, path)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_evidence_current_changed(self, _item: QTreeWidgetItem | None, _old: QTreeWidgetItem | None) -> None:
        self._update_evidence_buttons()
