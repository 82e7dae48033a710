"""Fixtures for the desktop tests: offscreen Qt, a real encrypted workspace, no stray work.

Message boxes and dialogs never block: ``QMessageBox.exec`` and ``question`` are replaced
by recorders (``messages`` fixture). A test that leaves a worker running fails.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["AIRLOCK_NO_KEYRING"] = "1"

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.api import Engine  # noqa: E402
from desktop import tasks  # noqa: E402
from desktop.bus import EventBus  # noqa: E402


class MessageLog:
    """What message boxes would have shown: (title, text) pairs; answers ``question``."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []
        self.answer = QMessageBox.StandardButton.No

    def texts(self) -> str:
        return "\n".join(f"{title}: {text}" for title, text in self.shown)


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> MessageLog:
    log = MessageLog()

    def fake_exec(box: QMessageBox) -> int:
        log.shown.append((box.windowTitle(), box.text()))
        return int(QMessageBox.StandardButton.Ok)

    def fake_question(parent: object, title: str, text: str, *args: object, **kwargs: object) -> QMessageBox.StandardButton:
        log.shown.append((title, text))
        return log.answer

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(fake_question))
    return log


@pytest.fixture(autouse=True)
def no_background_work_left(qapp: object) -> Iterator[None]:
    """Fail a test that leaves a worker running after it ends."""
    yield
    stopped = [pool.waitForDone(2000) for pool in tasks.pools()]
    running = [pool.activeThreadCount() for pool in tasks.pools()]
    tasks.shutdown(10_000)  # so one leak does not spill into the next test
    assert all(stopped) and running == [0, 0], f"the test left background work running: {running} active threads"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Path:
    """Each test's QSettings (the Recent list, window state) live in its own folder.

    ``QSettings("Airlock", …)`` uses the native format, which ``setDefaultFormat`` does not
    change, so both formats' user paths are redirected (on Linux both are INI files).
    """
    folder = tmp_path / "settings"
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    engine, _ = Engine.create(tmp_path / "w.airlock", name="Demo workspace", passphrase="pw-demo-123", use_keyring=False)
    engine.users.add("alice", {"analyst", "reviewer"}, "Alice Smith")
    engine.close()
    return tmp_path / "w.airlock"


@pytest.fixture
def engine(workspace_path: Path) -> Iterator[Engine]:
    from core.api import Unlock

    eng = Engine.open(workspace_path, Unlock.with_passphrase("pw-demo-123"))
    yield eng
    eng.close()


@pytest.fixture
def bus(qapp: object) -> EventBus:
    return EventBus()
