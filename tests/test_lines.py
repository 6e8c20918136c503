"""Bounded line reading: a giant line or CSV row costs at most about the bound in memory, then reading resumes."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from consentry.lines import CsvLines, NotUtf8, RowTooLong, bounded_lines

MIB = 1 << 20


class _Stream(io.RawIOBase):
    """`head`, then `size` bytes repeating `pattern` (generated as read, never held whole), then `tail`."""

    def __init__(self, head: bytes, pattern: bytes, size: int, tail: bytes):
        self._parts = iter([head, *([pattern * (MIB // len(pattern))] * (size // MIB)), tail])
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self._buf:
            part = next(self._parts, None)
            if part is None:
                return 0
            self._buf = part
        n = min(len(b), len(self._buf))
        b[:n], self._buf = self._buf[:n], self._buf[n:]
        return n


def _peak(run: Iterator[object]) -> tuple[list[object], int]:
    tracemalloc.start()
    try:
        out = list(run)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_bounded_lines_at_and_past_the_bound() -> None:
    data = b"a" * 9 + b"\n" + b"b" * 10 + b"\n" + b"c" * 3 + b"\n" + b"d" * 11
    assert list(bounded_lines(io.BytesIO(data), 10)) == [(1, b"a" * 9 + b"\n"), (2, None), (3, b"ccc\n"), (4, None)]
    assert list(bounded_lines(io.BytesIO(b"x" * 10), 10)) == [(1, b"x" * 10)]  # a last line without a break


def test_a_64_mib_line_costs_about_the_bound_in_memory_and_under_a_cpu_second() -> None:
    stream = io.BufferedReader(_Stream(b'{"a": 1}\n{"t": "', b"x", 64 * MIB, b'"}\n{"b": 2}\n'))
    start = time.process_time()
    lines, peak = _peak(bounded_lines(stream, MIB))
    assert time.process_time() - start < 1.0
    assert lines == [(1, b'{"a": 1}\n'), (2, None), (3, b'{"b": 2}\n')]
    assert peak < 3 * MIB, f"peak {peak / MIB:.1f} MiB"


def _rows(data: bytes, limit: int) -> list[object]:
    lines = CsvLines(io.BufferedReader(io.BytesIO(data)), limit)  # type: ignore[arg-type]
    reader = csv.reader(lines)
    out: list[object] = []
    while True:
        try:
            row = next(reader)
            out.append((lines.row_start, row))
        except StopIteration:
            return out
        except RowTooLong as e:
            out.append(("too long", e.line))
        except csv.Error:
            lines.skip_row()
            out.append(("csv error", lines.row_start))


def test_csv_rows_are_bounded_quoted_line_breaks_included_and_reading_resumes() -> None:
    data = b'\xef\xbb\xbfa,b\n1,"x\ny"\n2,"' + b"long\n" * 10 + b'"\n3,"q""\n"\n4,' + b"z" * 40 + b"\n5,e\n"
    assert _rows(data, 40) == [
        (1, ["a", "b"]),
        (2, ["1", "x\ny"]),
        ("too long", 4),
        (15, ["3", 'q"\n']),
        ("too long", 17),
        (18, ["5", "e"]),
    ]


def test_a_64_mib_quoted_csv_field_costs_about_the_bound_in_memory() -> None:
    stream = io.BufferedReader(_Stream(b'a,b\n1,"', b"line\n", 64 * MIB, b'"\n2,ok\n'))
    lines = CsvLines(stream, MIB)
    reader = csv.reader(lines)

    def rows() -> Iterator[object]:
        while True:
            try:
                yield next(reader)
            except StopIteration:
                return
            except (RowTooLong, csv.Error):  # csv's own field limit (128 Ki characters) comes first
                lines.skip_row()
                yield None

    start = time.process_time()
    out, peak = _peak(rows())
    assert time.process_time() - start < 1.0
    assert out == [["a", "b"], None, ["2", "ok"]]
    assert peak < 3 * MIB, f"peak {peak / MIB:.1f} MiB"


def test_csv_bytes_that_are_not_utf8_name_their_line() -> None:
    with pytest.raises(NotUtf8) as err:
        _rows(b"a,b\n1,2\n3,\xff\n", 100)
    assert err.value.line == 3
    lines = CsvLines(io.BufferedReader(io.BytesIO(b"a,b\n3,\xff\n")), 100, errors="replace")  # type: ignore[arg-type]
    assert list(csv.reader(lines)) == [["a", "b"], ["3", "\ufffd"]]
