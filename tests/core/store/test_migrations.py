"""Migrations: they build exactly the ORM's schema, and a workspace of an older release upgrades
with every record kept (the release 0.1.0 fixture, and a synthetic schema-0003 workspace with
evidence for the blob-reference backfill)."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import core.store
from core.api import Engine, Unlock
from core.errors import ReadOnlyWorkspace
from core.store import blobs, keys
from core.store.migrate import head_revision
from core.store.opening import open_store
from core.store.schema import Base
from tests.conftest import PASSPHRASE
from tests.core.helpers import sha256_file, tamper_connection

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "release-0.1.0"
FIXTURE_PASSPHRASE = "release-0.1.0-fixture"


def _all_rows_loaded() -> None:
    """Import every module of ``core.store`` so every ORM row is on ``Base.metadata``
    (walked, not listed: a new persistence module is covered without editing this test)."""
    for info in pkgutil.walk_packages(core.store.__path__, "core.store."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)


def _fixture_copy(tmp_path: Path) -> Path:
    """The release 0.1.0 workspace copied into ``tmp_path``: the originals are never opened."""
    target = tmp_path / "release-0.1.0.airlock"
    shutil.copyfile(FIXTURE / "release-0.1.0.airlock", target)
    shutil.copyfile(FIXTURE / "release-0.1.0.airlock.keys", keys.header_path(target))
    return target


def _scalar(engine: Engine, sql: str) -> object:
    with engine._opened.store.raw_connection() as conn:
        return conn.execute(sql).fetchone()[0]


def test_migrations_build_exactly_the_orm_schema(workspace: tuple[Engine, str]) -> None:
    engine, _ = workspace
    _all_rows_loaded()
    with engine._opened.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"the migrations and the ORM differ: {differences}"
    assert _scalar(engine, "SELECT version_num FROM alembic_version") == head_revision()


def test_the_release_0_1_0_workspace_opens_upgrades_and_keeps_every_record(tmp_path: Path) -> None:
    path = _fixture_copy(tmp_path)
    original = sha256_file(FIXTURE / "release-0.1.0.airlock")
    with Engine.open(path, Unlock.with_passphrase(FIXTURE_PASSPHRASE)) as engine:
        assert _scalar(engine, "SELECT version_num FROM alembic_version") == head_revision()
        [loans] = engine.datasets.list()
        assert loans.name == "loans" and loans.versions == 1
        version = engine.datasets.version("loans@1")
        table = engine.datasets.read_table(version)
        with (FIXTURE / "loans.csv").open(encoding="utf-8") as fh:
            csv_rows = sum(1 for _ in fh) - 1
        assert version.row_count == table.num_rows == csv_rows
        assert table.column_names == ["income", "grade", "age", "defaulted"]
        profile = engine.datasets.stored_profile("loans", target="defaulted")
        assert profile is not None and profile.version_id == version.id and profile.target == "defaulted"
        assert engine.datasets.schema("loans").revision == 1
        [assessment] = engine.assessments.list()
        assert assessment.unit == "Credit risk" and assessment.model_id == "airlock-data-ml"
        answer = assessment.answers["strategy.sponsor"]
        assert answer.level == 2
        roles = {u.name: u.roles for u in engine.users.list()}
        assert roles["rita"] == frozenset({"reviewer"})
        report = engine.audit.verify()
        assert report.ok and report.checked >= 10, report
        # The snapshot got its reference in the migration, so the sweep of this (writable)
        # open kept it, and the next one keeps it too.
        with engine._opened.store.read() as tx:
            assert blobs.owners(tx, version.content_sha256) == [blobs.BlobOwner("dataset_version", version.id)]
        assert not any("Removed" in n for n in engine.notices)
    with Engine.open(path, Unlock.with_passphrase(FIXTURE_PASSPHRASE)) as again:
        assert again.datasets.read_table("loans").num_rows == csv_rows
        assert _scalar(again, "SELECT count(*) FROM blob") == 1
    assert sha256_file(FIXTURE / "release-0.1.0.airlock") == original, "the fixture itself was touched"


def test_a_read_only_open_of_an_old_workspace_refuses_to_upgrade_and_changes_nothing(tmp_path: Path) -> None:
    path = _fixture_copy(tmp_path)
    before = sha256_file(path)
    with pytest.raises(ReadOnlyWorkspace, match="needs a schema upgrade; open it read-write once first"):
        Engine.open(path, Unlock.with_passphrase(FIXTURE_PASSPHRASE), read_only=True)
    assert sha256_file(path) == before
    with Engine.open(path, Unlock.with_passphrase(FIXTURE_PASSPHRASE)):
        pass
    with Engine.open(path, Unlock.with_passphrase(FIXTURE_PASSPHRASE), read_only=True) as reader:
        assert reader.datasets.list()[0].name == "loans"


def test_migration_0004_backfills_references_for_versions_and_evidence(
    workspace: tuple[Engine, str], tmp_path: Path,
) -> None:
    engine, recovery = workspace
    csv = tmp_path / "d.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{i * 3}\n" for i in range(200)), encoding="utf-8")
    version = engine.datasets.import_file(csv, name="d").value.version
    assessment = engine.assessments.create("airlock-data-ml", "Unit").value
    evidence = tmp_path / "minutes.txt"
    evidence.write_text("steering committee minutes", encoding="utf-8")
    question = next(iter(engine.assessments.model_of(assessment).questions())).id
    attached = engine.assessments.attach_evidence(assessment.id, question, evidence).value
    digest = attached.answers[question].evidence[0].digest
    path = engine.path
    engine.close()
    # Back to schema 0003 as release 0.1.0 wrote it: no blob_ref table.
    conn = tamper_connection(path, keys.parse_recovery_key(recovery))
    conn.execute("DROP TABLE blob_ref")
    for later in ("registry_event", "admitted_file", "admitted_package", "audit_source", "approval_nonce",  # 0007
                  "trust_policy",
                  "rubric_policy", "rubric_attestation", "rubric_result",  # 0006
                  "model_plot", "model_evidence", "model_version", "model", "training_run", "training_spec"):  # 0005
        conn.execute(f"DROP TABLE {later}")
    conn.execute("UPDATE alembic_version SET version_num = '0003'")
    conn.close()
    opened = open_store(path, Unlock.with_passphrase(PASSPHRASE))
    try:
        with opened.store.read() as tx:
            assert blobs.owners(tx, version.content_sha256) == [blobs.BlobOwner("dataset_version", version.id)]
            assert blobs.owners(tx, digest) == [blobs.BlobOwner("assessment", assessment.id)]
            assert blobs.stats(tx)[0] == 2
        assert not opened.notices
    finally:
        opened.store.close()
        if opened.lock is not None:
            opened.lock.release()


def test_every_migration_has_a_downgrade_back_to_the_previous_schema(workspace: tuple[Engine, str]) -> None:
    from alembic import command

    from core.store.migrate import _config

    engine, _ = workspace
    store = engine._opened.store
    with store.engine.begin() as connection:
        command.downgrade(_config(connection), "0003")
        tables = {r[0] for r in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        assert "blob_ref" not in tables and "blob" in tables
        command.upgrade(_config(connection), "head")
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()


def test_script_names_carry_their_revisions_so_an_up_to_date_open_skips_alembic() -> None:
    import re

    from core.store import migrate

    for script in (Path(migrate.__file__).parent / "migrations" / "versions").glob("*.py"):
        if script.name == "__init__.py":
            continue
        revision = re.search(r'^revision = "([^"]+)"', script.read_text(encoding="utf-8"), re.M)
        assert revision is not None and script.name.startswith(revision.group(1) + "_"), script.name
    assert migrate.newest_script_revision() == migrate.head_revision()


def test_opening_an_up_to_date_workspace_loads_no_alembic(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from core.api import Engine

    Engine.create(tmp_path / "w.airlock", name="T", passphrase="correct horse", use_keyring=False)[0].close()
    probe = (
        "import sys\nfrom core.api import Engine, Unlock\n"
        f"Engine.open({str(tmp_path / 'w.airlock')!r}, Unlock(passphrase='correct horse')).close()\n"
        "print([m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "AIRLOCK_NO_KEYRING": "1"})
    assert out.stdout.strip().splitlines()[-1] == "[]"
