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


def _no_dialogs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop.dialogs import UnlockDialog

    def refuse(self: object) -> int:
        raise AssertionError("a --screenshot run must not wait on the unlock dialog")

    monkeypatch.setattr(UnlockDialog, "exec", refuse)


def test_screenshot_with_wrong_passphrase_says_why_without_a_dialog(
    qtbot, workspace_path: Path, tmp_path: Path, monkeypatch, capsys, messages
) -> None:  # type: ignore[no-untyped-def]
    _no_dialogs(monkeypatch)
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "wrong")
    out = tmp_path / "x.png"
    assert app.main(["--workspace", str(workspace_path), "--screenshot", str(out)]) == 1
    err = capsys.readouterr().err
    assert "could not unlock w.airlock" in err and "AIRLOCK_PASSPHRASE" in err
    assert messages.shown == [] and not out.exists()


def test_screenshot_of_a_missing_workspace_says_so(qtbot, tmp_path: Path, monkeypatch, capsys, messages) -> None:  # type: ignore[no-untyped-def]
    _no_dialogs(monkeypatch)
    monkeypatch.setenv("AIRLOCK_PASSPHRASE", "pw-demo-123")
    out = tmp_path / "x.png"
    assert app.main(["--workspace", str(tmp_path / "gone.airlock"), "--screenshot", str(out)]) == 1
    assert "there is no workspace at" in capsys.readouterr().err
    assert messages.shown == [] and not out.exists()


def test_screenshot_without_any_key_names_the_variable(
    qtbot, workspace_path: Path, tmp_path: Path, monkeypatch, capsys, messages
) -> None:  # type: ignore[no-untyped-def]
    _no_dialogs(monkeypatch)
    monkeypatch.delenv("AIRLOCK_PASSPHRASE", raising=False)
    assert app.main(["--workspace", str(workspace_path), "--screenshot", str(tmp_path / "x.png")]) == 1
    assert "set AIRLOCK_PASSPHRASE" in capsys.readouterr().err and messages.shown == []


def test_screenshot_subprocess_wrong_passphrase_exits(workspace_path: Path, tmp_path: Path) -> None:
    """A real process: it ends by itself (a dialog would hang until the timeout) with status 1."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", AIRLOCK_NO_KEYRING="1", XDG_CONFIG_HOME=str(tmp_path),
               AIRLOCK_PASSPHRASE="wrong")
    done = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--workspace", str(workspace_path), "--screenshot", str(tmp_path / "x.png")],
        env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "could not unlock" in done.stderr


def test_welcome_is_compact_on_a_fresh_home(qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.welcome import WelcomePage

    page = WelcomePage()
    qtbot.addWidget(page)
    page.resize(1100, 720)
    page.show()
    qtbot.waitExposed(page)
    assert not page.recent.isVisible()
    # With no recent workspace the content sits together at the top, not spread over the window.
    assert page.create_button.geometry().bottom() < 220, page.create_button.geometry()
    page.set_recent([str(Path(__file__))])
    qtbot.wait(10)
    assert page.recent.isVisible() and page.recent.height() <= 240


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
