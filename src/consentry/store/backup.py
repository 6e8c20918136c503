"""Backing up and restoring a SQLite store with SQLite's online backup API.

A backup is taken page by page while writers keep going (the pages the WAL
holds included), written beside the target and renamed into place, so a
backup file is whole or absent. A restore copies a backup into the live
database the same way. PostgreSQL stores are backed up with `pg_dump` and
restored with `pg_restore` (docs/operations.md); these functions refuse them.

After a restore, `consentry ledger verify --checkpoints DIR` says which signed
checkpoints the restored ledger falls short of: the events lost since the
backup are detected, not silently accepted.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from consentry.errors import ConfigError, InputError, StoreError

__all__ = ["backup_sqlite", "restore_sqlite"]

_PAGES_PER_STEP = 4096


def _sqlite_path(url: str) -> Path:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        raise ConfigError(
            "consentry store backup/restore handle SQLite stores; back up PostgreSQL with "
            "`pg_dump -Fc` and restore with `pg_restore` (docs/operations.md)"
        )
    if not u.database or u.database == ":memory:":
        raise ConfigError("an in-memory store has nothing to back up")
    return Path(u.database).expanduser()


def _check_store(path: Path) -> int:
    """The number of events in the Consentry store at `path`; InputError if it is not one."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as c:
            (events,) = c.execute("SELECT events FROM ledger_head WHERE id = 1").fetchone()
            c.execute("SELECT version_num FROM alembic_version").fetchall()
    except (sqlite3.Error, TypeError) as e:
        raise InputError(f"{path}: not a Consentry SQLite store ({e})") from e
    return int(events)


def _copy(src: Path, dst: Path) -> None:
    with closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as s, closing(sqlite3.connect(dst)) as d:
        s.backup(d, pages=_PAGES_PER_STEP)


def backup_sqlite(url: str, out: Path) -> dict[str, object]:
    """Copy the SQLite store at `url` into a new file `out` (never overwritten); returns its path and size."""
    src = _sqlite_path(url)
    if not src.is_file():
        raise InputError(f"{src}: no store there to back up (check CONSENTRY_DB)")
    if out.exists():
        raise InputError(f"{out}: already exists; a backup never overwrites a file (choose another name)")
    events = _check_store(src)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        _copy(src, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except (OSError, sqlite3.Error) as e:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{out}: backup failed ({e}); nothing was written") from e
    return {"backup": str(out), "events": events, "bytes": out.stat().st_size}


def restore_sqlite(url: str, backup: Path) -> dict[str, object]:
    """Replace the SQLite store at `url` with the contents of `backup` (checked to be a Consentry store first)."""
    dst = _sqlite_path(url)
    if not backup.is_file():
        raise InputError(f"{backup}: no such backup file")
    events = _check_store(backup)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as s, closing(sqlite3.connect(dst)) as d:
            s.backup(d, pages=_PAGES_PER_STEP)
    except (OSError, sqlite3.Error) as e:
        raise StoreError(f"{dst}: restore failed ({e})") from e
    return {"restored": str(dst), "from": str(backup), "events": events}
