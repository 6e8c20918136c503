"""Reading JSON Lines files: one object per line, every problem located as ``file:line``.

The parser's edge is bounded: a line nested deeper than `MAX_DEPTH`, an integer of more
than `MAX_INT_DIGITS` digits, or (unless the caller takes them) text holding a lone
surrogate such as ``"\\ud800"`` is refused with an error naming the line, never a
RecursionError, ValueError or UnicodeEncodeError further down. A line longer than
`max_line` bytes (1 MiB by default, `consentry.lines`) is refused without being held in
memory, and so is an object with more than `MAX_FIELDS` fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from consentry.errors import InputError
from consentry.lines import MAX_FIELDS, MAX_LINE_BYTES, bounded_lines

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "loads_line", "read_jsonl", "too_long"]

#: Deepest nesting of arrays and objects a line may have.
MAX_DEPTH = 64
#: Most digits an integer may have (a signed 64-bit integer has at most 19).
MAX_INT_DIGITS = 19

_LONG_DIGITS = re.compile(rb"\d{%d}" % (MAX_INT_DIGITS + 1))
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def read_jsonl(
    path: Path, *, surrogates: bool = False, max_line: int = MAX_LINE_BYTES
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (``file:line``, object) for every non-blank line.

    Raises InputError naming the line when it is longer than `max_line` bytes, not
    UTF-8, not JSON, not an object, has more than MAX_FIELDS fields, or is past the
    parser's bounds. `surrogates=True` lets text with lone surrogates through, for
    callers that handle such text line by line.
    """
    with path.open("rb") as fh:
        for n, raw in bounded_lines(fh, max_line):
            where = f"{path}:{n}"
            if raw is None:
                raise InputError(too_long(max_line), where=where)
            if not raw.strip():
                continue
            obj = loads_line(raw, where, surrogates=surrogates)
            if not isinstance(obj, dict):
                raise InputError("expected a JSON object on this line", where=where)
            if len(obj) > MAX_FIELDS:
                raise InputError(f"has {len(obj)} fields; at most {MAX_FIELDS} are allowed", where=where)
            yield where, obj


def too_long(limit: int) -> str:
    """The message for a line (or CSV row) longer than `limit` bytes."""
    return f"line is longer than {_size(limit)}; split the line or shorten its values"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit:,} bytes"


def loads_line(raw: bytes, where: str, *, surrogates: bool = False) -> object:
    """Parse one line of JSON within the bounds above; InputError names `where` otherwise."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("line is not valid UTF-8; save the file as UTF-8", where=where) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _too_deep(line):
        raise InputError(f"nested more than {MAX_DEPTH} levels deep; flatten the line", where=where)
    try:
        hook = _bounded_int if _LONG_DIGITS.search(raw) else None  # the hook costs a call per integer
        obj = json.loads(line, parse_int=hook)
    except json.JSONDecodeError as e:
        raise InputError(
            f"not valid JSON ({e.msg}, column {e.colno}); write one JSON object per line", where=where
        ) from None
    except _IntTooLong:
        raise InputError(
            f"an integer has more than {MAX_INT_DIGITS} digits; write it as a string", where=where
        ) from None
    if not surrogates and _SURROGATE_ESCAPE.search(raw) and not _encodes(obj):
        raise InputError(
            "holds a lone surrogate escape (such as \\ud800), which is not text; fix the line's encoding",
            where=where,
        )
    return obj


class _IntTooLong(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _IntTooLong
    return int(text)


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(line: str) -> bool:
    """Whether arrays and objects in `line` nest past MAX_DEPTH (brackets inside strings not counted)."""
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub("", line)):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _encodes(obj: object) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
