"""Values of the identity area."""

from __future__ import annotations

from dataclasses import dataclass

ANALYST = "analyst"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (ANALYST, REVIEWER, ADMIN)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    display_name: str
    roles: frozenset[str]
    active: bool
    created_at: str

    def has(self, role: str) -> bool:
        return self.active and role in self.roles
