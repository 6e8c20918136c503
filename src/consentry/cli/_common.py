"""What every command shares: settings, opening the store, JSON output, clean errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import typer

from consentry.cli._edge import EDGE_ERRORS, describe
from consentry.config import Settings
from consentry.errors import ConsentryError

if TYPE_CHECKING:
    from rich.console import Console

    from consentry.store.protocol import Store

    #: Rich consoles on stdout and stderr, made on first use: importing rich costs more
    #: start-up than most commands, which print JSON only, spend on their work.
    console: Console
    err_console: Console

__all__ = [
    "console",
    "err_console",
    "fail",
    "handle_errors",
    "open_store",
    "print_json",
    "stamp",
    "when",
]

P = ParamSpec("P")
R = TypeVar("R")


def _console(name: str) -> Console:
    """The console `name` ("console" or "err_console"), made on first use."""
    made: Console | None = globals().get(name)
    if made is None:
        from rich.console import Console

        made = globals()[name] = Console(stderr=name == "err_console")
    return made


def __getattr__(name: str) -> Any:
    """`console` and `err_console`, made (and rich imported) on first use."""
    if name in ("console", "err_console"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def settings() -> Settings:
    """Settings from the process environment."""
    return Settings.from_environ(os.environ)


def open_store(s: Settings | None = None, *, access: Literal["create", "write", "read"] = "read") -> Store:
    """Open the store CONSENTRY_DB names, as the command may: `create` it (the first writes into
    a new store), `write` into an existing one (migrating it if old), or only `read` (the default).

    A command that reads, or writes into an existing store, fails on a missing store with one
    line naming the URL; it never creates one, and reading never migrates.
    """
    from consentry.store import Access
    from consentry.store import open_store as _open

    return _open((s or settings()).db_url, Access(access))


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        from consentry.timeutil import iso  # imports pyarrow: only when there is a time to print

        return iso(o)
    if isinstance(o, date):
        return o.isoformat()
    if isinstance(o, Enum):
        return o.value
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    if hasattr(o, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(o)
    raise TypeError(f"cannot encode {type(o).__name__}")


def print_json(obj: Any) -> None:
    """Machine-readable output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, default=_default, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clean line to stderr and return the Exit to raise.

    The message reaches stderr exactly as given: brackets such as ``consentry[spark]``
    are text, never read as style markup.
    """
    from rich.text import Text

    line = Text("error:", style="bold red")
    line.append(f" {message}")
    _console("err_console").print(line, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn every error at the command's edge into one line on stderr and exit 1 — never a traceback.

    Library errors carry their own message; what else escapes (an OS error, input nested
    too deeply, a value Python cannot convert, a missing optional dependency) is described
    by `consentry.cli._edge.describe` without quoting the input.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ConsentryError as e:
            raise fail(str(e)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except EDGE_ERRORS as e:
            raise fail(describe(e)) from None

    return wrapper


def when(text: str | None, field: str = "--at") -> datetime:
    """Parse an --at/--as-of option (now when omitted)."""
    from consentry.timeutil import parse_instant, utcnow  # imports pyarrow: only for commands that take a time

    return utcnow() if text is None else parse_instant(text, field=field)


def stamp(text: str | None, field: str = "--at") -> datetime | None:
    """Parse the --at of a command that records a choice: None when omitted, so that the
    store stamps "now" itself under its write lock (the choice acknowledged last wins)."""
    return None if text is None else when(text, field)
