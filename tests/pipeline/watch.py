"""Watching a read path: the SQL statements that write, and the files opened under a directory."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

_WRITES = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "REPLACE")
_watching: list[Watched] = []


@dataclass
class Watched:
    """What happened while watching: statements that write, and files opened under `under`."""

    under: Path
    writes: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _watching or not isinstance(args[0], str | bytes | os.PathLike):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    for w in _watching:
        if path.startswith(str(w.under)):
            w.opened.append(path)


sys.addaudithook(_audit)  # audit hooks cannot be removed; it does nothing unless a test is watching


@contextmanager
def watch(under: Path) -> Iterator[Watched]:
    """Record every writing statement on any engine, and every file opened under `under`, inside the block."""
    watched = Watched(under.absolute())

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(_WRITES):
            watched.writes.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", before)
    _watching.append(watched)
    try:
        yield watched
    finally:
        _watching.remove(watched)
        sa.event.remove(sa.Engine, "before_cursor_execute", before)
