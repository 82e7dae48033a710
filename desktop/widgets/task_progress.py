"""The status-bar widget showing background tasks: one line per running task, each with its bar and Cancel.

The main window hands it every runner of every page (a page may have several, one per
concern). Every runner whose task is running gets its own line, oldest at the top: what the
task is (its description, then its latest progress message), a bar, and a Cancel button that
stops that task and only that one (its tooltip names it). A line goes when its task ends; the
widget hides when no task runs. No feature logic.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.tasks import TaskRunner

#: Width of the task text; longer text is cut (the tooltip has all of it).
TEXT_WIDTH = 360


def _cut(text: str, width: int, label: QLabel) -> str:
    return label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width)


class TaskLine(QWidget):
    """One running task: its text, bar and Cancel."""

    def __init__(self, runner: TaskRunner, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.description = description
        self.message = QLabel()
        self.message.setFixedWidth(TEXT_WIDTH)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.restart(description)

    @property
    def text(self) -> str:
        """The whole text of the line (the label may show it cut)."""
        return self.message.toolTip()

    def restart(self, description: str) -> None:
        """A new task of the same runner took this line's place."""
        self.description = description
        self.bar.setRange(0, 0)  # busy, until the task says how far it is (some never do)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setToolTip(f"Stop “{description}”; nothing half-done is kept")
        self._say(description + "…")

    def progress(self, fraction: float, message: str) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(fraction * 1000))
        if message and self.cancel_button.isEnabled():
            self._say(message if message.startswith(self.description) else f"{self.description}: {message}")

    def _say(self, text: str) -> None:
        self.message.setToolTip(text)
        self.message.setText(_cut(text, TEXT_WIDTH, self.message))

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.runner.cancel()
        self.cancel_button.setEnabled(False)
        self._say(f"Cancelling {self.description[:1].lower()}{self.description[1:]}…")


class TaskProgressWidget(QWidget):
    """Every running task of the runners it tracks, one :class:`TaskLine` each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[TaskLine] = []  # oldest first
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.setVisible(False)

    def track(self, runner: TaskRunner) -> None:
        """Show ``runner``'s tasks here from now on."""
        runner.started.connect(self._on_runner_started)
        runner.progressed.connect(self._on_runner_progressed)
        runner.busy_changed.connect(self._on_runner_busy_changed)

    def lines(self) -> list[TaskLine]:
        """The lines on show, oldest task first."""
        return list(self._lines)

    def line_of(self, runner: object) -> TaskLine | None:
        """The line of ``runner``'s running task, or None."""
        return next((line for line in self._lines if line.runner is runner), None)

    @property
    def runner(self) -> TaskRunner | None:
        """The runner whose task started last (of those still running)."""
        return self._lines[-1].runner if self._lines else None

    @property
    def message(self) -> QLabel:
        """The text of the newest line (there must be one)."""
        return self._newest().message

    @property
    def cancel_button(self) -> QPushButton:
        """The Cancel of the newest line (there must be one)."""
        return self._newest().cancel_button

    def _newest(self) -> TaskLine:
        if not self._lines:
            raise LookupError("No task is running.")
        return self._lines[-1]

    @Slot(str)
    def _on_runner_started(self, description: str) -> None:
        sender = self.sender()
        if not isinstance(sender, TaskRunner):
            return
        line = self.line_of(sender)
        if line is not None:  # a new task superseded the runner's last one: same line, new task
            line.restart(description)
            return
        line = TaskLine(sender, description, self)
        self._lines.append(line)
        self._layout.addWidget(line)
        line.show()  # now, not after the next event loop turn (Qt's default for a late child)
        self.setVisible(True)

    @Slot(float, str)
    def _on_runner_progressed(self, fraction: float, message: str) -> None:
        line = self.line_of(self.sender())
        if line is not None:
            line.progress(fraction, message)

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        if busy:
            return
        line = self.line_of(self.sender())
        if line is not None:
            self._lines.remove(line)
            self._layout.removeWidget(line)
            line.setParent(None)
            line.deleteLater()
            self.setVisible(bool(self._lines))
