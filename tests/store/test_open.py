"""Opening a store: directories, pragmas, migrations to every head, and cheap re-opening."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from consentry.errors import ConfigError
from consentry.store import SqlStore, database, open_store
from consentry.store.schema import metadata


def test_open_creates_parent_directory_and_schema(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "c.db"
    store = open_store(f"sqlite:///{db}")
    assert db.exists()
    assert store.head() == (0, "0" * 64)
    store.close()


def test_sqlite_pragmas(sqlite_store: SqlStore) -> None:
    with sqlite_store._engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_schema_matches_the_table_definitions(store: SqlStore) -> None:
    ours = set(metadata.tables)

    def include(name: str | None, type_: str, parent: dict[str, str | None]) -> bool:
        # Other layers add tables of their own through their own migrations.
        if type_ == "schema":
            return True
        table = name if type_ == "table" else parent.get("table_name")
        return table in ours

    with store._engine.connect() as c:
        ctx = MigrationContext.configure(c, opts={"include_name": include})
        diffs = compare_metadata(ctx, metadata)
    assert diffs == []


def test_reopening_an_up_to_date_store_is_cheap(sqlite_url: str) -> None:
    """Counted in statements, not timed: reopening reads the schema version and migrates nothing."""
    open_store(sqlite_url).close()
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            open_store(sqlite_url).close()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert statements and len(statements) <= 20 * 4
    assert {s.split()[0].upper() for s in statements} <= {"BEGIN", "PRAGMA", "SELECT"}, statements


def test_reopening_upgrades_to_every_branch_head(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Later layers add revisions branching off "0001"; a store opened before
    # they existed must reach all of them when opened again.
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    shutil.copy(database.MIGRATIONS_DIR / "env.py", migrations / "env.py")
    shutil.copy(database.MIGRATIONS_DIR / "versions" / "0001_ledger.py", migrations / "versions")
    monkeypatch.setattr(database, "MIGRATIONS_DIR", migrations)
    database._script_heads.cache_clear()
    try:
        open_store(sqlite_url).close()
        for rev, table in (("9902", "builds_probe"), ("9903", "service_probe")):
            (migrations / "versions" / f"{rev}_probe.py").write_text(
                f'revision = "{rev}"\ndown_revision = "0001"\nbranch_labels = None\ndepends_on = None\n'
                "from alembic import op\nimport sqlalchemy as sa\n"
                f'def upgrade():\n    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))\n'
                f'def downgrade():\n    op.drop_table("{table}")\n'
            )
        database._script_heads.cache_clear()
        store = open_store(sqlite_url)
        with store._engine.connect() as c:
            heads = set(MigrationContext.configure(c).get_current_heads())
            tables = set(c.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
        assert heads == {"9902", "9903"}
        assert {"builds_probe", "service_probe", "consent_events"} <= tables
        store.close()
    finally:
        database._script_heads.cache_clear()


@pytest.mark.parametrize("url", ["not a url", "mysql://x@y/z"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)
