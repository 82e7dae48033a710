"""Users of the workspace and their roles; admins add users and change roles here.

The table is a :class:`~desktop.widgets.table_model.TableModel` over ``engine.users.list()``.
Adding a user and changing roles run on the write pool; the engine enforces who may, and
a refusal is shown as a message. No rules live here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.api import ADMIN, USER_ROLES, Change, Outcome, TaskContext, User
from desktop.bus import EventBus
from desktop.pages.base import NOTE_STYLE, Page
from desktop.pages.workspace import short_time
from desktop.widgets.table_model import Column, TableModel, sorting_proxy

ROLE_HELP = {
    "analyst": "analyst — import data, train models, build packages",
    "reviewer": "reviewer — approve or reject promotion packages",
    "admin": "admin — manage users, keys, backups",
}

COLUMNS = (
    Column("User", lambda u: u.name),
    Column("Display name", lambda u: u.display_name),
    Column("Roles", lambda u: ", ".join(sorted(u.roles))),
    Column("Active", lambda u: "yes" if u.active else "no"),
    Column("Added", lambda u: u.created_at, fmt=short_time),
)


class UserDialog(QDialog):
    """Name, display name and roles for a new user, or roles only for an existing one."""

    def __init__(self, parent: QWidget | None = None, user: User | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Roles of {user.name}" if user else "Add user")
        self.name_edit = QLineEdit(user.name if user else "")
        self.name_edit.setPlaceholderText("the person's login name on this computer")
        self.name_edit.setEnabled(user is None)
        self.display_edit = QLineEdit(user.display_name if user else "")
        self.display_edit.setEnabled(user is None)
        self.role_checks = {role: QCheckBox(ROLE_HELP.get(role, role)) for role in USER_ROLES}
        for role, check in self.role_checks.items():
            check.setChecked(role in user.roles if user else role == "analyst")
        form = QFormLayout()
        form.addRow("User name:", self.name_edit)
        form.addRow("Display name:", self.display_edit)
        roles = QVBoxLayout()
        for check in self.role_checks.values():
            roles.addWidget(check)
        form.addRow("Roles:", roles)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    @property
    def user_name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def display_name(self) -> str:
        return self.display_edit.text().strip()

    @property
    def roles(self) -> set[str]:
        return {role for role, check in self.role_checks.items() if check.isChecked()}


class UsersPage(Page):
    name = "users"
    title = "Users"
    watches = frozenset({Change.USERS})

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(bus, parent)
        self.me = QLabel()
        self.me.setWordWrap(True)
        self.layout_.addWidget(self.me)
        self.model = TableModel(COLUMNS, self)
        self.proxy = sorting_proxy(self.model, self)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.doubleClicked.connect(self._on_table_double_clicked)
        self.layout_.addWidget(self.table, 1)
        self.add_button = QPushButton("Add user…")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.roles_button = QPushButton("Change roles…")
        self.roles_button.clicked.connect(self._on_roles_clicked)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.roles_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.note = QLabel()
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setWordWrap(True)
        self.layout_.addWidget(self.note)
        self.runner().busy_changed.connect(self._on_runner_busy_changed)

    def reload(self) -> None:
        if self.engine is None:
            return
        self.model.set_rows(self.engine.users.list())
        current = self.engine.users.current()
        name = self.engine.users.current_name
        if current is None:
            self.me.setText(f"You are <b>{name}</b>, who is not a user of this workspace: you can look, not change.")
        else:
            self.me.setText(f"You are <b>{name}</b> ({', '.join(sorted(current.roles))}).")
        self._update_buttons()

    def _is_admin(self) -> bool:
        if self.engine is None:
            return False
        current = self.engine.users.current()
        return current is not None and current.has(ADMIN)

    def _update_buttons(self) -> None:
        allowed = self.writable and self._is_admin() and not self.runner().busy
        self.add_button.setEnabled(allowed)
        self.roles_button.setEnabled(allowed)
        if self.engine is not None and self.engine.read_only:
            self.note.setText("The workspace is open read-only: users cannot be changed.")
        elif self.engine is not None and not self._is_admin():
            self.note.setText("Only an admin can add users or change roles. Ask an admin of this workspace.")
        else:
            self.note.setText("")

    def selected_user(self) -> User | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        user = self.proxy.data(rows[0], Qt.ItemDataRole.UserRole)
        return user if isinstance(user, User) else None

    def add_user(self, name: str, roles: set[str], display_name: str = "") -> None:
        if self.engine is None:
            return
        users = self.engine.users

        def add(ctx: TaskContext) -> Outcome[User]:
            return users.add(name, roles, display_name)

        self.mutate(add, f"Adding {name}", f"Could not add {name!r}.")

    def set_roles(self, name: str, roles: set[str]) -> None:
        if self.engine is None:
            return
        users = self.engine.users

        def change(ctx: TaskContext) -> Outcome[User]:
            return users.set_roles(name, roles)

        self.mutate(change, f"Changing the roles of {name}", f"The roles of {name!r} were not changed.")

    @Slot()
    def _on_add_clicked(self) -> None:
        dialog = UserDialog(self)
        if dialog.exec() == UserDialog.DialogCode.Accepted:
            self.add_user(dialog.user_name, dialog.roles, dialog.display_name)

    @Slot()
    def _on_roles_clicked(self) -> None:
        user = self.selected_user()
        if user is None:
            self.note.setText("Select a user in the table first.")
            return
        dialog = UserDialog(self, user)
        if dialog.exec() == UserDialog.DialogCode.Accepted:
            self.set_roles(user.name, dialog.roles)

    @Slot()
    def _on_table_double_clicked(self) -> None:
        if self.roles_button.isEnabled():
            self._on_roles_clicked()

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        self._update_buttons()
