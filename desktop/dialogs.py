"""Dialogs for workspace keys: create, unlock, recovery key, change passphrase.

They only collect and validate what the user typed; creating and opening happen in
:mod:`desktop.opening`. Secrets stay in widgets and are never logged or stored.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

WORKSPACE_FILTER = "Airlock workspaces (*.airlock);;All files (*)"
_ROLE_HELP = {
    "dev": "dev — train models and build promotion packages",
    "qa": "qa — admit packages for testing",
    "prod": "prod — admit and serve approved models",
}


def _min_length() -> int:
    """Core's rule for new passphrases (imported when a dialog needs it: core.api is not light)."""
    from core.api import MIN_PASSPHRASE_LENGTH

    return MIN_PASSPHRASE_LENGTH


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020;")
    label.setVisible(False)
    return label


def _password_field(placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class CreateWorkspaceDialog(QDialog):
    """Path, name, role and how the key is protected (passphrase or OS keyring)."""

    def __init__(self, parent: QWidget | None = None, *, keyring_ok: bool = False, keyring_why: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New workspace")
        self.setMinimumWidth(520)
        intro = QLabel(
            "A workspace is one encrypted file holding your data, models and audit log. "
            "Keep it on a local disk."
        )
        intro.setWordWrap(True)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("/path/to/project.airlock")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit)
        path_row.addWidget(browse)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Credit risk — development")
        self.role_combo = QComboBox()
        for role, text in _ROLE_HELP.items():
            self.role_combo.addItem(text, role)
        self.keyring_check = QCheckBox("Keep the key in the OS keyring (no passphrase to type)")
        self.keyring_check.setEnabled(keyring_ok)
        self.keyring_check.setToolTip(
            "The operating system's keyring unlocks the workspace for this account."
            if keyring_ok else f"Not available here: {keyring_why}"
        )
        self.keyring_check.toggled.connect(self._on_keyring_toggled)
        self.passphrase_edit = _password_field(f"at least {_min_length()} characters")
        self.confirm_edit = _password_field("type it again")
        self.error = _error_label()

        form = QFormLayout()
        form.addRow("File:", path_row)
        form.addRow("Name:", self.name_edit)
        form.addRow("Role:", self.role_combo)
        form.addRow("", self.keyring_check)
        form.addRow("Passphrase:", self.passphrase_edit)
        form.addRow("Confirm:", self.confirm_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    @property
    def path(self) -> Path:
        path = Path(self.path_edit.text().strip()).expanduser()
        return path if path.suffix == ".airlock" else path.with_name(path.name + ".airlock")

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def role(self) -> str:
        return str(self.role_combo.currentData())

    @property
    def use_keyring(self) -> bool:
        return self.keyring_check.isEnabled() and self.keyring_check.isChecked()

    @property
    def passphrase(self) -> str | None:
        return self.passphrase_edit.text() or None

    def problem(self) -> str:
        """What is missing or wrong, or "" when the form can be submitted."""
        if not self.path_edit.text().strip():
            return "Choose where to save the workspace file."
        if not self.path.parent.is_dir():
            return f"The folder {self.path.parent} does not exist."
        if not self.name:
            return "Give the workspace a name."
        if not self.use_keyring or self.passphrase_edit.text():
            if len(self.passphrase_edit.text()) < _min_length():
                return f"The passphrase needs at least {_min_length()} characters."
            if self.passphrase_edit.text() != self.confirm_edit.text():
                return "The two passphrases differ."
        return ""

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    @Slot()
    def _on_browse_clicked(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "New workspace file", self.path_edit.text(), WORKSPACE_FILTER)
        if chosen:
            self.path_edit.setText(chosen)

    @Slot(bool)
    def _on_keyring_toggled(self, checked: bool) -> None:
        for edit in (self.passphrase_edit, self.confirm_edit):
            edit.setPlaceholderText("optional: a passphrase as well" if checked else f"at least {_min_length()} characters")

    @Slot()
    def _on_buttons_accepted(self) -> None:
        problem = self.problem()
        self.show_error(problem)
        if not problem:
            self.accept()


class UnlockDialog(QDialog):
    """Asks for the passphrase, or the recovery key when the toggle is on."""

    def __init__(self, path: Path, parent: QWidget | None = None, *, note: str = "", purpose: str = "Open") -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{purpose} {path.name}")
        self.setMinimumWidth(480)
        where = QLabel(f"<b>{path.name}</b><br><small>{path.parent}</small>")
        self.passphrase_edit = _password_field("passphrase")
        self.recovery_check = QCheckBox("Use the recovery key instead (lost passphrase)")
        self.recovery_check.toggled.connect(self._on_recovery_toggled)
        self.recovery_edit = QLineEdit()
        self.recovery_edit.setPlaceholderText("XXXXX-XXXXX-… (55 letters and digits)")
        self.recovery_edit.setVisible(False)
        self.error = _error_label()
        self.show_error(note)
        form = QFormLayout()
        self.passphrase_label = QLabel("Passphrase:")
        self.recovery_label = QLabel("Recovery key:")
        self.recovery_label.setVisible(False)
        form.addRow(self.passphrase_label, self.passphrase_edit)
        form.addRow(self.recovery_label, self.recovery_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(purpose)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(self.recovery_check)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    @property
    def uses_recovery_key(self) -> bool:
        return self.recovery_check.isChecked()

    def secret(self) -> str:
        return (self.recovery_edit if self.uses_recovery_key else self.passphrase_edit).text()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    @Slot(bool)
    def _on_recovery_toggled(self, checked: bool) -> None:
        for widget in (self.recovery_edit, self.recovery_label):
            widget.setVisible(checked)
        for widget in (self.passphrase_edit, self.passphrase_label):
            widget.setVisible(not checked)
        (self.recovery_edit if checked else self.passphrase_edit).setFocus()


class RecoveryKeyDialog(QDialog):
    """Shows the recovery key once; OK stays disabled until the user confirms writing it down."""

    def __init__(self, recovery_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your recovery key")
        self.setMinimumWidth(560)
        explain = QLabel(
            "<b>Write this key down and keep it somewhere safe, away from this computer.</b><br>"
            "It opens the workspace if the passphrase is forgotten or the keyring is lost. "
            "Airlock does not store it and will never show it again."
        )
        explain.setWordWrap(True)
        self.key_label = QLabel(recovery_key)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(font.pointSize() + 2)
        self.key_label.setFont(font)
        self.key_label.setWordWrap(True)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setStyleSheet("padding: 8px; border: 1px solid #999; background: #fffbe6; color: #000;")
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_label, 1)
        key_row.addWidget(self.copy_button)
        self.confirm_check = QCheckBox("I have written it down")
        self.confirm_check.toggled.connect(self._on_confirm_toggled)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(key_row)
        layout.addWidget(self.confirm_check)
        layout.addWidget(self.buttons)
        self._key = recovery_key

    def reject(self) -> None:
        """Escape and the close button do nothing until the key is confirmed."""
        if self.confirm_check.isChecked():
            super().reject()

    @Slot()
    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self._key)
        self.copy_button.setText("Copied")

    @Slot(bool)
    def _on_confirm_toggled(self, checked: bool) -> None:
        self.ok_button.setEnabled(checked)


class ChangePassphraseDialog(QDialog):
    """A new passphrase, typed twice. The recovery key and keyring entry stay as they are."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change passphrase")
        note = QLabel("The recovery key does not change. Everyone who opens this workspace with "
                      "the passphrase will need the new one.")
        note.setWordWrap(True)
        self.new_edit = _password_field(f"at least {_min_length()} characters")
        self.confirm_edit = _password_field("type it again")
        self.error = _error_label()
        form = QFormLayout()
        form.addRow("New passphrase:", self.new_edit)
        form.addRow("Confirm:", self.confirm_edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    @property
    def passphrase(self) -> str:
        return self.new_edit.text()

    @Slot()
    def _on_buttons_accepted(self) -> None:
        if len(self.new_edit.text()) < _min_length():
            problem = f"The passphrase needs at least {_min_length()} characters."
        elif self.new_edit.text() != self.confirm_edit.text():
            problem = "The two passphrases differ."
        else:
            problem = ""
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        if not problem:
            self.accept()
