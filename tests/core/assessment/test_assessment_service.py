"""The assessment service on a real encrypted workspace: saving, locking, audit, reports."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from core.assessment.answer_file import AnswerFileError
from core.errors import InvalidInput, PermissionDenied


@pytest.fixture
def engine(workspace):  # type: ignore[no-untyped-def]
    return workspace[0]


def test_answers_are_saved_as_you_go_and_completion_counts(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("airlock-data-ml", "Risk Analytics", assessors=["ana", "bo"]).value
    svc.answer(a.id, "security.access", 2, "personal accounts")
    svc.skip(a.id, "security.backup", "infrastructure team not available")
    again = svc.get(a.id[:8])
    assert again.answers["security.access"].level == 2
    assert again.answers["security.access"].note == "personal accounts"
    assert again.answers["security.backup"].skip_reason == "infrastructure team not available"
    done = svc.completion(again)
    assert (done.answered, done.skipped, done.total) == (1, 1, 24)
    assert again.model_version == "1.0.0" and again.assessors == ("ana", "bo")


def test_bad_answers_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Team").value
    with pytest.raises(InvalidInput, match="outside 0–2"):
        svc.answer(a.id, "google.training.process", 3)
    with pytest.raises(InvalidInput, match="no question"):
        svc.answer(a.id, "nope", 1)
    with pytest.raises(InvalidInput, match="why"):
        svc.skip(a.id, "google.training.process", "  ")


def test_finalise_locks_and_later_change_makes_a_revision(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("azure-mlops", "Ops").value
    svc.answer(a.id, "azure.people.teams", 1)
    final = svc.finalise(a.id, force=True).value
    assert final.locked
    with pytest.raises(InvalidInput, match="already final"):
        svc.finalise(a.id)
    changed = svc.answer(a.id, "azure.people.teams", 3).value
    assert changed.id != a.id and changed.revision == 2 and not changed.locked
    assert changed.supersedes == a.id and changed.lineage_id == a.lineage_id
    assert svc.get(a.id).answers["azure.people.teams"].level == 1  # the final one is untouched
    actions = [e.action for e in engine.audit.events(limit=50)[0]]
    assert "assessment.finalised" in actions and "assessment.revised" in actions
    assert engine.audit.verify().ok


def test_only_analysts_and_admins_assess(engine) -> None:  # type: ignore[no-untyped-def]
    engine.users.add("rita", {"reviewer"})
    a = engine.assessments.create("google-mlops", "Team").value
    from core.api import Engine

    other = Engine(engine._opened, actor="rita")
    with pytest.raises(PermissionDenied, match="analyst"):
        other.assessments.answer(a.id, "google.training.process", 1)


def test_evidence_is_stored_in_the_workspace(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("airlock-data-ml", "Unit").value
    f = tmp_path / "restore-test.txt"
    f.write_bytes(b"restore tested 2025-01-10")
    got = svc.attach_evidence(a.id, "security.backup", f).value
    ref = got.answers["security.backup"].evidence[0]
    assert ref.filename == "restore-test.txt"
    assert b"restore tested" not in engine.path.read_bytes()  # encrypted at rest
    assert got.answers["security.backup"].pending  # evidence alone does not answer the question
    assert svc.completion(got).done == 0
    out = svc.export_evidence(a.id, ref.digest, tmp_path / "copy.txt").value
    assert out.read_bytes() == b"restore tested 2025-01-10"
    events, _ = engine.audit.events(action="assessment.evidence_exported")
    assert events and events[0].details["file"] == "restore-test.txt"


def test_suggestions_come_from_the_workspace_and_do_not_answer(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("airlock-data-ml", "Unit").value
    tips = svc.suggestions(a)
    assert tips["security.backup"].suggested_level == 0
    assert "no backup on record" in tips["security.backup"].summary
    assert "reviewer" in tips["governance.approval"].summary
    assert svc.get(a.id).answers == {}


def test_import_answers_from_csv_and_json_with_row_errors(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Team").value
    good = tmp_path / "a.csv"
    good.write_text("question,level,note,skip_reason\n"
                    "google.training.process,1,pipeline in dev,\n"
                    "google.metadata.store,,,no owner yet\n", encoding="utf-8")
    got = svc.import_answers(a.id, good).value
    assert got.answers["google.training.process"].level == 1
    assert got.answers["google.metadata.store"].skipped
    bad = tmp_path / "b.csv"
    bad.write_text("question,level\ngoogle.ops.deployment,7\nnope,1\n", encoding="utf-8")
    with pytest.raises(AnswerFileError) as err:
        svc.import_answers(a.id, bad)
    assert "row 2" in str(err.value) and "row 3" in str(err.value)
    assert "google.ops.deployment" not in svc.get(a.id).answers  # nothing applied
    js = tmp_path / "c.json"
    js.write_text(json.dumps({"answers": [{"question": "google.ops.monitoring", "level": 2}]}))
    assert svc.import_answers(a.id, js).value.answers["google.ops.monitoring"].level == 2


def test_user_model_import_is_versioned(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    path = svc.export_model("google-mlops", tmp_path / "m.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(InvalidInput, match="built-in"):
        svc.import_model(path)
    raw["id"], raw["name"] = "our-mlops", "Our MLOps"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert svc.import_model(path).value.version == "1.0.0"
    a = svc.create("our-mlops", "Team").value
    raw["version"] = "1.1.0"
    raw["dimensions"][0]["name"] = "Training (renamed)"
    path.write_text(json.dumps(raw), encoding="utf-8")
    svc.import_model(path)
    assert svc.model("our-mlops").version == "1.1.0"
    assert svc.model_of(svc.get(a.id)).dimensions[0].name == "Training and pipelines"
    raw["name"] = "changed without a new version"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(InvalidInput, match="raise the version"):
        svc.import_model(path)


def test_history_compare_and_reports(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    svc = engine.assessments
    old = svc.create("airlock-data-ml", "Unit <script>", assessed_on=dt.date(2024, 1, 1)).value
    new = svc.create("airlock-data-ml", "Unit <script>", assessed_on=dt.date(2025, 1, 1),
                     targets={"security": 4}).value
    for q in svc.model("airlock-data-ml").questions():
        svc.answer(old.id, q.id, 1)
        svc.answer(new.id, q.id, 2, note="note with <b>markup</b> & ünïcode")
    svc.finalise(old.id)  # "previous" is the previous finalised assessment
    cmp = svc.compare(new.id, old.id)
    assert cmp.before.id == old.id and all(c.delta == pytest.approx(1.0) for c in cmp.changes)
    assert [a.id for a in svc.history("Unit <script>")] == [old.id, new.id]
    assert svc.previous(svc.get(new.id)).id == old.id  # type: ignore[union-attr]

    html = svc.export_report(new.id, tmp_path / "r.html", kind="html").value.read_text(encoding="utf-8")
    assert "<script>" not in html and "Unit &lt;script&gt;" in html
    assert "&lt;b&gt;markup&lt;/b&gt;" in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", html)
    assert "http://" not in html and "https://" not in html
    assert html.count("data:image/png;base64,") == 3
    assert "weighted by" in html and "airlock-data-ml" in html and "1.0.0" in html

    pdf = PdfReader(str(svc.export_report(new.id, tmp_path / "r.pdf", kind="pdf").value))
    titles = [o.title for o in pdf.outline]
    assert titles == ["Summary", "Charts", "Recommendations", "Answers", "About this report"]
    first = pdf.pages[0].extract_text()
    assert "Unit <script>" in first and "Scoring rule" in first
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "Introduce roles and least privilege" in " ".join(text.split()) and "ünïcode" in text
    assert "security-3-roles" not in text  # recommendations are named by their text, not their ids
    assert len(pdf.pages) >= 4


def test_targets_are_the_assessors_own_else_the_next_level_up(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Team", targets={"training": 2}).value
    svc.answer(a.id, "google.validation.data", 1)
    svc.answer(a.id, "google.metadata.store", 2)
    got = svc.targets(svc.get(a.id))
    assert got["training"] == 2  # set by the assessors
    assert got["validation"] == 2  # one up from the level reached (1)
    assert got["operations"] == 1  # not answered: one up from the lowest level
    assert "metadata" not in got  # already at the top level: nothing to aim at
    assert svc.get(a.id).targets == {"training": 2}  # reading stores nothing


def test_a_cleared_target_goes_back_to_the_default(engine) -> None:  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.create("google-mlops", "Team", targets={"training": 2}).value
    cleared = svc.set_target(a.id, "training", None).value
    assert cleared.targets == {}
    assert svc.targets(cleared)["training"] == 1  # nothing answered: one up from level 0
    events, _ = engine.audit.events(action="assessment.target_set")
    assert events[0].details == {"dimension": "training", "level": None}
    with pytest.raises(InvalidInput):
        svc.set_target(a.id, "no-such-dimension", None)
