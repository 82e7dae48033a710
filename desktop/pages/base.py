"""The base of every page: its engine, its task runner, and reloading on bus changes.

A page shows one area of the workspace. It gets the engine through :meth:`Page.set_engine`
(None when no workspace is open) and hears what mutations changed through
:meth:`Page.on_changes`. Long work goes through ``self.runner``; failures of that work are
shown as messages. Pages never reach into the main window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.errors import AirlockError
from desktop.bus import EventBus
from desktop.tasks import TaskRunner
from desktop.widgets.messages import show_error

if TYPE_CHECKING:
    from core.api import Engine

OK_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #8a5a00;"


class Page(QWidget):
    """Subclasses set ``name``, ``title``, ``watches`` and implement :meth:`reload`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: Areas (``core.outcome`` names) whose change makes this page reload.
    watches: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        self.engine: Engine | None = None
        self.runner = TaskRunner(self, publish=bus.publish_outcome)
        self.runner.failed.connect(self._on_runner_failed)
        self._doing = ""
        self.layout_ = QVBoxLayout(self)
        heading = QLabel(f"<h2>{self.title}</h2>")
        self.layout_.addWidget(heading)

    @property
    def writable(self) -> bool:
        return self.engine is not None and not self.engine.read_only

    def set_engine(self, engine: Engine | None) -> None:
        """Show ``engine``'s workspace (or nothing); cancels this page's running task."""
        self.runner.cancel()
        self.engine = engine
        if engine is not None:
            self.reload()

    def on_changes(self, changes: frozenset[str]) -> None:
        """Reload when something this page shows changed."""
        if self.engine is not None and changes & self.watches:
            self.reload()

    def reload(self) -> None:
        """Show the engine's current state. Every page overrides this (Qt widgets cannot be ABCs)."""
        raise NotImplementedError

    def run(self, fn: object, description: str, doing: str, *, writes: bool = False) -> None:
        """Start ``fn(ctx)`` on the runner; ``doing`` prefixes its error message."""
        self._doing = doing
        self.runner.start(fn, description, writes=writes)  # type: ignore[arg-type]

    def report_error(self, exc: BaseException, doing: str) -> None:
        show_error(self, exc, doing)

    @Slot(object)
    def _on_runner_failed(self, error: object) -> None:
        if isinstance(error, BaseException):
            self.report_error(error, self._doing)
        else:  # pragma: no cover - the runner only sends exceptions
            self.report_error(AirlockError(str(error)), self._doing)
