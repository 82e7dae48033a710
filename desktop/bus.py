"""The event bus: re-broadcasts what a mutation changed so pages reload only that.

A mutation in ``core`` returns an :class:`~core.api.Outcome` whose ``changes`` name the areas
it touched, as members of :class:`~core.api.Change` (the one list of names, kept in core).
Whoever ran it publishes them here; every page receives them in ``on_changes`` and decides
whether anything it shows is stale. This module holds no feature logic and never calls the engine.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.api import Change


class EventBus(QObject):
    """One per main window; pages and task runners share it."""

    changed = Signal(object)
    """Areas changed by a mutation; payload: ``frozenset[Change]``."""

    workspace_changed = Signal(object)
    """A workspace was opened or closed; payload: the new engine, or None."""

    def publish(self, changes: frozenset[Change]) -> None:
        """Broadcast ``changes`` unless empty."""
        if changes:
            self.changed.emit(frozenset(Change(c) for c in changes))
