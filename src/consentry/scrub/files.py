"""Scrubbing JSON Lines files: every line's `text` scrubbed (or its findings listed), written aside, then renamed.

The input is bounded: a line of at most 8 MiB (`consentry.lines.MAX_RECORD_LINE_BYTES`),
at most 256 fields, and a `text` of at most `MAX_TEXT_CHARS` characters; past any of them
the command stops with ``file:line`` before writing anything.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from consentry.errors import InputError
from consentry.jsonl import read_jsonl
from consentry.lines import MAX_RECORD_LINE_BYTES
from consentry.scrub.scrubber import Scrubber

__all__ = ["MAX_TEXT_CHARS", "read_names", "scrub_file"]

#: The longest `text` a line may carry (a million characters: a long book chapter).
MAX_TEXT_CHARS = 1_000_000

_BATCH = 2000


def _lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Numbered JSON objects carrying a string `text`; errors name file:line."""
    # A text with a lone surrogate fails alone (the line is marked scrub_failed).
    for where, obj in read_jsonl(path, surrogates=True, max_line=MAX_RECORD_LINE_BYTES):
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError("each line must be an object with a string 'text'", where=where, field="text")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(
                f"is {len(text)} characters long; at most {MAX_TEXT_CHARS:,} are allowed: split the text",
                where=where,
                field="text",
            )
        yield where, obj


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for _, obj in _lines(path):
        batch.append(obj)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _dumps(obj: dict[str, Any]) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False)
    except UnicodeEncodeError:  # lone surrogates survive only as escapes
        return json.dumps(obj)


def scrub_file(src: Path, dst: Path, scrubber: Scrubber, detect_only: bool) -> dict[str, Any]:
    """Scrub (or detect in) every line of `src` into `dst`, written aside and renamed when complete.

    Returns the summary: lines, failed lines, findings per entity and the output path.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=dst.parent)
    counts: dict[str, int] = {}
    lines = failed = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for batch in _batches(src):
                texts = [o["text"] for o in batch]
                scrubbed_texts, bad, found_counts = scrubber.scrub_values(texts)  # no Arrow round trip
                for ent, n in found_counts.items():
                    counts[ent.value] = counts.get(ent.value, 0) + n
                found = (
                    scrubber.detect_batch([t if not b else "" for t, b in zip(texts, bad, strict=True)])
                    if detect_only
                    else [[] for _ in texts]
                )
                for obj, scrubbed, is_bad, spans in zip(batch, scrubbed_texts, bad, found, strict=True):
                    lines += 1
                    failed += is_bad
                    if detect_only:
                        row = {k: v for k, v in obj.items() if k != "text"}
                        row["spans"] = None if is_bad else [f.to_dict() for f in spans]
                    else:
                        row = {**obj, "text": scrubbed}
                    if is_bad:
                        row["scrub_failed"] = True
                    out.write(_dumps(row) + "\n")
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"lines": lines, "failed": failed, "counts": dict(sorted(counts.items())), "out": str(dst)}


def read_names(path: Path | None) -> list[str]:
    """The member directory for name detection: one name per line (none without a file)."""
    if path is None:
        return []
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the names file ({e.__class__.__name__})", where=str(path)) from None
