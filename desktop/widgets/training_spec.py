"""The training spec form of the Training page: what to predict, from what, how, on what hardware.

The form shows one :class:`~core.api.TrainingSpec` as widgets and reads the edited widgets
back into a new spec (:meth:`SpecForm.spec`). The page fills it from ``engine.training.init_spec``
(the dataset version's profile decides the task, the metric, and which columns are left out and
why) and shows the problems ``engine.training.validate`` finds next to the group they are
about (:meth:`SpecForm.show_problems`). No engine calls and no rules of its own: which column is
excluded, which metric suits a task, what is wrong with a spec, all come from core.
"""

from __future__ import annotations

import dataclasses
import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.api import (
    ALGORITHMS,
    METRICS,
    Algorithm,
    ExcludedColumn,
    SearchKind,
    SearchSpec,
    SpecProblem,
    SplitKind,
    SplitSpec,
    Task,
    TrainingSpec,
)
from desktop.pages.base import BAD_STYLE, NOTE_STYLE, OK_STYLE

#: Reason recorded for a column the user unticked.
USER_EXCLUDED = "left out by you"
#: Which form group each problem field belongs to (by its part before the first dot).
GROUP_OF_FIELD = {
    "dataset": "data", "dataset_sha256": "data", "target": "data", "task": "data", "metric": "data",
    "features": "features", "algorithms": "algorithms", "search": "budget", "split": "split",
    "slices": "evaluation", "sensitive": "evaluation", "weak_slice_gap": "evaluation", "compute": "compute",
}
GROUPS = ("data", "features", "algorithms", "budget", "split", "evaluation", "compute", "other")
NO_COLUMN = "(none)"


def group_of(field: str) -> str:
    """The form group that shows problems of ``field`` (``"split.date_column"`` → ``"split"``)."""
    return GROUP_OF_FIELD.get(field.split(".", 1)[0], "other")


def _checkable_list(parent: QWidget) -> QListWidget:
    box = QListWidget(parent)
    box.setMaximumHeight(90)
    return box


