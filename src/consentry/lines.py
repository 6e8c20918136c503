"""Reading text files line by line without ever holding more than a bounded line in memory.

Every file Consentry reads row by row (members, consent events, scrub input, a
build's JSONL and CSV sources) goes through here, so that one giant line — a
file with no line break at all, or a CSV field quoted over millions of lines —
costs at most `limit` bytes of memory and is reported (or, in a build, counted
MALFORMED) instead of exhausting the host:

- `bounded_lines` yields each JSONL line of at most `limit` bytes (its line
  break included), or None for a longer one, whose bytes are skipped in small
  chunks;
- `CsvLines` feeds `csv.reader` one physical line at a time and raises
  `RowTooLong` for a CSV row (its quoted line breaks included) longer than
  `limit` bytes, after skipping the rest of that row: the reader resumes at
  the next row (`CsvLines.skip_row` does the same after a `csv.Error`).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO

__all__ = [
    "MAX_FIELDS",
    "MAX_LINE_BYTES",
    "MAX_RECORD_LINE_BYTES",
    "CsvLines",
    "NotUtf8",
    "RowTooLong",
    "bounded_lines",
]

#: Longest line (or CSV row) of a members, consent-events file: 1 MiB, line break included.
MAX_LINE_BYTES = 1 << 20
#: Longest line (or CSV row) of a scrub input or a build's JSONL/CSV source: 8 MiB (records carry long texts).
MAX_RECORD_LINE_BYTES = 8 << 20
#: Most fields a JSON object or CSV row may have.
MAX_FIELDS = 256

_SKIP_CHUNK = 64 * 1024


def bounded_lines(fh: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for every line of `fh`; the line is None when it is longer than `limit` bytes."""
    n = 0
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        n += 1
        if len(raw) <= limit:
            yield n, raw
            continue
        while not raw.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
            raw = fh.readline(_SKIP_CHUNK)
            if not raw:
                break
        yield n, None


class RowTooLong(Exception):
    """A CSV row longer than the bound; `line` is the line it starts on."""

    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


class NotUtf8(Exception):
    """A CSV line that is not UTF-8; `line` is its number."""

    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


class CsvLines:
    """The physical lines of a CSV file, decoded, for `csv.reader`; each row at most `limit` bytes.

    Rows are told apart as the CSV grammar does: a line break ends a row
    when the double quotes so far in the row are balanced. `row_start` is the
    line the current row starts on. With `errors="replace"` undecodable bytes
    become U+FFFD; with "strict" they raise `NotUtf8`. A leading byte-order
    mark is dropped.
    """

    def __init__(self, fh: io.BufferedReader, limit: int, *, errors: str = "strict"):
        self._fh, self._limit, self._errors = fh, limit, errors
        self.line = 0
        self.row_start = 1
        self._used = 0
        self._quoted = False

    def __iter__(self) -> CsvLines:
        return self

    def __next__(self) -> str:
        if not self._quoted:
            self._used, self.row_start = 0, self.line + 1
        raw = self._fh.readline(self._limit - self._used + 1)
        if not raw:
            raise StopIteration
        if self.line == 0 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        self._used += len(raw)
        self._quoted ^= raw.count(b'"') % 2 == 1
        done = raw.endswith(b"\n")
        self.line += done
        if self._used > self._limit:
            self._skip_row(done)
            raise RowTooLong(self.row_start)
        try:
            return raw.decode("utf-8", self._errors)
        except UnicodeDecodeError:
            raise NotUtf8(self.line + (not done)) from None

    def skip_row(self) -> None:
        """After `csv.reader` gave up on a row (say a field past `csv.field_size_limit`): skip the rest of it."""
        if self._quoted:
            self._skip_row(line_done=True)

    def _skip_row(self, line_done: bool) -> None:
        """Read past the end of the current row (a line break outside quotes) in chunks, keeping nothing."""
        while not (line_done and not self._quoted):
            chunk = self._fh.peek(_SKIP_CHUNK)[:_SKIP_CHUNK]
            if not chunk:
                break
            end = self._row_end(chunk)
            take = len(chunk) if end < 0 else end
            self.line += chunk.count(b"\n", 0, take)
            self._fh.read(take)
            line_done = end >= 0
        self._quoted = False

    def _row_end(self, chunk: bytes) -> int:
        """Where in `chunk` the current row ends (just past its line break), or -1; tracks the quotes."""
        pos = 0
        for i, part in enumerate(chunk.split(b'"')):
            if i:
                self._quoted = not self._quoted
                pos += 1
            if not self._quoted:
                nl = part.find(b"\n")
                if nl >= 0:
                    self._quoted = False
                    return pos + nl + 1
            pos += len(part)
        return -1
