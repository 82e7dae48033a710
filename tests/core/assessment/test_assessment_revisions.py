"""Revisions, finalising with open questions, and what the report says (issue 9, Assessment)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from core.assessment.models import UnansweredQuestions
from core.errors import InvalidInput


@pytest.fixture
def engine(workspace):  # type: ignore[no-untyped-def]
    return workspace[0]


def _answer_all(svc, aid: str, level: int) -> None:  # type: ignore[no-untyped-def]
    for q in svc.model(svc.get(aid).model_id).questions():
        svc.answer(aid, q.id, level)


def test_editing_a_final_assessment_twice_goes_into_one_draft(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Ops").value
    _answer_all(svc, a.id, 0)
    svc.finalise(a.id)
    first = svc.answer(a.id, "google.training.process", 1).value
    second = svc.answer(a.id, "google.validation.data", 2).value  # the final one's id again
    assert second.id == first.id and second.revision == 2
    assert second.answers["google.training.process"].level == 1  # the first change is kept
    assert second.answers["google.validation.data"].level == 2
    revisions = [x for x in svc.list("Ops") if x.lineage_id == a.lineage_id]
    assert [(x.revision, x.status.value) for x in revisions] == [(1, "final"), (2, "draft")]
    assert svc.revise(a.id).value.id == first.id  # revise hands back the open draft
    events, _ = engine.audit.events(action="assessment.revised")
    assert len(events) == 1


def test_a_change_named_by_an_older_final_revision_builds_on_the_newest(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Ops").value
    _answer_all(svc, a.id, 0)
    svc.finalise(a.id)
    rev2 = svc.answer(a.id, "google.training.process", 2).value
    svc.finalise(rev2.id)
    rev3 = svc.answer(a.id, "google.ops.monitoring", 1).value  # named by revision 1
    assert rev3.revision == 3 and rev3.supersedes == rev2.id
    assert rev3.answers["google.training.process"].level == 2  # revision 2's change survives


def test_finalising_with_open_questions_needs_confirmation(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Ops").value
    svc.answer(a.id, "google.training.process", 1)
    svc.skip(a.id, "google.metadata.store", "no owner yet")
    with pytest.raises(UnansweredQuestions) as err:
        svc.finalise(a.id)
    assert "5 of 7 questions" in str(err.value) and "google.validation.data" in str(err.value)
    assert len(err.value.open_questions) == 5
    assert not svc.get(a.id).locked  # nothing changed
    final = svc.finalise(a.id, force=True).value
    assert final.locked
    events, _ = engine.audit.events(action="assessment.finalised")
    assert events[0].details["left_open"] == 5
    html = svc.export_report(a.id, tmp_path / "r.html", kind="html").value.read_text(encoding="utf-8")
    assert "5 questions of 7 were left open" in html

    from pypdf import PdfReader

    pdf = PdfReader(str(svc.export_report(a.id, tmp_path / "r.pdf", kind="pdf").value))
    assert "5 questions of 7 were left open" in " ".join(pdf.pages[0].extract_text().split())


def test_a_complete_assessment_finalises_without_confirmation(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Ops").value
    _answer_all(svc, a.id, 1)
    assert svc.finalise(a.id).value.locked
    html = svc.export_report(a.id, tmp_path / "r.html", kind="html").value.read_text(encoding="utf-8")
    assert "left open" not in html


def test_unknown_question_names_the_valid_ids(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    small = svc.create("google-mlops", "Ops").value  # 7 questions: all of them are named
    with pytest.raises(InvalidInput) as err:
        svc.answer(small.id, "training.process", 1)
    for q in svc.model("google-mlops").questions():
        assert q.id in str(err.value)
    big = svc.create("airlock-data-ml", "Ops").value  # 24 questions: the closest, and how to list all
    with pytest.raises(InvalidInput) as err:
        svc.answer(big.id, "security.backups", 1)
    text = str(err.value)
    assert "security.backup" in text and "airlock assess questions airlock-data-ml" in text
    assert "governance.trail" not in text


def test_report_names_dependencies_by_title_and_marks_targets(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("airlock-data-ml", "Unit", targets={"strategy": 3}).value
    model = svc.model("airlock-data-ml")
    steps = svc.plan(svc.get(a.id))
    by_id = {s.recommendation.id: s for s in steps}
    backlog = by_id["strategy-2-backlog"]
    sponsor = by_id["strategy-1-sponsor"]
    assert len(backlog.depends_on) == 1
    assert backlog.depends_on[0].startswith(f"#{sponsor.position} Find one manager")  # …by its title
    assert "strategy-1-sponsor" not in backlog.reason and "Find one manager" in backlog.reason

    html = svc.export_report(a.id, tmp_path / "r.html", kind="html").value.read_text(encoding="utf-8")
    rec_ids = {r.id for r in model.recommendations()}
    assert not [rid for rid in rec_ids if rid in html]  # no internal id anywhere in the report
    assert "Find one manager" in html
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td class=num>[^<]*</td><td class=num>([^<]*)<span", html))
    assert rows["Strategy and sponsorship"].strip() == "3"
    marks = re.findall(r'<td class=num>\d <span class="small">\(([^)]+)\)</span>', html)
    assert marks.count("set") == 1 and marks.count("next level") == len(model.dimensions) - 1

    from pypdf import PdfReader

    pdf = PdfReader(str(svc.export_report(a.id, tmp_path / "r.pdf", kind="pdf").value))
    text = " ".join("".join(p.extract_text() for p in pdf.pages).split())
    assert "3 (set)" in text and "1 (next level)" in text
    assert not [rid for rid in rec_ids if rid in text]


def test_previous_means_the_previous_finalised_assessment(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    oldest = svc.create("google-mlops", "Ops", assessed_on=dt.date(2023, 1, 1)).value
    _answer_all(svc, oldest.id, 0)
    svc.finalise(oldest.id)
    draft = svc.create("google-mlops", "Ops", assessed_on=dt.date(2024, 1, 1)).value  # never finalised
    _answer_all(svc, draft.id, 2)
    current = svc.create("google-mlops", "Ops", assessed_on=dt.date(2025, 1, 1)).value
    later = svc.create("google-mlops", "Ops", assessed_on=dt.date(2026, 1, 1)).value
    _answer_all(svc, later.id, 1)
    svc.finalise(later.id)
    prev = svc.previous(svc.get(current.id))
    assert prev is not None and prev.id == oldest.id  # not the draft, not the later one
    html = svc.export_report(current.id, tmp_path / "r.html", kind="html").value.read_text(encoding="utf-8")
    assert "the finalised assessment of 2023-01-01" in html
    # A revised (draft) successor of a final one: the final revision still counts.
    svc.answer(oldest.id, "google.training.process", 1)
    prev = svc.previous(svc.get(current.id))
    assert prev is not None and prev.id == oldest.id and prev.locked
    assert svc.previous(svc.get(oldest.id)) is None
