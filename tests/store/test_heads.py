"""Opening a store knows the head revisions without Alembic; Alembic runs only to migrate."""

from __future__ import annotations

import json
import subprocess
import sys

from alembic.script import ScriptDirectory
from migrating import migrated
from sqlalchemy import inspect, text

from consentry.store import database, open_store

# One table created by each revision after the first.
LATER_TABLES = {
    "builds",
    "build_canaries",
    "build_member_chunks",
    "build_deletion_checks",
    "build_member_index",
    "member_image",
    "models",
    "model_audits",
    "model_builds",
    "model_obligation_waivers",
    "service_rate_limits",
    "service_sessions",
    "service_staff_keys",
    "store_counters",
}

_PROBE = """
import json, sys
from consentry.store import open_store
store = open_store(sys.argv[1])
with store._engine.connect() as c:
    heads = sorted(c.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
store.close()
print(json.dumps({"heads": heads, "alembic": sorted(m for m in sys.modules if m.split(".")[0] == "alembic")}))
"""


def _open_in_subprocess(url: str) -> dict[str, list[str]]:
    out = subprocess.run([sys.executable, "-c", _PROBE, url], capture_output=True, text=True, check=True, timeout=120)
    result: dict[str, list[str]] = json.loads(out.stdout.splitlines()[-1])
    return result


def test_schema_heads_is_what_alembic_computes() -> None:
    script = ScriptDirectory(str(database.MIGRATIONS_DIR))
    assert frozenset(script.get_heads()) == database.SCHEMA_HEADS, (
        "update SCHEMA_HEADS in src/consentry/store/database.py to the migrations' head revisions"
    )


def test_a_new_database_is_migrated_and_an_up_to_date_one_opened_without_alembic(sqlite_url: str) -> None:
    fresh = _open_in_subprocess(sqlite_url)
    assert set(fresh["heads"]) == database.SCHEMA_HEADS
    assert "alembic" in fresh["alembic"]  # a new database does need it

    again = _open_in_subprocess(sqlite_url)
    assert set(again["heads"]) == database.SCHEMA_HEADS
    assert again["alembic"] == []


def test_a_database_behind_the_heads_is_upgraded(store_url: str) -> None:
    # A store created when only the first revision existed.
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "0001"):
        pass
    with eng.connect() as conn:
        assert database._current_heads(conn) == {"0001"}
        assert not LATER_TABLES & set(inspect(conn).get_table_names())
    eng.dispose()

    store = open_store(store_url)
    with store._engine.connect() as conn:
        assert database._current_heads(conn) == database.SCHEMA_HEADS
        assert set(inspect(conn).get_table_names()) >= LATER_TABLES
        assert conn.execute(text("SELECT count(*) FROM consent_events")).scalar() == 0
    store.close()


def test_a_new_database_reads_as_having_no_revision(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with eng.connect() as conn:
        assert database._current_heads(conn) == frozenset()
    eng.dispose()
