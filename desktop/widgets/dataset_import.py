"""The import wizard: choose a file or a SQL query, check a preview, import with progress.

Pages: source (file or database) → file options with a live preview, or the SQL
connection → import. The import runs on the wizard's own :class:`~desktop.tasks.TaskRunner`
(write pool) with a progress bar and Cancel; a cancelled or failed import stores nothing
(the service's guarantee), and a failure is shown on the last page, naming the file, line
and column, with Back to change the options. The SQL password lives only in its field for
the length of one import: it is never stored, logged or put in the URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from core.api import (
    AirlockError,
    CsvOptions,
    ImportResult,
    Outcome,
    Preview,
    TaskContext,
    default_name,
    file_kind,
)
from desktop.tasks import Publish, TaskRunner
from desktop.widgets.messages import error_text

if TYPE_CHECKING:
    from core.api import DatasetService

FILE_FILTER = "Tables (*.csv *.tsv *.txt *.tab *.parquet *.pq *.xlsx *.xlsm);;All files (*)"
PAGE_SOURCE, PAGE_FILE, PAGE_SQL, PAGE_RUN = range(4)
BAD = "color: #b00020;"
_PASSWORD_IN_URL = re.compile(r"://[^/@:]+:[^/@]+@")


def suggested_name(path: Path) -> str:
    """The dataset name the command line would give the file (``Sales 2024.csv`` → ``Sales_2024``)."""
    return default_name(path)


class _SourcePage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("What do you want to import?")
        self.file_radio = QRadioButton("A file: CSV / TSV / text, Parquet or Excel (.xlsx)")
        self.sql_radio = QRadioButton("The result of a SQL query on a database")
        self.file_radio.setChecked(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.file_radio)
        layout.addWidget(self.sql_radio)
        note = QLabel("Each import becomes a new, immutable version of a dataset, with its source recorded.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)

    def nextId(self) -> int:
        return PAGE_SQL if self.sql_radio.isChecked() else PAGE_FILE


def _name_box(existing: list[str]) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.addItems(existing)
    box.setCurrentText("")
    line = box.lineEdit()
    if line is not None:  # editable, so there is one
        line.setPlaceholderText("new dataset name, or pick one to add a version")
    return box


class _FilePage(QWizardPage):
    def __init__(self, existing: list[str], service: DatasetService) -> None:
        super().__init__()
        self._service = service
        self.setTitle("File and how to read it")
        self.setSubTitle("Check the preview: the options are sniffed from the file; change them if it looks wrong.")
        self.preview: Preview | None = None
        self._auto_name = ""
        self._shown_path = ""
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("path of the file")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        self.name_box = _name_box(existing)
        self.delimiter_box = QComboBox()
        for label, value in (("sniff from the file", None), ("comma ( , )", ","), ("semicolon ( ; )", ";"),
                             ("tab", "\t"), ("pipe ( | )", "|")):
            self.delimiter_box.addItem(label, value)
        self.encoding_box = QComboBox()
        self.encoding_box.setEditable(True)
        self.encoding_box.addItems(["utf-8", "latin-1", "cp1252", "utf-16"])
        self.header_box = QComboBox()
        for label, header in (("sniff from the file", None), ("yes, the first row names the columns", True),
                             ("no, the first row is data", False)):
            self.header_box.addItem(label, header)
        self.sheet_box = QComboBox()
        form = QFormLayout()
        form.addRow("File:", path_row)
        form.addRow("Dataset:", self.name_box)
        form.addRow("Delimiter:", self.delimiter_box)
        form.addRow("Encoding:", self.encoding_box)
        form.addRow("Header row:", self.header_box)
        form.addRow("Sheet:", self.sheet_box)
        self.form = form
        self.settings_label = QLabel()
        self.settings_label.setWordWrap(True)
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(BAD)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(180)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.settings_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.table, 1)
        self.path_edit.editingFinished.connect(self._on_path_edited)
        self.delimiter_box.currentIndexChanged.connect(self._on_options_changed)
        self.encoding_box.currentTextChanged.connect(self._on_options_changed)
        self.header_box.currentIndexChanged.connect(self._on_options_changed)
        self.sheet_box.currentIndexChanged.connect(self._on_options_changed)
        self.name_box.currentTextChanged.connect(self.completeChanged)
        self._set_kind("csv")

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def csv_options(self) -> CsvOptions:
        return CsvOptions(delimiter=self.delimiter_box.currentData(), encoding=self.encoding_box.currentText().strip() or "utf-8",
                          has_header=self.header_box.currentData())

    def sheet(self) -> str | None:
        return self.sheet_box.currentText() or None

    def set_path(self, path: str) -> None:
        self._shown_path = path
        self.path_edit.setText(path)
        if not self.name_box.currentText() or self.name_box.currentText() == self._auto_name:
            self._auto_name = suggested_name(Path(path))
            self.name_box.setCurrentText(self._auto_name)
        self.sheet_box.blockSignals(True)
        self.sheet_box.clear()
        self.sheet_box.blockSignals(False)
        self.refresh_preview()

    def _set_kind(self, kind: str) -> None:
        for widget, shown in ((self.delimiter_box, kind == "csv"), (self.encoding_box, kind == "csv"),
                              (self.header_box, kind != "parquet"), (self.sheet_box, kind == "excel")):
            self.form.setRowVisible(widget, shown)

    def refresh_preview(self) -> None:
        self.preview = None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.settings_label.setText("")
        self.problem_label.setText("")
        text = self.path_edit.text().strip()
        if not text:
            self.completeChanged.emit()
            return
        path = self.path()
        self._set_kind(file_kind(path))
        try:
            preview = self._service.preview_file(path, self.csv_options(), self.sheet())
        except (AirlockError, OSError) as exc:
            self.problem_label.setText(f"✖ {error_text(exc)}")
            self.completeChanged.emit()
            return
        self.preview = preview
        if preview.sheets and self.sheet_box.count() == 0:
            self.sheet_box.blockSignals(True)
            self.sheet_box.addItems(preview.sheets)
            self.sheet_box.blockSignals(False)
        self.settings_label.setText(f"Reading as — {preview.settings}.  Preview of the first {len(preview.rows)} rows:")
        if preview.ragged:
            self.problem_label.setText("⚠ " + "; ".join(preview.ragged[:3]) + ". Check the delimiter and quoting.")
        headers = [f"{n}\n{t}" for n, t in zip(preview.names, preview.types, strict=True)] if preview.types else preview.names
        width = max([len(preview.names)] + [len(r) for r in preview.rows])
        self.table.setColumnCount(width)
        self.table.setHorizontalHeaderLabels(headers + [f"(extra {i})" for i in range(len(headers) + 1, width + 1)])
        self.table.setRowCount(len(preview.rows))
        for r, row in enumerate(preview.rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                if len(row) != len(preview.names):
                    item.setBackground(QColor("#f8d7da"))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.preview is not None and bool(self.name_box.currentText().strip())

    def nextId(self) -> int:
        return PAGE_RUN

    @Slot()
    def _on_browse_clicked(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Import a table", str(self.path().parent), FILE_FILTER)
        if chosen:
            self.set_path(chosen)

    @Slot()
    def _on_path_edited(self) -> None:
        # A typed or pasted path names the dataset as Browse… does (unless a name was typed).
        text = self.path_edit.text().strip()
        if text and text != self._shown_path:
            self.set_path(text)
        elif not text:
            self.refresh_preview()

    @Slot()
    def _on_options_changed(self) -> None:
        self.refresh_preview()


class _SqlPage(QWizardPage):
    def __init__(self, existing: list[str]) -> None:
        super().__init__()
        self.setTitle("Database and query")
        self.setSubTitle("The URL is recorded as the version's source; the password is used once and never stored.")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("postgresql://analyst@dbhost/warehouse   or   sqlite:////data/extract.db")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("only if the database asks for one")
        self.query_edit = QPlainTextEdit()
        self.query_edit.setPlaceholderText("SELECT * FROM loans WHERE issued >= '2024-01-01'")
        self.name_box = _name_box(existing)
        self.problem_label = QLabel()
        self.problem_label.setStyleSheet(BAD)
        self.problem_label.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Database URL:", self.url_edit)
        form.addRow("Password:", self.password_edit)
        form.addRow("Query:", self.query_edit)
        form.addRow("Dataset:", self.name_box)
        form.addRow(self.problem_label)
        note = QLabel("No preview for a query: it runs once, on import. Test it with a LIMIT in your SQL tool first.")
        note.setWordWrap(True)
        form.addRow(note)
        for signal in (self.url_edit.textChanged, self.query_edit.textChanged, self.name_box.currentTextChanged):
            signal.connect(self._on_edited)

    def problem(self) -> str:
        if _PASSWORD_IN_URL.search(self.url_edit.text()):
            return "Put the password in the Password field, not in the URL: the URL is stored with the version."
        return ""

    def isComplete(self) -> bool:
        return (bool(self.url_edit.text().strip() and self.query_edit.toPlainText().strip()
                     and self.name_box.currentText().strip()) and not self.problem())

    def nextId(self) -> int:
        return PAGE_RUN

    @Slot()
    def _on_edited(self) -> None:
        self.problem_label.setText(self.problem())
        self.completeChanged.emit()


class _RunPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Import")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.message = QLabel()
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.setToolTip("Stop now; nothing half-imported is kept")
        self.result = QLabel()
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.result)
        layout.addStretch(1)
        self.done_ok = False

    def isComplete(self) -> bool:
        return self.done_ok

    def nextId(self) -> int:
        return -1


class ImportWizard(QWizard):
    """Imports one file or query into the workspace through ``service``."""

    imported = Signal(object)
    """An import finished; payload: the :class:`~core.api.ImportResult`."""

    def __init__(self, service: DatasetService, existing: list[str], publish: Publish | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a dataset")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(860, 620)
        self._service = service
        self.source_page = _SourcePage()
        self.file_page = _FilePage(existing, service)
        self.sql_page = _SqlPage(existing)
        self.run_page = _RunPage()
        for pid, page in ((PAGE_SOURCE, self.source_page), (PAGE_FILE, self.file_page), (PAGE_SQL, self.sql_page),
                          (PAGE_RUN, self.run_page)):
            self.setPage(pid, page)
        self.setStartId(PAGE_SOURCE)
        self.runner = TaskRunner(self, publish=publish)
        self.runner.progressed.connect(self._on_runner_progressed)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.cancelled.connect(self._on_runner_cancelled)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self.run_page.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.currentIdChanged.connect(self._on_current_id_changed)
        self._close_when_stopped = False

    def start_import(self) -> None:
        """Run the import the earlier pages describe (the run page calls this on entry)."""
        page = self.run_page
        page.done_ok = False
        page.result.setText("")
        page.result.setStyleSheet("")
        page.bar.setValue(0)
        page.completeChanged.emit()
        service = self._service
        if self.source_page.sql_radio.isChecked():
            url, query = self.sql_page.url_edit.text().strip(), self.sql_page.query_edit.toPlainText()
            name, password = self.sql_page.name_box.currentText().strip(), self.sql_page.password_edit.text() or None
            page.summary.setText(f"Running the query on {url} into dataset <b>{name}</b>.")

            def run_sql(ctx: TaskContext) -> Outcome[ImportResult]:
                return service.import_sql(url, query, name=name, password=password, ctx=ctx)

            self.runner.mutate(run_sql, f"Importing {name}")
        else:
            path, name = self.file_page.path(), self.file_page.name_box.currentText().strip()
            options, sheet = self.file_page.csv_options(), self.file_page.sheet()
            page.summary.setText(f"Importing <b>{path.name}</b> into dataset <b>{name}</b>.")

            def run_file(ctx: TaskContext) -> Outcome[ImportResult]:
                return service.import_file(path, name=name, csv=options, sheet=sheet, ctx=ctx)

            self.runner.mutate(run_file, f"Importing {name}")

    def reject(self) -> None:
        """Cancel a running import first; the dialog closes once it has stopped."""
        if self.runner.busy:
            self._close_when_stopped = True
            self.runner.cancel()
            return
        super().reject()

    def _stop_editing(self, busy: bool) -> None:
        self.run_page.cancel_button.setVisible(busy)
        back = self.button(QWizard.WizardButton.BackButton)
        back.setEnabled(not busy and not self.run_page.done_ok)

    @Slot(int)
    def _on_current_id_changed(self, page_id: int) -> None:
        if page_id == PAGE_RUN:
            self.start_import()
        elif self.runner.busy:  # went Back while importing: that import is abandoned
            self.runner.cancel()

    @Slot(float, str)
    def _on_runner_progressed(self, fraction: float, message: str) -> None:
        self.run_page.bar.setValue(int(fraction * 1000))
        if message:
            self.run_page.message.setText(message)

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        self.sql_page.password_edit.clear()
        value = result.value if isinstance(result, Outcome) else result
        if not isinstance(value, ImportResult):  # pragma: no cover - the service returns an Outcome
            return
        v = value.version
        page = self.run_page
        page.bar.setValue(1000)
        page.message.setText("")
        page.result.setStyleSheet("color: #1b5e20; font-weight: bold;")
        if value.new:
            text = f"✔ Imported {v.label}: {v.row_count:,} rows × {v.column_count} columns."
        else:
            text = f"✔ The same content is already {v.label}; no new version was made."
        if v.warnings:
            text += "\n⚠ " + "\n⚠ ".join(v.warnings)
        page.result.setText(text)
        page.done_ok = True
        page.completeChanged.emit()
        self._stop_editing(False)
        self.imported.emit(value)

    @Slot(object)
    def _on_runner_failed(self, error: object) -> None:
        self.sql_page.password_edit.clear()
        exc = error if isinstance(error, BaseException) else AirlockError(str(error))
        self.run_page.result.setStyleSheet(BAD + " font-weight: bold;")
        self.run_page.result.setText(f"✖ Nothing was imported.\n{error_text(exc)}\n\nGo Back to change the options.")
        self.run_page.message.setText("")

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self.run_page.result.setStyleSheet("")
        self.run_page.result.setText("Cancelled: nothing was imported. Go Back to start again.")
        self.run_page.message.setText("")
        self.run_page.bar.setValue(0)

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        self._stop_editing(busy)
        if not busy and self._close_when_stopped:
            self._close_when_stopped = False
            super().reject()

    @Slot()
    def _on_cancel_clicked(self) -> None:
        self.runner.cancel()
        self.run_page.message.setText("Cancelling…")
