"""The panel where one question is answered: a level per descriptor, a note, or a skip.

It shows the workspace's evidence suggestion beside the question but never applies it: the
assessor picks the level. It emits what the user asked for; the page saves it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.assessment.models import Answer, EvidenceSuggestion, MaturityModel, Question


class QuestionPanel(QWidget):
    """Answer, note and skip controls for the selected question."""

    answer_requested = Signal(str, int, str)
    """Save an answer; payload: question id, level, note."""

    skip_requested = Signal(str, str)
    """Skip a question; payload: question id, reason."""

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
        layout.addStretch(1)
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
        elif answer.skipped:
            self.status.setText(f"Skipped: {answer.skip_reason}")
        else:
            files = ", ".join(e.filename for e in answer.evidence)
            self.status.setText(f"Answered {answer.level}." + (f" Evidence: {files}" if files else ""))

    def set_editable(self, editable: bool) -> None:
        for w in (self.save_button, self.skip_button, self.note, self.skip_reason):
            w.setEnabled(editable and self.question is not None)

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
