"""Values of the identity area: users and the roles they hold.

Imports nothing of the store, the services or the facade (values sit at the bottom).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UserRole(StrEnum):
    """What a user may do in a workspace; stored and shown by value (``"analyst"``)."""

    ANALYST = "analyst"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ANALYST = UserRole.ANALYST
REVIEWER = UserRole.REVIEWER
ADMIN = UserRole.ADMIN
ROLES: tuple[UserRole, ...] = tuple(UserRole)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    display_name: str
    roles: frozenset[UserRole]
    active: bool
    created_at: str

    def has(self, role: UserRole) -> bool:
        return self.active and role in self.roles
