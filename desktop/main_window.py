"""The main window: a shell of navigation, a stack of pages, menus and a status bar.

It opens and closes workspaces (through :mod:`desktop.opening`), hands the engine to the
pages, forwards bus changes to them, and shows the current background task. It holds no
feature logic: everything a user does to a workspace lives in a page.
Pages load on first view, so a page's heavy imports cost nothing until it is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from core.api import Change
from desktop import opening, tasks
from desktop.bus import EventBus
from desktop.dialogs import WORKSPACE_FILTER
from desktop.pages import PAGES, page_spec
from desktop.pages.base import Page
from desktop.welcome import WelcomePage
from desktop.widgets.task_progress import TaskProgressWidget

if TYPE_CHECKING:
    from core.api import Engine

RECENT_KEY = "recent_workspaces"
MAX_RECENT = 8
SHUTDOWN_TIMEOUT_MS = 5000


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Airlock")
        self.resize(1100, 720)
        self.settings = settings or QSettings("Airlock", "Airlock desktop")
        self.bus = EventBus(self)
        self.bus.changed.connect(self._on_bus_changed)
        self.engine: Engine | None = None
        self.pages: dict[str, Page] = {}

        self.nav = QListWidget()
        self.nav.setFixedWidth(150)
        for spec in PAGES:
            self.nav.addItem(spec.title)
        self.nav.currentRowChanged.connect(self._on_nav_current_row_changed)
        self.stack = QStackedWidget()
        self.welcome = WelcomePage()
        self.welcome.create_requested.connect(self._on_welcome_create_requested)
        self.welcome.open_requested.connect(self._on_welcome_open_requested)
        self.stack.addWidget(self.welcome)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.workspace_label = QLabel()
        self.read_only_label = QLabel("READ-ONLY")
        self.read_only_label.setStyleSheet("color: white; background: #b00020; padding: 1px 6px; font-weight: bold;")
        self.read_only_label.setToolTip("Opened read-only: nothing can be changed in this window")
        self.progress = TaskProgressWidget()
        self.statusBar().addWidget(self.workspace_label, 1)
        self.statusBar().addWidget(self.read_only_label)
        self.statusBar().addPermanentWidget(self.progress)
        self._build_menus()
        self._refresh_chrome()

    # --- menus ---------------------------------------------------------------------

    def _action(self, text: str, slot: object, shortcut: QKeySequence | QKeySequence.StandardKey | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self._action("&New workspace…", self._on_new_triggered, QKeySequence.StandardKey.New))
        file_menu.addAction(self._action("&Open workspace…", self._on_open_triggered, QKeySequence.StandardKey.Open))
        file_menu.addAction(self._action("Open &read-only…", self._on_open_read_only_triggered))
        self.close_action = self._action("&Close workspace", self._on_close_workspace_triggered, QKeySequence.StandardKey.Close)
        file_menu.addAction(self.close_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self._on_quit_triggered, QKeySequence.StandardKey.Quit))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&About Airlock", self._on_about_triggered))

    # --- workspace -----------------------------------------------------------------

    def set_engine(self, engine: Engine | None) -> None:
        """Show ``engine``'s workspace (closing the one before), or the welcome page."""
        if self.engine is not None and engine is not self.engine:
            for page in self.pages.values():
                page.set_engine(None)
            tasks.shutdown(SHUTDOWN_TIMEOUT_MS)  # nothing may still use the old engine
            self.engine.close()
        self.engine = engine
        for page in self.pages.values():
            page.set_engine(engine)
        if engine is not None:
            self._remember(str(engine.path))
            if self.nav.currentRow() < 0:
                self.nav.setCurrentRow(0)
            else:
                self._on_nav_current_row_changed(self.nav.currentRow())
        else:
            self.stack.setCurrentWidget(self.welcome)
        self.bus.workspace_changed.emit(engine)
        self._refresh_chrome()

    def open_path(self, path: str | Path, *, read_only: bool = False) -> bool:
        engine = opening.open_workspace(self, path, read_only=read_only)
        if engine is not None:
            self.set_engine(engine)
        return engine is not None

    def page(self, name: str) -> Page | None:
        """The page called ``name``, created on first request."""
        if name in self.pages:
            return self.pages[name]
        spec = page_spec(name)
        if spec is None:
            return None
        page = spec.load()(self.bus)
        self.pages[name] = page
        self.stack.addWidget(page)
        for runner in page.runners():  # made in the page's constructor
            self.progress.track(runner)
        page.runner_created.connect(self.progress.track)  # concerns a page opens later
        page.set_engine(self.engine)
        return page

    def show_page(self, name: str) -> Page | None:
        """Switch navigation to ``name``; None when there is no such page."""
        names = [spec.name for spec in PAGES]
        if name not in names:
            return None
        self.nav.setCurrentRow(names.index(name))
        return self.pages.get(name)

    def current_page(self) -> Page | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Page) else None

    def _refresh_chrome(self) -> None:
        engine = self.engine
        self.nav.setVisible(engine is not None)
        self.close_action.setEnabled(engine is not None)
        self.read_only_label.setVisible(bool(engine and engine.read_only))
        if engine is None:
            self.setWindowTitle("Airlock")
            self.workspace_label.setText("No workspace open")
            self.welcome.set_recent(self._recent())
            return
        info = engine.workspace.info()
        for row, spec in enumerate(PAGES):  # e.g. admission only in QA and production workspaces
            item = self.nav.item(row)
            if item is not None:
                item.setHidden(not spec.offered(info.role))
        current = self.nav.currentRow()
        if 0 <= current < len(PAGES) and not PAGES[current].offered(info.role):
            self.nav.setCurrentRow(0)
        me = engine.users.current()
        roles = ", ".join(sorted(me.roles)) if me else "not a user here"
        self.setWindowTitle(f"{info.name} — Airlock")
        self.workspace_label.setText(f"Workspace: {info.name} ({info.role})   ·   You: {engine.actor} ({roles})")

    def _recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
        return [p for p in items if Path(p).exists()]

    def _remember(self, path: str) -> None:
        recent = [path] + [p for p in self._recent() if p != path]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])

    def _choose_and_open(self, read_only: bool) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Open workspace", "", WORKSPACE_FILTER)
        if chosen:
            self.open_path(chosen, read_only=read_only)

    # --- slots ---------------------------------------------------------------------

    @Slot(int)
    def _on_nav_current_row_changed(self, row: int) -> None:
        if self.engine is None or not (0 <= row < len(PAGES)):
            self.stack.setCurrentWidget(self.welcome)
            return
        page = self.page(PAGES[row].name)
        if page is not None:
            self.stack.setCurrentWidget(page)

    @Slot(object)
    def _on_bus_changed(self, changes: frozenset[Change]) -> None:
        for page in self.pages.values():
            page.on_changes(changes)
        if changes & {Change.USERS, Change.WORKSPACE}:
            self._refresh_chrome()

    @Slot()
    def _on_welcome_create_requested(self) -> None:
        self._on_new_triggered()

    @Slot(str)
    def _on_welcome_open_requested(self, path: str) -> None:
        if path:
            self.open_path(path)
        else:
            self._choose_and_open(read_only=False)

    @Slot()
    def _on_new_triggered(self) -> None:
        engine = opening.create_workspace(self)
        if engine is not None:
            self.set_engine(engine)

    @Slot()
    def _on_open_triggered(self) -> None:
        self._choose_and_open(read_only=False)

    @Slot()
    def _on_open_read_only_triggered(self) -> None:
        self._choose_and_open(read_only=True)

    @Slot()
    def _on_close_workspace_triggered(self) -> None:
        self.set_engine(None)

    @Slot()
    def _on_quit_triggered(self) -> None:
        self.close()

    @Slot()
    def _on_about_triggered(self) -> None:
        from core.api import VERSION

        QMessageBox.about(
            self, "About Airlock",
            f"<h3>Airlock {VERSION}</h3><p>Governed machine learning for sites that may have no "
            "network at all: encrypted workspaces, a hash-chained audit log, signed promotion.</p>",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel background work, wait for it briefly, then close the workspace."""
        for page in self.pages.values():
            page.cancel_all()
        tasks.shutdown(SHUTDOWN_TIMEOUT_MS)
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        event.accept()
