"""Datasets: versions with lineage, the import wizard, profile, schema and drift of a version.

Everything goes through ``engine.datasets``. The dataset and version pickers at the top
choose what the tabs show; the tab widgets (``desktop/widgets/dataset_*.py``) only display
values and emit requests, which this page turns into engine calls. Each concern has its own
runner, so a newer request supersedes only an older one of the same concern (comparing two
versions does not stop a running profile): a profile is computed as a query on the read
pool and, when it was not kept yet, saved by a short mutation; schema inference and edits
and report exports (audited: values leave the workspace) are mutations on the write thread;
validation and drift are queries.
Heavy libraries (pyarrow, matplotlib) load when the data or a chart is first needed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QWidget,
)

from core.api import (
    Change,
    DatasetVersion,
    DriftReport,
    ImportResult,
    NotFound,
    Outcome,
    Profile,
    Schema,
    TaskContext,
    ValidationReport,
)
from desktop.bus import EventBus
from desktop.pages.base import NOTE_STYLE, Page
from desktop.pages.workspace import human_size, short_time
from desktop.widgets.dataset_drift import DriftWidget
from desktop.widgets.dataset_profile import ProfileWidget, table_view
from desktop.widgets.dataset_schema import SchemaWidget
from desktop.widgets.messages import error_text
from desktop.widgets.table_model import Column, TableModel

if TYPE_CHECKING:
    from core.api import Engine
    from desktop.widgets.dataset_import import ImportWizard

PROFILE, PROFILE_SAVE, SCHEMA, VALIDATE, DRIFT, EXPORT = "profile", "profile-save", "schema", "validate", "drift", "export"
TAB_VERSIONS, TAB_PROFILE, TAB_SCHEMA, TAB_DRIFT = range(4)


@dataclass(frozen=True, slots=True)
class ProfileRun:
    """What the profile query found: the profile, whether it was already kept, and the targets kept for its version."""

    profile: Profile
    kept: bool
    kept_targets: tuple[str | None, ...] = ()


def preferred_target(kept_targets: tuple[str | None, ...]) -> str | None:
    """The kept profile to show first: one with a target (it says more) before the one without."""
    with_target = [t for t in kept_targets if t is not None]
    return with_target[0] if with_target else None


def _source(v: DatasetVersion) -> str:
    s = v.lineage.source
    return s if v.lineage.source_kind == "sql" else Path(s).name


VERSION_COLUMNS = (
    Column("Version", lambda v: v.number, fmt=lambda n: f"@{n}", align_right=True),
    Column("Rows", lambda v: v.row_count, fmt=lambda n: f"{n:,}", align_right=True),
    Column("Columns", lambda v: v.column_count, align_right=True),
    Column("Imported", lambda v: v.lineage.imported_at, fmt=short_time, tooltip=lambda v: v.lineage.imported_at),
    Column("By", lambda v: v.lineage.imported_by),
    Column("Kind", lambda v: v.lineage.source_kind),
    Column("Source", _source, tooltip=lambda v: v.lineage.source),
    Column("Query", lambda v: (v.lineage.query or "").replace("\n", " "), tooltip=lambda v: v.lineage.query or ""),
    Column("Content hash", lambda v: v.content_sha256[:12], tooltip=lambda v: f"SHA-256 of the snapshot: {v.content_sha256}"),
    Column("Warnings", lambda v: len(v.warnings), fmt=lambda n: f"⚠ {n}" if n else "", tooltip=lambda v: "\n".join(v.warnings)),
)


def lineage_html(v: DatasetVersion) -> str:
    """Everything recorded about where ``v`` came from, and its columns."""
    e = html.escape
    lin = v.lineage
    rows = [
        ("Version", f"<b>{e(v.label)}</b> — {v.row_count:,} rows × {v.column_count} columns, {human_size(v.size_bytes)} stored"),
        ("Source", f"{e(lin.source_kind)}: {e(lin.source)}"),
    ]
    if lin.query:
        rows.append(("Query", f"<code>{e(lin.query)}</code>"))
    if lin.source_sha256:
        rows.append(("Source SHA-256", f"<code>{e(lin.source_sha256)}</code>"))
    rows += [
        ("Snapshot SHA-256", f"<code>{e(v.content_sha256)}</code>"),
        ("Imported", f"{e(short_time(lin.imported_at))} by {e(lin.imported_by)}"),
        ("Columns", ", ".join(f"{e(c.name)} <span style='color:#777'>{e(c.type)}</span>" for c in v.columns)),
    ]
    rows += [("⚠ Warning", e(w)) for w in v.warnings]
    body = "".join(f"<tr><td style='color:#555;padding-right:10px;vertical-align:top'>{k}</td><td>{t}</td></tr>" for k, t in rows)
    return f"<table>{body}</table>"


class DatasetsPage(Page):
    name = "datasets"
    title = "Datasets"
    watches = frozenset({Change.DATASETS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.versions: list[DatasetVersion] = []
        self.version: DatasetVersion | None = None
        self.wizard: ImportWizard | None = None
        self._profile_key: tuple[str, str | None, bool] | None = None  # (version id, target, picked from kept)
        self._wanted_target: str | None = None
        self._target_auto = True  # no target chosen yet for this version: show a kept profile if any
        self._drift_labels: list[str] = []

        self.dataset_box = QComboBox()
        self.dataset_box.setMinimumWidth(200)
        self.dataset_box.currentIndexChanged.connect(self._on_dataset_box_changed)
        self.version_box = QComboBox()
        self.version_box.setMinimumWidth(260)
        self.version_box.currentIndexChanged.connect(self._on_version_box_changed)
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Import a CSV/TSV, Parquet or Excel file, or a SQL query, as a new version")
        self.import_button.clicked.connect(self._on_import_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Dataset:"))
        top.addWidget(self.dataset_box)
        top.addWidget(QLabel("Version:"))
        top.addWidget(self.version_box)
        top.addStretch(1)
        top.addWidget(self.import_button)
        self.layout_.addLayout(top)
        self.empty_note = QLabel("No datasets yet. Import a file or a query to make the first version.")
        self.empty_note.setStyleSheet(NOTE_STYLE)
        self.layout_.addWidget(self.empty_note)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setVisible(False)
        self.layout_.addWidget(self.status)

        self.tabs = QTabWidget()
        self.version_model = TableModel(VERSION_COLUMNS, self)
        self.version_table, self.version_proxy = table_view(self.version_model, self)
        self.version_table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.version_table.selectionModel().selectionChanged.connect(self._on_version_table_selection_changed)
        self.lineage = QLabel()
        self.lineage.setWordWrap(True)
        self.lineage.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.lineage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        versions_split = QSplitter(Qt.Orientation.Vertical)
        versions_split.addWidget(self.version_table)
        versions_split.addWidget(self.lineage)
        versions_split.setSizes([260, 220])
        self.tabs.addTab(versions_split, "Versions && lineage")
        self.profile_widget = ProfileWidget()
        self.profile_widget.target_requested.connect(self._on_profile_target_requested)
        self.profile_widget.export_requested.connect(self._on_profile_export_requested)
        self.tabs.addTab(self.profile_widget, "Profile")
        self.schema_widget = SchemaWidget()
        self.schema_widget.infer_requested.connect(self._on_schema_infer_requested)
        self.schema_widget.edit_requested.connect(self._on_schema_edit_requested)
        self.schema_widget.validate_requested.connect(self._on_schema_validate_requested)
        self.tabs.addTab(self.schema_widget, "Schema")
        self.drift_widget = DriftWidget()
        self.drift_widget.compare_requested.connect(self._on_drift_compare_requested)
        self.tabs.addTab(self.drift_widget, "Compare (drift)")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.layout_.addWidget(self.tabs, 1)
        self.runner(PROFILE).finished.connect(self._on_profile_computed)
        self.runner(PROFILE).cancelled.connect(self._on_profile_cancelled)
        self.runner(PROFILE_SAVE).finished.connect(self._on_profile_saved)
        self.runner(SCHEMA).finished.connect(self._on_schema_saved)
        self.runner(VALIDATE).finished.connect(self._on_validated)
        self.runner(DRIFT).finished.connect(self._on_drift_compared)
        self.runner(EXPORT).finished.connect(self._on_report_exported)

    # --- loading ---------------------------------------------------------------------------

    def set_engine(self, engine: Engine | None) -> None:
        self.versions, self.version, self._profile_key = [], None, None
        self.profile_widget.set_profile(None)
        self.drift_widget.set_report(None)
        self.schema_widget.set_validation(None)
        super().set_engine(engine)
        if engine is None:
            self.dataset_box.clear()

    def reload(self) -> None:
        if self.engine is None:
            return
        names = [d.name for d in self.engine.datasets.list()]
        keep = self.dataset_box.currentText()
        self.dataset_box.blockSignals(True)
        self.dataset_box.clear()
        self.dataset_box.addItems(names)
        self.dataset_box.setCurrentIndex(names.index(keep) if keep in names else (0 if names else -1))
        self.dataset_box.blockSignals(False)
        self.empty_note.setVisible(not names)
        self.tabs.setEnabled(bool(names))
        self.import_button.setEnabled(self.writable)
        self.import_button.setToolTip("" if self.writable else "The workspace is open read-only")
        self.schema_widget.writable = self.writable
        self.load_dataset(self.dataset_box.currentText() or None)

    def load_dataset(self, name: str | None, select: int | None = None) -> None:
        """Show dataset ``name``'s versions; select version ``select`` (default: keep, else latest)."""
        assert self.engine is not None
        service = self.engine.datasets
        keep = self.version.number if self.version and self.version.dataset_name == name else None
        self.versions = service.versions(name) if name else []
        self.version_model.set_rows(self.versions)
        labels = [v.label for v in self.versions]
        self.version_box.blockSignals(True)
        self.version_box.clear()
        for v in reversed(self.versions):
            self.version_box.addItem(f"{v.label} — {v.row_count:,} rows × {v.column_count} cols, "
                                     f"{short_time(v.lineage.imported_at)}", v.number)
        self.version_box.blockSignals(False)
        number = select or keep or (self.versions[-1].number if self.versions else None)
        schema: Schema | None = None
        if name:
            try:
                schema = service.schema(name)
            except NotFound:
                schema = None
        self.schema_widget.set_schema(schema, name or "")
        others = [f"{d.name}@{d.latest.number}" for d in service.list() if d.name != name and d.latest]
        self._drift_labels = labels + others
        self.select_version(number)

    def select_version(self, number: int | None) -> None:
        """Make version ``number`` of the shown dataset the one the tabs are about."""
        found = next((v for v in self.versions if v.number == number), None)
        changed = found != self.version
        self.version = found
        i = self.version_box.findData(number) if found else -1
        if self.version_box.currentIndex() != i:
            self.version_box.blockSignals(True)
            self.version_box.setCurrentIndex(i)
            self.version_box.blockSignals(False)
        self.lineage.setText(lineage_html(found) if found else "")
        for r in range(self.version_proxy.rowCount()):
            if self.version_proxy.data(self.version_proxy.index(r, 0), Qt.ItemDataRole.UserRole) == found:
                if self.version_table.currentIndex().row() != r:
                    self.version_table.selectRow(r)
                break
        labels = [v.label for v in self.versions]
        self.schema_widget.set_versions(labels, found.label if found else None)
        self.drift_widget.set_versions(self._drift_labels, found.label if found else None)
        if changed:
            self._profile_key = None
            self._wanted_target = None
            self._target_auto = True
            self.profile_widget.set_profile(None)
            self.clear_status()
        if self.tabs.currentIndex() == TAB_PROFILE:
            self.ensure_profile()

    # --- requests --------------------------------------------------------------------------

    def ensure_profile(self) -> None:
        """Show the selected version's profile, computing it (in the background) if needed."""
        if self.version is None or self.engine is None:
            return
        if self._profile_key == (self.version.id, self._wanted_target, self._target_auto):
            return
        self.request_profile(self._wanted_target, auto=self._target_auto)

    def request_profile(self, target: str | None, *, auto: bool = False) -> None:
        """Show the profile for ``target``: the kept one, else computed now (and then kept).

        With ``auto`` (no target chosen yet) ``target`` is ignored and a kept profile is shown,
        one with a target first (:func:`preferred_target`); only when none is kept is a
        profile without a target computed.
        """
        assert self.engine is not None and self.version is not None
        service, ref = self.engine.datasets, self.version.label
        self._wanted_target, self._target_auto = target, auto
        self._profile_key = (self.version.id, target, auto)

        def profile(ctx: TaskContext) -> ProfileRun:
            kept_targets = tuple(service.profile_targets(ref))
            chosen = preferred_target(kept_targets) if auto else target
            kept = service.stored_profile(ref, target=chosen) if chosen in kept_targets else None
            if kept is not None:
                return ProfileRun(kept, True, kept_targets)
            return ProfileRun(service.profile(ref, target=chosen, refresh=True, ctx=ctx), False, kept_targets)

        with_target = f" with target {target}" if target and not auto else ""
        self.profile_widget.set_busy(f"Loading the profile of {ref}…" if auto else f"Profiling {ref}{with_target}…")
        self.query(profile, f"Profiling {ref}{with_target}", f"{ref} could not be profiled.", concern=PROFILE)

    def save_profile(self, profile: Profile) -> None:
        """Keep a freshly computed profile with its version (a short, audited mutation)."""
        if self.engine is None or not self.writable:
            return
        service = self.engine.datasets

        def save(ctx: TaskContext) -> Outcome[Profile]:
            return service.save_profile(profile)

        self.mutate(save, "Keeping the profile", "The profile was not kept.", concern=PROFILE_SAVE)

    def export_report(self, dest: Path) -> None:
        """Write the shown profile's report to ``dest``: PDF for ``.pdf``, else one HTML page."""
        if self.engine is None or self.version is None or self.profile_widget.profile is None:
            return
        service, ref, target = self.engine.datasets, self.version.label, self.profile_widget.profile.target
        kind = "pdf" if dest.suffix.lower() == ".pdf" else "html"

        def export(ctx: TaskContext) -> Outcome[Path]:  # audited: values leave the workspace
            return service.export_profile_report(ref, dest, format=kind, target=target, ctx=ctx)

        self.mutate(export, f"Writing the report of {ref}", "The report was not written.", concern=EXPORT)

    def open_import_wizard(self) -> ImportWizard | None:
        """Open the (window-modal, non-blocking) import wizard and return it."""
        if self.engine is None:
            return None
        from desktop.widgets.dataset_import import ImportWizard

        names = [self.dataset_box.itemText(i) for i in range(self.dataset_box.count())]
        self.wizard = ImportWizard(self.engine.datasets, names, publish=self.bus.publish, parent=self)
        self.wizard.imported.connect(self._on_wizard_imported)
        self.wizard.open()
        return self.wizard

    # --- slots -----------------------------------------------------------------------------

    @Slot(int)
    def _on_dataset_box_changed(self, index: int) -> None:
        if self.engine is not None:
            self.load_dataset(self.dataset_box.currentText() or None)

    @Slot(int)
    def _on_version_box_changed(self, index: int) -> None:
        self.select_version(self.version_box.itemData(index))

    @Slot(QItemSelection, QItemSelection)
    def _on_version_table_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        rows = self.version_table.selectionModel().selectedRows()
        if rows:
            v = self.version_proxy.data(rows[0], Qt.ItemDataRole.UserRole)
            if isinstance(v, DatasetVersion) and v != self.version:
                self.select_version(v.number)

    def clear_status(self) -> None:
        """Forget the last status line (an export written, a profile not kept): it was about what was shown."""
        self.status.clear()
        self.status.setVisible(False)

    @Slot(int)
    def _on_tab_changed(self, index: int) -> None:
        self.clear_status()
        if index == TAB_PROFILE:
            self.ensure_profile()

    @Slot()
    def _on_import_clicked(self) -> None:
        self.open_import_wizard()

    @Slot(object)
    def _on_wizard_imported(self, result: ImportResult) -> None:
        self.reload()
        name = result.version.dataset_name
        if self.dataset_box.currentText() != name:
            self.dataset_box.setCurrentText(name)
        self.select_version(result.version.number)

    @Slot(object)
    def _on_profile_target_requested(self, target: object) -> None:
        if self.version is not None:
            self.request_profile(target if isinstance(target, str) else None)

    @Slot()
    def _on_profile_export_requested(self) -> None:
        if self.version is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export the profile report", f"{self.version.label.replace('@', '-v')}-profile.html",
            "HTML page (*.html);;PDF document (*.pdf)")
        if chosen:
            self.export_report(Path(chosen))

    @Slot()
    def _on_schema_infer_requested(self) -> None:
        if self.engine is None or self.version is None:
            return
        service, ref = self.engine.datasets, self.version.label

        def infer(ctx: TaskContext) -> Outcome[Schema]:
            return service.infer_schema(ref)

        self.mutate(infer, f"Inferring a schema from {ref}", "No schema was inferred.", concern=SCHEMA)

    @Slot(str, object)
    def _on_schema_edit_requested(self, column: str, changes: object) -> None:
        if self.engine is None or not isinstance(changes, dict):
            return
        service, name, edits = self.engine.datasets, self.dataset_box.currentText(), dict(changes)

        def edit(ctx: TaskContext) -> Outcome[Schema]:
            return service.edit_schema(name, column, **edits)

        self.mutate(edit, f"Saving the schema of {name}", "The schema edit was not saved.", concern=SCHEMA)

    @Slot(str)
    def _on_schema_validate_requested(self, ref: str) -> None:
        if self.engine is None:
            return
        service, name = self.engine.datasets, self.dataset_box.currentText()

        def validate(ctx: TaskContext) -> ValidationReport:
            return service.validate(name, ref)

        self.query(validate, f"Validating {ref}", f"{ref} could not be validated.", concern=VALIDATE)

    @Slot(str, str)
    def _on_drift_compare_requested(self, reference: str, current: str) -> None:
        if self.engine is None:
            return
        service = self.engine.datasets

        def drift(ctx: TaskContext) -> DriftReport:
            return service.drift(reference, current, ctx=ctx)

        self.drift_widget.set_busy()
        self.query(drift, f"Comparing {reference} → {current}", "The versions could not be compared.", concern=DRIFT)

    @Slot(object)
    def _on_profile_computed(self, result: object) -> None:
        if not isinstance(result, ProfileRun):  # pragma: no cover - the profile query returns one
            return
        value = result.profile
        if self.version is not None and value.version_id == self.version.id:
            # What is shown is now the chosen target, whether picked from the kept ones or asked for.
            self._wanted_target, self._target_auto = value.target, False
            self._profile_key = (value.version_id, value.target, False)
            self.profile_widget.set_profile(value, self.version.label, kept_targets=result.kept_targets)
        if not result.kept:
            self.save_profile(value)

    @Slot(object)
    def _on_profile_saved(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Profile) \
                and self.version is not None and result.value.version_id == self.version.id:
            self.profile_widget.mark_kept(result.value.target)

    @Slot(object)
    def _on_schema_saved(self, result: object) -> None:
        # A schema saved for a dataset the user has since left is not shown over the current one.
        if isinstance(result, Outcome) and isinstance(result.value, Schema) \
                and result.value.dataset_name == self.dataset_box.currentText():
            self.schema_widget.set_schema(result.value, result.value.dataset_name)

    @Slot(object)
    def _on_validated(self, result: object) -> None:
        if isinstance(result, ValidationReport):
            self.schema_widget.set_validation(result)

    @Slot(object)
    def _on_drift_compared(self, result: object) -> None:
        if isinstance(result, DriftReport):
            self.drift_widget.set_report(result)

    @Slot(object)
    def _on_report_exported(self, result: object) -> None:
        if isinstance(result, Outcome) and isinstance(result.value, Path):
            self.status.setText(f"✔ Report written to {result.value}")
            self.status.setVisible(True)

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        if concern == PROFILE_SAVE:  # the profile is on show; only keeping it failed, which needs no dialog
            self.status.setText(f"The profile is shown but was not kept: {error_text(error)}")
            self.status.setVisible(True)
            return
        if concern == PROFILE:
            self._profile_key = None  # so the profile is asked for again next time
            if self.profile_widget.profile is None:
                self.profile_widget.set_busy("The profile could not be computed.")
        super().on_task_failed(concern, error)

    @Slot()
    def _on_profile_cancelled(self) -> None:
        self._profile_key = None
        if self.profile_widget.profile is None:
            self.profile_widget.set_busy("Profiling was cancelled. Switch tabs or versions to start it again.")
