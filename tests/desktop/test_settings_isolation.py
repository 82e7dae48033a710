"""The desktop tests keep their settings (the Recent list) away from the developer's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from desktop.main_window import RECENT_KEY, MainWindow


def _real_settings_file(real_home: Path) -> Path:
    return real_home / ".config" / "Airlock" / "Airlock desktop.conf"


def test_the_window_settings_live_in_the_test_folder(qtbot: QtBot, isolated_settings: Path, workspace_path: Path,
                                                     real_home: Path, session_home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real_file = _real_settings_file(real_home)
    before = real_file.read_bytes() if real_file.exists() else None
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "pw-demo-123")
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_path(workspace_path)
    window.set_engine(None)
    window.settings.sync()

    where = Path(window.settings.fileName())
    assert where.is_relative_to(isolated_settings), where
    recent = QSettings(str(where), QSettings.Format.IniFormat).value(RECENT_KEY, [])
    assert isinstance(recent, list | str) and str(workspace_path) in recent
    assert (real_file.read_bytes() if real_file.exists() else None) == before
    assert not Path(QSettings("Airlock", "Airlock desktop").fileName()).is_relative_to(real_home)
    assert session_home != real_home
