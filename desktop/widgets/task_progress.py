"""The status-bar widget showing a background task: bar, message, Cancel.

The main window hands it every runner of every page (a page may have several, one per
concern). It shows the most recently started task that is still running; when that one
ends it falls back to the next still running, and hides when none is. Cancel stops the
task shown, and only that one. No feature logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop.tasks import TaskRunner


@dataclass(slots=True)
class _Shown:
    """The last word of one running runner."""

    runner: TaskRunner
    fraction: float
    message: str


class TaskProgressWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._running: list[_Shown] = []  # oldest first; the last one is on show
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.message = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the task; nothing half-done is kept")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setVisible(False)

    def track(self, runner: TaskRunner) -> None:
        """Show ``runner``'s tasks here from now on."""
        runner.started.connect(self._on_runner_started)
        runner.progressed.connect(self._on_runner_progressed)
        runner.busy_changed.connect(self._on_runner_busy_changed)

    @property
    def runner(self) -> TaskRunner | None:
        """The runner whose task is on show."""
        return self._running[-1].runner if self._running else None

    def _entry(self, runner: object) -> _Shown | None:
        return next((e for e in self._running if e.runner is runner), None)

    def _show_last(self) -> None:
        if not self._running:
            self.setVisible(False)
            return
        last = self._running[-1]
        self.message.setText(last.message)
        self.bar.setValue(int(last.fraction * 1000))
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    @Slot(str)
    def _on_runner_started(self, description: str) -> None:
        sender = self.sender()
        if not isinstance(sender, TaskRunner):
            return
        self._running = [e for e in self._running if e.runner is not sender]
        self._running.append(_Shown(sender, 0.0, description + "…"))
        self._show_last()

    @Slot(float, str)
    def _on_runner_progressed(self, fraction: float, message: str) -> None:
        entry = self._entry(self.sender())
        if entry is None:
            return
        entry.fraction = fraction
        if message:
            entry.message = message
        if entry is self._running[-1]:
            self.bar.setValue(int(fraction * 1000))
            if message:
                self.message.setText(message)

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        if busy:
            return
        entry = self._entry(self.sender())
        if entry is not None:
            self._running.remove(entry)
            self._show_last()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        if self._running:
            self._running[-1].runner.cancel()
            self.cancel_button.setEnabled(False)
            self.message.setText("Cancelling…")
