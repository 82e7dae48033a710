"""Values of the workspace area."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.audit.models import ChainHead


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
