"""Only commands that write may create a store: read-only commands on a missing store fail in one line.

The store is missing when its SQLite file does not exist, or its PostgreSQL
database holds no Consentry tables. The error names the URL (password masked)
and says what to do, and nothing is created.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migrating import migrated
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from consentry.cli import app
from consentry.errors import StoreError
from consentry.store import Access, open_store

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "social-network.yaml"

READ_ONLY = [
    ["ledger", "verify"],
    ["ledger", "head"],
    ["decide", "--member", "m1", "--purpose", "genai_training"],
    ["builds", "list"],
    ["builds", "for-member", "m1"],
    ["builds", "stale"],
    ["members", "show", "m1"],
    ["consent", "history", "--member", "m1"],
    ["objection", "list"],
    ["objection", "show", "c1"],
    ["policy", "versions"],
    ["staff", "list-keys"],
    ["staff", "audit"],
]
WRITE_EXISTING = [["consent", "set", "--member", "m1", "--purpose", "genai_training", "--choice", "deny"]]


def _run(url: str, args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env={"CONSENTRY_DB": url})


def _one_line_error(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("args", READ_ONLY + WRITE_EXISTING, ids=lambda a: " ".join(a[:2]))
def test_missing_sqlite_store_is_an_error_and_stays_missing(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "typo" / "x.db"
    url = f"sqlite:///{db}"
    _one_line_error(_run(url, args), f"no Consentry store at {url}", "does not exist", "consentry policy publish")
    assert not db.parent.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("args", [READ_ONLY[0], READ_ONLY[2], WRITE_EXISTING[0]], ids=lambda a: " ".join(a[:2]))
def test_empty_postgres_database_is_an_error_and_stays_empty(pg_schema_url: str, args: list[str]) -> None:
    u = make_url(pg_schema_url)
    shown = u.render_as_string(hide_password=True)
    result = _run(pg_schema_url, args)
    _one_line_error(result, f"no Consentry store at {shown}", "no Consentry tables")
    if u.password:
        assert f":{u.password}@" not in result.output
    eng = create_engine(pg_schema_url, poolclass=NullPool)
    try:
        with eng.connect() as c:
            assert inspect(c).get_table_names() == []
    finally:
        eng.dispose()


def test_creating_commands_create_and_read_only_ones_then_read(store_url: str) -> None:
    r = _run(store_url, ["policy", "publish", str(POLICY)])
    assert r.exit_code == 0, r.output
    r = _run(store_url, ["ledger", "verify"])
    assert r.exit_code == 0, r.output
    assert '"ok": true' in r.stdout


def test_read_only_command_does_not_migrate_an_older_store(store_url: str) -> None:
    store = open_store(store_url)
    with migrated(store._engine, "downgrade", "0004"):
        pass
    r = _run(store_url, ["ledger", "verify"])
    _one_line_error(r, "is at schema", "upgrade it with a command that writes")
    with pytest.raises(StoreError, match="is at schema"):
        open_store(store_url, Access.READ)
    # A command that writes upgrades it; then reading works.
    r = _run(store_url, ["policy", "publish", str(POLICY)])
    assert r.exit_code == 0, r.output
    assert _run(store_url, ["ledger", "verify"]).exit_code == 0
    store.close()


def test_library_open_modes_on_a_missing_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none' / 'x.db'}"
    for access in (Access.READ, Access.WRITE):
        with pytest.raises(StoreError, match="no Consentry store"):
            open_store(url, access)
    assert not (tmp_path / "none").exists()
    open_store(url).close()  # CREATE, the library's default
    open_store(url, Access.READ).close()
