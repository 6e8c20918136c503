"""The transaction plumbing every SQL store shares: read, consistent-read and write transactions.

`SqlStore` (and anything else that keeps state in the store's database) builds
on `Transactions`: SQLAlchemy and driver errors become the store's one-line
`StoreError`, and writes on SQLite begin IMMEDIATE (see `database`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from consentry.store.database import WRITE, foreign_keys, store_error

__all__ = ["Transactions"]


class Transactions:
    """An engine and the three kinds of transaction the store runs on it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._sqlite = engine.dialect.name == "sqlite"
        self._mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    @contextmanager
    def _read(self, *, consistent: bool = False) -> Iterator[Connection]:
        """A read transaction; `consistent`: every statement sees one state (PostgreSQL: REPEATABLE READ)."""
        try:
            with self._engine.connect() as conn:
                if consistent and not self._sqlite:
                    conn.execution_options(isolation_level="REPEATABLE READ")
                yield conn
        except (SQLAlchemyError, self._dbapi_error) as e:
            raise store_error(e) from None

    @contextmanager
    def _driver_read(self) -> Iterator[Any]:
        """A driver cursor in one consistent read transaction, straight from the pool (no statement building)."""
        try:
            pooled = self._engine.raw_connection()
            try:
                cur = pooled.cursor()
                try:
                    # SQLite: one WAL snapshot for every statement; PostgreSQL: one MVCC snapshot.
                    cur.execute("BEGIN" if self._sqlite else "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    yield cur
                finally:
                    cur.close()
                    pooled.rollback()
            finally:
                pooled.close()
        except (SQLAlchemyError, self._dbapi_error) as e:
            raise store_error(e) from None

    @contextmanager
    def _write(self, *, bulk: bool = False) -> Iterator[Connection]:
        """A write transaction (SQLite: BEGIN IMMEDIATE).

        `bulk` on SQLite turns foreign-key checks off for the transaction (they cost a
        lookup per row); the caller then checks the members itself, under the write lock.
        """
        try:
            with self._engine.connect().execution_options(**WRITE) as conn:
                relax = bulk and self._sqlite
                if relax:
                    foreign_keys(conn, on=False)
                try:
                    with conn.begin():
                        yield conn
                finally:
                    if relax:
                        foreign_keys(conn, on=True)
        except (SQLAlchemyError, self._dbapi_error) as e:
            raise store_error(e) from None
