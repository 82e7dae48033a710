"""Evidence suggestions: each probe speaks given its facts, and only then (issue 9).

The pure part builds :class:`WorkspaceFacts` by hand; the workspace part checks that the
store fills the facts from a real encrypted workspace (datasets from scikit-learn's bundled
iris, schemas inferred and edited, an audit chain intact and then edited behind Airlock's back).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.assessment import catalogue, evidence
from core.assessment.models import WorkspaceFacts
from tests.core.data.real_data import write_csv

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
MODEL = next(m for m in catalogue.builtin_models() if m.id == "airlock-data-ml")
QUESTION_OF = {q.evidence: q.id for q in MODEL.questions() if q.evidence}


def _suggest(**facts: object) -> dict[str, str]:
    found = evidence.suggest(WorkspaceFacts(collected_at=NOW, **facts), MODEL)  # type: ignore[arg-type]
    return {probe: found[qid].summary for probe, qid in QUESTION_OF.items() if qid in found}


def test_without_facts_no_probe_speaks() -> None:
    assert _suggest() == {}


@pytest.mark.parametrize(
    ("probe", "facts", "expected"),
    [
        ("backup_recency", {"backups_recorded": False}, "no backup on record"),
        ("backup_recency", {"backups_recorded": True, "last_backup_at": NOW - dt.timedelta(days=9)},
         "more than a week old"),
        ("reviewer_roles", {"users_by_role": {"admin": 1}}, "No user in this workspace holds the reviewer role"),
        ("access_control", {"users_by_role": {"admin": 2}, "active_users": 2}, "Every user is an admin"),
        ("audit_trail", {"audit_events": 12, "audit_chain_ok": True}, "hash chain verifies"),
        ("audit_trail", {"audit_events": 12, "audit_chain_ok": False}, "does NOT verify"),
        ("schema_review", {"datasets_total": 0, "datasets_with_schema": 0, "datasets_schema_reviewed": 0},
         "No dataset has been imported"),
        ("schema_review", {"datasets_total": 3, "datasets_with_schema": 0, "datasets_schema_reviewed": 0},
         "None of the 3 datasets in this workspace has a schema"),
        ("schema_review", {"datasets_total": 4, "datasets_with_schema": 2, "datasets_schema_reviewed": 1},
         "2 of 4 datasets have a schema (50%); 1 of them was reviewed"),
    ],
)
def test_each_probe_speaks_given_its_facts(probe: str, facts: dict[str, object], expected: str) -> None:
    said = _suggest(**facts)
    # That probe speaks; the only other one is the probe reading the same facts (roles).
    others = set(said) - {probe}
    assert probe in said and others <= ({"access_control", "reviewer_roles"} if "users_by_role" in facts else set())
    assert expected in said[probe]


def test_chain_state_unknown_says_neither() -> None:
    said = _suggest(audit_events=5)["audit_trail"]
    assert "verifies" not in said and "NOT" not in said


def test_schema_probe_needs_both_counts() -> None:
    assert _suggest(datasets_total=3) == {}
    assert _suggest(datasets_schema_reviewed=0) == {}


def test_no_schema_at_all_suggests_the_lowest_level_and_a_reviewed_one_does_not() -> None:
    qid = QUESTION_OF["schema_review"]
    none = evidence.suggest(WorkspaceFacts(NOW, datasets_total=2, datasets_with_schema=0,
                                           datasets_schema_reviewed=0), MODEL)[qid]
    assert none.suggested_level == MODEL.min_level
    some = evidence.suggest(WorkspaceFacts(NOW, datasets_total=2, datasets_with_schema=1,
                                           datasets_schema_reviewed=1), MODEL)[qid]
    assert some.suggested_level is None and some.facts["reviewed schemas"] == "1"


# --- from a real workspace -------------------------------------------------------------------


@pytest.fixture
def engine(workspace):  # type: ignore[no-untyped-def]
    return workspace[0]


def _tip(engine, probe: str):  # type: ignore[no-untyped-def]
    svc = engine.assessments
    a = svc.list()[0] if svc.list() else svc.create("airlock-data-ml", "Unit").value
    return svc.suggestions(a).get(QUESTION_OF[probe])


def test_workspace_fills_dataset_and_schema_facts(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tip = _tip(engine, "schema_review")
    assert tip is not None and "No dataset has been imported" in tip.summary

    ds = engine.datasets
    ds.import_file(write_csv("iris", tmp_path), name="iris")
    ds.import_file(write_csv("wine", tmp_path), name="wine")
    tip = _tip(engine, "schema_review")
    assert tip.facts == {"datasets": "2", "with a schema": "0", "reviewed schemas": "0"}
    assert tip.suggested_level == 0

    ds.infer_schema("iris")  # inferred only: a schema, not a reviewed one
    tip = _tip(engine, "schema_review")
    assert tip.facts == {"datasets": "2", "with a schema": "1", "reviewed schemas": "0"}
    assert tip.suggested_level is None and "1 of 2 datasets have a schema" in tip.summary

    ds.edit_schema("iris", "sepal length (cm)", maximum=9.0)  # a person states what it should be
    assert _tip(engine, "schema_review").facts["reviewed schemas"] == "1"

    ds.infer_schema("iris")  # re-inferred after the edit: the newest revision is machine-made again
    assert _tip(engine, "schema_review").facts["reviewed schemas"] == "0"


def test_workspace_fills_audit_chain_fact(workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from core.api import Engine, Unlock
    from core.store import keys
    from tests.core.helpers import tamper_connection

    engine, recovery = workspace
    engine.assessments.create("airlock-data-ml", "Unit")
    tip = _tip(engine, "audit_trail")
    assert tip is not None and "hash chain verifies" in tip.summary and tip.facts["chain verifies"] == "yes"
    path = engine.path
    engine.close()

    conn = tamper_connection(path, keys.parse_recovery_key(recovery))
    conn.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1")
    conn.close()
    with Engine.open(path, Unlock.with_recovery_key(recovery)) as again:
        tip = _tip(again, "audit_trail")
        assert tip is not None and "does NOT verify" in tip.summary and tip.facts["chain verifies"] == "no"
