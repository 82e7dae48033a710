"""The rubric service end to end on a model trained on breast_cancer, in a real encrypted workspace.

One model is trained per test (a real child process), so the checks read real stored evidence;
attestations, the author rule, expiry, the policy's versions and the audit trail are checked on it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.api import Engine
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.rubric.models import Attestation, AttestationId, Section, TestStatus
from core.store import blobs, rubric_repo


def _reviewer(engine: Any, name: str = "rita") -> Any:
    engine.users.add(name, ["reviewer"])
    return Engine(engine._opened, actor=name)


@pytest.mark.slow  # trains a model in a child process
def test_run_attest_policy_and_history(engine: Any, trained: Callable[..., Any], tmp_path: Path) -> None:
    mv = trained()
    with pytest.raises(NotFound, match="never ran"):
        engine.rubric.show(mv.label)
    first = engine.rubric.run(mv.label).value
    assert len(first.results) == 28 and first.policy_version == 1 and first.model_version_id == mv.id
    by_id = {r.test_id: r for r in first.results}
    # automated checks ran on the stored evidence; later parts are not done, with their reason
    assert by_id["model.3"].status == TestStatus.AUTOMATED and f"model_version:{mv.id}" in by_id["model.3"].evidence
    assert by_id["infra.6"].status == TestStatus.NOT_DONE and by_id["infra.6"].reason_not_done
    assert first.score.final == min(s.points for s in first.score.sections) == first.score.points(Section.MONITOR)
    assert "minimum" in first.score.rule_text
    assert engine.rubric.show(mv.label) == first

    # the author cannot attest their own model; a non-reviewer cannot attest at all
    engine.users.add("bob", ["analyst"])
    with pytest.raises(PermissionDenied, match="reviewer"):
        Engine(engine._opened, actor="bob").rubric.attest(mv.label, "data.7", "tested", expires_at="2099-01-01")
    with pytest.raises(PermissionDenied, match="trained cancer@1"):
        engine.rubric.attest(mv.label, "data.7", "tested", expires_at="2099-01-01")
    rita = _reviewer(engine)
    with pytest.raises(InvalidInput, match="expiry"):
        rita.rubric.attest(mv.label, "data.7", "tested")
    with pytest.raises(InvalidInput, match="not in the future"):
        rita.rubric.attest(mv.label, "data.7", "tested", expires_at="2020-01-01")
    with pytest.raises(InvalidInput, match="not a rubric test"):
        rita.rubric.attest(mv.label, "data.9", "tested", expires_at="2099-01-01")
    log = tmp_path / "ci-log.txt"
    log.write_text("42 passed", encoding="utf-8")
    att = rita.rubric.attest(mv.label, "data.7", "Feature code unit tested, run 42", [log], "2099-01-01").value
    assert att.attested_by == "rita" and att.expires_at.startswith("2099-01-01T00:00:00")
    with engine._opened.store.read() as tx:
        assert blobs.owners(tx, att.evidence_files[0][1]) == [blobs.BlobOwner("rubric_attestation", att.id)]
        assert bytes(blobs.read_bytes(tx, att.evidence_files[0][1])) == b"42 passed"
    # an expired attestation and one by the model's author, written straight to the store (the
    # service refuses both, but one made last year has expired since and a role can change)
    with engine._opened.store.write(engine.actor) as tx:
        rubric_repo.add_attestation(tx, Attestation(
            AttestationId("old"), "data.6", mv.id, "lead time measured", (), "rita", "2020-06-01T00:00:00+00:00",
            "2021-01-01T00:00:00+00:00"), {})
        rubric_repo.add_attestation(tx, Attestation(
            AttestationId("self"), "model.2", mv.id, "correlated", (), mv.created_by, "2026-01-01T00:00:00+00:00",
            "2099-01-01T00:00:00+00:00"), {})

    second = engine.rubric.run(mv.label).value
    by_id = {r.test_id: r for r in second.results}
    assert by_id["data.7"].status == TestStatus.MANUAL and f"attestation:{att.id}" in by_id["data.7"].evidence
    assert second.score.points(Section.DATA) == first.score.points(Section.DATA) + 0.5
    assert by_id["data.6"].status == TestStatus.NOT_DONE and "expired" in str(by_id["data.6"].reason_not_done)
    assert by_id["model.2"].status == TestStatus.NOT_DONE and "wrote this model" in str(by_id["model.2"].reason_not_done)
    assert [r.id for r in engine.rubric.history(mv.label)] == [first.id, second.id]
    comparison = engine.rubric.compare(first.id, mv.label)
    assert comparison.b == second and "data.7" in {d.test_id for d in comparison.differences}
    steps = engine.rubric.next_steps(mv.label)
    assert steps and steps[0].section == min(second.score.sections, key=lambda s: s.points).section

    # the policy: defaults, a new audited version, used by the next run
    assert engine.rubric.policy().version == 1 and engine.rubric.policy().slice_max_gap == 0.05
    with pytest.raises(PermissionDenied):
        Engine(engine._opened, actor="bob").rubric.set_policy(baseline_margin=0.5)
    with pytest.raises(InvalidInput, match="no setting"):
        rita.rubric.set_policy(margin=0.5)
    with pytest.raises(InvalidInput, match="cannot be negative"):
        rita.rubric.set_policy(slice_max_gap=-1)
    policy = rita.rubric.set_policy(baseline_margin=0.5, deny_list=["mean radius"]).value
    assert policy.version == 2 and policy.set_by == "rita" and policy.deny_list == ("mean radius",)
    third = engine.rubric.run(mv.label).value
    by_id = {r.test_id: r for r in third.results}
    assert third.policy_version == 2
    assert by_id["model.5"].outcome is not None and by_id["model.5"].outcome.value == "fail"  # 0.5 AUC margin: no model
    assert by_id["data.4"].outcome is not None and by_id["data.4"].outcome.value == "fail"  # a denied feature
    actions = [e.action for e in engine.audit.events(action="rubric.", limit=50)[0]]
    assert actions.count("rubric.run") == 3 and actions.count("rubric.attested") == 1
    assert actions.count("rubric.policy_changed") == 1
    assert engine.audit.verify().ok
