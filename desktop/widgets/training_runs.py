"""The run queue of the Training page and the live view of the running training.

:class:`TrialBoard` turns the training's progress messages (``"trial 3/20 (random_forest),
fold 2/5"``, ``"trial 3/20 (random_forest): 0.9512"``) into one row per trial, so the trial
table fills in while the search runs; the stored search table replaces it when the run ends
(:meth:`RunsWidget.set_final_trials`), because progress messages are throttled and a score may
never have been reported live. :class:`RunsWidget` shows the queue (queued, running and
finished starts of this session), the live panel (bar, message, trials) and the workspace's
stored runs. It emits requests and never calls the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.api import TrainingRun, TrainingSpec, TrialResult
from desktop.pages.workspace import short_time
from desktop.widgets.dataset_profile import table_view
from desktop.widgets.table_model import Column, TableModel

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
_TRIAL = re.compile(r"trial (\d+)/(\d+) \(([\w.]+)\)(?:, fold (\d+)/(\d+)|: (\S+))")


@dataclass(frozen=True, slots=True)
class QueuedRun:
    """One start of a spec in this session: what runs, under which model name, and how it stands."""

    number: int
    spec: TrainingSpec
    model: str | None
    status: str = QUEUED
    detail: str = ""
    allow_data_export: bool = False  # the user confirmed sending the data to a Dask cluster


@dataclass(frozen=True, slots=True)
class LiveTrial:
    """A trial as the progress messages describe it (``score`` None until reported)."""

    number: int
    total: int
    algorithm: str
    fold: int = 0
    folds: int = 0
    score: float | None = None
    done: bool = False
    error: str | None = None

    @property
    def state(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        if self.done:
            return "done" if self.score is not None else "done (its score shows when the run ends)"
        return f"fold {self.fold}/{self.folds}" if self.folds else "running"


class TrialBoard:
    """Trials read off progress messages; a newer trial starting means the older ones ended."""

    def __init__(self) -> None:
        self.trials: dict[int, LiveTrial] = {}

    def feed(self, message: str) -> bool:
        """Read one progress message; True when the trials changed."""
        found = _TRIAL.search(message)
        if found is None:
            return False
        number, total, algorithm = int(found[1]), int(found[2]), found[3]
        old = self.trials.get(number, LiveTrial(number, total, algorithm))
        if found[6] is not None:
            try:
                score: float | None = float(found[6])
            except ValueError:
                score = None
            new = replace(old, score=score, done=True, fold=old.folds)
        else:
            new = replace(old, fold=int(found[4]), folds=int(found[5]))
        for n, t in list(self.trials.items()):
            if n < number and not t.done:
                self.trials[n] = replace(t, done=True)
        changed = self.trials.get(number) != new
        self.trials[number] = new
        return changed

    def rows(self) -> list[LiveTrial]:
        return [self.trials[n] for n in sorted(self.trials)]


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def from_result(t: TrialResult, folds: int) -> LiveTrial:
    """A stored trial as a row of the same table."""
    return LiveTrial(t.number, 0, str(t.algorithm), folds, folds, t.score, True, t.error)


QUEUE_COLUMNS = (
    Column("#", lambda q: q.number, align_right=True),
    Column("Model", lambda q: q.model or f"{q.spec.dataset_name}-{q.spec.target}"),
    Column("Dataset", lambda q: q.spec.dataset),
    Column("Target", lambda q: q.spec.target),
    Column("Algorithms", lambda q: ", ".join(q.spec.algorithms)),
    Column("Budget", lambda q: f"{q.spec.search.trials} trials" + (f", {q.spec.search.minutes:g} min"
                                                                       if q.spec.search.minutes else "")),
    Column("Status", lambda q: q.status),
    Column("Result", lambda q: q.detail, tooltip=lambda q: q.detail),
)
TRIAL_COLUMNS = (
    Column("Trial", lambda t: t.number, align_right=True),
    Column("Algorithm", lambda t: t.algorithm),
    Column("State", lambda t: t.state, tooltip=lambda t: t.error or ""),
    Column("CV score", lambda t: t.score, fmt=_score, align_right=True),
)
HISTORY_COLUMNS = (
    Column("Started", lambda r: r.started_at, fmt=short_time, tooltip=lambda r: r.started_at),
    Column("Model", lambda r: r.model or ""),
    Column("Status", lambda r: str(r.status)),
    Column("Trials", lambda r: r.trials, align_right=True),
    Column("Model version", lambda r: r.model_version or "", fmt=lambda v: v[:12]),
    Column("Error", lambda r: r.error or "", tooltip=lambda r: r.error or ""),
    Column("Run", lambda r: r.id[:12], tooltip=lambda r: r.id),
)


class RunsWidget(QWidget):
    """The queue, the live panel of the running start, and the stored runs."""

    cancel_requested = Signal()
    """The user asked to stop the running training; no payload."""

    clear_queue_requested = Signal()
    """The user asked to drop every start still waiting; no payload."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.board = TrialBoard()
        self.queue_model = TableModel(QUEUE_COLUMNS, self)
        self.queue_table, _ = table_view(self.queue_model, self)
        self.cancel_button = QPushButton("Cancel the running training")
        self.cancel_button.setToolTip("Stops the training process at once; nothing of this run is stored")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.clear_button = QPushButton("Remove waiting starts")
        self.clear_button.setToolTip("Drop the starts that have not begun yet")
        self.clear_button.setEnabled(False)
        self.clear_button.clicked.connect(self._on_clear_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Starts run one after another, in this order."))
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.cancel_button)
        queue_group = QGroupBox("Queue")
        queue_box = QVBoxLayout(queue_group)
        queue_box.addWidget(self.queue_table)
        queue_box.addLayout(buttons)

        self.headline = QLabel("Nothing is running. Start a run from the Spec tab.")
        self.headline.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #555;")
        self.trial_model = TableModel(TRIAL_COLUMNS, self)
        self.trial_table, _ = table_view(self.trial_model, self)
        live_group = QGroupBox("Live: the running (or last) training")
        live_box = QVBoxLayout(live_group)
        live_box.addWidget(self.headline)
        live_box.addWidget(self.bar)
        live_box.addWidget(self.message)
        live_box.addWidget(self.trial_table, 1)

        self.history_model = TableModel(HISTORY_COLUMNS, self)
        self.history_table, _ = table_view(self.history_model, self)
        history_group = QGroupBox("Stored runs of this workspace (cancelled and failed ones store no model)")
        history_box = QVBoxLayout(history_group)
        history_box.addWidget(self.history_table)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(queue_group)
        split.addWidget(live_group)
        split.addWidget(history_group)
        split.setSizes([170, 330, 170])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    # --- queue ---------------------------------------------------------------------------

    def set_queue(self, entries: list[QueuedRun]) -> None:
        self.queue_model.set_rows(entries)
        running = any(e.status == RUNNING for e in entries)
        self.cancel_button.setEnabled(running)
        self.clear_button.setEnabled(any(e.status == QUEUED for e in entries))

    def set_history(self, runs: list[TrainingRun]) -> None:
        self.history_model.set_rows(sorted(runs, key=lambda r: r.started_at, reverse=True))

    # --- live ----------------------------------------------------------------------------

    def started(self, entry: QueuedRun) -> None:
        """``entry`` began: a fresh bar and trial table."""
        self.board = TrialBoard()
        self.trial_model.set_rows([])
        self.bar.setValue(0)
        self.headline.setStyleSheet("")
        self.headline.setText(f"<b>Run #{entry.number}</b>: {entry.spec.target} from {entry.spec.dataset}, "
                              f"{', '.join(entry.spec.algorithms)}, {entry.spec.split.cv_folds}-fold CV, "
                              f"{entry.spec.search.trials} trials per algorithm")
        self.message.setText("Starting the training process…")

    def progress(self, fraction: float, message: str) -> None:
        """A progress report of the running training."""
        self.bar.setValue(int(fraction * 1000))
        if message:
            self.message.setText(message)
        if self.board.feed(message):
            self.trial_model.set_rows(self.board.rows())

    def ended(self, entry: QueuedRun, style: str) -> None:
        """``entry`` ended (its status and detail say how)."""
        if entry.status == SUCCEEDED:
            self.bar.setValue(1000)
        self.headline.setStyleSheet(style)
        self.headline.setText(f"Run #{entry.number} {entry.status}: {entry.detail}")
        self.message.setText("")

    def set_final_trials(self, trials: tuple[TrialResult, ...], folds: int) -> None:
        """The stored search table of the finished run (every score, including unreported ones)."""
        self.trial_model.set_rows([from_result(t, folds) for t in trials])

    def live_trials(self) -> list[LiveTrial]:
        return self.trial_model.rows()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.message.setText("Cancelling: stopping the training process…")
        self.cancel_requested.emit()

    @Slot()
    def _on_clear_clicked(self) -> None:
        self.clear_queue_requested.emit()
