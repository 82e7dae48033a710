"""Showing engine errors as message boxes a person can act on, never as tracebacks.

Every :class:`~core.errors.AirlockError` already carries a message written for the user;
this module picks a title for it. Anything else is a bug: the box says so plainly and the
details go to the log on stderr.
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtWidgets import QMessageBox, QWidget

from core import errors

log = logging.getLogger(__name__)

_TITLES: dict[type[errors.AirlockError], str] = {
    errors.WrongKey: "Wrong passphrase or key",
    errors.KeyUnavailable: "No key available",
    errors.WorkspaceInUse: "Workspace in use",
    errors.NotAWorkspace: "Not an Airlock workspace",
    errors.WorkspaceCorrupted: "Workspace damaged",
    errors.WorkspaceTooNew: "Workspace from a newer Airlock",
    errors.WorkspaceNotFound: "Workspace not found",
    errors.WorkspaceExists: "Already exists",
    errors.ReadOnlyWorkspace: "Read-only workspace",
    errors.PermissionDenied: "Permission denied",
    errors.InvalidInput: "Check your input",
    errors.IntegrityError: "Integrity problem",
    errors.BackupInvalid: "Backup not usable",
    errors.UnsafeEnvironment: "Unsafe environment",
    errors.Cancelled: "Cancelled",
}


def error_title(exc: BaseException) -> str:
    for kind in type(exc).__mro__:
        if kind in _TITLES:
            return _TITLES[kind]  # type: ignore[index]
    return "Error" if isinstance(exc, errors.AirlockError) else "Unexpected error"


def error_text(exc: BaseException) -> str:
    if isinstance(exc, errors.AirlockError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"The file system refused: {exc.strerror or exc} ({exc.filename or ''})."
    return f"Something went wrong that Airlock did not expect ({type(exc).__name__}: {exc}). Details are in the log."


def show_error(parent: QWidget | None, exc: BaseException, doing: str = "") -> None:
    """A modal warning for ``exc``; ``doing`` says what failed ("Could not back up")."""
    if not isinstance(exc, (errors.AirlockError, OSError)):
        log.error("unexpected error%s:\n%s", f" ({doing})" if doing else "",
                  "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    text = error_text(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, error_title(exc), f"{doing}\n\n{text}" if doing else text,
                      QMessageBox.StandardButton.Ok, parent)
    box.exec()
