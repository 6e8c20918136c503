"""Errors that reach the command line from below our own code, each turned into one line for a person.

Our own errors (ConsentryError) already say what is wrong and what to do. What else can
escape a command — the operating system refusing a write, input nested past Python's
recursion limit, a value Python cannot convert, a missing optional dependency — is
described here without its message's details, which may quote the input.
"""

from __future__ import annotations

import errno
import os
import re

__all__ = ["EDGE_ERRORS", "describe"]

#: What the command line catches at its edge besides ConsentryError (UnicodeError is a ValueError).
EDGE_ERRORS: tuple[type[BaseException], ...] = (OSError, RecursionError, ValueError, ImportError, MemoryError)

#: The extra that installs each optional dependency (pyproject.toml's [project.optional-dependencies]).
_EXTRAS = {
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "pyspark": "spark",
    "spacy": "nlp",
    "hyperscan": "fast",
    "fastapi": "service",
    "starlette": "service",
    "uvicorn": "service",
    "jinja2": "service",
    "itsdangerous": "service",
    "multipart": "service",
    "python_multipart": "service",
    "httpx": "service",
}

_OS_HINTS = {
    errno.ENOSPC: "the disk is full; free some space and run the command again",
    errno.EDQUOT: "the disk quota is exhausted; free some space and run the command again",
    errno.EROFS: "the file system is read-only; choose a writable location",
    errno.EACCES: "permission denied; choose a location you may write to, or fix its permissions",
    errno.EPERM: "operation not permitted; choose a location you may write to, or fix its permissions",
    errno.ENOTDIR: "a part of this path is a file, not a directory; choose another path",
    errno.EISDIR: "is a directory, not a file; give the path of a file",
    errno.ENOENT: "no such file or directory; check the path",
    errno.EEXIST: "already exists; choose another path",
    errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
    errno.EIO: "the device reported an input/output error; check the disk and run the command again",
}


def describe(exc: BaseException) -> str:
    """One line for `exc`: what went wrong and what to do, naming paths but quoting no input."""
    if isinstance(exc, ImportError):
        return _missing_module(exc)
    if isinstance(exc, OSError):
        return _os_error(exc)
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to process; flatten it"
    if isinstance(exc, MemoryError):
        return "out of memory; give the command smaller inputs or more memory"
    if isinstance(exc, UnicodeError):
        return "the input holds text that is not valid Unicode (such as a lone surrogate); fix its encoding"
    return f"a value in the input cannot be processed ({type(exc).__name__}); check the input's values"


def _missing_module(exc: ImportError) -> str:
    top = (exc.name or "").split(".")[0]
    extra = _EXTRAS.get(top)
    if extra is None:
        return f"a required module is missing ({top or 'unknown'}); reinstall consentry"
    return f"this needs {top}, which is not installed: pip install 'consentry[{extra}]'"


_ERRNO_IN_TEXT = re.compile(r"\[errno (\d+)\]", re.IGNORECASE)  # how pyarrow reports the OS error it met


def _os_error(exc: OSError) -> str:
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    where = f"{' → '.join(paths)}: " if paths else ""
    code = exc.errno
    if code is None and (m := _ERRNO_IN_TEXT.search(str(exc))):
        code = int(m.group(1))
    hint = _OS_HINTS.get(code or -1)
    if code == errno.EEXIST and exc.filename is not None and os.path.isfile(exc.filename):
        hint = "is a file, not a directory; choose another path"
    if hint is None:
        reason = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        hint = f"{reason}; check the path and the disk, then run the command again"
    return f"{where}{hint}"
