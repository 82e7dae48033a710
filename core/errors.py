"""The errors a user can act on.

Every error the engine raises on purpose derives from :class:`AirlockError` and carries a
message written for the person at the keyboard: what was wrong, where, and what to do.
The command line prints the message without a traceback; the desktop shows it in a dialog.
"""

from __future__ import annotations


class AirlockError(Exception):
    """Base of all errors raised on purpose by the engine."""

    #: Short machine-readable code, stable across versions (used by ``--json``).
    code = "error"


class WorkspaceNotFound(AirlockError):
    code = "workspace_not_found"


class WorkspaceExists(AirlockError):
    code = "workspace_exists"


class NotAWorkspace(AirlockError):
    """The file is not an Airlock workspace (plain SQLite, random bytes, empty)."""

    code = "not_a_workspace"


class WrongKey(AirlockError):
    """The passphrase, recovery key or keyring entry does not open this workspace."""

    code = "wrong_key"


class KeyUnavailable(AirlockError):
    """No key could be obtained (no keyring entry, no passphrase given)."""

    code = "key_unavailable"


class WorkspaceCorrupted(AirlockError):
    code = "workspace_corrupted"


class WorkspaceInUse(AirlockError):
    """Another process holds the workspace open for writing."""

    code = "workspace_in_use"

    def __init__(self, message: str, host: str = "", pid: int = 0) -> None:
        super().__init__(message)
        self.host = host
        self.pid = pid


class WorkspaceTooNew(AirlockError):
    """The workspace was written by a newer Airlock; this version must not touch it."""

    code = "workspace_too_new"


class ReadOnlyWorkspace(AirlockError):
    code = "read_only"


class UnsafeEnvironment(AirlockError):
    """The runtime cannot guarantee encryption (plain SQLite driver, unsafe keyring)."""

    code = "unsafe_environment"


class PermissionDenied(AirlockError):
    code = "permission_denied"


class NotFound(AirlockError):
    code = "not_found"


class InvalidInput(AirlockError):
    code = "invalid_input"


class IntegrityError(AirlockError):
    """Stored content does not match its hash, or a check found damage."""

    code = "integrity"


class BackupInvalid(AirlockError):
    code = "backup_invalid"


class Cancelled(AirlockError):
    """A long task stopped because the user asked it to."""

    code = "cancelled"


class UnknownFormat(AirlockError):
    """A stored or received record is in a ``format_version`` this Airlock does not read."""

    code = "unknown_format"

    def __init__(self, message: str, *, kind: str = "", found: int = 0, readable: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.found = found
        self.readable = readable


class MalformedRecord(AirlockError):
    """A record's bytes are not JSON, not the expected kind, or a field does not fit."""

    code = "malformed_record"


class DiskFull(AirlockError):
    """The disk (or the file system's quota) is full: nothing is damaged, nothing more fits."""

    code = "disk_full"
