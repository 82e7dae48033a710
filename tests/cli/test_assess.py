"""``airlock assess``: listing a model's questions, showing answers, unknown ids, finalising."""

from __future__ import annotations

import json

from tests.cli.conftest import Made


def _new(run, ws: tuple[object, ...], model: str = "google-mlops") -> str:  # type: ignore[no-untyped-def]
    target = ("--target", "training=2") if model == "google-mlops" else ()
    made = run(*ws, "--json", "assess", "new", "--model", model, "--unit", "Ops", *target)
    assert made.code == 0, made.err
    return str(json.loads(made.out)["id"])


def test_questions_lists_ids_texts_and_level_descriptions(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    shown = run(*ws, "assess", "questions", "google-mlops")
    assert shown.code == 0, shown.err
    assert "google.training.process:" in shown.out and "Training and pipelines" in shown.out
    assert "0 Manual process" in shown.out  # the levels, by number and name
    data = json.loads(run(*ws, "--json", "assess", "questions", "airlock-data-ml").out)
    questions = [q for d in data["dimensions"] for q in d["questions"]]
    assert len(questions) == 24
    backup = next(q for q in questions if q["id"] == "security.backup")
    assert sorted(backup["levels"]) == ["0", "1", "2", "3", "4", "5"] and backup["evidence"] == "backup_recency"
    missing = run(*ws, "assess", "questions", "nope")
    assert missing.code == 2 and "available: airlock-data-ml" in missing.err


def test_show_lists_the_answers_and_marks_targets(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    aid = _new(run, ws)
    assert run(*ws, "assess", "answer", aid[:8], "google.training.process", "1", "--note", "pipeline in dev").code == 0
    assert run(*ws, "assess", "skip", aid[:8], "google.metadata.store", "--reason", "no owner yet").code == 0
    out = run(*ws, "assess", "show", aid).out
    assert "Answers:" in out
    assert "google.training.process: 1 — " in out and "[note: pipeline in dev]" in out
    assert "google.metadata.store: skipped: no owner yet" in out
    assert "google.ops.monitoring: not answered" in out
    assert "2 (set)" in out and "1 (next level)" in out
    assert "depends on:" in out and "; #1 " in out  # dependencies by position and title
    assert "google-validation-1" not in out


def test_answer_to_an_unknown_question_names_the_valid_ids(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    aid = _new(run, ws)
    bad = run(*ws, "assess", "answer", aid, "training", "1")
    assert bad.code == 2 and "Traceback" not in bad.err
    assert "google.training.process" in bad.err and "google.ops.monitoring" in bad.err  # all 7 named
    big = _new(run, ws, "airlock-data-ml")
    bad = run(*ws, "assess", "answer", big, "security.bakup", "1")
    assert bad.code == 2 and "security.backup" in bad.err and "assess questions airlock-data-ml" in bad.err


def test_finalise_with_open_questions_needs_force(made: Made, run) -> None:  # type: ignore[no-untyped-def]
    ws = ("--workspace", made.path)
    aid = _new(run, ws)
    run(*ws, "assess", "answer", aid, "google.training.process", "1")
    refused = run(*ws, "assess", "finalise", aid)
    assert refused.code == 2 and "6 of 7 questions" in refused.err and "--force" in refused.err
    assert "draft" in run(*ws, "assess", "list").out
    done = run(*ws, "assess", "finalise", aid, "--force")
    assert done.code == 0 and "6 questions left open" in done.out
    # Two changes to the final assessment land in one draft revision.
    first = run(*ws, "assess", "answer", aid, "google.training.process", "2")
    second = run(*ws, "assess", "answer", aid, "google.ops.monitoring", "1")
    assert "revision 2" in first.out and "revision 2" in second.out
    listed = run(*ws, "--json", "assess", "list").out
    assert sorted((a["revision"], a["status"]) for a in json.loads(listed)) == [(1, "final"), (2, "draft")]
