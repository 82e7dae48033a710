"""The audit log shows details as readable ``key: value`` text, never as raw JSON."""

from __future__ import annotations

from core.api import Engine
from desktop.bus import EventBus
from desktop.pages.audit import AuditPage, details_lines


def test_details_read_as_key_value_lines() -> None:
    lines = details_lines({"question": "security.backup", "level": 2, "roles": ["admin", "analyst"],
                           "after": {"maximum": 9.0, "required": True}, "note": None})
    assert lines == ["after:", "    maximum: 9", "    required: yes", "level: 2", "note: —",
                     "question: security.backup", "roles: admin, analyst"]


def test_audit_page_shows_details_without_json(qtbot, engine: Engine, bus: EventBus) -> None:  # type: ignore[no-untyped-def]
    a = engine.assessments.create("google-mlops", "Ops").value
    engine.assessments.answer(a.id, "google.training.process", 1)
    page = AuditPage(bus)
    qtbot.addWidget(page)
    page.set_engine(engine)
    texts = [page.proxy.index(r, 5).data() for r in range(page.proxy.rowCount())]
    answered = next(t for t in texts if "question" in t)
    assert answered == "level: 1 · question: google.training.process"
    assert not any("{" in t or '"' in t for t in texts)
    page.table.selectRow(0)  # the newest entry: the answer
    shown = page.details.text()
    assert "assessment.answered" in shown and "\nlevel: 1\nquestion: google.training.process" in shown
    page.reload()
    assert "Select an entry" in page.details.text()
