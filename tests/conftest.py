"""Fixtures shared by every test area.

- `reference_policy`: examples/policies/social-network.yaml, loaded.
- `store`: a fresh, empty store per test, parametrised over SQLite and
  PostgreSQL. PostgreSQL needs CONSENTRY_TEST_PG_URL (see scripts/pg-setup.sh);
  without it those params skip, unless CONSENTRY_REQUIRE_PG=1 (CI), where they fail.
  Each PostgreSQL test gets its own schema, dropped afterwards.
- `sqlite_store`: the SQLite store alone.
- `pg_url`: the PostgreSQL URL (skips/fails as above).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from consentry.policy import Policy, load_policy
from consentry.store import SqlStore, open_store

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_POLICY = ROOT / "examples" / "policies" / "social-network.yaml"
PG_SKIP_REASON = "set CONSENTRY_TEST_PG_URL (see scripts/pg-setup.sh)"


@pytest.fixture(scope="session")
def reference_policy_path() -> Path:
    """Path of the reference policy file."""
    return REFERENCE_POLICY


@pytest.fixture(scope="session")
def reference_policy() -> Policy:
    """The reference policy (examples/policies/social-network.yaml)."""
    return load_policy(REFERENCE_POLICY)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """CONSENTRY_TEST_PG_URL; skips without it (fails instead when CONSENTRY_REQUIRE_PG=1)."""
    url = os.environ.get("CONSENTRY_TEST_PG_URL")
    if not url:
        if os.environ.get("CONSENTRY_REQUIRE_PG") == "1":
            pytest.fail(f"CONSENTRY_REQUIRE_PG=1 but CONSENTRY_TEST_PG_URL is unset: {PG_SKIP_REASON}")
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(pg_url, poolclass=NullPool)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet (in a directory that does not either)."""
    return f"sqlite:///{tmp_path / 'db' / 'consentry.db'}"


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[SqlStore]:
    """A fresh SQLite store."""
    store = open_store(sqlite_url)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of a fresh, empty database of each kind."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A fresh, empty store, once on SQLite and once on PostgreSQL."""
    s = open_store(store_url)
    yield s
    s.close()
