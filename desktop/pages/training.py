"""Training: build a spec from a dataset's profile, queue and watch runs, inspect and compare models.

Everything goes through ``engine.training`` (and ``engine.datasets`` for the versions and their
profiles), each call on its own concern's runner so nothing waits on anything else:

- ``list`` (query): dataset versions with their columns, stored runs, every model version;
- ``profile`` (query) then ``profile-save`` (mutation) keep the chosen target's profile, so
  building and re-validating the spec never profiles the snapshot again; ``spec`` (query) is
  ``init_spec``; ``validate`` (query) runs a moment after each edit, newest edit wins;
- ``train`` (mutation): one start at a time; queued starts follow one another, progress
  feeds the live trial table, Cancel ends the child process;
- ``model`` and ``compare`` (queries): a version's evidence and plots, and two side by side.

The tab widgets (``desktop/widgets/training_*.py``) only show values and emit requests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.api import (
    AirlockError,
    Change,
    Evidence,
    EvidenceKind,
    InvalidSpec,
    ModelComparison,
    ModelVersion,
    Outcome,
    Profile,
    SearchTable,
    SpecProblem,
    TaskContext,
    TrainingRun,
    TrainingSpec,
    dump_spec,
    gpu_available,
    load_spec,
)
from desktop.bus import EventBus
from desktop.pages.base import BAD_STYLE, MUTED_STYLE, NOTE_STYLE, OK_STYLE, Page
from desktop.pages.workspace import short_time
from desktop.widgets.dataset_profile import table_view
from desktop.widgets.messages import error_text
from desktop.widgets.table_model import Column, TableModel
from desktop.widgets.training_compare import CompareView, Side
from desktop.widgets.training_model import ModelView, num
from desktop.widgets.training_runs import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, QueuedRun, RunsWidget
from desktop.widgets.training_spec import SpecForm

if TYPE_CHECKING:
    from core.api import Engine

LIST, PROFILE, PROFILE_SAVE, SPEC, VALIDATE, TRAIN, TRIALS, MODEL, COMPARE = (
    "list", "profile", "profile-save", "spec", "validate", "train", "trials", "model", "compare")
TAB_SPEC, TAB_RUNS, TAB_MODELS, TAB_COMPARE = range(4)
#: Quiet time after an edit before the spec is checked (typing a number is one edit, not five).
VALIDATE_DELAY_MS = 250


@dataclass(frozen=True, slots=True)
class Listing:
    """What the page lists: dataset versions (newest first) with their columns, runs, model versions."""

    versions: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    runs: tuple[TrainingRun, ...]
    models: tuple[ModelVersion, ...]


@dataclass(frozen=True, slots=True)
class Shown:
    """One model version with its evidence and plots."""

    version: ModelVersion
    evidence: Evidence
    plots: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Compared:
    a: Side
    b: Side
    comparison: ModelComparison


MODEL_COLUMNS = (
    Column("Model version", lambda v: v.label),
    Column("Algorithm", lambda v: str(v.algorithm)),
    Column("Metric", lambda v: v.metric),
    Column("Holdout", lambda v: v.holdout.value, fmt=lambda x: num(x), align_right=True),
    Column("Dataset", lambda v: v.dataset),
    Column("Device", lambda v: str(v.device)),
    Column("Trained", lambda v: v.created_at, fmt=short_time, tooltip=lambda v: f"{v.created_at} by {v.created_by}"),
)


class TrainingPage(Page):
    name = "training"
    title = "Training"
    watches = frozenset({Change.DATASETS, Change.TRAINING, Change.MODELS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.listing = Listing((), (), ())
        self.queue: list[QueuedRun] = []
        self.problems: list[SpecProblem] | None = None
        self._validated: TrainingSpec | None = None
        self._build: tuple[str, str] | None = None  # (version label, target) being built
        self._numbers = 0

        self.intro = self.add_label("Pick a dataset version and the column to predict: the profile proposes the task, "
                            "the metric and the features (and says why it leaves columns out). Adjust, then start.", MUTED_STYLE)
        self.tabs = QTabWidget()
        self.form = SpecForm()
        self.form.build_requested.connect(self._on_form_build_requested)
        self.form.edited.connect(self._on_form_edited)
        self.load_button = QPushButton("Load spec…")
        self.load_button.setToolTip("Read a spec from a TOML file (airlock train init writes one)")
        self.load_button.clicked.connect(self._on_load_clicked)
        self.save_button = QPushButton("Save spec…")
        self.save_button.setToolTip("Write the spec as a TOML file, to run it with airlock train run or keep it")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.model_name = QLineEdit()
        self.model_name.setPlaceholderText("model name (default: dataset-target)")
        self.model_name.setMaximumWidth(260)
        self.start_button = QPushButton("Start run")
        self.start_button.setToolTip("Check the spec first: it starts once it has no problems")
        self.start_button.clicked.connect(self._on_start_clicked)
        self.spec_status = QLabel()
        self.spec_status.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.load_button)
        actions.addWidget(self.save_button)
        actions.addStretch(1)
        actions.addWidget(QLabel("Model:"))
        actions.addWidget(self.model_name)
        actions.addWidget(self.start_button)
        spec_tab = QWidget()
        spec_box = QVBoxLayout(spec_tab)
        spec_box.addWidget(self.form, 1)
        spec_box.addWidget(self.spec_status)
        spec_box.addLayout(actions)
        self.tabs.addTab(spec_tab, "Spec")
        self.runs_widget = RunsWidget()
        self.runs_widget.cancel_requested.connect(self._on_runs_cancel_requested)
        self.runs_widget.clear_queue_requested.connect(self._on_runs_clear_queue_requested)
        self.tabs.addTab(self.runs_widget, "Runs")
        self.model_table_model = TableModel(MODEL_COLUMNS, self)
        self.model_table, self.model_proxy = table_view(self.model_table_model, self)
        self.model_table.selectionModel().selectionChanged.connect(self._on_model_table_selection_changed)
        self.model_view = ModelView()
        models_split = QSplitter(Qt.Orientation.Vertical)
        models_split.addWidget(self.model_table)
        models_split.addWidget(self.model_view)
        models_split.setSizes([150, 450])
        self.tabs.addTab(models_split, "Models")
        self.compare_view = CompareView()
        self.compare_view.compare_requested.connect(self._on_compare_requested)
        self.tabs.addTab(self.compare_view, "Compare")
        self.layout_.addWidget(self.tabs, 1)

        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self._on_validate_timer_timeout)
        self.runner(LIST).finished.connect(self._on_listed)
        self.runner(PROFILE).finished.connect(self._on_profiled)
        self.runner(PROFILE_SAVE).finished.connect(self._on_profile_saved)
        self.runner(SPEC).finished.connect(self._on_spec_built)
        self.runner(VALIDATE).finished.connect(self._on_validated)
        train = self.runner(TRAIN)
        train.progressed.connect(self._on_train_progressed)
        train.finished.connect(self._on_trained)
        train.cancelled.connect(self._on_train_cancelled)
        self.runner(TRIALS).finished.connect(self._on_final_trials)
        self.runner(MODEL).finished.connect(self._on_model_shown)
        self.runner(COMPARE).finished.connect(self._on_compared)
        self._refresh_actions()

    # --- loading ---------------------------------------------------------------------------

    def set_engine(self, engine: Engine | None) -> None:
        self.queue = [q for q in self.queue if q.status not in (QUEUED, RUNNING)]
        self.listing, self.problems, self._validated = Listing((), (), ()), None, None
        self.form.set_spec(None)
        self.form.set_gpu(gpu_available())
        self.model_view.set_message("Choose a model version to see how it was made and how good it is.")
        super().set_engine(engine)
        self._refresh_actions()

    def reload(self) -> None:
        if self.engine is None:
            return
        datasets, training = self.engine.datasets, self.engine.training

        def listing(ctx: TaskContext) -> Listing:
            versions = [(v.label, tuple((c.name, c.type) for c in v.columns))
                        for d in datasets.list() for v in reversed(datasets.versions(d.name))]
            models = [v for latest in training.models() for v in reversed(training.versions(latest.model))]
            return Listing(tuple(versions), tuple(training.runs()), tuple(models))

        self.query(listing, "Listing datasets and models", "The training page could not be loaded.", concern=LIST)

    def columns_of(self, label: str) -> list[tuple[str, str]]:
        return list(next((cols for lab, cols in self.listing.versions if lab == label), ()))

    @Slot(object)
    def _on_listed(self, result: object) -> None:
        if not isinstance(result, Listing):
            return
        self.listing = result
        labels = [label for label, _ in result.versions]
        spec = self.form.spec()
        current = spec.dataset if spec else (self.form.version_box.currentText() or None)
        self.form.set_versions(labels, current)
        if spec is None:
            self.form.set_columns(self.columns_of(self.form.version_box.currentText()))
            self.form.setEnabled(bool(labels))
            self.form.show_problems(None)
            if not labels:
                self.form.summary.setText("No datasets yet: import one on the Datasets page first.")
        self.runs_widget.set_history(list(result.runs))
        self.model_table_model.set_rows(list(result.models))
        self.compare_view.set_versions([v.label for v in result.models])

    # --- building and checking the spec ----------------------------------------------------

    def build(self, label: str, target: str) -> None:
        """Start a spec predicting ``target`` from version ``label``: keep its profile, then ``init_spec``."""
        if self.engine is None:
            return
        datasets = self.engine.datasets
        self._build = (label, target)
        self.problems, self._validated = None, None  # the form is rebuilt: nothing can start meanwhile
        self._refresh_actions()
        self.form.summary.setStyleSheet(MUTED_STYLE)
        self.form.summary.setText(f"Reading the profile of {label} for target {target}…")

        def profile(ctx: TaskContext) -> tuple[Profile, bool]:
            if target in datasets.profile_targets(label):
                return datasets.profile(label, target=target, ctx=ctx), True
            return datasets.profile(label, target=target, refresh=True, ctx=ctx), False

        self.query(profile, f"Profiling {label} for {target}", f"{label} could not be profiled.", concern=PROFILE)

    @Slot(object)
    def _on_profiled(self, result: object) -> None:
        if not isinstance(result, tuple) or self.engine is None:
            return
        found, kept = result
        if kept or not self.writable:
            self._init_spec()
            return
        service = self.engine.datasets

        def save(ctx: TaskContext) -> Outcome[Profile]:
            return service.save_profile(found)

        self.mutate(save, "Keeping the profile", "The profile was not kept.", concern=PROFILE_SAVE)

    @Slot(object)
    def _on_profile_saved(self, result: object) -> None:
        self._init_spec()

    def _init_spec(self) -> None:
        if self.engine is None or self._build is None:
            return
        training, (label, target) = self.engine.training, self._build

        def init(ctx: TaskContext) -> TrainingSpec:
            return training.init_spec(label, target, ctx=ctx)

        self.query(init, f"Building a spec for {target}", "No spec could be built.", concern=SPEC)

    @Slot(object)
    def _on_spec_built(self, result: object) -> None:
        if isinstance(result, TrainingSpec):
            self.show_spec(result)

    def show_spec(self, spec: TrainingSpec) -> None:
        """Fill the form with ``spec`` and check it."""
        self.form.set_columns(self.columns_of(spec.dataset), spec.target)
        self.form.set_spec(spec)
        if not self.model_name.text():
            self.model_name.setPlaceholderText(f"model name (default: {spec.dataset_name}-{spec.target})")
        self.validate_now()

    def validate_now(self) -> None:
        """Check the form's spec in the background (``engine.training.validate``)."""
        spec = self.form.spec()
        if self.engine is None or spec is None:
            return
        self._validate_timer.stop()
        self.problems, self._validated = None, None
        self.form.show_problems(None)
        self._refresh_actions()
        training = self.engine.training

        def check(ctx: TaskContext) -> tuple[TrainingSpec, list[SpecProblem]]:
            return spec, training.validate(spec, ctx=ctx)

        self.query(check, "Checking the spec", "The spec could not be checked.", concern=VALIDATE)

    @Slot(object)
    def _on_validated(self, result: object) -> None:
        if not isinstance(result, tuple):
            return
        spec, problems = result
        if spec != self.form.spec():  # edited since: a newer check is on its way
            return
        self.problems, self._validated = list(problems), spec
        self.form.show_problems(self.problems)
        self._refresh_actions()

    def _refresh_actions(self) -> None:
        has_spec = self.form.spec() is not None
        ready = self._validated is not None and self.problems == [] and self.writable
        self.save_button.setEnabled(has_spec)
        self.load_button.setEnabled(self.engine is not None)
        self.start_button.setEnabled(ready)
        if not self.writable and self.engine is not None:
            self.start_button.setToolTip("The workspace is open read-only: runs cannot be stored")
        waiting = sum(q.status == QUEUED for q in self.queue)
        busy = self.runner(TRAIN).busy
        self.start_button.setText("Add to the queue" if busy else "Start run")
        self.spec_status.setStyleSheet(NOTE_STYLE)
        self.spec_status.setText(f"A training is running{f' and {waiting} waiting' if waiting else ''}: "
                                 "see the Runs tab." if busy else "")

    # --- queue and runs --------------------------------------------------------------------

    def enqueue(self, spec: TrainingSpec, model: str | None, *, allow_data_export: bool = False) -> QueuedRun:
        """Add a start of ``spec`` to the queue; it begins when the runs before it ended.

        ``allow_data_export`` is the user's confirmation that a Dask spec may send the data to
        the cluster's workers (the engine refuses a Dask run without it).
        """
        self._numbers += 1
        entry = QueuedRun(self._numbers, spec, model, allow_data_export=allow_data_export)
        self.queue.append(entry)
        self._start_next()
        self.runs_widget.set_queue(self.queue)
        self._refresh_actions()
        return entry

    def _set(self, entry: QueuedRun, **changes: str) -> QueuedRun:
        new = replace(entry, **changes)  # type: ignore[arg-type]
        self.queue = [new if q.number == entry.number else q for q in self.queue]
        self.runs_widget.set_queue(self.queue)
        return new

    def running(self) -> QueuedRun | None:
        return next((q for q in self.queue if q.status == RUNNING), None)

    def _start_next(self) -> None:
        if self.engine is None or self.runner(TRAIN).busy:
            return
        entry = next((q for q in self.queue if q.status == QUEUED), None)
        if entry is None:
            return
        entry = self._set(entry, status=RUNNING)
        self.runs_widget.started(entry)
        training, spec, model, export = self.engine.training, entry.spec, entry.model, entry.allow_data_export

        def run(ctx: TaskContext) -> Outcome[ModelVersion]:
            return training.run(spec, model=model, allow_data_export=export, ctx=ctx)

        self.mutate(run, f"Training run #{entry.number} ({spec.target} from {spec.dataset})",
                    "The training failed.", concern=TRAIN)

    def _ended(self, status: str, detail: str, style: str) -> None:
        entry = self.running()
        if entry is not None:
            entry = self._set(entry, status=status, detail=detail)
            self.runs_widget.ended(entry, style)
        self.reload()  # a cancelled or failed run stored its row without publishing a change
        self._start_next()
        self._refresh_actions()

    @Slot(float, str)
    def _on_train_progressed(self, fraction: float, message: str) -> None:
        self.runs_widget.progress(fraction, message)

    @Slot(object)
    def _on_trained(self, result: object) -> None:
        if not isinstance(result, Outcome) or not isinstance(result.value, ModelVersion):
            return
        version = result.value
        entry = self.running()
        folds = entry.spec.split.cv_folds if entry else 0
        self._ended(SUCCEEDED, f"stored {version.label}: holdout {version.metric} {num(version.holdout.value)}", OK_STYLE)
        if self.engine is not None:
            training = self.engine.training

            def trials(ctx: TaskContext) -> tuple[int, Evidence]:
                return folds, training.evidence(version.label)

            self.query(trials, f"Reading the trials of {version.label}", "The trials could not be read.", concern=TRIALS)

    @Slot(object)
    def _on_final_trials(self, result: object) -> None:
        if isinstance(result, tuple):
            folds, evidence = result
            table = evidence.item(EvidenceKind.SEARCH)
            if isinstance(table, SearchTable):
                self.runs_widget.set_final_trials(table.trials, folds)

    @Slot()
    def _on_train_cancelled(self) -> None:
        self._ended(CANCELLED, "cancelled: nothing was stored", NOTE_STYLE)

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        if concern == TRAIN:  # said in the queue and the live panel; the next start goes on
            self._ended(FAILED, error_text(error), BAD_STYLE)
            return
        if concern == PROFILE_SAVE:  # the profile was read; only keeping it failed
            self._init_spec()
            return
        if concern in (PROFILE, SPEC, VALIDATE):
            self.form.summary.setStyleSheet(BAD_STYLE)
            self.form.summary.setText(f"{self._doing.get(concern, '')} {error_text(error)}")
            return
        super().on_task_failed(concern, error)

    def cancel_training(self) -> None:
        """Stop the running training (its child process ends at once; nothing is stored)."""
        self.runner(TRAIN).cancel()

    # --- models ----------------------------------------------------------------------------

    def show_model(self, label: str) -> None:
        """Show version ``label``'s evidence and plots in the Models tab."""
        if self.engine is None:
            return
        training = self.engine.training

        def shown(ctx: TaskContext) -> Shown:
            return Shown(training.model_version(label), training.evidence(label), tuple(training.plots(label)))

        self.model_view.set_message(f"Reading the evidence of {label}…")
        self.query(shown, f"Reading {label}", f"{label} could not be read.", concern=MODEL)

    @Slot(object)
    def _on_model_shown(self, result: object) -> None:
        if isinstance(result, Shown):
            self.model_view.set_version(result.version, result.evidence, list(result.plots))

    @Slot(QItemSelection, QItemSelection)
    def _on_model_table_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.model_table.selectionModel().selectedRows()
        if rows:
            version = self.model_proxy.data(rows[0], Qt.ItemDataRole.UserRole)
            if isinstance(version, ModelVersion):
                self.show_model(version.label)

    @Slot(str, str)
    def _on_compare_requested(self, a: str, b: str) -> None:
        if self.engine is None:
            return
        training = self.engine.training

        def compare(ctx: TaskContext) -> Compared:
            found = training.compare(a, b)
            return Compared(Side(found.a, training.evidence(a)), Side(found.b, training.evidence(b)), found)

        self.query(compare, f"Comparing {a} and {b}", "The versions could not be compared.", concern=COMPARE)

    @Slot(object)
    def _on_compared(self, result: object) -> None:
        if isinstance(result, Compared):
            self.compare_view.set_sides(result.a, result.b, result.comparison.holdout_margin)

    # --- slots -----------------------------------------------------------------------------

    @Slot(str, str)
    def _on_form_build_requested(self, label: str, target: str) -> None:
        if target:
            self.build(label, target)
            return
        keep = self.form.spec()
        self.form.set_spec(None)
        self.problems, self._validated = None, None
        columns = self.columns_of(label)
        self.form.set_columns(columns)
        if keep is not None and keep.target in dict(columns):
            self.build(label, keep.target)
        self._refresh_actions()

    @Slot()
    def _on_form_edited(self) -> None:
        self.problems, self._validated = None, None
        self._refresh_actions()
        self._validate_timer.start()

    @Slot()
    def _on_validate_timer_timeout(self) -> None:
        self.validate_now()

    @Slot()
    def _on_start_clicked(self) -> None:
        spec = self.form.spec()
        if spec is None or spec != self._validated or self.problems:
            return
        export = spec.compute_kind == "dask"
        if export and QMessageBox.question(
                self, "Send the data to the cluster?",
                f"Training on the Dask cluster at {spec.dask_address} sends the rows of {spec.dataset} to the "
                "cluster's workers, outside this encrypted workspace. The start is recorded in the audit log.\n\n"
                "Send the data and train there?") != QMessageBox.StandardButton.Yes:
            return
        self.enqueue(spec, self.model_name.text().strip() or None, allow_data_export=export)
        self.tabs.setCurrentIndex(TAB_RUNS)

    @Slot()
    def _on_runs_cancel_requested(self) -> None:
        self.cancel_training()

    @Slot()
    def _on_runs_clear_queue_requested(self) -> None:
        self.queue = [q for q in self.queue if q.status != QUEUED]
        self.runs_widget.set_queue(self.queue)
        self._refresh_actions()

    def load_spec_file(self, path: Path) -> None:
        """Show the spec in TOML file ``path`` (its problems, if any, next to the form)."""
        try:
            spec = load_spec(path)
        except InvalidSpec as exc:
            self.form.show_problems(exc.problems)
            self.form.summary.setText(f"✖ {path.name} is not a usable spec: {error_text(exc)}")
            return
        except (AirlockError, OSError) as exc:
            self.report_error(exc, f"{path.name} could not be read.")
            return
        self.show_spec(spec)

    @Slot()
    def _on_load_clicked(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Load a training spec", "", "Training spec (*.toml)")
        if chosen:
            self.load_spec_file(Path(chosen))

    @Slot()
    def _on_save_clicked(self) -> None:
        spec = self.form.spec()
        if spec is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the training spec",
                                                f"{spec.dataset_name}-{spec.target}.toml", "Training spec (*.toml)")
        if chosen:
            try:
                Path(chosen).write_text(dump_spec(spec), encoding="utf-8")
            except OSError as exc:
                self.report_error(exc, "The spec was not saved.")
                return
            self.spec_status.setStyleSheet(OK_STYLE)
            self.spec_status.setText(f"✔ Spec written to {chosen}")
