"""Schema migrations at open: upgrade an older workspace, refuse a newer one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import NotAWorkspace, ReadOnlyWorkspace, WorkspaceTooNew

if TYPE_CHECKING:  # alembic is imported only when a migration is checked or run
    import sqlcipher3
    from alembic.config import Config
    from sqlalchemy import Connection, Engine

_SCRIPTS = Path(__file__).parent / "migrations"


def _config(connection: Connection | None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    assert head is not None
    return head


def newest_script_revision() -> str | None:
    """The newest revision among the migration scripts, read from their file names (``NNNN_*.py``).

    An open whose workspace is at this revision needs no migration, so it never loads Alembic
    (about 0.1 s of every command). ``tests/core/store/test_migrations.py`` checks that every
    script's name starts with its revision and that this equals Alembic's own head.
    """
    names = [p.name[:4] for p in (_SCRIPTS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(names) if names else None


def current_revision(dbapi_conn: sqlcipher3.Connection) -> str | None:
    """The schema revision the workspace records, or ``None`` for a database with no Airlock schema."""
    has_table = dbapi_conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
    ).fetchone()
    if not has_table:
        return None
    row = dbapi_conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def check_and_upgrade(
    engine: Engine, dbapi_conn: sqlcipher3.Connection, *, read_only: bool, new: bool = False,
) -> None:
    """Bring the schema to this version's head, or explain why not.

    Raises NotAWorkspace for an encrypted database that was never an Airlock workspace and
    WorkspaceTooNew for one written by a newer Airlock (nothing is written in either case).
    """
    current = current_revision(dbapi_conn)
    if current is None and not new:
        raise NotAWorkspace("This encrypted database is not an Airlock workspace (it has no Airlock schema).")
    if current is not None and current == newest_script_revision():
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config(None))
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise WorkspaceTooNew(
            f"This workspace was written by a newer version of Airlock (schema {current}); "
            f"this version knows schemas up to {script.get_current_head()}. Upgrade Airlock to open it."
        )
    if current == script.get_current_head():
        return
    if read_only:
        raise ReadOnlyWorkspace("This workspace needs a schema upgrade; open it read-write once first.")
    with engine.begin() as connection:
        command.upgrade(_config(connection), "head")
