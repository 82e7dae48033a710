"""Values of the workspace area: its roles, what it is, and the outcomes of checks and backups.

Plain frozen values only: this module must not open files, touch the store or import
SQLAlchemy, so every layer (store, services, CLI, desktop) can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from core.audit.models import ChainHead, ChainReport


class WorkspaceRole(StrEnum):
    """What a workspace is for; promotion moves work dev → qa → prod."""

    DEV = "dev"
    QA = "qa"
    PROD = "prod"


#: The role names, in promotion order (for argument choices and messages).
ROLES: tuple[str, ...] = tuple(role.value for role in WorkspaceRole)


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: str
    name: str
    role: str
    path: Path
    size_bytes: int
    created_at: str
    created_by: str
    app_version: str
    users: int
    audit_events: int
    audit_head: ChainHead
    blobs: int
    blob_bytes: int
    last_backup_at: str | None
    last_backup_path: str | None
    keyring: bool
    passphrase: bool
    read_only: bool


@dataclass(frozen=True, slots=True)
class HeadAnchor:
    """The live audit log compared with the head a backup's header recorded.

    The live log must hold the backup's head entry with the same hash, so it only grew since.
    ``compared`` is False where there was nothing to compare with (no such file, another
    workspace's backup); ``authenticated`` is None for backups made before headers had a MAC.
    """

    source: str
    compared: bool
    ok: bool
    detail: str
    head: ChainHead | None = None
    authenticated: bool | None = None


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """Structure, page authentication and audit-chain findings of one check."""

    ok: bool
    integrity: str
    cipher_integrity: str
    chain: ChainReport
    anchor: HeadAnchor | None = None

    def describe(self) -> str:
        parts = [
            f"Database structure: {self.integrity}.",
            f"Page authentication: {self.cipher_integrity}.",
            self.chain.describe(),
        ]
        if self.anchor is not None:
            parts.append(self.anchor.detail)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A backup that was written and verified before it appeared under its name."""

    path: Path
    size: int
    taken_at: str
    audit_head: ChainHead
    report: IntegrityReport


@dataclass(frozen=True, slots=True)
class BackupVerification:
    """What checking a backup found, beside the head its header recorded at backup time."""

    path: Path
    workspace_id: str
    taken_at: str
    recorded_head: ChainHead | None
    report: IntegrityReport
    #: Whether the header's metadata carries a valid MAC; None for backups made before that.
    head_authenticated: bool | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok and (self.recorded_head is None or self.report.chain.head == self.recorded_head)


@dataclass(frozen=True, slots=True)
class WorkspaceRecord:
    """What the workspace's own record says about it (the store's part of :class:`WorkspaceInfo`)."""

    id: str
    name: str
    role: str
    created_at: str
    created_by: str
    app_version: str
    audit_head: ChainHead
    last_backup_at: str | None
    last_backup_path: str | None
