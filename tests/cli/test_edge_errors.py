"""Errors at the command line's edge: one line on stderr, exactly as written, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentry.cli import app
from consentry.cli._edge import describe
from consentry.errors import NotFoundError
from consentry.store import open_store

runner = CliRunner()

# Runs the CLI in a fresh interpreter with the named optional module made unimportable.
_WITHOUT = """
import sys
sys.modules[sys.argv[1]] = None  # import of it raises ModuleNotFoundError, as when it is not installed
sys.argv = ["consentry", *sys.argv[2:]]
from consentry.cli import main
main()
"""


def _without(module: str, *args: str, db: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONSENTRY_DB": db, "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT, module, *args], capture_output=True, text=True, env=env, timeout=120
    )


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_brackets_reach_stderr_unchanged_not_read_as_markup(tmp_path: Path) -> None:
    missing = tmp_path / "[bold]posts[/bold] [spark].jsonl"
    result = runner.invoke(app, ["scrub", "--in", str(missing), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert _one_line(result.stderr) == f"error: {missing}: no such file"


def test_the_spark_extra_is_named_with_its_brackets(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    open_store(db).close()  # a build needs an existing store (only a few commands create one)
    out = _without(
        "pyspark",
        *("build", "--purpose", "genai_training", "--source", str(tmp_path), "--out", str(tmp_path / "o")),
        *("--engine", "spark"),
        db=db,
    )
    assert out.returncode == 1
    assert _one_line(out.stderr) == "error: --engine spark needs PySpark: pip install 'consentry[spark]' (and Java 17)"


def test_a_postgresql_url_without_psycopg_names_the_extra(tmp_path: Path) -> None:
    out = _without("psycopg", "ledger", "head", db="postgresql+psycopg://u:secret@localhost:1/none")
    assert out.returncode == 1 and out.stdout == ""
    line = _one_line(out.stderr)
    assert line == "error: this needs psycopg, which is not installed: pip install 'consentry[postgres]'"
    assert "secret" not in out.stderr


MEMBER = {"member_id": "m1", "country": "US", "birth_date": "1990-01-01", "created_at": "2024-01-01T00:00:00Z"}
EVENT = {"member_id": "m1", "purpose": "genai_training", "choice": "allow", "at": "2024-06-01T00:00:00Z"}
BAD_LINES = {
    "nested": ("[" * 1000, "nested more than 64 levels deep; flatten the line"),
    "huge int": (
        '{"member_id": "m2", "n": ' + "7" * 5000 + "}",
        "an integer has more than 19 digits; write it as a string",
    ),
    "surrogate": (
        None,
        "holds a lone surrogate escape (such as \\ud800), which is not text; fix the line's encoding",
    ),
}


@pytest.mark.parametrize("command", ["members", "consent"])
@pytest.mark.parametrize("case", list(BAD_LINES))
def test_jsonl_past_the_parser_bounds_is_one_line_and_imports_nothing(
    tmp_path: Path, store_url: str, command: str, case: str
) -> None:
    """On SQLite and PostgreSQL alike: the line is refused before anything reaches the store."""
    good = MEMBER if command == "members" else EVENT
    line, message = BAD_LINES[case]
    if line is None:
        line = json.dumps({**good, "member_id": "m\ud800"})  # json writes the lone surrogate as the escape \ud800
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(good) + "\n" + line + "\n", encoding="utf-8")
    open_store(store_url).close()
    result = runner.invoke(app, [command, "import", str(path)], env={"CONSENTRY_DB": store_url})
    assert result.exit_code == 1
    assert _one_line(result.stderr) == f"error: {path}:2: {message}"
    store = open_store(store_url)
    try:
        assert store.head()[0] == 0
        with pytest.raises(NotFoundError):
            store.member("m1")
    finally:
        store.close()


def test_scrub_refuses_a_line_nested_too_deep_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n' + '{"text": "x", "meta": ' + "[" * 1000 + "\n", encoding="utf-8")
    result = runner.invoke(app, ["scrub", "--in", str(src), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert _one_line(result.stderr) == f"error: {src}:2: nested more than 64 levels deep; flatten the line"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(28, "No space left on device", "/data/out"), "/data/out: the disk is full; free some space"),
        (OSError("Failed to open '/d/x'. Detail: [errno 30] Read-only file system"), "the file system is read-only"),
        (RecursionError("maximum recursion depth exceeded"), "the input is nested too deeply to process"),
        (ValueError("invalid literal for int() with base 10: 'Ada Lovelace'"), "a value in the input cannot be"),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), "not valid Unicode"),
        (ModuleNotFoundError("No module named 'fastapi'", name="fastapi"), "pip install 'consentry[service]'"),
    ],
)
def test_edge_errors_are_described_without_quoting_the_input(error: BaseException, expected: str) -> None:
    text = describe(error)
    assert expected in text and "\n" not in text
    assert "Ada" not in text and "\ud800" not in text


_BROKEN = """
import sys
from consentry.cli import _COMMANDS, main
from consentry.cli._lazy import Kind, LazyEntry
_COMMANDS["broken"] = LazyEntry("fastapi.no_such_module", "app", Kind.GROUP, "A command whose module cannot load.")
sys.argv = ["consentry", "broken"]
main()
"""


def test_an_error_while_loading_a_command_is_one_line_too() -> None:
    out = subprocess.run([sys.executable, "-c", _BROKEN], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert (
        _one_line(out.stderr) == "error: this needs fastapi, which is not installed: pip install 'consentry[service]'"
    )
