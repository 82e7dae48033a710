"""Backups: make one now, see the last one, verify a backup file, restore one into a new file.

Every action runs through the page's task runner (progress and Cancel in the status bar).
A backup opens with the same passphrase, keyring entry or recovery key as its workspace;
verifying or restoring asks for it. The engine does the work and the checks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QFileDialog, QGridLayout, QLabel, QPushButton, QWidget

from core.api import BackupResult, BackupVerification, Change, Outcome, TaskContext
from desktop.bus import EventBus
from desktop.dialogs import WORKSPACE_FILTER
from desktop.pages.base import BAD_STYLE, NOTE_STYLE, OK_STYLE, Page
from desktop.pages.workspace import backup_warning, human_size, short_time

if TYPE_CHECKING:
    from core.api import Unlock


def _describe(result: object) -> tuple[bool, str]:
    """A verdict and a sentence for a BackupResult or BackupVerification."""
    path = getattr(result, "path", "")
    report = getattr(result, "report", None)
    detail = report.describe() if report is not None else ""
    if hasattr(result, "size"):  # BackupResult: verified before it appeared under its name
        head = getattr(result, "audit_head", None)
        return True, (f"✔ Backup written to {path} ({human_size(int(getattr(result, 'size', 0)))}, "
                      f"audit head #{head.seq if head else '?'}) and verified. {detail}")
    ok = bool(getattr(result, "ok", False))
    taken = getattr(result, "taken_at", "")
    when = f" taken {short_time(taken)}" if taken else ""
    if ok:
        return True, f"✔ {path} is a sound backup{when}. {detail}"
    return False, f"✖ {path} failed verification{when}. {detail}"


class BackupPage(Page):
    name = "backup"
    title = "Backups"
    watches = frozenset({Change.BACKUPS, Change.WORKSPACE})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        intro = QLabel(
            "A backup is a complete encrypted copy of this workspace, checked right after it is "
            "written. It opens with the same passphrase, keyring entry or recovery key. Keep "
            "backups on another disk."
        )
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        self.last = QLabel()
        self.last.setWordWrap(True)
        self.last.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.last)
        self.warning = QLabel()
        self.warning.setStyleSheet(NOTE_STYLE + " font-weight: bold;")
        self.warning.setWordWrap(True)
        self.layout_.addWidget(self.warning)

        self.backup_button = QPushButton("Back up now…")
        self.backup_button.clicked.connect(self._on_backup_clicked)
        self.verify_button = QPushButton("Verify a backup…")
        self.verify_button.clicked.connect(self._on_verify_clicked)
        self.restore_button = QPushButton("Restore a backup into a new file…")
        self.restore_button.clicked.connect(self._on_restore_clicked)
        grid = QGridLayout()
        for row, (button, help_text) in enumerate((
            (self.backup_button, "Write a verified copy of this workspace to a new file."),
            (self.verify_button, "Check that a backup file opens and that nothing in it was altered."),
            (self.restore_button, "Copy a backup into a new workspace file; this workspace is not touched."),
        )):
            grid.addWidget(button, row, 0)
            grid.addWidget(QLabel(help_text), row, 1)
        grid.setColumnStretch(1, 1)
        self.layout_.addLayout(grid)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(self.result)
        self.layout_.addStretch(1)
        self._restored_to: Path | None = None
        self.runner().finished.connect(self._on_runner_finished)
        self.runner().cancelled.connect(self._on_runner_cancelled)
        self.runner().busy_changed.connect(self._on_runner_busy_changed)

    def reload(self) -> None:
        if self.engine is None:
            return
        info = self.engine.workspace.info()
        if info.last_backup_at:
            self.last.setText(f"Last backup: <b>{short_time(info.last_backup_at)}</b> to {info.last_backup_path}")
        else:
            self.last.setText("Last backup: <b>never</b>")
        warning = backup_warning(info.last_backup_at)
        self.warning.setText(f"⚠ {warning}" if warning else "")
        self.warning.setVisible(bool(warning))
        self._on_runner_busy_changed(self.runner().busy)

    def suggested_backup_path(self) -> Path:
        assert self.engine is not None
        info = self.engine.workspace.info()
        folder = Path(info.last_backup_path).parent if info.last_backup_path else info.path.parent
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        return folder / f"{info.path.stem}-backup-{stamp}.airlock"

    def back_up_to(self, dest: Path) -> None:
        if self.engine is None:
            return
        workspace = self.engine.workspace

        def back_up(ctx: TaskContext) -> Outcome[BackupResult]:
            return workspace.backup(dest, ctx)

        self._starting("Backing up the workspace")
        self.mutate(back_up, "Backing up the workspace", "The backup was not made.")

    def verify_file(self, backup: Path, unlock: Unlock) -> None:
        from core.api import verify_backup

        def verify(ctx: TaskContext) -> BackupVerification:
            return verify_backup(backup, unlock, ctx)

        self._starting(f"Verifying {backup.name}")
        self.query(verify, f"Verifying {backup.name}", f"{backup.name} could not be verified.")

    def restore_file(self, backup: Path, dest: Path, unlock: Unlock) -> None:
        from core.api import restore_backup

        def restore(ctx: TaskContext) -> BackupVerification:  # writes a new file, not this workspace
            return restore_backup(backup, dest, unlock, ctx)

        self._restored_to = dest
        self._starting(f"Restoring {backup.name}")
        self.query(restore, f"Restoring {backup.name}", f"{backup.name} was not restored.")

    def _starting(self, description: str) -> None:
        self.result.setStyleSheet("")
        self.result.setText(description + "…")

    def _choose_backup(self, title: str) -> Path | None:
        start = str(self.engine.workspace.info().path.parent) if self.engine else ""
        chosen, _ = QFileDialog.getOpenFileName(self, title, start, WORKSPACE_FILTER)
        return Path(chosen) if chosen else None

    def _ask_unlock(self, backup: Path) -> Unlock | None:
        from desktop.opening import ask_unlock

        return ask_unlock(self, backup, purpose="Unlock backup",
                          note="The backup opens with its workspace's passphrase or recovery key.")

    @Slot()
    def _on_backup_clicked(self) -> None:
        suggested = self.suggested_backup_path()
        chosen, _ = QFileDialog.getSaveFileName(self, "Back up to", str(suggested), WORKSPACE_FILTER)
        if chosen:
            dest = Path(chosen)
            self.back_up_to(dest if dest.suffix == ".airlock" else dest.with_name(dest.name + ".airlock"))

    @Slot()
    def _on_verify_clicked(self) -> None:
        backup = self._choose_backup("Backup to verify")
        unlock = self._ask_unlock(backup) if backup else None
        if backup and unlock:
            self.verify_file(backup, unlock)

    @Slot()
    def _on_restore_clicked(self) -> None:
        backup = self._choose_backup("Backup to restore")
        if backup is None:
            return
        suggested = backup.with_name(f"{backup.stem}-restored.airlock")
        chosen, _ = QFileDialog.getSaveFileName(self, "Restore into new file", str(suggested), WORKSPACE_FILTER)
        unlock = self._ask_unlock(backup) if chosen else None
        if chosen and unlock:
            self.restore_file(backup, Path(chosen), unlock)

    @Slot(object)
    def _on_runner_finished(self, result: object) -> None:
        payload = getattr(result, "value", result)  # a backup comes wrapped in an Outcome
        ok, text = _describe(payload)
        if ok and self._restored_to is not None and not hasattr(payload, "size"):
            text += f"\nRestored into {self._restored_to}. Open it from File ▸ Open workspace…"
        self._restored_to = None
        self.result.setStyleSheet(OK_STYLE if ok else BAD_STYLE)
        self.result.setText(text)

    @Slot()
    def _on_runner_cancelled(self) -> None:
        self._restored_to = None
        self.result.setStyleSheet("")
        self.result.setText("Cancelled; no file was left behind.")

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        if not busy and self.result.text().endswith("…"):
            self.result.setText("")
        self.backup_button.setEnabled(not busy and self.writable)
        self.backup_button.setToolTip("" if self.writable else "The workspace is open read-only")
        self.verify_button.setEnabled(not busy)
        self.restore_button.setEnabled(not busy)