class SpecForm(QWidget):
    """The widgets of one spec; :meth:`set_spec` fills them, :meth:`spec` reads them back."""

    build_requested = Signal(str, str)
    """The user picked a version and target to start a spec from; payload: version label, target."""

    edited = Signal()
    """The user changed a field; no payload (read it with :meth:`spec`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base: TrainingSpec | None = None
        self._reasons: dict[str, str] = {}
        self._columns: list[tuple[str, str]] = []
        self._filling = False
        self.problem_labels: dict[str, QLabel] = {}

        # data: version, target, task, metric
        self.version_box = QComboBox()
        self.version_box.setMinimumWidth(220)
        self.version_box.setToolTip("The dataset version the spec is pinned to (name@N)")
        self.version_box.currentIndexChanged.connect(self._on_version_box_changed)
        self.target_box = QComboBox()
        self.target_box.setToolTip("The column to predict; choosing one builds a spec from the version's profile")
        self.target_box.activated.connect(self._on_target_box_activated)
        self.task_box = QComboBox()
        for task in Task:
            self.task_box.addItem(task.value, task)
        self.task_box.setToolTip("Inferred from the target by its profile; change it if the guess is wrong")
        self.task_box.currentIndexChanged.connect(self._on_task_box_changed)
        self.metric_box = QComboBox()
        self.metric_box.setToolTip("The scikit-learn scorer optimised by the search (greater is better)")
        self.metric_box.currentIndexChanged.connect(self._on_field_edited)
        data = QFormLayout()
        data.addRow("Dataset version:", self.version_box)
        data.addRow("Target:", self.target_box)
        data.addRow("Task:", self.task_box)
        data.addRow("Metric:", self.metric_box)
        data_group = self._group("What to predict", data, "data")

        # features: checklist with the profile's hints
        self.features = QTableWidget(0, 3)
        self.features.setHorizontalHeaderLabels(["Feature", "Type", "Why left out"])
        self.features.verticalHeader().setVisible(False)
        self.features.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.features.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.features.horizontalHeader().setStretchLastSection(True)
        self.features.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.features.itemChanged.connect(self._on_features_item_changed)
        self.features_summary = QLabel()
        self.features_summary.setStyleSheet("color: #555;")
        features = QVBoxLayout()
        features.addWidget(QLabel("Ticked columns are the model's inputs. Columns the profile advises against "
                                  "start unticked; the reason is shown (tick one to use it anyway)."))
        features.addWidget(self.features, 1)
        features.addWidget(self.features_summary)
        features_group = self._group("Features", features, "features")

        # algorithms
        self.algorithm_boxes: dict[Algorithm, QCheckBox] = {}
        algorithms = QGridLayout()
        for i, algorithm in enumerate(Algorithm):
            box = QCheckBox(algorithm.value.replace("_", " "))
            box.toggled.connect(self._on_field_edited)
            self.algorithm_boxes[algorithm] = box
            algorithms.addWidget(box, i // 2, i % 2)
        algorithms_group = self._group("Algorithms (the best after the search is kept)", algorithms, "algorithms")

        # budget
        self.search_box = QComboBox()
        for kind in SearchKind:
            self.search_box.addItem(kind.value, kind)
        self.search_box.currentIndexChanged.connect(self._on_field_edited)
        self.trials_box = QSpinBox()
        self.trials_box.setRange(1, 10_000)
        self.trials_box.setToolTip("Parameter sets tried per algorithm")
        self.trials_box.valueChanged.connect(self._on_field_edited)
        self.minutes_box = QDoubleSpinBox()
        self.minutes_box.setRange(0.0, 10_000.0)
        self.minutes_box.setDecimals(1)
        self.minutes_box.setSpecialValueText("no limit")
        self.minutes_box.setToolTip("Wall-clock limit of the whole search; 0 = no limit. It stops at whichever comes first.")
        self.minutes_box.valueChanged.connect(self._on_field_edited)
        budget = QFormLayout()
        budget.addRow("Search:", self.search_box)
        budget.addRow("Trials per algorithm:", self.trials_box)
        budget.addRow("Time limit (minutes):", self.minutes_box)
        budget_group = self._group("Budget", budget, "budget")

        # split
        self.split_box = QComboBox()
        for split_kind in SplitKind:
            self.split_box.addItem(split_kind.value, split_kind)
        self.split_box.setToolTip("random: shuffled (stratified for classes); time: newest rows are the holdout; "
                                  "group: a group is never on both sides")
        self.split_box.currentIndexChanged.connect(self._on_field_edited)
        self.holdout_box = QDoubleSpinBox()
        self.holdout_box.setRange(0.0, 0.95)
        self.holdout_box.setSingleStep(0.05)
        self.holdout_box.setToolTip("Share of rows kept aside for the final, untouched evaluation")
        self.holdout_box.valueChanged.connect(self._on_field_edited)
        self.folds_box = QSpinBox()
        self.folds_box.setRange(1, 50)
        self.folds_box.setToolTip("Cross-validation folds on the training part, per trial")
        self.folds_box.valueChanged.connect(self._on_field_edited)
        self.date_box = QComboBox()
        self.date_box.setToolTip("Orders the rows of a time split")
        self.date_box.currentIndexChanged.connect(self._on_field_edited)
        self.group_box = QComboBox()
        self.group_box.setToolTip("Keeps each group on one side of a group split")
        self.group_box.currentIndexChanged.connect(self._on_field_edited)
        split = QFormLayout()
        split.addRow("Kind:", self.split_box)
        split.addRow("Holdout share:", self.holdout_box)
        split.addRow("CV folds:", self.folds_box)
        split.addRow("Date column:", self.date_box)
        split.addRow("Group column:", self.group_box)
        split_group = self._group("Split", split, "split")

        # evaluation: slices and sensitive attributes
        self.slices_list = _checkable_list(self)
        self.slices_list.setToolTip("Columns whose levels (or quantile bins) are scored as slices")
        self.slices_list.itemChanged.connect(self._on_field_edited)
        self.sensitive_list = _checkable_list(self)
        self.sensitive_list.setToolTip("Columns evaluated for inclusion (fairness): rates per group with fairlearn")
        self.sensitive_list.itemChanged.connect(self._on_field_edited)
        evaluation = QFormLayout()
        evaluation.addRow("Slices:", self.slices_list)
        evaluation.addRow("Sensitive attributes:", self.sensitive_list)
        evaluation_group = self._group("Evaluation", evaluation, "evaluation")

        # compute
        self.cpu_radio = QRadioButton("CPU (this computer)")
        self.gpu_radio = QRadioButton("GPU (CUDA, XGBoost)")
        self.dask_radio = QRadioButton("Dask cluster:")
        self.dask_address = QLineEdit()
        self.dask_address.setPlaceholderText("dask://host:8786")
        self.dask_address.setToolTip("The scheduler address; tls://host:port for a cluster with TLS. "
                                     "Data is sent to the cluster's workers.")
        self.gpu_note = QLabel()
        self.gpu_note.setStyleSheet(NOTE_STYLE)
        self.gpu_note.setWordWrap(True)
        for radio in (self.cpu_radio, self.gpu_radio, self.dask_radio):
            radio.toggled.connect(self._on_field_edited)
        self.dask_address.textEdited.connect(self._on_field_edited)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setToolTip("Seed of every random step (split, search, estimator): same seed, same model")
        self.seed_box.valueChanged.connect(self._on_field_edited)
        compute = QGridLayout()
        compute.addWidget(self.cpu_radio, 0, 0)
        compute.addWidget(self.gpu_radio, 0, 1)
        compute.addWidget(self.dask_radio, 1, 0)
        compute.addWidget(self.dask_address, 1, 1)
        compute.addWidget(self.gpu_note, 2, 0, 1, 2)
        seed_row = QHBoxLayout()
        seed_row.addWidget(QLabel("Seed:"))
        seed_row.addWidget(self.seed_box)
        seed_row.addStretch(1)
        compute.addLayout(seed_row, 3, 0, 1, 2)
        compute_group = self._group("Compute", compute, "compute")

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        other = QLabel()
        other.setStyleSheet(BAD_STYLE)
        other.setWordWrap(True)
        other.setVisible(False)
        self.problem_labels["other"] = other

        left = QVBoxLayout()
        left.addWidget(data_group)
        left.addWidget(features_group, 1)
        right = QVBoxLayout()
        for group in (algorithms_group, budget_group, split_group, evaluation_group, compute_group):
            right.addWidget(group)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(columns, 1)
        outer.addWidget(other)
        outer.addWidget(self.summary)
        self.set_gpu(False)
        self.setEnabled(False)

    def _group(self, title: str, layout: QGridLayout | QFormLayout | QVBoxLayout, key: str) -> QGroupBox:
        group = QGroupBox(title)
        box = QVBoxLayout(group)
        box.addLayout(layout)
        problems = QLabel()
        problems.setStyleSheet(BAD_STYLE)
        problems.setWordWrap(True)
        problems.setVisible(False)
        box.addWidget(problems)
        self.problem_labels[key] = problems
        return group

    # --- filling -------------------------------------------------------------------------

    def set_versions(self, labels: list[str], current: str | None) -> None:
        """Offer ``labels`` (``name@N``, newest first) and select ``current``."""
        self.version_box.blockSignals(True)
        self.version_box.clear()
        self.version_box.addItems(labels)
        self.version_box.setCurrentIndex(labels.index(current) if current in labels else (0 if labels else -1))
        self.version_box.blockSignals(False)

    def set_columns(self, columns: list[tuple[str, str]], target: str | None = None) -> None:
        """The chosen version's ``(name, type)`` columns, as targets (``target`` selected)."""
        self._columns = list(columns)
        self.target_box.blockSignals(True)
        self.target_box.clear()
        self.target_box.addItem("— choose the column to predict —", None)
        for name, kind in columns:
            self.target_box.addItem(f"{name}  ({kind})", name)
        i = self.target_box.findData(target) if target else 0
        self.target_box.setCurrentIndex(max(i, 0))
        self.target_box.blockSignals(False)

    def set_gpu(self, available: bool) -> None:
        """Enable the GPU choice only where a CUDA GPU was found; say why otherwise."""
        self.gpu_radio.setEnabled(available)
        reason = "" if available else "No CUDA GPU was found on this computer (see airlock doctor), so GPU training is off."
        self.gpu_radio.setToolTip(reason or "Train XGBoost on the CUDA GPU")
        self.gpu_note.setText(reason)
        self.gpu_note.setVisible(bool(reason))

    def set_spec(self, spec: TrainingSpec | None) -> None:
        """Show ``spec`` (None: an empty, disabled form)."""
        self.base = spec
        self.setEnabled(True)
        self.show_problems(None)
        if spec is None:
            self.features.setRowCount(0)
            self.features_summary.clear()
            return
        self._filling = True
        try:
            if self.version_box.findText(spec.dataset) < 0:
                self.version_box.addItem(spec.dataset)
            self.version_box.blockSignals(True)
            self.version_box.setCurrentText(spec.dataset)
            self.version_box.blockSignals(False)
            i = self.target_box.findData(spec.target)
            if i < 0:  # a loaded spec may name a column the version lacks: show it, validation says why
                self.target_box.addItem(f"{spec.target}  (not in {spec.dataset})", spec.target)
                i = self.target_box.count() - 1
            self.target_box.setCurrentIndex(i)
            self.task_box.setCurrentIndex(self.task_box.findData(spec.task))
            self._fill_metrics(spec.task, spec.metric)
            for algorithm, box in self.algorithm_boxes.items():
                box.setChecked(algorithm in spec.algorithms)
                box.setEnabled(algorithm in ALGORITHMS[spec.task])
            self._reasons = {e.column: e.reason for e in spec.excluded}
            self._fill_features(spec)
            self.search_box.setCurrentIndex(self.search_box.findData(spec.search.kind))
            self.trials_box.setValue(spec.search.trials)
            self.minutes_box.setValue(spec.search.minutes or 0.0)
            self.split_box.setCurrentIndex(self.split_box.findData(spec.split.kind))
            self.holdout_box.setValue(spec.split.holdout_share)
            self.folds_box.setValue(spec.split.cv_folds)
            names = [n for n, _ in self._columns]
            self._fill_column_box(self.date_box, names, spec.split.date_column)
            self._fill_column_box(self.group_box, names, spec.split.group_column)
            self._fill_checklist(self.slices_list, [n for n in names if n != spec.target], spec.slices)
            self._fill_checklist(self.sensitive_list, [n for n in names if n != spec.target], spec.sensitive)
            kind = spec.compute_kind
            (self.gpu_radio if kind == "gpu" else self.dask_radio if kind == "dask" else self.cpu_radio).setChecked(True)
            self.dask_address.setText(spec.compute if kind == "dask" else "")
            self.seed_box.setValue(spec.seed)
        finally:
            self._filling = False
        self._update_feature_summary()

    def _fill_metrics(self, task: Task, metric: str | None) -> None:
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        self.metric_box.addItems(list(METRICS[task]))
        if metric and self.metric_box.findText(metric) < 0:
            self.metric_box.addItem(metric)
        self.metric_box.setCurrentText(metric or METRICS[task][0])
        self.metric_box.blockSignals(False)

    def _fill_features(self, spec: TrainingSpec) -> None:
        types = dict(self._columns)
        names = [n for n, _ in self._columns if n != spec.target]
        names += [n for n in spec.features if n not in names and n != spec.target]
        self.features.blockSignals(True)
        self.features.setRowCount(len(names))
        for row, name in enumerate(names):
            item = QTableWidgetItem(name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if name in spec.features else Qt.CheckState.Unchecked)
            reason = self._reasons.get(name, "")
            if name not in types:
                reason = f"not a column of {spec.dataset}"
            item.setToolTip(reason or f"{name} is an input of the model")
            self.features.setItem(row, 0, item)
            self.features.setItem(row, 1, QTableWidgetItem(types.get(name, "?")))
            hint = QTableWidgetItem(reason if name not in spec.features else (f"used anyway ({reason})" if reason else ""))
            hint.setToolTip(reason)
            if reason:
                hint.setForeground(Qt.GlobalColor.darkYellow if name in spec.features else Qt.GlobalColor.darkRed)
            self.features.setItem(row, 2, hint)
        self.features.blockSignals(False)

    @staticmethod
    def _fill_column_box(box: QComboBox, names: list[str], current: str | None) -> None:
        box.blockSignals(True)
        box.clear()
        box.addItem(NO_COLUMN, None)
        for name in names:
            box.addItem(name, name)
        if current and box.findData(current) < 0:
            box.addItem(current, current)
        box.setCurrentIndex(max(box.findData(current), 0) if current else 0)
        box.blockSignals(False)

    @staticmethod
    def _fill_checklist(box: QListWidget, names: list[str], checked: tuple[str, ...]) -> None:
        box.blockSignals(True)
        box.clear()
        for name in names + [c for c in checked if c not in names]:
            item = QListWidgetItem(name, box)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
        box.blockSignals(False)

    # --- reading back --------------------------------------------------------------------

    def _feature_items(self) -> list[QTableWidgetItem]:
        items = [self.features.item(r, 0) for r in range(self.features.rowCount())]
        return [i for i in items if i is not None]

    def feature_names(self) -> list[str]:
        """Every column the features table offers, in its order."""
        return [i.text() for i in self._feature_items()]

    def checked_features(self) -> list[str]:
        """The ticked feature names, in the table's order."""
        return [i.text() for i in self._feature_items() if i.checkState() == Qt.CheckState.Checked]

    def set_feature_checked(self, name: str, checked: bool) -> None:
        """Tick or untick feature ``name`` as a user would."""
        for item in self._feature_items():
            if item.text() == name:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    @staticmethod
    def _checked(box: QListWidget) -> tuple[str, ...]:
        return tuple(box.item(i).text() for i in range(box.count())
                     if box.item(i).checkState() == Qt.CheckState.Checked)

    def spec(self) -> TrainingSpec | None:
        """The spec the widgets show now, or None before one was built."""
        base = self.base
        if base is None:
            return None
        task = Task(self.task_box.currentData())
        features = tuple(self.checked_features())
        excluded = tuple(ExcludedColumn(r, self._reasons.get(r) or USER_EXCLUDED)
                         for r in self.feature_names() if r not in features)
        if self.gpu_radio.isChecked():
            compute = "gpu"
        elif self.dask_radio.isChecked():
            compute = self.dask_address.text().strip() or "dask://"
        else:
            compute = "cpu"
        minutes = self.minutes_box.value()
        return dataclasses.replace(
            base, target=self.target_box.currentData() or base.target, task=task, features=features,
            excluded=excluded, metric=self.metric_box.currentText(),
            algorithms=tuple(a for a, box in self.algorithm_boxes.items() if box.isChecked() and box.isEnabled()),
            search=SearchSpec(SearchKind(self.search_box.currentData()), self.trials_box.value(),
                              minutes if minutes > 0 else None),
            split=SplitSpec(SplitKind(self.split_box.currentData()), round(self.holdout_box.value(), 4),
                            self.folds_box.value(), self.date_box.currentData(), self.group_box.currentData()),
            slices=self._checked(self.slices_list), sensitive=self._checked(self.sensitive_list),
            compute=compute, seed=self.seed_box.value(),
        )

    # --- problems ------------------------------------------------------------------------

    def show_problems(self, problems: list[SpecProblem] | None) -> None:
        """Show each problem in the group it is about; None: not checked yet."""
        by_group: dict[str, list[SpecProblem]] = {g: [] for g in GROUPS}
        for p in problems or []:
            by_group[group_of(p.field)].append(p)
        for group, label in self.problem_labels.items():
            found = by_group.get(group, [])
            label.setText("<br>".join(f"✖ <i>{html.escape(p.field)}</i>: {html.escape(p.message)}" for p in found))
            label.setVisible(bool(found))
        if problems is None:
            self.summary.setStyleSheet("color: #555;")
            self.summary.setText("Checking the spec…" if self.base is not None else
                                 "Choose a dataset version and the column to predict to start a spec.")
        elif problems:
            self.summary.setStyleSheet(BAD_STYLE)
            self.summary.setText(f"✖ {len(problems)} problem{'s' if len(problems) != 1 else ''}: "
                                 "fix them (shown in red above) before the spec can run.")
        else:
            self.summary.setStyleSheet(OK_STYLE)
            self.summary.setText("✔ The spec can run.")

    # --- slots ---------------------------------------------------------------------------

    @Slot(int)
    def _on_version_box_changed(self, index: int) -> None:
        if not self._filling:
            self.build_requested.emit(self.version_box.currentText(), "")

    @Slot(int)
    def _on_target_box_activated(self, index: int) -> None:
        target = self.target_box.itemData(index)
        if isinstance(target, str):
            self.build_requested.emit(self.version_box.currentText(), target)

    @Slot(int)
    def _on_task_box_changed(self, index: int) -> None:
        if self._filling:
            return
        task = Task(self.task_box.currentData())
        self._fill_metrics(task, None)
        for algorithm, box in self.algorithm_boxes.items():
            box.setEnabled(algorithm in ALGORITHMS[task])
        self.edited.emit()

    @Slot(QTableWidgetItem)
    def _on_features_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0 and not self._filling:
            self._update_feature_summary()
            self.edited.emit()

    def _update_feature_summary(self) -> None:
        used = len(self.checked_features())
        self.features_summary.setText(f"{used} of {self.features.rowCount()} columns used as features.")

    @Slot()
    def _on_field_edited(self) -> None:
        if not self._filling:
            self.edited.emit()
