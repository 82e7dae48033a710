"""Users and roles of a workspace. The OS user is the default identity."""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterable

from core import outcome
from core.errors import InvalidInput, PermissionDenied, WorkspaceExists
from core.identity.models import ADMIN, ROLES, User, UserRole
from core.outcome import Change, Outcome, mutation, query
from core.store import identity_repo
from core.store.db import Store, Transaction

_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): still an identity, clearly marked
        return "unknown-user"


def check_roles(roles: Iterable[str]) -> frozenset[UserRole]:
    """``roles`` as :class:`UserRole` members; unknown names and an empty set are refused."""
    names = set(roles)
    unknown = names - set(ROLES)
    if unknown:
        raise InvalidInput(f"Unknown role {sorted(unknown)[0]!r}; roles are {', '.join(ROLES)}.")
    if not names:
        raise InvalidInput("A user needs at least one role.")
    return frozenset(UserRole(name) for name in names)


def require_member(tx: Transaction, doing: str) -> User:
    """The acting user, if they are an active member; otherwise a clear refusal."""
    user = identity_repo.get_user(tx, tx.actor)
    if user is None or not user.active:
        raise PermissionDenied(f"{tx.actor!r} is not an active user of this workspace, so cannot {doing}.")
    return user


def require_role(tx: Transaction, role: UserRole, doing: str) -> User:
    """The acting user, if they hold ``role``; otherwise a clear refusal."""
    user = identity_repo.get_user(tx, tx.actor)
    if user is None:
        raise PermissionDenied(f"{tx.actor!r} is not a user of this workspace, so cannot {doing}.")
    if not user.has(role) and not user.has(ADMIN):
        raise PermissionDenied(f"{tx.actor!r} needs the {role} role to {doing}.")
    return user


class UserService:
    """Who may use this workspace, with which roles (analyst, reviewer, admin)."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    @property
    def current_name(self) -> str:
        return self._actor

    @query
    def current(self) -> User | None:
        """The acting user's record, or None when the OS user is not a member."""
        with self._store.read(self._actor) as tx:
            return identity_repo.get_user(tx, self._actor)

    @query
    def list(self) -> list[User]:
        """All users, sorted by name."""
        with self._store.read(self._actor) as tx:
            return identity_repo.list_users(tx)

    @mutation
    def add(self, name: str, roles: Iterable[str], display_name: str = "") -> Outcome[User]:
        """Add a user with roles; only an admin may. Audited.

        Raises
        ------
        PermissionDenied
            The acting user is not an admin.
        WorkspaceExists
            A user of that name exists.
        """
        if not _NAME.match(name):
            raise InvalidInput(f"User name {name!r} may hold letters, digits and . _ @ - only (1–64).")
        wanted = check_roles(roles)
        with self._store.write(self._actor) as tx:
            require_role(tx, ADMIN, "add users")
            if identity_repo.get_user(tx, name) is not None:
                raise WorkspaceExists(f"User {name!r} already exists.")
            user = identity_repo.add_user(tx, name, display_name or name, wanted)
            tx.audit("user.added", f"user:{name}", {"roles": sorted(wanted)})
        return Outcome(user, outcome.changes(Change.USERS))

    @mutation
    def set_roles(self, name: str, roles: Iterable[str]) -> Outcome[User]:
        """Replace a user's roles; only an admin may, and the last admin cannot drop admin."""
        wanted = check_roles(roles)
        with self._store.write(self._actor) as tx:
            require_role(tx, ADMIN, "change roles")
            before = identity_repo.get_user(tx, name)
            if before is None:
                raise InvalidInput(f"No user {name!r} in this workspace.")
            if before.has(ADMIN) and ADMIN not in wanted:
                others = [u for u in identity_repo.list_users(tx) if u.has(ADMIN) and u.name != name]
                if not others:
                    raise InvalidInput(f"{name!r} is the last admin; make someone else admin first.")
            user = identity_repo.set_user(tx, name, roles=wanted)
            tx.audit("user.roles_changed", f"user:{name}", {"before": sorted(before.roles), "after": sorted(wanted)})
        return Outcome(user, outcome.changes(Change.USERS))

    @mutation
    def set_active(self, name: str, active: bool) -> Outcome[User]:
        """Deactivate or reactivate a user (records are kept for the audit trail)."""
        with self._store.write(self._actor) as tx:
            require_role(tx, ADMIN, "deactivate users")
            if not active and name == self._actor:
                raise InvalidInput("You cannot deactivate yourself.")
            user = identity_repo.set_user(tx, name, active=active)
            tx.audit("user.activated" if active else "user.deactivated", f"user:{name}", {})
        return Outcome(user, outcome.changes(Change.USERS))
