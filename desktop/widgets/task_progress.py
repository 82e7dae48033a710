"""The status-bar widget showing the current background task: bar, message, Cancel.

The main window hands it every page's :class:`~desktop.tasks.TaskRunner`; it shows the most
recently started task and hides when that task ends. No feature logic.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from desktop.tasks import TaskRunner


class TaskProgressWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner: TaskRunner | None = None
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
        return self._runner

    @Slot(str)
    def _on_runner_started(self, description: str) -> None:
        sender = self.sender()
        self._runner = sender if isinstance(sender, TaskRunner) else None
        self.message.setText(description + "…")
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        self.setVisible(True)

    @Slot(float, str)
    def _on_runner_progressed(self, fraction: float, message: str) -> None:
        if self.sender() is not self._runner:
            return
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.message.setText(message)

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        if not busy and self.sender() is self._runner:
            self._runner = None
            self.setVisible(False)

    @Slot()
    def _on_cancel_clicked(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            self.cancel_button.setEnabled(False)
            self.message.setText("Cancelling…")
