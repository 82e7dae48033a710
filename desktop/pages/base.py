"""The base of every page: its engine, its task runners, and reloading on bus changes.

A page shows one area of the workspace. It gets the engine through :meth:`Page.set_engine`
(None when no workspace is open) and hears what mutations changed through
:meth:`Page.on_changes`. Long work goes through :meth:`Page.query` (reads, on the read pool,
refused any write) or :meth:`Page.mutate` (one stored change, on the write thread), each on
the runner of a *concern*: a new task cancels only the previous task of the same concern, so
comparing two versions does not stop a running profile. Failures are shown as messages.
Pages never reach into the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core.api import AirlockError, Change, Outcome, TaskContext
from desktop.bus import EventBus
from desktop.tasks import TaskRunner
from desktop.widgets.messages import show_error

if TYPE_CHECKING:
    from core.api import Engine

T = TypeVar("T")

OK_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #8a5a00;"
MUTED_STYLE = "color: #555;"

MAIN = "main"
"""The concern of a page whose tasks all supersede one another."""


class Page(QWidget):
    """Subclasses set ``name``, ``title``, ``watches`` and implement :meth:`reload`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: Areas whose change makes this page reload.
    watches: ClassVar[frozenset[Change]] = frozenset()

    runner_created = Signal(object)
    """The page made a runner for a new concern; payload: the :class:`TaskRunner`."""

    def __init__(self, bus: EventBus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bus = bus
        self.engine: Engine | None = None
        self._runners: dict[str, TaskRunner] = {}
        self._doing: dict[str, str] = {}
        self.layout_ = QVBoxLayout(self)
        heading = QLabel(f"<h2>{self.title}</h2>")
        self.layout_.addWidget(heading)

    def add_label(self, text: str = "", style: str = "") -> QLabel:
        """A word-wrapped label appended to the page: its one-line intro (``MUTED_STYLE``) or a note."""
        label = QLabel(text)
        label.setWordWrap(True)
        if style:
            label.setStyleSheet(style)
        self.layout_.addWidget(label)
        return label

    @property
    def writable(self) -> bool:
        return self.engine is not None and not self.engine.read_only

    def runner(self, concern: str = MAIN) -> TaskRunner:
        """The runner of ``concern``, made on first use."""
        found = self._runners.get(concern)
        if found is None:
            found = TaskRunner(self, publish=self.bus.publish, concern=concern)
            found.failed.connect(self._on_runner_failed)
            self._runners[concern] = found
            self.runner_created.emit(found)
        return found

    def runners(self) -> list[TaskRunner]:
        """Every runner this page has made so far."""
        return list(self._runners.values())

    def cancel_all(self) -> None:
        """Ask every concern's current task to stop."""
        for r in self._runners.values():
            r.cancel()

    def set_engine(self, engine: Engine | None) -> None:
        """Show ``engine``'s workspace (or nothing); cancels this page's running tasks."""
        self.cancel_all()
        self.engine = engine
        if engine is not None:
            self.reload()

    def on_changes(self, changes: frozenset[Change]) -> None:
        """Reload when something this page shows changed."""
        if self.engine is not None and changes & self.watches:
            self.reload()

    def reload(self) -> None:
        """Show the engine's current state. Every page overrides this (Qt widgets cannot be ABCs)."""
        raise NotImplementedError

    def query(self, fn: Callable[[TaskContext], T], description: str, doing: str, *, concern: str = MAIN) -> int:
        """Read in the background with ``fn(ctx)``; ``doing`` prefixes its error message."""
        self._doing[concern] = doing
        return self.runner(concern).query(fn, description)

    def mutate(self, fn: Callable[[TaskContext], Outcome[T]], description: str, doing: str, *,
               concern: str = MAIN) -> int:
        """Store a change in the background with ``fn(ctx)``; ``doing`` prefixes its error message."""
        self._doing[concern] = doing
        return self.runner(concern).mutate(fn, description)

    def report_error(self, exc: BaseException, doing: str) -> None:
        show_error(self, exc, doing)

    def on_task_failed(self, concern: str, error: BaseException) -> None:
        """A task of ``concern`` raised ``error``; shows it. Pages override to add their own handling."""
        self.report_error(error, self._doing.get(concern, ""))

    @Slot(object)
    def _on_runner_failed(self, error: object) -> None:
        sender = self.sender()
        concern = sender.concern if isinstance(sender, TaskRunner) else MAIN
        if not isinstance(error, BaseException):  # pragma: no cover - the runner only sends exceptions
            error = AirlockError(str(error))
        self.on_task_failed(concern, error)
