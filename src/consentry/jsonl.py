"""Reading JSON Lines files: one object per line, every problem located as ``file:line``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from consentry.errors import InputError

__all__ = ["read_jsonl"]


def read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (``file:line``, object) for every non-blank line.

    Raises InputError naming the line when it is not UTF-8, not JSON, or not an object.
    """
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("line is not valid UTF-8; save the file as UTF-8", where=where) from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(
                    f"not valid JSON ({e.msg}, column {e.colno}); write one JSON object per line", where=where
                ) from None
            if not isinstance(obj, dict):
                raise InputError("expected a JSON object on this line", where=where)
            yield where, obj
