"""Choosing one of my signing keys and asking for its passphrase.

:class:`KeyChooser` lists the keys on this machine whose private part is mine (the key store
folder follows ``$XDG_CONFIG_HOME``, so it is read again on :meth:`KeyChooser.refresh`).
:func:`ask_passphrase` asks for the passphrase of a key kept in a file; a keyring key needs
none. The passphrase stays in the dialog's field and the caller's closure: it is never logged,
stored or shown. This module never signs anything itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from core.api import AirlockError, KeyStorage, KeyStore, SigningKeyInfo


def key_text(info: SigningKeyInfo) -> str:
    """One line naming a key the way people read it out: owner, the first fingerprint groups, storage."""
    where = {KeyStorage.KEYRING: "in the OS keyring", KeyStorage.FILE: "in a passphrase file"}.get(
        info.storage, "public only") if info.storage is not None else "public only"
    return f"{info.public.owner} · {' '.join(info.public.fingerprint.split()[:4])} … ({where})"


class KeyChooser(QComboBox):
    """The user's own signing keys; ``currentData()`` is the chosen key id."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(320)
        self.problem = ""

    def refresh(self) -> None:
        """Read the key store again (its folder may have changed)."""
        keep = self.currentData()
        self.clear()
        self.problem = ""
        try:
            mine = [k for k in KeyStore().list() if k.mine]
        except AirlockError as exc:
            self.problem = str(exc)
            mine = []
        for info in mine:
            self.addItem(key_text(info), info.public.keyid)
            self.setItemData(self.count() - 1, f"key id {info.public.keyid}\nfingerprint {info.public.fingerprint}",
                             Qt.ItemDataRole.ToolTipRole)
        if not mine:
            self.setPlaceholderText("no signing key of yours here: airlock keys new")
        i = self.findData(keep)
        self.setCurrentIndex(i if i >= 0 else 0 if mine else -1)

    def keyid(self) -> str | None:
        value = self.currentData()
        return value if isinstance(value, str) else None


class PassphraseDialog(QDialog):
    """Asks for the passphrase of one signing key kept in a file."""

    def __init__(self, key: str, purpose: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Signing-key passphrase")
        layout = QVBoxLayout(self)
        intro = QLabel(f"{purpose} needs your signing key {key}.\nIts private part is in a file encrypted under "
                       "your passphrase: type it to sign (it is not kept).")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText("passphrase of your signing key")
        layout.addWidget(self.field)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def passphrase(self) -> str:
        return self.field.text()


def ask_passphrase(parent: QWidget | None, keyid: str, purpose: str) -> str | None:
    """The passphrase of ``keyid`` typed by the user; None when they cancelled."""
    dialog = PassphraseDialog(f"{keyid[:16]}…", purpose, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.passphrase()


def passphrase_for(parent: QWidget | None, keyid: str, purpose: str) -> tuple[bool, str | None]:
    """``(go_on, passphrase)``: a keyring key needs none; a file key asks (``go_on`` False on cancel)."""
    try:
        needed = KeyStore().needs_passphrase(keyid)
    except AirlockError:
        return True, None  # the service says what is wrong with the key when it is used
    if not needed:
        return True, None
    typed = ask_passphrase(parent, keyid, purpose)
    return typed is not None, typed


__all__ = ["KeyChooser", "PassphraseDialog", "ask_passphrase", "key_text", "passphrase_for"]
