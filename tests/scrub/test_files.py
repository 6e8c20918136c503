"""`scrub_file`, the library call behind `consentry scrub`: complete output or none."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from consentry.errors import InputError
from consentry.lines import MAX_FIELDS, MAX_RECORD_LINE_BYTES
from consentry.scrub import Scrubber, ScrubConfig
from consentry.scrub.files import MAX_TEXT_CHARS, read_names, scrub_file


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(ScrubConfig.default(), key=b"files")


def test_scrub_file_writes_every_line_and_summarises(tmp_path: Path, scrubber: Scrubber) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "mail ada@example.org"}\n\n{"id": 2, "text": "hi"}\n', encoding="utf-8")
    summary = scrub_file(src, tmp_path / "out" / "o.jsonl", scrubber, detect_only=False)
    assert summary == {"lines": 2, "failed": 0, "counts": {"EMAIL": 1}, "out": str(tmp_path / "out" / "o.jsonl")}
    rows = [json.loads(line) for line in (tmp_path / "out" / "o.jsonl").read_text().splitlines()]
    assert rows == [{"id": 1, "text": "mail <EMAIL>"}, {"id": 2, "text": "hi"}]


def test_a_bad_line_leaves_no_output_and_no_temporary_file(tmp_path: Path, scrubber: Scrubber) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "fine"}\n{"body": "no text"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"in\.jsonl:2: text: each line must be an object with a string 'text'"):
        scrub_file(src, tmp_path / "o.jsonl", scrubber, detect_only=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_read_names_skips_blank_lines_and_names_an_unreadable_file(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text(" Ada Lovelace \n\nBo\n", encoding="utf-8")
    assert read_names(names) == ["Ada Lovelace", "Bo"]
    assert read_names(None) == []
    names.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="cannot read the names file"):
        read_names(names)


def test_a_lone_surrogate_fails_its_line_alone(tmp_path: Path, scrubber: Scrubber) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "bad \\ud800"}\n{"text": "mail ada@example.org"}\n', encoding="utf-8")
    summary = scrub_file(src, tmp_path / "o.jsonl", scrubber, detect_only=False)
    assert summary["lines"] == 2 and summary["failed"] == 1
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert rows == [{"text": None, "scrub_failed": True}, {"text": "mail <EMAIL>"}]


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (b'{"text": "' + b"x" * MAX_RECORD_LINE_BYTES + b'"}', "line is longer than 8 MiB"),
        (b"[" * (64 * MAX_RECORD_LINE_BYTES // 8), "line is longer than 8 MiB"),  # 64 MiB, no line break
        (json.dumps({"text": "y" * (MAX_TEXT_CHARS + 1)}).encode(), "text: is 1000001 characters long"),
        (json.dumps({"text": "z", **{f"f{i}": 0 for i in range(MAX_FIELDS)}}).encode(), "has 257 fields"),
    ],
)
def test_scrub_input_past_its_bounds_is_refused_naming_the_line_within_a_cpu_second(
    tmp_path: Path, scrubber: Scrubber, bad: bytes, needle: str
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "fine"}\n' + bad + b"\n")
    start = time.process_time()
    with pytest.raises(InputError) as err:
        scrub_file(src, tmp_path / "o.jsonl", scrubber, detect_only=False)
    assert time.process_time() - start < 1.0
    assert str(err.value).startswith(f"{src}:2: ") and needle in str(err.value), str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_scrub_text_at_its_bound_is_read(tmp_path: Path, scrubber: Scrubber) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "a " * (MAX_TEXT_CHARS // 2)}) + "\n", encoding="utf-8")
    assert scrub_file(src, tmp_path / "o.jsonl", scrubber, detect_only=True)["lines"] == 1
