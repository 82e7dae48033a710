"""``airlock users …``: who may use the workspace, with which roles. Admins change them."""

from __future__ import annotations

import argparse
from typing import Any

from core import api
from core.cli.common import add_command, add_group, emit, local_time, open_engine, table


def register(subparsers: Any) -> None:
    group = add_group(subparsers, "users", "list and manage the workspace's users and roles")
    add_command(group, "list", cmd_list, "all users and their roles")
    p = add_command(group, "add", cmd_add, "add a user (admins only)")
    p.add_argument("name", metavar="NAME", help="the user's login name")
    _role_option(p)
    p.add_argument("--display-name", metavar="TEXT", default="", help="a longer name to show (default: NAME)")
    p = add_command(group, "role", cmd_role, "replace a user's roles (admins only)")
    p.add_argument("name", metavar="NAME")
    _role_option(p)
    p = add_command(group, "deactivate", cmd_deactivate, "stop a user acting; their history stays (admins only)")
    p.add_argument("name", metavar="NAME")
    p = add_command(group, "activate", cmd_activate, "let a deactivated user act again (admins only)")
    p.add_argument("name", metavar="NAME")


def _role_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        # Plain strings: argparse shows an enum member's repr in its "invalid choice" message.
        "--role", dest="roles", action="append", required=True, choices=[str(role) for role in api.USER_ROLES],
        help="a role; repeat for several (" + ", ".join(api.USER_ROLES) + ")",
    )


def _line(user: api.User) -> str:
    state = "" if user.active else " (deactivated)"
    return f"{user.name}: {', '.join(sorted(user.roles))}{state}"


def cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        people = engine.users.list()
        me = engine.actor
    rows = [
        (u.name + (" *" if u.name == me else ""), u.display_name, ", ".join(sorted(u.roles)),
         "yes" if u.active else "no", local_time(u.created_at))
        for u in people
    ]
    text = table(("NAME", "DISPLAY NAME", "ROLES", "ACTIVE", "ADDED"), rows) + "\n\n* you"
    emit(args, {"users": people, "you": me}, text)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        user = engine.users.add(args.name, set(args.roles), args.display_name).value
    emit(args, user, f"Added {_line(user)}")
    return 0


def cmd_role(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        user = engine.users.set_roles(args.name, set(args.roles)).value
    emit(args, user, f"Roles set: {_line(user)}")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with open_engine(args) as engine:
        user = engine.users.set_active(args.name, active).value
    emit(args, user, f"{'Activated' if active else 'Deactivated'}: {_line(user)}")
    return 0


def cmd_deactivate(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_activate(args: argparse.Namespace) -> int:
    return _set_active(args, True)
