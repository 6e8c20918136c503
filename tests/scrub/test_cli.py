"""`consentry scrub` and `consentry scrub eval` through the Typer runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from consentry.cli import app

runner = CliRunner()


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_scrub_writes_scrubbed_text_and_keeps_other_fields(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"id": 1, "text": "mail ada@example.org"}, {"id": 2, "text": "hi"}])
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["scrub", "--in", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [{"id": 1, "text": "mail <EMAIL>"}, {"id": 2, "text": "hi"}]
    assert json.loads(res.stdout)["counts"] == {"EMAIL": 1}


def test_detect_only_reports_spans_in_original_offsets(tmp_path: Path) -> None:
    text = "mail ada@example.org"
    src = _write(tmp_path / "in.jsonl", [{"text": text}])
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["scrub", "--in", str(src), "--out", str(out), "--detect-only"])
    assert res.exit_code == 0, res.output
    (span,) = json.loads(out.read_text())["spans"]
    assert text[span["start"] : span["end"]] == "ada@example.org"
    assert {"entity", "score", "detector"} <= span.keys() and span["entity"] == "EMAIL"


def test_bad_line_fails_with_file_line_and_no_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"text": "fine"}\n{"text": "caf\xe9"}\n')
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["scrub", "--in", str(src), "--out", str(out)])
    assert res.exit_code == 1
    assert f"{src}:2" in res.output and "UTF-8" in res.output
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_missing_text_field_is_an_error(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"body": "x"}])
    res = runner.invoke(app, ["scrub", "--in", str(src), "--out", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 1 and f"{src}:1: text:" in res.output


def test_eval_prints_metrics(tmp_path: Path) -> None:
    rows = [
        {"text": "mail ada@example.org", "spans": [{"start": 5, "end": 20, "label": "EMAIL_ADDRESS"}]},
        {"text": "call +44 20 7946 0958", "spans": [{"start": 5, "end": 21, "label": "PHONE_NUMBER"}]},
    ]
    corpus = _write(tmp_path / "gold.jsonl", rows)
    res = runner.invoke(app, ["scrub", "eval", "--corpus", str(corpus)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["leak_rate"] == 0.0 and report["entities"]["EMAIL"]["recall"] == 1.0
    assert {"precision", "recall", "f2"} <= report["entities"]["PHONE"].keys()
