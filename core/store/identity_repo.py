"""Persistence of the identity area: users and their roles, rows in, :class:`User` values out."""

from __future__ import annotations

from sqlalchemy import select

from core.errors import NotFound
from core.identity.models import User, UserRole
from core.store.db import Transaction, orm, utc_now
from core.store.schema import UserRow


def _user(row: UserRow) -> User:
    roles = frozenset(UserRole(r) for r in row.roles.split(",") if r)
    return User(row.name, row.display_name, roles, bool(row.active), row.created_at)


def list_users(tx: Transaction) -> list[User]:
    return [_user(r) for r in orm(tx).scalars(select(UserRow).order_by(UserRow.name))]


def get_user(tx: Transaction, name: str) -> User | None:
    row = orm(tx).get(UserRow, name)
    return _user(row) if row else None


def add_user(tx: Transaction, name: str, display_name: str, roles: frozenset[UserRole]) -> User:
    row = UserRow(name=name, display_name=display_name, roles=",".join(sorted(roles)), active=1, created_at=utc_now())
    orm(tx).add(row)
    orm(tx).flush()
    return _user(row)


def set_user(tx: Transaction, name: str, *, roles: frozenset[UserRole] | None = None, active: bool | None = None) -> User:
    row = orm(tx).get(UserRow, name)
    if row is None:
        raise NotFound(f"No user {name!r} in this workspace.")
    if roles is not None:
        row.roles = ",".join(sorted(roles))
    if active is not None:
        row.active = int(active)
    orm(tx).flush()
    return _user(row)
