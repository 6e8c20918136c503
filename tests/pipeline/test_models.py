"""Models and their builds: register, list, show — library and CLI, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from consentry.errors import InputError, ModelError, NotFoundError
from consentry.pipeline.models import list_models, register_model, resolve_models, show_model
from consentry.timeutil import utcnow
from pipeline.lake import KEY, Platform, lake_records, write_parquet
from pipeline.test_build import _build

CLI = [sys.executable, "-m", "consentry.cli"]


def _run(p: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONSENTRY_DB": p.url, "CONSENTRY_PSEUDONYM_KEY": KEY.decode()}
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _two_builds(p: Platform) -> tuple[str, str]:
    src = write_parquet(p.root / "lake.parquet", lake_records())
    one = _build(p, [src], out="one")
    two = _build(p, [src], out="two")
    return one.build_id, two.build_id  # type: ignore[attr-defined]


def test_register_list_show(any_platform: Platform) -> None:
    p = any_platform
    b1, b2 = _two_builds(p)
    trained = utcnow()
    record, created = register_model(p.store, "ranker", "1", [b1], trained_at=trained, uri="s3://m/ranker/1")
    assert created and record.name == "ranker" and record.builds == (b1,) and record.trained_at == trained
    again, created = register_model(p.store, "ranker", "1", [b1])
    assert not created and again == record  # identical: a no-op
    with pytest.raises(ModelError, match="already registered with builds"):
        register_model(p.store, "ranker", "1", [b1, b2])
    v2, _ = register_model(p.store, "ranker", "2", [b2, b1])
    assert v2.builds == tuple(sorted([b1, b2]))
    assert [(m.name, m.version) for m in list_models(p.store)] == [("ranker", "1"), ("ranker", "2")]
    assert [m.version for m in resolve_models(p.store, "ranker")] == ["1", "2"]
    assert resolve_models(p.store, "ranker@2") == [v2] == resolve_models(p.store, v2.model_id)
    (shown,) = show_model(p.store, "ranker@2")
    # both builds hold the same two members (ok_us: 3 records, ok_br: 1)
    assert shown.members == 2 and shown.records == 8 and {b["build_id"] for b in shown.builds} == {b1, b2}


def test_refusals_write_nothing(any_platform: Platform) -> None:
    p = any_platform
    b1, _ = _two_builds(p)
    with pytest.raises(NotFoundError, match="build 'b-nope'"):
        register_model(p.store, "ranker", "1", [b1, "b-nope"])
    with pytest.raises(InputError, match="comes before build"):
        register_model(p.store, "ranker", "1", [b1], trained_at=utcnow() - timedelta(days=400))
    with pytest.raises(InputError, match="--build"):
        register_model(p.store, "ranker", "1", [])
    with pytest.raises(NotFoundError, match="models list"):
        resolve_models(p.store, "ranker")
    assert list_models(p.store) == []


def test_cli_register_list_show_and_errors(platform: Platform) -> None:
    b1, _ = _two_builds(platform)
    done = _run(platform, "models", "register", "--name", "ranker", "--version", "1", "--build", b1)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    assert set(out) >= {"model_id", "name", "version", "builds", "trained_at"} and out["builds"] == [b1]
    assert json.loads(_run(platform, "models", "list").stdout)[0]["model_id"] == out["model_id"]
    (shown,) = json.loads(_run(platform, "models", "show", "ranker").stdout)
    assert shown["members"] == 2 and shown["builds"][0]["build_id"] == b1
    for args in (
        ["models", "register", "--name", "ranker", "--version", "1", "--build", "b-nope"],
        ["models", "show", "nope"],
    ):
        bad = _run(platform, *args)
        assert bad.returncode == 1 and bad.stdout == "" and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert [m["version"] for m in json.loads(_run(platform, "models", "list").stdout)] == ["1"]


def test_0011_and_0012_add_the_model_tables_and_a_downgrade_removes_them(store_url: str) -> None:
    from migrating import migrated
    from sqlalchemy import inspect

    from consentry.store import database, open_store

    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "heads") as conn:
        assert {"models", "model_builds", "model_obligation_waivers"} <= set(inspect(conn).get_table_names())
    with migrated(eng, "downgrade", "0010") as conn:
        tables = set(inspect(conn).get_table_names())
        assert not {"models", "model_builds", "model_obligation_waivers"} & tables and "builds" in tables
    eng.dispose()
    store = open_store(store_url)  # upgraded again on open
    assert store.models.all() == []
    store.close()
