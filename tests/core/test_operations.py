"""Queries never write; every mutation says what changed.

One conformance test walks every ``core.<area>.service`` module (found by walking the
package, so a new area is covered without editing this file) and checks each public
method of each ``*Service`` class: it is marked ``@query`` or ``@mutation``, a mutation is
annotated to return ``Outcome``, a query is not. The behavioural tests then run the queries
on a read-only open inside ``queries_only`` (where the store refuses any write) and check
that each export is refused up front there with a message that says why.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import shutil
from pathlib import Path

import pytest

import core
from core.api import Engine, PermissionDenied, ReadOnlyWorkspace, Unlock, op_kind, queries_only
from tests.conftest import PASSPHRASE

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"


def _service_classes() -> list[type]:
    found: list[type] = []
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if not info.name.endswith(".service"):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and cls.__name__.endswith("Service"):
                found.append(cls)
    return found


def _public_methods(cls: type) -> list[tuple[str, object]]:
    return [
        (name, fn) for name, fn in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(fn)
    ]


def test_the_walk_finds_every_area() -> None:
    names = {c.__name__ for c in _service_classes()}
    assert {"WorkspaceService", "UserService", "AuditService", "AssessmentService", "DatasetService"} <= names


@pytest.mark.parametrize("cls", _service_classes(), ids=lambda c: c.__name__)
def test_every_public_method_is_a_query_or_a_mutation(cls: type) -> None:
    problems = []
    for name, fn in _public_methods(cls):
        kind = op_kind(fn)
        returns = str(inspect.signature(fn).return_annotation)  # type: ignore[arg-type]
        if kind is None:
            problems.append(f"{name}: not marked @query or @mutation")
        elif kind == "mutation" and not returns.startswith("Outcome["):
            problems.append(f"{name}: a mutation must return Outcome, not {returns}")
        elif kind == "query" and returns.startswith("Outcome["):
            problems.append(f"{name}: a query must not return Outcome")
    assert problems == []


@pytest.fixture
def old_workspace(tmp_path: Path) -> Path:
    """A copy of the release-0.1.0 workspace: a dataset with a profile and schema, an assessment."""
    for item in FIXTURE.glob("release-0.1.0.airlock*"):
        if not item.name.endswith(".lock"):
            shutil.copy(item, tmp_path / item.name)
    path = tmp_path / "release-0.1.0.airlock"
    Engine.open(path, Unlock(passphrase="release-0.1.0-fixture")).close()  # upgrade once, writable
    return path


def test_queries_run_on_a_read_only_open_and_write_nothing(old_workspace: Path) -> None:
    before = old_workspace.read_bytes()
    with Engine.open(old_workspace, Unlock(passphrase="release-0.1.0-fixture"), read_only=True) as eng, \
            queries_only("the read-only test"):
        assert eng.workspace.info().read_only
        assert eng.audit.verify().ok
        prof = eng.datasets.profile("loans", target="defaulted", refresh=True)  # computed, not stored
        assert prof.row_count == 60
        assert eng.datasets.profile_report("loans", format="html").startswith(b"<!")
        assert eng.datasets.validate("loans", "loans").ok
        assert not eng.datasets.drift("loans@1", "loans@1").drift
        (assessment,) = eng.assessments.list()
        assert eng.assessments.report_data(assessment.id).assessment.id == assessment.id
    assert old_workspace.read_bytes() == before


def test_a_query_that_writes_is_caught_at_once(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    with queries_only("a misrouted call"), pytest.raises(RuntimeError, match="misrouted call tried to open a write"):
        engine.users.add("mallory", {"analyst"})
    assert [u.name for u in engine.users.list()] != ["mallory"]


def test_exports_are_refused_up_front_on_a_read_only_open(old_workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with Engine.open(old_workspace, Unlock(passphrase="release-0.1.0-fixture"), read_only=True) as eng:
        with pytest.raises(ReadOnlyWorkspace, match="recorded in the audit log.*read-only"):
            eng.datasets.export_profile_report("loans", out / "p.html", format="html")
        (assessment,) = eng.assessments.list()
        with pytest.raises(ReadOnlyWorkspace, match="read-only"):
            eng.assessments.export_report(assessment.id, out / "a.html", kind="html")
    assert list(out.iterdir()) == []


def test_an_export_is_audited_and_owner_only(old_workspace: Path, tmp_path: Path) -> None:
    dest = tmp_path / "loans.html"
    with Engine.open(old_workspace, Unlock(passphrase="release-0.1.0-fixture")) as eng:
        result = eng.datasets.export_profile_report("loans", dest, format="html", target="defaulted")
        assert result.value == dest and "datasets" in result.changes and "audit" in result.changes
        events, _ = eng.audit.events(action="dataset.report_exported")
    assert events[0].details["file"] == "loans.html"
    assert dest.stat().st_mode & 0o777 == 0o600


def test_a_missing_folder_is_a_clear_error_before_any_work(workspace: tuple[Engine, str], tmp_path: Path) -> None:
    engine, _ = workspace
    from core.api import InvalidInput

    with pytest.raises(InvalidInput, match="does not exist"):
        engine.datasets.export_profile_report("nothing-imported", tmp_path / "no" / "such" / "r.pdf")


def test_a_non_member_may_compute_a_profile_but_not_keep_it(old_workspace: Path) -> None:
    with Engine.open(old_workspace, Unlock(passphrase="release-0.1.0-fixture"), actor="outsider") as eng:
        prof = eng.datasets.profile("loans", refresh=True)
        with pytest.raises(PermissionDenied, match="outsider"):
            eng.datasets.save_profile(prof)


def test_saving_a_profile_is_one_audited_mutation(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(50)), encoding="utf-8")
    engine, _ = Engine.create(tmp_path / "w.airlock", name="T", passphrase=PASSPHRASE, use_keyring=False)
    with engine:
        engine.datasets.import_file(csv, name="t")
        prof = engine.datasets.profile("t", target="b")
        assert engine.datasets.stored_profile("t", target="b") is None  # computing kept nothing
        saved = engine.datasets.save_profile(prof)
        assert saved.changes == {"datasets", "audit"}
        assert engine.datasets.stored_profile("t", target="b") == prof
        events, _ = engine.audit.events(action="dataset.profiled")
        assert events[0].details == {"target": "b"}
