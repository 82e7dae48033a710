"""Reading the audit log: filters, paging, newest first."""

from __future__ import annotations

from core.api import Engine


def test_events_filter_and_page(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    for i in range(12):
        engine.users.add(f"user{i:02d}", {"analyst"})
    engine.users.set_roles("user03", {"reviewer"})
    page, total = engine.audit.events(limit=5)
    assert total == engine.audit.head().seq == 15
    assert [e.seq for e in page] == [15, 14, 13, 12, 11]
    page2, _ = engine.audit.events(limit=5, offset=5)
    assert [e.seq for e in page2] == [10, 9, 8, 7, 6]
    added, n_added = engine.audit.events(action="user.added", limit=100)
    assert n_added == 13 and all(e.action == "user.added" for e in added)
    found, n_found = engine.audit.events(text="user03")
    assert n_found == 2 and {e.action for e in found} == {"user.added", "user.roles_changed"}
    none, n_none = engine.audit.events(actor="nobody")
    assert none == [] and n_none == 0
    # LIKE wildcards in a search are taken literally by the user, not as patterns
    literal, n_literal = engine.audit.events(text="user_3")
    assert n_literal == 0, [e.subject for e in literal]
