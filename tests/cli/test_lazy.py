"""Each CLI call imports only the module of the command it runs; `--help` imports none of them."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import consentry.cli
from consentry.cli import _COMMANDS, app
from consentry.policy import load_policy
from consentry.store import Member, NewEvent, open_store
from consentry.vocab import Choice, Source

REFERENCE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policies" / "social-network.yaml"

CLI_DIR = Path(consentry.cli.__file__).parent
COMMAND_MODULES = {entry.module for entry in _COMMANDS.values()}

_RUN = """
import json, os, sys
from consentry.cli import main
sys.argv = ["consentry", *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = set(os.environ["HEAVY_MODULES"].split(","))
loaded = sorted(m for m in sys.modules if m.startswith("consentry.cli.") or m.split(".")[0] == "alembic")
loaded += sorted({m.split(".")[0] for m in sys.modules} & heavy)
loaded += sorted(set(os.environ["TRACKED_MODULES"].split(",")) & set(sys.modules))
print("\\n" + json.dumps({"code": code, "loaded": loaded}))
"""

#: Dependencies that cost real start-up time, and the commands that need each.
HEAVY = {
    "pyarrow": "the store and builds",
    "duckdb": "builds",
    "sqlalchemy": "the store",
    "yaml": "policy files",
    "fastapi": "serve",
    "starlette": "serve",
    "uvicorn": "serve",
    "jinja2": "serve",
    "pyspark": "build --engine spark",
    "openlineage": "builds sending OpenLineage events (--lineage)",
    "phonenumbers": "scrub and builds",
    "ahocorasick": "scrub and builds",
    "hyperscan": "scrub and builds",
    "spacy": "scrub --ner spacy",
    "psycopg": "PostgreSQL stores",
}

#: Modules of our own, or parts of a dependency, that cost start-up and that some commands need.
TRACKED = {
    "consentry.policy.models": "a policy (pydantic models), loaded from a file or rebuilt from the store",
    "consentry.policy.loader": "policy files",
    "rich": "printing an error, a warning or a table (commands print JSON with the json module)",
    "sqlalchemy.dialects.postgresql": "PostgreSQL stores",
}


def _run(tmp_path: Path, *args: str) -> tuple[str, int, set[str]]:
    env = {
        **os.environ,
        "CONSENTRY_DB": f"sqlite:///{tmp_path / 'c.db'}",
        "COLUMNS": "200",
        "HEAVY_MODULES": ",".join(HEAVY),
        "TRACKED_MODULES": ",".join(TRACKED),
    }
    out = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    *printed, last = out.stdout.rstrip("\n").split("\n")
    result = json.loads(last)
    return "\n".join(printed), result["code"], set(result["loaded"])


def test_help_lists_every_command_without_importing_one(tmp_path: Path) -> None:
    text, code, loaded = _run(tmp_path, "--help")
    assert code == 0
    for name, entry in _COMMANDS.items():
        assert f" {name} " in text and entry.help.split("`")[0] in text, name
    assert not loaded & COMMAND_MODULES
    assert "alembic" not in loaded


def test_a_command_imports_its_module_only_and_no_alembic_on_a_current_store(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path / 'c.db'}").close()
    text, code, loaded = _run(tmp_path, "ledger", "head")
    assert code == 0
    assert json.loads(text)["events"] == 0
    assert loaded & COMMAND_MODULES == {"consentry.cli.ledger"}
    assert "alembic" not in loaded


def test_a_group_help_imports_that_group_only(tmp_path: Path) -> None:
    text, code, loaded = _run(tmp_path, "policy", "--help")
    assert code == 0
    assert "validate" in text and "publish" in text and "versions" in text
    assert loaded & COMMAND_MODULES == {"consentry.cli.policy"}


@pytest.mark.parametrize("name", list(_COMMANDS))
def test_the_listed_help_line_is_the_commands_own(name: str) -> None:
    command = app_command(name)
    assert command.name == name
    assert (command.short_help or command.help or "").strip() == _COMMANDS[name].help, (
        f"update the help line of {name!r} in src/consentry/cli/__init__.py"
    )


def app_command(name: str):  # type: ignore[no-untyped-def]
    import typer

    group = typer.main.get_command(app)
    return group.commands[name]  # type: ignore[attr-defined]


def test_every_command_module_is_listed() -> None:
    modules = {f"consentry.cli.{p.stem}" for p in CLI_DIR.glob("*.py") if not p.stem.startswith("_")}
    assert modules == COMMAND_MODULES


def test_a_mistyped_command_is_refused_with_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["polcy"])
    assert result.exit_code == 2
    assert "Did you mean 'policy'" in result.output


def test_help_imports_no_heavy_dependency(tmp_path: Path) -> None:
    _, code, loaded = _run(tmp_path, "--help")
    assert code == 0
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize("name", list(_COMMANDS))
def test_a_commands_help_imports_none_of_the_work_it_would_do(tmp_path: Path, name: str) -> None:
    _, code, loaded = _run(tmp_path, name, "--help")
    assert code == 0
    assert not loaded & set(HEAVY), {m: HEAVY[m] for m in loaded & set(HEAVY)}


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("policy", "validate", str(REFERENCE_POLICY)), {"yaml"}),
        (("ledger", "head"), {"sqlalchemy"}),
        (("staff", "list-keys"), {"sqlalchemy"}),
        (("members", "show", "nobody"), {"sqlalchemy"}),
    ],
    ids=["policy validate", "ledger head", "staff list-keys", "members show"],
)
def test_a_command_imports_no_other_commands_dependencies(
    tmp_path: Path, args: tuple[str, ...], allowed: set[str]
) -> None:
    open_store(f"sqlite:///{tmp_path / 'c.db'}").close()
    _, _, loaded = _run(tmp_path, *args)
    extra = (loaded & set(HEAVY)) - allowed
    assert not extra, {m: HEAVY[m] for m in extra}


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding c.db: the reference policy, two members and one recorded choice."""
    directory = tmp_path_factory.mktemp("small-store")
    store = open_store(f"sqlite:///{directory / 'c.db'}")
    try:
        store.publish(load_policy(REFERENCE_POLICY))
        joined = datetime(2020, 1, 1, tzinfo=UTC)
        store.add_members([Member("m1", "US", None, joined), Member("m2", "DE", None, joined)])
        store.record(NewEvent("m1", "genai_training", Choice.DENY, datetime(2025, 1, 1, tzinfo=UTC), Source.SETTINGS))
    finally:
        store.close()
    return directory


# What each store-backed command really needs. typer itself imports pydantic to convert
# every command's parameters, so pydantic as such is no command's choice; our pydantic
# models (the policy) are: `consent history` names the published purposes so that the
# ledger's (purpose, member) index can seek, the others need no policy. No command here
# needs Arrow, DuckDB, the service, the YAML loader, the PostgreSQL dialect or rich.
@pytest.mark.parametrize(
    ("args", "needs", "shows"),
    [
        (("ledger", "head"), {"sqlalchemy"}, '"events": 1'),
        (("ledger", "verify"), {"sqlalchemy"}, '"ok": true'),
        (("consent", "history", "--member", "m1"), {"sqlalchemy", "consentry.policy.models"}, '"choice": "deny"'),
        (("members", "show", "m1"), {"sqlalchemy"}, '"country": "US"'),
    ],
    ids=["ledger head", "ledger verify", "consent history", "members show"],
)
def test_a_store_command_imports_only_what_it_needs(
    small_store: Path, args: tuple[str, ...], needs: set[str], shows: str
) -> None:
    text, code, loaded = _run(small_store, *args)
    assert code == 0 and shows in text, text
    checked = set(HEAVY) | set(TRACKED)
    assert loaded & checked == needs, {m: {**HEAVY, **TRACKED}[m] for m in (loaded & checked) ^ needs}


def test_importing_the_store_imports_no_arrow_and_no_policy_until_used() -> None:
    """Library users: `import consentry.store` is cheap; the Arrow schemas still work (made on first use)."""
    code = """
import sys
import consentry.store, consentry.store.members, consentry.timeutil
assert not {"pyarrow", "consentry.policy.models", "consentry.store.builds"} & set(sys.modules), sys.modules.keys()
from consentry.store import SNAPSHOT_SCHEMA
from consentry.store.members import MEMBERS_SCHEMA
from consentry.timeutil import ARROW_TS
import pyarrow as pa
assert SNAPSHOT_SCHEMA is consentry.store.protocol.SNAPSHOT_SCHEMA
assert SNAPSHOT_SCHEMA.field("created_at").type == ARROW_TS
assert MEMBERS_SCHEMA.names == SNAPSHOT_SCHEMA.names[:5] and ARROW_TS == pa.timestamp("us", tz="UTC")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout == "ok\n", out.stderr


def test_help_starts_within_three_tenths_of_a_cpu_second(tmp_path: Path) -> None:
    """CPU seconds of the child process (user + system), the least of three runs: not wall-clock time."""
    env = {**os.environ, "CONSENTRY_DB": f"sqlite:///{tmp_path / 'c.db'}"}
    spent = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-m", "consentry.cli", "--help"], capture_output=True, env=env, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    assert min(spent) <= 0.3, spent
