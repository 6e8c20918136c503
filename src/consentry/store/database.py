"""Opening a database: engine settings per dialect and bringing the schema up to date.

SQLite runs in WAL mode with `synchronous=FULL` and foreign keys on. Its
transactions begin DEFERRED unless the connection carries the execution option
``consentry_write=True``, in which case they begin IMMEDIATE: writers take the
write lock up front, so appends to the hash chain are serialised and never
fork. PostgreSQL (``postgresql+psycopg://``) serialises appends by locking the
`ledger_head` row instead.

Opening asks for an `Access`: only `CREATE` may make a new store (a SQLite file,
or the tables in an empty PostgreSQL database); `WRITE` needs an existing store
and may migrate it; `READ` needs an existing store at the current schema and
writes nothing. So a typo in the URL, or a deleted database, is an error for a
command that only reads — never an empty store that answers "ok".
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import QueuePool, StaticPool

from consentry.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Table
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = [
    "MIGRATIONS_DIR",
    "SCHEMA_HEADS",
    "WRITE",
    "Access",
    "create_store_engine",
    "foreign_keys",
    "insert_or_on_conflict",
    "prepare",
    "shown_url",
    "store_error",
    "transaction",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: The head revisions of the migrations in MIGRATIONS_DIR, so that opening an up-to-date
#: store needs no Alembic import. Add a new migration's revision here (and drop the one it
#: revises): tests/store/test_heads.py holds this equal to what Alembic computes.
SCHEMA_HEADS = frozenset({"0006", "0009", "0015", "0018", "0019", "0020", "0021"})

#: Execution options of a connection that will write (SQLite: BEGIN IMMEDIATE).
WRITE: dict[str, Any] = {"consentry_write": True}

_BUSY_TIMEOUT_S = 60.0
_CACHE_KIB = 128 * 1024


class Access(StrEnum):
    """What opening a store may do to the database."""

    CREATE = "create"  # create a new store, migrate an old one
    WRITE = "write"  # the store must exist; migrate it if it is old
    READ = "read"  # the store must exist at the current schema; nothing is written


_CREATE_HINT = (
    "check CONSENTRY_DB, or create the store with `consentry policy publish FILE` or `consentry members import FILE`"
)


def shown_url(url: str) -> str:
    """`url` fit for a message: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def create_store_engine(url: str, access: Access = Access.CREATE) -> Engine:
    """An engine for `url` (SQLite or PostgreSQL), configured for the ledger.

    Unless `access` is CREATE, a SQLite file that does not exist is a StoreError (nothing is created).
    """
    try:
        u = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{url!r} is not a database URL; use sqlite:///path/to/file.db "
            "or postgresql+psycopg://user:password@host/db"
        ) from None
    backend = u.get_backend_name()
    if backend == "sqlite":
        db = u.database
        if access is not Access.CREATE and db and db != ":memory:" and not Path(db).expanduser().is_file():
            raise StoreError(f"no Consentry store at {shown_url(url)}: the file {db} does not exist; {_CREATE_HINT}")
        return _sqlite_engine(url, db)
    if backend == "postgresql":
        if u.drivername == "postgresql":
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_pre_ping=True, pool_size=8, max_overflow=32)
    raise ConfigError(f"unsupported database {backend!r}; use sqlite:/// or postgresql+psycopg://")


def _sqlite_engine(url: str, database: str | None) -> Engine:
    memory = not database or database == ":memory:"
    if not memory:
        assert database is not None
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    pool: dict[str, Any] = (
        {"poolclass": StaticPool}
        if memory
        else {"poolclass": QueuePool, "pool_size": 4, "max_overflow": 64, "pool_timeout": _BUSY_TIMEOUT_S}
    )
    engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, not the sqlite3 module.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        # Appends insert into an index keyed by member: random pages. The 2 MB
        # default page cache thrashes past a few hundred thousand events.
        cur.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("consentry_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@functools.cache
def _script_heads() -> frozenset[str]:
    """The head revisions Alembic computes from MIGRATIONS_DIR (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _current_heads(conn: Connection) -> frozenset[str]:
    """The revisions the database is at, read with plain SQL (none for a new database)."""
    if not inspect(conn).has_table("alembic_version"):
        return frozenset()
    return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def prepare(engine: Engine, access: Access) -> None:
    """Make the store ready as `access` allows: create or migrate it, or check it is there and current."""
    if access is not Access.CREATE:
        try:
            with engine.connect() as conn:
                heads = _current_heads(conn)
        except SQLAlchemyError as e:
            raise _open_error(e) from None
        if heads == SCHEMA_HEADS:
            return
        where = shown_url(engine.url.render_as_string(hide_password=False))
        if not heads:
            raise StoreError(f"no Consentry store at {where}: the database has no Consentry tables; {_CREATE_HINT}")
        if access is Access.READ:
            raise StoreError(
                f"the store at {where} is at schema {', '.join(sorted(heads))}, this Consentry reads "
                f"{', '.join(sorted(SCHEMA_HEADS))}; upgrade it with a command that writes "
                "(e.g. `consentry policy publish FILE`), then retry"
            )
    upgrade(engine)


def upgrade(engine: Engine) -> None:
    """Bring the schema to every head revision; cheap (no Alembic import) when it is already there."""
    try:
        with engine.connect() as conn:
            if _current_heads(conn) == SCHEMA_HEADS:
                return
        from alembic import command

        with engine.connect().execution_options(**WRITE) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                # Two processes opening a fresh database must not both migrate it.
                conn.execute(text("SELECT pg_advisory_xact_lock(7406217)"))
            cfg = _alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    except SQLAlchemyError as e:
        raise _open_error(e) from None


def _open_error(e: Exception) -> StoreError:
    return StoreError(
        f"cannot open or migrate the database ({type(e).__name__}: {str(e).splitlines()[0][:200]}); "
        "check CONSENTRY_DB and that the database is reachable"
    )


def foreign_keys(conn: Connection, *, on: bool) -> None:
    """Switch SQLite's foreign-key checks for this pooled connection (only outside a transaction)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    try:
        dbapi.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    except Exception:
        conn.invalidate()  # never hand a connection with checks off back to the pool
        raise


def insert_or_on_conflict(c: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that can say what to do ON CONFLICT, in the connection's dialect.

    Imports that dialect's module only: a SQLite store never imports the PostgreSQL dialect.
    """
    if c.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def store_error(e: Exception) -> StoreError:
    """A StoreError for a database failure: the driver's first line, no SQL parameters."""
    orig = getattr(e, "orig", None)
    first = (str(orig if orig is not None else e).splitlines() or [""])[0][:200]
    return StoreError(f"the database refused or failed ({type(e).__name__}: {first}); check CONSENTRY_DB")


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """One transaction; a database failure raises StoreError. `write`: take SQLite's write lock up front."""
    try:
        with engine.connect().execution_options(**(WRITE if write else {})) as conn, conn.begin():
            yield conn
    except SQLAlchemyError as e:
        raise store_error(e) from None
