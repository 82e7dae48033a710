"""What a mutation returns: its value and the names of the areas it changed.

The desktop re-broadcasts ``changes`` on one bus and each page reloads only what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

WORKSPACE = "workspace"
USERS = "users"
AUDIT = "audit"
BACKUPS = "backups"


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    value: T
    changes: frozenset[str]
