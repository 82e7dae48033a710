"""The workspace overview: what it is, how big, last backup, audit head, integrity check.

Shows :class:`~core.api.WorkspaceInfo`; "Check integrity" runs ``engine.workspace.check``
through the page's task runner; "Change passphrase…" asks for a new one and runs the
change on the write pool. No other feature logic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from core.api import Change, Outcome, TaskContext
from desktop.bus import EventBus
from desktop.dialogs import ChangePassphraseDialog
from desktop.pages.base import BAD_STYLE, NOTE_STYLE, OK_STYLE, Page

BACKUP_WARNING_AGE = timedelta(days=7)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - loop returns at GiB


def short_time(iso: str) -> str:
    """An ISO UTC timestamp as local "2025-01-31 14:05"."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def backup_warning(last_backup_at: str | None, now: datetime | None = None) -> str:
    """Why the user should back up now, or "" when the last backup is recent."""
    if not last_backup_at:
        return "Never backed up. Make a backup and keep it on another disk."
    now = now or datetime.now(UTC)
    try:
        age = now - datetime.fromisoformat(last_backup_at)
    except ValueError:
        return ""
    if age > BACKUP_WARNING_AGE:
        return f"The last backup is {age.days} days old. Make a new one."
    return ""


class WorkspacePage(Page):
    name = "workspace"
    title = "Workspace"
    watches = frozenset({Change.WORKSPACE, Change.USERS, Change.AUDIT, Change.BACKUPS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for key, label in (
            ("name", "Name"), ("role", "Role"), ("path", "File"), ("size", "Size"),
            ("key", "Unlocked by"), ("created", "Created"), ("users", "Users"),
            ("audit", "Audit entries"), ("blobs", "Stored objects"), ("backup", "Last backup"),
            ("head", "Audit head"),
        ):
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.fields[key] = value
            form.addRow(f"{label}:", value)
        self.layout_.addLayout(form)
        self.backup_warning = QLabel()
        self.backup_warning.setStyleSheet(NOTE_STYLE + " font-weight: bold;")
        self.backup_warning.setWordWrap(True)
        self.layout_.addWidget(self.backup_warning)

        self.check_button = QPushButton("Check integrity")
        self.check_button.setToolTip("Check the database structure, every page's authentication code and the audit chain")
        self.check_button.clicked.connect(self._on_check_clicked)
        self.passphrase_button = QPushButton("Change passphrase…")
        self.passphrase_button.clicked.connect(self._on_passphrase_clicked)
        row = QHBoxLayout()
        row.addWidget(self.check_button)
        row.addWidget(self.passphrase_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.result)
        self.layout_.addStretch(1)
        self.runner().finished.connect(self._on_runner_finished)
        self.runner().cancelled.connect(self._on_runner_cancelled)
        self.runner().busy_changed.connect(self._on_runner_busy_changed)

    def reload(self) -> None:
        if self.engine is None:
            return
        info = self.engine.workspace.info()
        read_only = "  (opened read-only)" if info.read_only else ""
        ways = [w for w, on in (("OS keyring", info.keyring), ("passphrase", info.passphrase)) if on]
        self.fields["name"].setText(f"<b>{info.name}</b>")
        self.fields["role"].setText(f"{info.role}{read_only}")
        self.fields["path"].setText(str(info.path))
        self.fields["size"].setText(human_size(info.size_bytes))
        self.fields["key"].setText(" or ".join(ways) + " (or the recovery key)" if ways else "recovery key only")
        self.fields["created"].setText(f"{short_time(info.created_at)} by {info.created_by} (Airlock {info.app_version})")
        self.fields["users"].setText(str(info.users))
        self.fields["audit"].setText(str(info.audit_events))
        self.fields["blobs"].setText(f"{info.blobs} ({human_size(info.blob_bytes)})")
        self.fields["backup"].setText(
            f"{short_time(info.last_backup_at)} → {info.last_backup_path}" if info.last_backup_at else "never"
        )
        self.fields["head"].setText(f"#{info.audit_head.seq}  {info.audit_head.hash[:16]}…")
        self.fields["head"].setToolTip(info.audit_head.hash)
        warning = backup_warning(info.last_backup_at)
        self.backup_warning.setText(f"⚠ {warning}" if warning else "")
        self.backup_warning.setVisible(bool(warning))
        self._on_runner_busy_changed(self.runner().busy)

    def check_integrity(self) -> None:
        if self.engine is None:
            return
        workspace = self.engine.workspace
        self.result.setStyleSheet("")
        self.result.setText("Checking…")
        self.query(workspace.check, "Checking the workspace", "The integrity check could not run.")

    def change_passphrase(self, passphrase: str) -> None:
        if self.engine is None:
            return
        workspace = self.engine.workspace

        def change(ctx: TaskContext) -> Outcome[None]:
            return workspace.change_passphrase(passphrase)

        self.result.setStyleSheet("")
        self.result.setText("Changing the passphrase…")
        self.mutate(change, "Changing the passphrase", "The passphrase was not changed.")

    @Slot()
    def _on_check_clicked(self) -> None:
        self.check_integrity()

    @Slot()
    def _on_passphrase_clicked(self) -> None:
        dialog = ChangePassphraseDialog(self)
        if dialog.exec() == ChangePassphraseDialog.DialogCode.Accepted:
            self.change_passphrase(dialog.passphrase)

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        describe = getattr(result, "describe", None)
        if callable(describe):  # an IntegrityReport
            ok = bool(getattr(result, "ok", False))
            self.result.setStyleSheet(OK_STYLE if ok else BAD_STYLE)
            verdict = "✔ Workspace intact." if ok else "✖ Problems found."
            self.result.setText(f"{verdict} {describe()}")
        else:
            self.result.setStyleSheet(OK_STYLE)
            self.result.setText("✔ Passphrase changed. Use the new one from now on.")

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self.result.setStyleSheet("")
        self.result.setText("Cancelled.")

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        if not busy and self.result.text().endswith("…"):
            self.result.setText("")  # the task failed; its message box said why
        self.check_button.setEnabled(not busy and self.engine is not None)
        self.passphrase_button.setEnabled(not busy and self.writable)
        self.passphrase_button.setToolTip("" if self.writable else "The workspace is open read-only")
