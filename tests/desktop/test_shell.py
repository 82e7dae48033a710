"""The main window: navigation among pages, status bar, welcome page, opening errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from core.api import Engine, TaskContext, Unlock
from desktop import opening
from desktop.dialogs import UnlockDialog
from desktop.main_window import MainWindow
from desktop.pages import PAGES


@pytest.fixture
def window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def test_welcome_page_without_workspace(window: MainWindow) -> None:
    window.show()
    assert window.stack.currentWidget() is window.welcome
    assert not window.nav.isVisible()
    assert window.workspace_label.text() == "No workspace open"
    assert not window.close_action.isEnabled()


def test_navigation_switches_pages(window: MainWindow, engine: Engine) -> None:
    window.show()
    window.set_engine(engine)
    assert window.nav.isVisible()
    assert window.nav.count() == len(PAGES)
    for row, spec in enumerate(PAGES):
        window.nav.setCurrentRow(row)
        page = window.current_page()
        assert page is not None and page.name == spec.name
        assert page.isVisible()
    assert "Demo workspace" in window.workspace_label.text()
    assert "admin" in window.workspace_label.text()
    assert "Demo workspace" in window.windowTitle()
    window.engine = None  # the fixture closes the engine


def test_show_page_by_name(window: MainWindow, engine: Engine) -> None:
    window.set_engine(engine)
    page = window.show_page("audit")
    assert page is window.current_page() and page is not None and page.name == "audit"
    assert window.show_page("no-such-page") is None
    window.engine = None


def test_open_with_env_passphrase_and_close(window: MainWindow, workspace_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(opening.PASSPHRASE_ENV, "pw-demo-123")
    assert window.open_path(workspace_path)
    assert window.engine is not None and not window.engine.read_only
    window.set_engine(None)
    assert window.stack.currentWidget() is window.welcome
    assert str(workspace_path) in [window.welcome.recent.item(i).data(256) for i in range(window.welcome.recent.count())]


def test_wrong_passphrase_is_asked_again_then_cancel(window: MainWindow, workspace_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(opening.PASSPHRASE_ENV, "wrong")
    notes: list[str] = []

    def fake_exec(dialog: UnlockDialog) -> int:
        notes.append(dialog.error.text())
        if len(notes) == 1:
            dialog.passphrase_edit.setText("still wrong")
            return int(UnlockDialog.DialogCode.Accepted)
        return int(UnlockDialog.DialogCode.Rejected)

    monkeypatch.setattr(UnlockDialog, "exec", fake_exec)
    assert not window.open_path(workspace_path)
    assert "AIRLOCK_PASSPHRASE did not open it" in notes[0]
    assert notes[1]  # the second prompt says why the first try failed
    assert window.engine is None


def test_not_a_workspace_is_a_message_not_a_traceback(window: MainWindow, tmp_path: Path, messages, monkeypatch) -> None:
    junk = tmp_path / "junk.airlock"
    junk.write_bytes(b"hello, I am not a database" * 100)
    monkeypatch.setenv(opening.PASSPHRASE_ENV, "pw-demo-123")
    assert not window.open_path(junk)
    assert messages.shown and messages.shown[0][0] in {"Not an Airlock workspace", "No key available"}
    assert "Traceback" not in messages.texts()


def test_workspace_in_use_offers_read_only(window: MainWindow, workspace_path: Path, messages, monkeypatch) -> None:
    monkeypatch.setenv(opening.PASSPHRASE_ENV, "pw-demo-123")
    holder = Engine.open(workspace_path, Unlock.with_passphrase("pw-demo-123"))
    try:
        messages.answer = QMessageBox.StandardButton.Yes
        assert window.open_path(workspace_path)
        assert window.engine is not None and window.engine.read_only
        assert "read-only" in messages.texts()
        assert window.read_only_label.isVisibleTo(window)
        window.set_engine(None)
    finally:
        holder.close()


def test_quit_waits_for_running_work(window: MainWindow, engine: Engine, qtbot) -> None:
    window.set_engine(engine)
    page = window.show_page("workspace")
    assert page is not None

    def long(ctx: TaskContext) -> None:
        for _ in range(500):
            ctx.check()
            time.sleep(0.01)

    page.runner().query(long, "Long")
    assert window.progress.isVisibleTo(window)
    window.close()
    assert window.engine is None
