"""Creating and unlocking workspaces from the desktop, with errors as plain messages.

Unlocking order for a workspace: the OS keyring when its key header says so and a safe
keyring works here; then the ``AIRLOCK_PASSPHRASE`` environment variable; then the unlock
dialog (passphrase or recovery key), repeated on a wrong key. A workspace open elsewhere
offers to open read-only instead. The store (SQLAlchemy underneath) loads only when a
workspace is opened, so the window can appear before it does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from core.api import (
    AirlockError,
    InvalidInput,
    KeyUnavailable,
    WorkspaceInUse,
    WorkspaceNotFound,
    WrongKey,
)
from desktop.dialogs import CreateWorkspaceDialog, RecoveryKeyDialog, UnlockDialog
from desktop.widgets.messages import show_error

if TYPE_CHECKING:
    from core.api import Engine, Unlock

PASSPHRASE_ENV = "AIRLOCK_PASSPHRASE"


class _WaitCursor:
    def __enter__(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *exc: object) -> None:
        QGuiApplication.restoreOverrideCursor()


def automatic_unlocks(path: Path) -> list[tuple[Unlock, str]]:
    """Ways to unlock ``path`` without asking, each with a name for messages."""
    from core.api import Unlock, header_uses_keyring, keyring_status

    found: list[tuple[Unlock, str]] = []
    if header_uses_keyring(path) and keyring_status()[0]:
        found.append((Unlock.with_keyring(), "the OS keyring"))
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        found.append((Unlock.with_passphrase(passphrase), PASSPHRASE_ENV))
    return found


def ask_unlock(parent: QWidget | None, path: Path, *, note: str = "", purpose: str = "Open") -> Unlock | None:
    """The key for ``path`` (a workspace or a backup): automatic if possible, else asked."""
    from core.api import Unlock

    automatic = automatic_unlocks(path)
    if automatic:
        return automatic[0][0]
    dialog = UnlockDialog(path, parent, note=note, purpose=purpose)
    if dialog.exec() != UnlockDialog.DialogCode.Accepted:
        return None
    secret = dialog.secret()
    return Unlock.with_recovery_key(secret) if dialog.uses_recovery_key else Unlock.with_passphrase(secret)


def _offer_read_only(parent: QWidget | None, exc: WorkspaceInUse) -> bool:
    where = f" by process {exc.pid} on {exc.host}" if exc.host else ""
    answer = QMessageBox.question(
        parent, "Workspace in use",
        f"This workspace is open for changes elsewhere{where}.\n\n{exc}\n\n"
        "Open it read-only? You can look at everything but change nothing.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _try_open(parent: QWidget | None, path: Path, unlock: Unlock, read_only: bool) -> Engine | None:
    """Open once; a wrong key propagates, the in-use case may retry read-only, others show."""
    from core.api import Engine

    try:
        with _WaitCursor():
            return Engine.open(path, unlock, read_only=read_only)
    except WorkspaceInUse as exc:
        if not read_only and _offer_read_only(parent, exc):
            return _try_open(parent, path, unlock, True)
        return None


def open_workspace(parent: QWidget | None, path: Path | str, *, read_only: bool = False) -> Engine | None:
    """Unlock and open ``path``; None when the user gave up or an error was shown."""
    from core.api import Unlock

    path = Path(path).expanduser().absolute()
    if not path.exists():
        show_error(parent, WorkspaceNotFound(f"There is no file at {path}."), "Could not open the workspace.")
        return None
    note = ""
    try:
        for unlock, source in automatic_unlocks(path):
            try:
                return _try_open(parent, path, unlock, read_only)
            except (WrongKey, KeyUnavailable) as exc:
                note = f"{source} did not open it: {exc}"
        dialog = UnlockDialog(path, parent, note=note)
        while dialog.exec() == UnlockDialog.DialogCode.Accepted:
            secret = dialog.secret()
            unlock = Unlock.with_recovery_key(secret) if dialog.uses_recovery_key else Unlock.with_passphrase(secret)
            try:
                return _try_open(parent, path, unlock, read_only)
            except (WrongKey, KeyUnavailable, InvalidInput) as exc:
                dialog.show_error(str(exc))
        return None
    except AirlockError as exc:
        show_error(parent, exc, f"Could not open {path.name}.")
        return None


def create_workspace(parent: QWidget | None) -> Engine | None:
    """Ask for the new workspace's details, create it and show its recovery key once."""
    from core.api import Engine, keyring_status

    keyring_ok, why = keyring_status()
    dialog = CreateWorkspaceDialog(parent, keyring_ok=keyring_ok, keyring_why=why)
    while dialog.exec() == CreateWorkspaceDialog.DialogCode.Accepted:
        try:
            with _WaitCursor():
                engine, recovery_key = Engine.create(
                    dialog.path, name=dialog.name, role=dialog.role,
                    passphrase=dialog.passphrase, use_keyring=dialog.use_keyring,
                )
        except AirlockError as exc:
            dialog.show_error(str(exc))
            continue
        RecoveryKeyDialog(recovery_key, parent).exec()
        return engine
    return None
