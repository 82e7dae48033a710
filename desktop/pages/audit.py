"""The audit log: paged, filterable, with a chain verification that says where it breaks.

Pages of :data:`PAGE_SIZE` events, newest first, come from ``engine.audit.events``; the
filters are the engine's own (action prefix, exact actor, text). Details read as
``key: value`` text (the Details column on one line, the pane under the table one line per
key for the selected entry), never as raw JSON. "Verify chain" runs
``engine.audit.verify`` through the task runner and shows the verdict prominently.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QWidget,
)

from core.api import AuditEvent, ChainReport, Change
from desktop.bus import EventBus
from desktop.pages.base import BAD_STYLE, OK_STYLE, Page
from desktop.pages.workspace import short_time
from desktop.widgets.table_model import Column, TableModel, sorting_proxy

PAGE_SIZE = 100
ACTION_PREFIXES = ("", "workspace.", "user.", "assessment.")


def _value(value: Any) -> str:
    """One detail value as people read it: lists joined, nothing for null, no JSON quoting."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _label(key: str) -> str:
    return key.replace("_", " ")


def details_lines(details: dict[str, Any] | None, indent: str = "") -> list[str]:
    """``key: value`` lines, keys sorted; a nested object's keys indented under its own."""
    lines: list[str] = []
    for key in sorted(details or {}):
        value = (details or {})[key]
        if isinstance(value, dict):
            lines.append(f"{indent}{_label(key)}:" + ("" if value else " none"))
            lines += details_lines(value, indent + "    ")
        else:
            lines.append(f"{indent}{_label(key)}: {_value(value)}")
    return lines


def details_text(event: AuditEvent) -> str:
    """The details on one line, for the table: ``level: 2 · question: security.backup``."""
    parts = []
    for key in sorted(event.details or {}):
        value = event.details[key]
        if isinstance(value, dict):
            inner = ", ".join(f"{_label(k)} {_value(v)}" for k, v in sorted(value.items()))
            parts.append(f"{_label(key)}: {inner or 'none'}")
        else:
            parts.append(f"{_label(key)}: {_value(value)}")
    return " · ".join(parts)


COLUMNS = (
    Column("#", lambda e: e.seq, align_right=True),
    Column("When", lambda e: e.at, fmt=short_time, tooltip=lambda e: e.at),
    Column("Who", lambda e: e.actor),
    Column("Action", lambda e: e.action),
    Column("Subject", lambda e: e.subject),
    Column("Details", details_text, tooltip=lambda e: "\n".join(details_lines(e.details))),
)


