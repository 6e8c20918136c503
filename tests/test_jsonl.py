"""The JSON Lines parser's edge: nesting, integer size and lone surrogates are bounded, and fast to refuse."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.errors import InputError
from consentry.jsonl import MAX_DEPTH, MAX_INT_DIGITS, loads_line, read_jsonl


def test_nesting_up_to_the_bound_is_read_and_one_more_level_refused() -> None:
    at_bound = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert loads_line(f'{{"a": {at_bound}}}'.encode(), "f:1") == {"a": json.loads(at_bound)}
    deeper = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    with pytest.raises(InputError, match=rf"^f:1: nested more than {MAX_DEPTH} levels deep"):
        loads_line(f'{{"a": {deeper}}}'.encode(), "f:1")


def test_brackets_inside_strings_do_not_count() -> None:
    text = '[{"x": "' + "[{" * 500 + '\\"' + "[" * 100 + '"}]'
    assert loads_line(text.encode(), "f:1") == [{"x": "[{" * 500 + '"' + "[" * 100}]


def test_integers_are_bounded_in_digits_not_strings() -> None:
    ok = "9" * MAX_INT_DIGITS
    assert loads_line(f'{{"n": -{ok}, "s": "{ok}0"}}'.encode(), "f:1") == {"n": -int(ok), "s": ok + "0"}
    with pytest.raises(InputError, match=rf"more than {MAX_INT_DIGITS} digits"):
        loads_line(f'{{"n": {ok}0}}'.encode(), "f:1")


def test_lone_surrogates_are_refused_unless_the_caller_takes_them() -> None:
    assert loads_line(b'{"t": "\\ud83d\\ude00"}', "f:1") == {"t": "\U0001f600"}  # a pair is one character
    assert loads_line(b'{"t": "\\\\ud800"}', "f:1") == {"t": "\\ud800"}  # an escaped backslash, not an escape
    with pytest.raises(InputError, match="lone surrogate"):
        loads_line(b'{"t": "a\\uDBFF"}', "f:1")
    assert loads_line(b'{"t": "\\ud800"}', "f:1", surrogates=True) == {"t": "\ud800"}


def test_read_jsonl_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n' + "[" * 5000 + "\n", encoding="utf-8")
    rows = read_jsonl(path)
    assert next(rows) == (f"{path}:1", {"a": 1})
    with pytest.raises(InputError, match=rf"^{path}:3: nested"):
        next(rows)


@pytest.mark.parametrize(
    "line",
    [b"[" * 5_000_000, b'{"n": ' + b"7" * 5_000_000 + b"}", b'{"t": "' + b"\\ud800" * 500_000 + b'"}'],
    ids=["5M brackets", "5M-digit integer", "500k surrogates"],
)
def test_each_bound_is_refused_within_a_cpu_second(line: bytes) -> None:
    start = time.process_time()
    with pytest.raises(InputError):
        loads_line(line, "f:1")
    assert time.process_time() - start < 1.0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet='[]{}"\\:,0123456789ud8-ae ', max_size=300).map(str.encode))
def test_any_line_parses_or_is_refused_naming_it(raw: bytes) -> None:
    try:
        loads_line(raw, "f:7")
    except InputError as e:
        assert str(e).startswith("f:7: ") and "\n" not in str(e)
