"""`consentry build` at the edge: sources past the parser's bounds, outputs the OS refuses.

Every failure is one line on stderr naming the path and what to do — never a traceback —
and leaves no output behind. Read-only and full file systems are real: a tmpfs mounted for
the test (the suite runs as root in CI); without the rights to mount, the OS error is
raised where the writer meets the file system.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentry.cli import app
from consentry.lines import MAX_FIELDS, MAX_RECORD_LINE_BYTES
from consentry.pipeline import read_manifest
from consentry.rules.records import BOUNDED_COLUMNS, MAX_KEY_CHARS
from pipeline.lake import GENAI, Platform, lake_records, record, write_jsonl, write_parquet

AS_OF = "2025-01-01T00:00:00Z"


def _build(platform: Platform, source: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        ["build", "--purpose", GENAI, "--source", str(source), "--out", str(out), "--as-of", AS_OF, *extra],
        env={"CONSENTRY_DB": platform.url, "CONSENTRY_PSEUDONYM_KEY": "k" * 32},
    )
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_source_lines_past_the_parser_bounds_are_malformed_never_a_crash(platform: Platform) -> None:
    good = [record("j-ok", "ok_us")]
    raw = ["[" * 1000, '{"record_id": "j-big", "n": ' + "7" * 5000 + "}", '{"record_id": "j-s", "text": "\\ud800"}']
    src = write_jsonl(platform.root / "lake" / "a.jsonl", good, raw)
    code, _, err = _build(platform, src, platform.root / "out", "--no-scrub")
    assert code == 0, err
    manifest = read_manifest(platform.root / "out")
    assert manifest["counts"]["included"] == 1
    assert {k: v for k, v in manifest["counts"]["excluded"].items() if v} == {"MALFORMED": 3}


def test_out_below_an_existing_file_is_one_line(platform: Platform) -> None:
    src = write_jsonl(platform.root / "lake" / "a.jsonl", lake_records())
    (platform.root / "file").write_text("not a directory")
    code, _, err = _build(platform, src, platform.root / "file" / "sub", "--no-scrub")
    assert code == 1
    line = _one_line_error(err)
    assert str(platform.root / "file") in line and "is a file, not a directory" in line


@contextmanager
def _file_system(where: Path, options: str, monkeypatch: pytest.MonkeyPatch, fault: int) -> Iterator[Path]:
    """A tmpfs at `where` mounted with `options`; without the rights to mount, `fault` raised on writing there."""
    where.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True).returncode
        == 0
    )
    if not mounted:
        real_mkdir = os.mkdir

        def mkdir(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
            if Path(path).is_relative_to(where):
                raise OSError(fault, os.strerror(fault), str(path))
            real_mkdir(path, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "mkdir", mkdir)
    try:
        yield where
    finally:
        if mounted:
            subprocess.run(["umount", str(where)], check=True)


def test_a_read_only_file_system_is_one_line(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_jsonl(platform.root / "lake" / "a.jsonl", lake_records())
    with _file_system(platform.root / "ro", "ro,size=1m", monkeypatch, errno.EROFS) as ro:
        code, out, err = _build(platform, src, ro / "out", "--no-scrub")
        assert list(ro.iterdir()) == []
    assert code == 1 and out == ""
    line = _one_line_error(err)
    assert str(ro) in line and "read-only; choose a writable location" in line


def test_a_full_disk_is_one_line_and_leaves_nothing(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    big = [record(f"j-{i}", "ok_us", text=secrets.token_hex(2000)) for i in range(200)]  # ~800 kB, incompressible
    src = write_jsonl(platform.root / "lake" / "a.jsonl", big)
    with _file_system(platform.root / "small", "size=128k", monkeypatch, errno.ENOSPC) as small:
        code, out, err = _build(platform, src, small / "out", "--no-scrub")
        left = list(small.iterdir())
    assert code == 1 and out == ""
    line = _one_line_error(err)
    assert "the disk is full; free some space and run the command again" in line
    assert left == []
    listed = CliRunner().invoke(app, ["builds", "list"], env={"CONSENTRY_DB": platform.url})
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


def _malformed_build(platform: Platform, sources: list[Path], out: str) -> dict[str, int]:
    args = [a for s in sources for a in ("--source", str(s))]
    result = CliRunner().invoke(
        app,
        ["build", "--purpose", GENAI, *args, "--out", str(platform.root / out), "--as-of", AS_OF, "--no-scrub"],
        env={"CONSENTRY_DB": platform.url, "CONSENTRY_PSEUDONYM_KEY": "k" * 32},
    )
    assert result.exit_code == 0, result.stderr
    manifest = read_manifest(platform.root / out)
    excluded = {k: v for k, v in manifest["counts"]["excluded"].items() if v}
    return {"included": manifest["counts"]["included"], **excluded}


def test_source_rows_past_the_shape_bounds_are_malformed_each_counted_once(platform: Platform) -> None:
    # a line past 8 MiB (never held in memory whole), an object of 257 fields, ids past 255 characters
    ok = record("j-ok", "ok_us")
    giant = json.dumps({**record("j-giant", "ok_us"), "text": "x" * MAX_RECORD_LINE_BYTES})
    wide = json.dumps({**record("j-wide", "ok_us"), **{f"f{i}": 0 for i in range(MAX_FIELDS)}})
    long_ids = [json.dumps({**record(f"j-{c}", "ok_us"), c: "x" * (MAX_KEY_CHARS + 1)}) for c in BOUNDED_COLUMNS]
    src = write_jsonl(
        platform.root / "lake" / "a.jsonl", [ok], [giant, wide, *long_ids, json.dumps(record("j-ok2", "ok_us"))]
    )
    assert _malformed_build(platform, [src], "out") == {"included": 2, "MALFORMED": 5}
    # the same in CSV: the giant row spans quoted line breaks; the reader resumes at the next row
    csv_src = platform.root / "lake" / "b.csv"
    fields = list(ok)
    row = ",".join("" if ok[f] is None else str(ok[f]) for f in fields)
    giant_row = row.replace("j-ok", "j-giant").rsplit(",", 2)
    quoted = '"' + "line\n" * (MAX_RECORD_LINE_BYTES // 5 + 1) + '"'
    csv_src.write_text(
        ",".join(fields) + "\n" + row + "\n" + ",".join([giant_row[0], quoted, giant_row[2]]) + "\n" + row + "\n"
    )
    assert _malformed_build(platform, [csv_src], "csv-out") == {"included": 2, "MALFORMED": 1}
    # Parquet: the same rule on ids past 255 characters
    rows = [ok, *({**record(f"p-{c}", "ok_us"), c: "x" * (MAX_KEY_CHARS + 1)} for c in BOUNDED_COLUMNS)]
    pq_src = write_parquet(platform.root / "lake" / "c.parquet", rows)
    assert _malformed_build(platform, [pq_src], "pq-out") == {"included": 1, "MALFORMED": 3}


def test_a_csv_source_with_too_many_columns_is_one_line(platform: Platform) -> None:
    src = platform.root / "lake" / "wide.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(",".join(record("x", "ok_us")) + "".join(f",c{i}" for i in range(MAX_FIELDS)) + "\n")
    code, _, err = _build(platform, src, platform.root / "out", "--no-scrub")
    assert code == 1
    assert f"wide.csv:1: the header has {MAX_FIELDS + 8} columns; at most {MAX_FIELDS}" in _one_line_error(err)
    assert not (platform.root / "out").exists()
