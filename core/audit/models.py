"""Values of the audit area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest entry of a chain: carried outside the store so a reader can check growth."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of verifying a chain. ``first_bad_seq`` names where it breaks."""

    ok: bool
    checked: int
    head: ChainHead
    first_bad_seq: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"Audit chain intact: {self.checked} entries, head #{self.head.seq} {self.head.hash[:12]}."
        if self.first_bad_seq is None:
            return f"Audit chain could not be verified: {self.problem}"
        return f"Audit chain broken at entry #{self.first_bad_seq}: {self.problem}"
