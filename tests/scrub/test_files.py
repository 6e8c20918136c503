"""`scrub_file`, the library call behind `consentry scrub`: complete output or none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentry.errors import InputError
from consentry.scrub import Scrubber, ScrubConfig
from consentry.scrub.files import read_names, scrub_file


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
