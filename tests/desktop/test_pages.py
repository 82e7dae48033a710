"""Every page renders real workspace data and its actions work against a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.api import Engine, Unlock
from desktop.bus import EventBus
from desktop.pages import PAGES
from desktop.pages.audit import AuditPage
from desktop.pages.backup import BackupPage
from desktop.pages.base import Page
from desktop.pages.users import UsersPage
from desktop.pages.workspace import WorkspacePage, backup_warning


@pytest.mark.parametrize("spec", PAGES, ids=[s.name for s in PAGES])
def test_every_registered_page_conforms(qtbot, spec, engine: Engine, bus: EventBus) -> None:
    cls = spec.load()
    assert issubclass(cls, Page)
    assert (cls.name, cls.title) == (spec.name, spec.title)
    page = cls(bus)
    qtbot.addWidget(page)
    page.set_engine(None)
    page.set_engine(engine)
    page.on_changes(frozenset({"workspace", "users", "audit", "backups"}))
    page.show()
    page.set_engine(None)


def test_workspace_page_shows_overview_and_checks(qtbot, engine: Engine, bus: EventBus) -> None:
    page = WorkspacePage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    assert "Demo workspace" in page.fields["name"].text()
    assert page.fields["users"].text() == "2"
    assert page.fields["audit"].text() == "3"
    assert "never" in page.fields["backup"].text()
    assert "Never backed up" in page.backup_warning.text()
    with qtbot.waitSignal(page.runner().finished, timeout=10_000):
        page.check_button.click()
    assert "intact" in page.result.text()


def test_backup_warning_ages() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 1, 10, tzinfo=UTC)
    assert backup_warning((now - timedelta(days=1)).isoformat(), now) == ""
    assert "8 days old" in backup_warning((now - timedelta(days=8)).isoformat(), now)


def test_change_passphrase(qtbot, engine: Engine, bus: EventBus, workspace_path: Path) -> None:
    page = WorkspacePage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    with qtbot.waitSignal(page.runner().finished, timeout=10_000):
        page.change_passphrase("a new passphrase")
    assert "changed" in page.result.text()
    engine.close()
    Engine.open(workspace_path, Unlock.with_passphrase("a new passphrase"), read_only=True).close()


def test_users_page_lists_and_adds_users(qtbot, engine: Engine, bus: EventBus) -> None:
    page = UsersPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    names = [page.proxy.data(page.proxy.index(r, 0)) for r in range(page.proxy.rowCount())]
    assert "alice" in names and engine.actor in names
    assert page.add_button.isEnabled()
    bus.changed.connect(page.on_changes)
    with qtbot.waitSignal(bus.changed, timeout=5000):
        page.add_user("bob", {"reviewer"}, "Bob")
    names = [page.proxy.data(page.proxy.index(r, 0)) for r in range(page.proxy.rowCount())]
    assert "bob" in names
    page.table.selectRow(names.index("bob"))
    assert page.selected_user() is not None and page.selected_user().name == "bob"


def test_users_page_refusal_is_clear(qtbot, workspace_path: Path, bus: EventBus, messages) -> None:
    with Engine.open(workspace_path, Unlock.with_passphrase("pw-demo-123"), actor="alice") as engine:
        page = UsersPage(bus)
        qtbot.addWidget(page)
        page.set_engine(engine)
        assert not page.add_button.isEnabled()
        assert "Only an admin" in page.note.text()
        with qtbot.waitSignal(page.runner().failed, timeout=5000):
            page.add_user("mallory", {"admin"})
        assert messages.shown[-1][0] == "Permission denied"
        assert "alice" in messages.shown[-1][1]


def test_audit_page_lists_filters_and_verifies(qtbot, engine: Engine, bus: EventBus) -> None:
    page = AuditPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    assert page.model.rowCount() == 3
    assert page.range_label.text().startswith("Entries 1–3 of 3")
    actions = {page.model.data(page.model.index(r, 3)) for r in range(3)}
    assert actions == {"workspace.created", "user.added"}
    page.action_combo.setCurrentText("user.")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=2000)
    page.text_edit.setText("alice")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=2000)
    page.clear_button.click()
    assert page.model.rowCount() == 3
    with qtbot.waitSignal(page.runner().finished, timeout=10_000):
        page.verify_button.click()
    assert "Intact" in page.verdict.text()


def test_audit_page_pages_through_many_entries(qtbot, engine: Engine, bus: EventBus) -> None:
    for i in range(120):
        engine.users.add(f"user{i}", {"analyst"})
    page = AuditPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    assert page.model.rowCount() == 100
    assert page.range_label.text().startswith("Entries 1–100 of 123")
    assert page.next_button.isEnabled() and not page.prev_button.isEnabled()
    page.next_button.click()
    assert page.model.rowCount() == 23
    assert page.range_label.text().startswith("Entries 101–123 of 123")


def test_audit_page_shows_a_broken_chain(qtbot, engine: Engine, bus: EventBus) -> None:
    from core.api import ChainHead, ChainReport

    page = AuditPage(bus)
    qtbot.addWidget(page)
    page.show_report(ChainReport(False, 2, ChainHead(3, "x"), first_bad_seq=2, problem="hash does not match"))
    assert "Broken at #2: hash does not match" in page.verdict.text()


def test_backup_page_makes_verifies_and_restores(qtbot, engine: Engine, bus: EventBus, tmp_path: Path) -> None:
    page = BackupPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    bus.changed.connect(page.on_changes)
    assert "never" in page.last.text()
    dest = tmp_path / "backup.airlock"
    with qtbot.waitSignal(page.runner().finished, timeout=20_000):
        page.back_up_to(dest)
    assert dest.exists() and dest.stat().st_size > 0
    assert "verified" in page.result.text()
    qtbot.waitUntil(lambda: "never" not in page.last.text(), timeout=2000)
    assert str(dest) in page.last.text()
    with qtbot.waitSignal(page.runner().finished, timeout=20_000):
        page.verify_file(dest, Unlock.with_passphrase("pw-demo-123"))
    assert "sound backup" in page.result.text()
    restored = tmp_path / "restored.airlock"
    with qtbot.waitSignal(page.runner().finished, timeout=20_000):
        page.restore_file(dest, restored, Unlock.with_passphrase("pw-demo-123"))
    assert restored.exists() and "Restored into" in page.result.text()


def test_backup_with_wrong_key_is_a_message(qtbot, engine: Engine, bus: EventBus, tmp_path: Path, messages) -> None:
    page = BackupPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    with qtbot.waitSignal(page.runner().finished, timeout=20_000):
        page.back_up_to(tmp_path / "b.airlock")
    with qtbot.waitSignal(page.runner().failed, timeout=20_000):
        page.verify_file(tmp_path / "b.airlock", Unlock.with_passphrase("nope"))
    assert messages.shown[-1][0] == "Backup not usable"


def test_read_only_disables_changes(qtbot, workspace_path: Path, bus: EventBus) -> None:
    with Engine.open(workspace_path, Unlock.with_passphrase("pw-demo-123"), read_only=True) as engine:
        pages = [WorkspacePage(bus), UsersPage(bus), BackupPage(bus)]
        for page in pages:
            qtbot.addWidget(page)
            page.set_engine(engine)
        assert not pages[0].passphrase_button.isEnabled()
        assert not pages[1].add_button.isEnabled()
        assert not pages[2].backup_button.isEnabled()
        assert "read-only" in pages[0].fields["role"].text()


def test_pages_reload_only_what_they_show(qtbot, engine: Engine, bus: EventBus, monkeypatch) -> None:
    page = UsersPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    calls: list[int] = []
    monkeypatch.setattr(page, "reload", lambda: calls.append(1))
    page.on_changes(frozenset({"backups"}))
    assert calls == []
    page.on_changes(frozenset({"users", "audit"}))
    assert calls == [1]
