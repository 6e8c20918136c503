"""Test helper: move a store's database to a revision with Alembic, then use it in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from alembic import command
from sqlalchemy import Connection, Engine

from consentry.store import database


@contextmanager
def migrated(eng: Engine, direction: Literal["upgrade", "downgrade"], revision: str) -> Iterator[Connection]:
    """Upgrade or downgrade to `revision` in one write transaction, and hand over its connection."""
    with eng.connect().execution_options(**database.WRITE) as conn, conn.begin():
        cfg = database._alembic_config()
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)
        yield conn
