"""The event bus: re-broadcasts what a mutation changed so pages reload only that.

A mutation in ``core`` returns an :class:`~core.outcome.Outcome` whose ``changes`` name the
areas it touched (``"users"``, ``"audit"``, ...). Whoever ran it publishes those names here;
every page receives them in ``on_changes`` and decides whether anything it shows is stale.
This module holds no feature logic and never calls the engine.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.outcome import Outcome


class EventBus(QObject):
    """One per main window; pages and task runners share it."""

    changed = Signal(object)
    """Areas changed by a mutation; payload: ``frozenset[str]`` of area names."""

    workspace_changed = Signal(object)
    """A workspace was opened or closed; payload: the new engine, or None."""

    def publish(self, changes: frozenset[str]) -> None:
        """Broadcast ``changes`` unless empty."""
        if changes:
            self.changed.emit(frozenset(changes))

    def publish_outcome(self, result: object) -> None:
        """Broadcast ``result.changes`` when ``result`` is an :class:`Outcome`."""
        if isinstance(result, Outcome):
            self.publish(result.changes)
