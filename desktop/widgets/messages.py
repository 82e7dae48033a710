"""Showing engine errors as message boxes a person can act on, never as tracebacks.

Every :class:`~core.AirlockError` already carries a message written for the user;
this module picks a title for it. Anything else is a bug: the box says so plainly and the
details go to the log on stderr.
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from core.api import (
    AirlockError,
    BackupInvalid,
    Cancelled,
    IntegrityError,
    InvalidInput,
    KeyUnavailable,
    NotAWorkspace,
    PermissionDenied,
    ReadOnlyWorkspace,
    UnsafeEnvironment,
    WorkspaceCorrupted,
    WorkspaceExists,
    WorkspaceInUse,
    WorkspaceNotFound,
    WorkspaceTooNew,
    WrongKey,
)

log = logging.getLogger(__name__)

_TITLES: dict[type[AirlockError], str] = {
    WrongKey: "Wrong passphrase or key",
    KeyUnavailable: "No key available",
    WorkspaceInUse: "Workspace in use",
    NotAWorkspace: "Not an Airlock workspace",
    WorkspaceCorrupted: "Workspace damaged",
    WorkspaceTooNew: "Workspace from a newer Airlock",
    WorkspaceNotFound: "Workspace not found",
    WorkspaceExists: "Already exists",
    ReadOnlyWorkspace: "Read-only workspace",
    PermissionDenied: "Permission denied",
    InvalidInput: "Check your input",
    IntegrityError: "Integrity problem",
    BackupInvalid: "Backup not usable",
    UnsafeEnvironment: "Unsafe environment",
    Cancelled: "Cancelled",
}


def error_title(exc: BaseException) -> str:
    for kind in type(exc).__mro__:
        if kind in _TITLES:
            return _TITLES[kind]
    return "Error" if isinstance(exc, AirlockError) else "Unexpected error"


def error_text(exc: BaseException) -> str:
    if isinstance(exc, AirlockError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"The file system refused: {exc.strerror or exc} ({exc.filename or ''})."
    return f"Something went wrong that Airlock did not expect ({type(exc).__name__}: {exc}). Details are in the log."


def show_error(parent: QWidget | None, exc: BaseException, doing: str = "") -> None:
    """A modal warning for ``exc``; ``doing`` says what failed ("Could not back up")."""
    if not isinstance(exc, (AirlockError, OSError)):
        log.error("unexpected error%s:\n%s", f" ({doing})" if doing else "",
                  "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    text = error_text(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, error_title(exc), f"{doing}\n\n{text}" if doing else text,
                      QMessageBox.StandardButton.Ok, parent)
    box.exec()