class AuditPage(Page):
    name = "audit"
    title = "Audit log"
    watches = frozenset({Change.AUDIT})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.offset = 0
        self.total = 0
        self.action_combo = QComboBox()
        self.action_combo.setEditable(True)
        self.action_combo.addItems(list(ACTION_PREFIXES))
        self.action_combo.setToolTip("Actions starting with this (e.g. user. for every user event)")
        line = self.action_combo.lineEdit()
        if line is not None:  # editable, so there is one
            line.setPlaceholderText("any action")
        self.actor_edit = QLineEdit()
        self.actor_edit.setPlaceholderText("any user")
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("text in action, subject or details")
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self._on_clear_clicked)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Action:"))
        filters.addWidget(self.action_combo, 1)
        filters.addWidget(QLabel("User:"))
        filters.addWidget(self.actor_edit, 1)
        filters.addWidget(QLabel("Text:"))
        filters.addWidget(self.text_edit, 2)
        filters.addWidget(self.clear_button)
        self.layout_.addLayout(filters)
        # Typing refilters after a short pause, not on every keystroke.
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.action_combo.currentTextChanged.connect(self._on_filter_edited)
        self.actor_edit.textChanged.connect(self._on_filter_edited)
        self.text_edit.textChanged.connect(self._on_filter_edited)

        self.model = TableModel(COLUMNS, self)
        self.proxy = sorting_proxy(self.model, self)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.layout_.addWidget(self.table, 1)
        self.details = QLabel("Select an entry to read its details.")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)  # details hold user text: never markup
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet("background: palette(base); border: 1px solid palette(mid); padding: 6px;")
        self.details.setMinimumHeight(60)
        self.layout_.addWidget(self.details)
        selection = self.table.selectionModel()
        if selection is not None:
            selection.currentRowChanged.connect(self._on_table_current_changed)

        self.prev_button = QPushButton("◀ Newer")
        self.prev_button.clicked.connect(self._on_prev_clicked)
        self.next_button = QPushButton("Older ▶")
        self.next_button.clicked.connect(self._on_next_clicked)
        self.range_label = QLabel()
        self.verify_button = QPushButton("Verify chain")
        self.verify_button.setToolTip("Recompute every entry's hash link; any edit or deletion shows up")
        self.verify_button.clicked.connect(self._on_verify_clicked)
        paging = QHBoxLayout()
        paging.addWidget(self.prev_button)
        paging.addWidget(self.range_label)
        paging.addWidget(self.next_button)
        paging.addStretch(1)
        paging.addWidget(self.verify_button)
        self.layout_.addLayout(paging)
        self.verdict = QLabel("The chain has not been verified in this session.")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.verdict)
        self.runner().finished.connect(self._on_runner_finished)
        self.runner().cancelled.connect(self._on_runner_cancelled)
        self.runner().busy_changed.connect(self._on_runner_busy_changed)

    def filters(self) -> dict[str, str | None]:
        return {
            "action": self.action_combo.currentText().strip() or None,
            "actor": self.actor_edit.text().strip() or None,
            "text": self.text_edit.text().strip() or None,
        }

    def reload(self) -> None:
        if self.engine is None:
            return
        events, self.total = self.engine.audit.events(limit=PAGE_SIZE, offset=self.offset, **self.filters())
        if not events and self.offset > 0:  # the filter shrank the list below this page
            self.offset = 0
            events, self.total = self.engine.audit.events(limit=PAGE_SIZE, offset=0, **self.filters())
        self.model.set_rows(events)
        self.show_details(None)  # the selection went with the old rows
        if self.total == 0:
            self.range_label.setText("No entries match." if any(self.filters().values()) else "No entries.")
        else:
            self.range_label.setText(
                f"Entries {self.offset + 1}–{self.offset + len(events)} of {self.total} (newest first)"
            )
        self.prev_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + PAGE_SIZE < self.total)

    def show_details(self, event: AuditEvent | None) -> None:
        """The selected entry in the pane under the table, one ``key: value`` per line."""
        if event is None:
            self.details.setText("Select an entry to read its details.")
            return
        head = f"#{event.seq} · {event.at} · {event.actor} · {event.action} · {event.subject}"
        lines = details_lines(event.details) or ["(no details)"]
        self.details.setText("\n".join([head, *lines]))

    def verify(self) -> None:
        if self.engine is None:
            return
        self.verdict.setStyleSheet("")
        self.verdict.setText("Verifying…")
        self.query(self.engine.audit.verify, "Verifying the audit chain", "The audit chain could not be verified.")

    def show_report(self, report: ChainReport) -> None:
        if report.ok:
            self.verdict.setStyleSheet(OK_STYLE + " font-size: 13pt;")
            self.verdict.setText(f"✔ Intact — {report.describe()}")
        else:
            self.verdict.setStyleSheet(BAD_STYLE + " font-size: 13pt;")
            self.verdict.setText(
                f"✖ Broken at #{report.first_bad_seq}: {report.problem}\n"
                "Entries from there on cannot be trusted. Compare with a backup and report it to your admin."
            )

    @Slot(QModelIndex, QModelIndex)
    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.proxy.mapToSource(current).row() if current.isValid() else -1
        self.show_details(self.model.row_object(row) if row >= 0 else None)

    @Slot()
    def _on_filter_edited(self) -> None:
        self._debounce.start()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        self.offset = 0
        self.reload()

    @Slot()
    def _on_clear_clicked(self) -> None:
        for widget in (self.actor_edit, self.text_edit):
            widget.blockSignals(True)
            widget.clear()
            widget.blockSignals(False)
        self.action_combo.setCurrentText("")
        self._on_debounce_timeout()

    @Slot()
    def _on_prev_clicked(self) -> None:
        self.offset = max(0, self.offset - PAGE_SIZE)
        self.reload()

    @Slot()
    def _on_next_clicked(self) -> None:
        self.offset += PAGE_SIZE
        self.reload()

    @Slot()
    def _on_verify_clicked(self) -> None:
        self.verify()

    @Slot(object)
    def _on_runner_finished(self, report: object) -> None:
        if isinstance(report, ChainReport):
            self.show_report(report)

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self.verdict.setStyleSheet("")
        self.verdict.setText("Verification cancelled.")

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        self.verify_button.setEnabled(not busy)
        if not busy and self.verdict.text() == "Verifying…":
            self.verdict.setText("")
