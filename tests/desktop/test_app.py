"""The entry point: --screenshot writes a PNG; starting up loads nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from desktop import app


def test_screenshot_in_process(qtbot, workspace_path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "pw-demo-123")
    out = tmp_path / "users.png"
    assert app.main(["--workspace", str(workspace_path), "--page", "users", "--screenshot", str(out)]) == 0
    image = QImage(str(out))
    assert not image.isNull() and image.width() >= 800 and image.height() >= 500


def test_screenshot_with_wrong_passphrase_fails_cleanly(qtbot, workspace_path: Path, tmp_path: Path, monkeypatch) -> None:
    from desktop.dialogs import UnlockDialog

    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "wrong")
    monkeypatch.setattr(UnlockDialog, "exec", lambda self: int(UnlockDialog.DialogCode.Rejected))
    out = tmp_path / "x.png"
    assert app.main(["--workspace", str(workspace_path), "--screenshot", str(out)]) == 1
    assert not out.exists()


def test_screenshot_subprocess_welcome(tmp_path: Path) -> None:
    out = tmp_path / "welcome.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AIRLOCK_NO_KEYRING="1", XDG_CONFIG_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "desktop.app", "--screenshot", str(out)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 1000


def test_startup_imports_stay_light() -> None:
    code = (
        "import sys, desktop.app, desktop.main_window, desktop.pages.workspace, desktop.pages.users, "
        "desktop.pages.audit, desktop.pages.backup\n"
        # core.store.keys (the Unlock value, the key header) comes with core.api; the database does not.
        "heavy = [m for m in ('matplotlib', 'sklearn', 'pandas', 'pyarrow', 'sqlalchemy', 'sqlcipher3', 'core.store.db')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
