"""Key dialogs: the recovery key must be confirmed; the create form checks its input."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication

from desktop.dialogs import CreateWorkspaceDialog, RecoveryKeyDialog, UnlockDialog


def test_recovery_key_ok_needs_the_checkbox(qtbot) -> None:
    dialog = RecoveryKeyDialog("ABCDE-FGHIJ")
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    dialog.show()
    dialog.reject()  # Escape does not dismiss an unconfirmed key
    assert dialog.isVisible()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "ABCDE-FGHIJ"
    dialog.confirm_check.setChecked(True)
    assert dialog.ok_button.isEnabled()
    dialog.confirm_check.setChecked(False)
    assert not dialog.ok_button.isEnabled()


def test_create_dialog_validates(qtbot, tmp_path: Path) -> None:
    dialog = CreateWorkspaceDialog(keyring_ok=False, keyring_why="disabled")
    qtbot.addWidget(dialog)
    assert not dialog.keyring_check.isEnabled()
    assert "where" in dialog.problem()
    dialog.path_edit.setText(str(tmp_path / "new"))
    assert dialog.path == tmp_path / "new.airlock"
    assert "name" in dialog.problem()
    dialog.name_edit.setText("New")
    dialog.passphrase_edit.setText("longenough")
    dialog.confirm_edit.setText("different!")
    assert "differ" in dialog.problem()
    dialog.confirm_edit.setText("longenough")
    assert dialog.problem() == ""
    dialog.role_combo.setCurrentIndex(2)
    assert dialog.role == "prod"


def test_keyring_checkbox_when_available(qtbot) -> None:
    dialog = CreateWorkspaceDialog(keyring_ok=True, keyring_why="")
    qtbot.addWidget(dialog)
    assert dialog.keyring_check.isEnabled()
    dialog.keyring_check.setChecked(True)
    assert dialog.use_keyring


def test_unlock_dialog_recovery_toggle(qtbot, tmp_path: Path) -> None:
    dialog = UnlockDialog(tmp_path / "w.airlock")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.passphrase_edit.setText("pp")
    assert dialog.secret() == "pp" and not dialog.uses_recovery_key
    dialog.recovery_check.setChecked(True)
    assert dialog.recovery_edit.isVisible() and not dialog.passphrase_edit.isVisible()
    dialog.recovery_edit.setText("KEY")
    assert dialog.secret() == "KEY" and dialog.uses_recovery_key
