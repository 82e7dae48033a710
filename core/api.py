"""The engine facade: the one door the desktop and the command line use.

``Engine.create`` and ``Engine.open`` return an engine with one service per area
(``engine.workspace``, ``engine.users``, ``engine.audit``, ``engine.assessments``,
``engine.datasets``). Callers may import the value
types, the task primitives and the errors re-exported here; never the storage package.
Importing this module loads no Qt and nothing heavy.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from core.audit.models import AuditEvent, ChainHead, ChainReport
from core.audit.service import AuditService
from core.doctor import DoctorReport, run_doctor
from core.errors import AirlockError
from core.identity.models import ROLES as USER_ROLES
from core.identity.models import User
from core.identity.service import UserService, os_user
from core.outcome import Outcome
from core.store import backup as _backup
from core.store import keys as _keys
from core.store.keys import MIN_PASSPHRASE_LENGTH, Unlock
from core.store.opening import OpenedStore, create_workspace, open_store
from core.tasks import CancelToken, TaskContext
from core.workspace.models import ROLES as WORKSPACE_ROLES
from core.workspace.models import (
    BackupResult,
    BackupVerification,
    IntegrityReport,
    WorkspaceInfo,
)
from core.workspace.service import WorkspaceService

if TYPE_CHECKING:
    from core.assessment.service import AssessmentService
    from core.data.service import DatasetService


class Engine:
    """An open workspace and the services over it. Close it (or use ``with``)."""

    def __init__(self, opened: OpenedStore, actor: str | None = None) -> None:
        self._opened = opened
        self.actor = actor or os_user()
        store = opened.store
        self.path = store.path
        self.read_only = store.read_only
        self.workspace = WorkspaceService(store, opened.header, self.actor)
        self.users = UserService(store, self.actor)
        self.audit = AuditService(store, self.actor)
        self._closed = False

    # Areas whose modules pull in numpy/pyarrow are built on first use, so opening the
    # window or running a small command does not pay for them.
    @cached_property
    def assessments(self) -> AssessmentService:
        from core.assessment.service import AssessmentService

        return AssessmentService(self._opened.store, self.actor)

    @cached_property
    def datasets(self) -> DatasetService:
        from core.data.service import DatasetService

        return DatasetService(self._opened.store, self.actor)

    @classmethod
    def create(
        cls, path: Path | str, *, name: str, role: str = "dev", passphrase: str | None = None,
        use_keyring: bool | None = None, actor: str | None = None,
    ) -> tuple[Engine, str]:
        """Create a workspace and open it; returns the engine and the recovery key.

        The recovery key is shown once: it is not stored anywhere. With ``use_keyring``
        left as None the keyring is used when a safe backend works here.
        """
        if use_keyring is None:
            use_keyring = _keys.keyring_status()[0]
        actor = actor or os_user()
        created = create_workspace(
            Path(path), name=name, role=role, creator=actor, passphrase=passphrase, use_keyring=use_keyring
        )
        return cls(created.store, actor), created.recovery_key

    @classmethod
    def open(cls, path: Path | str, unlock: Unlock, *, read_only: bool = False, actor: str | None = None) -> Engine:
        """Open an existing workspace. Never creates one, whatever the keyring says."""
        return cls(open_store(Path(path), unlock, read_only=read_only), actor)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._opened.store.close()
        if self._opened.lock is not None:
            self._opened.lock.release()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def keyring_status() -> tuple[bool, str]:
    """Whether a safe OS keyring works here, and its name or why not."""
    return _keys.keyring_status()


def has_key_header(path: Path | str) -> bool:
    return _keys.header_path(Path(path).expanduser().absolute()).exists()


def header_uses_keyring(path: Path | str) -> bool:
    """Whether the workspace at ``path`` keeps its key in the keyring (False if unknown)."""
    header_file = _keys.header_path(Path(path).expanduser().absolute())
    try:
        return _keys.KeyHeader.read(header_file).keyring
    except AirlockError:
        return False


def verify_backup(path: Path | str, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Open a backup read-only with its key; check structure, page HMACs and the audit chain."""
    return _backup.verify_backup(Path(path), unlock, ctx)


def restore_backup(backup: Path | str, dest: Path | str, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Verify a backup and restore it into a new workspace file."""
    return _backup.restore_backup(Path(backup), Path(dest), unlock, ctx)


def doctor() -> DoctorReport:
    return run_doctor()


__all__ = [
    "AirlockError", "AuditEvent", "BackupResult", "BackupVerification", "CancelToken", "ChainHead",
    "ChainReport", "DoctorReport", "Engine", "MIN_PASSPHRASE_LENGTH", "IntegrityReport", "Outcome", "TaskContext", "USER_ROLES",
    "Unlock", "User", "WORKSPACE_ROLES", "WorkspaceInfo", "doctor", "has_key_header",
    "header_uses_keyring", "keyring_status", "restore_backup", "verify_backup",
]
