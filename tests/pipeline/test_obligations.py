"""Forgetting obligations: opened by withdrawals and closures, met by a retrained version, waived, overdue.

Real builds on the seeded platform (SQLite and PostgreSQL); the member sets
decide whether a later version is free of the affected members.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from consentry.errors import ModelError, NotFoundError
from consentry.pipeline import rebuild
from consentry.pipeline.models import register_model
from consentry.pipeline.obligations import due_date, obligation_members, obligations, waive_obligation
from consentry.policy import load_policy
from consentry.policy.yaml_reader import YamlDocument, read_yaml
from consentry.store.protocol import NewEvent
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source
from pipeline.lake import GENAI, KEY, Platform, lake_records, write_parquet
from pipeline.test_build import _build

REFERENCE_POLICY_DIR = Path(__file__).parents[2] / "examples" / "policies"


def _day(t: datetime) -> datetime:
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


def test_withdrawal_opens_an_obligation_that_a_retrained_version_meets(any_platform: Platform) -> None:
    p = any_platform
    src = write_parquet(p.root / "lake.parquet", lake_records())
    first = _build(p, [src], out="v1").build_id  # type: ignore[attr-defined]
    v1, _ = register_model(p.store, "ranker", "1", [first])
    assert obligations(p.store) == []

    deny = p.store.record(NewEvent("ok_br", GENAI, Choice.DENY, None, Source.SETTINGS))
    (ob,) = obligations(p.store)
    assert (ob.model.model_id, ob.cause, ob.members, ob.records, ob.status) == (
        v1.model_id, "OPTED_OUT", ("ok_br",), 1, "open"
    )  # fmt: skip
    assert ob.arose_at == deny.at and ob.forget_within_days == 30
    assert ob.due_by == _day(deny.at) + timedelta(days=30)
    later = obligations(p.store, as_of=ob.due_by + timedelta(seconds=1), overdue=True)
    assert [o.obligation_id for o in later] == [ob.obligation_id] and later[0].status == "overdue"
    members = obligation_members(p.store).to_pylist()
    assert [(r["build_id"], r["member_id"], r["records"]) for r in members] == [(first, "ok_br", 1)]

    # Retrained on a rebuild, which leaves ok_br out: met, checked against the new build's member set
    second = rebuild(p.store, first, p.root / "v2", key=KEY).build_id
    v2, _ = register_model(p.store, "ranker", "2", [second])
    (ob,) = obligations(p.store)
    assert ob.status == "met" and ob.met_by == v2.model_id and ob.met_at == v2.trained_at
    assert obligation_members(p.store).num_rows == 0

    # A version trained on the old build again does not meet anything: it has ok_br's data
    register_model(p.store, "ranker", "3", [first, second])
    found = {(o.model.version, o.status) for o in obligations(p.store, model="ranker")}
    assert found == {("1", "met"), ("3", "open")}


def test_closure_reaches_every_version_and_staff_can_waive(any_platform: Platform) -> None:
    p = any_platform
    src = write_parquet(p.root / "lake.parquet", lake_records())
    build = _build(p, [src], out="v1").build_id  # type: ignore[attr-defined]
    register_model(p.store, "ranker", "1", [build])
    register_model(p.store, "tagger", "1", [build])
    p.store.close_account("ok_us", utcnow())
    found = obligations(p.store)
    assert [(o.model.name, o.cause, o.members, o.records) for o in found] == [
        ("ranker", "ACCOUNT_CLOSED", ("ok_us",), 3),
        ("tagger", "ACCOUNT_CLOSED", ("ok_us",), 3),
    ]
    assert [o.model.name for o in obligations(p.store, model="tagger@1")] == ["tagger"]
    with pytest.raises(NotFoundError, match="models list"):
        obligations(p.store, model="nope")

    target = found[1].obligation_id
    with pytest.raises(ModelError, match="grounds"):
        waive_obligation(p.store, target, grounds=" ", actor="dpo")
    with pytest.raises(NotFoundError, match="models obligations"):
        waive_obligation(p.store, "ob-nope", grounds="x", actor="dpo")
    waived = waive_obligation(p.store, target, grounds="model retired, weights destroyed", actor="dpo")
    assert waived.status == "waived" and waived.waiver is not None and waived.waiver.actor == "dpo"
    with pytest.raises(ModelError, match="waived"):
        waive_obligation(p.store, target, grounds="again", actor="dpo")
    assert {o.model.name: o.status for o in obligations(p.store)} == {"ranker": "open", "tagger": "waived"}
    # Before the waiver was recorded, it was not waived
    assert {o.status for o in obligations(p.store, as_of=waived.waiver.waived_at - timedelta(microseconds=1))} == {
        "open"
    }


def test_a_lowered_forget_within_days_is_recorded_and_moves_due_by_earlier(tmp_path: Path) -> None:
    read = read_yaml(REFERENCE_POLICY_DIR.joinpath("social-network.yaml").read_text(), "social-network.yaml")
    assert isinstance(read, YamlDocument)
    doc = read.data
    last = doc["versions"][-1]
    last["purposes"][GENAI]["forget_within_days"] = 60
    stricter = {**last, "version": "2026-01-01", "published_at": "2025-12-01T00:00:00Z",
                "effective_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    stricter["purposes"] = {**last["purposes"], GENAI: {**last["purposes"][GENAI], "forget_within_days": 10}}
    doc["versions"].append(stricter)
    shutil.copytree(REFERENCE_POLICY_DIR / "lia", tmp_path / "lia")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    policy = load_policy(tmp_path / "p.yaml")
    day = datetime(2025, 12, 20, tzinfo=UTC)
    assert due_date(policy, GENAI, day, day) == (60, day + timedelta(days=60), [])
    days, due, (change,) = due_date(policy, GENAI, day, datetime(2026, 1, 5, tzinfo=UTC))
    assert days == 10 and due == datetime(2026, 1, 1, tzinfo=UTC)  # not before the stricter version took effect
    assert change.policy_version == "2026-01-01" and change.due_by_was == day + timedelta(days=60)
    # the reference policy says nothing: the default
    assert due_date(load_policy(REFERENCE_POLICY_DIR / "social-network.yaml"), GENAI, day, day)[0] == 30


def test_cli_obligations_and_waive(platform: Platform) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "CONSENTRY_DB": platform.url, "CONSENTRY_PSEUDONYM_KEY": KEY.decode()}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "consentry.cli", *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)

    src = write_parquet(platform.root / "lake.parquet", lake_records())
    build = _build(platform, [src], out="v1").build_id  # type: ignore[attr-defined]
    assert run("models", "register", "--name", "ranker", "--version", "1", "--build", build).returncode == 0
    platform.store.record(NewEvent("ok_br", GENAI, Choice.DENY, None, Source.SETTINGS))
    (ob,) = json.loads(run("models", "obligations", "--model", "ranker").stdout)
    assert ob["members"] == ["ok_br"] and ob["status"] == "open" and ob["cause"] == "OPTED_OUT"
    late = json.loads(run("models", "obligations", "--overdue", "--as-of", "2099-01-01T00:00:00Z").stdout)
    assert [o["obligation_id"] for o in late] == [ob["obligation_id"]]
    done = run("models", "waive", ob["obligation_id"], "--grounds", "model deleted", "--by", "dpo")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "waived"
    for args in (["models", "obligations", "--model", "nope"], ["models", "waive", "ob-nope", "--grounds", "x",
                                                                 "--by", "dpo"]):  # fmt: skip
        bad = run(*args)
        assert bad.returncode == 1 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1


def test_objections_and_deleted_records_open_obligations(platform: Platform) -> None:
    from consentry.pipeline import stale_builds
    from consentry.vocab import CaseStatus
    from pipeline.lake import record

    rows = [record("r-keep", "ok_us"), record("r-gone", "ok_us"), record("r-br", "ok_br")]
    src = write_parquet(platform.root / "lake" / "records.parquet", rows)
    first = _build(platform, [src], out="v1").build_id  # type: ignore[attr-defined]
    register_model(platform.store, "ranker", "1", [first])

    case = platform.store.file_objection("ok_br", [GENAI], utcnow())
    (ob,) = obligations(platform.store)
    assert (ob.cause, ob.members, ob.arose_at) == ("OBJECTION_PENDING", ("ok_br",), case.received_at)
    platform.store.decide_objection(case.case_id, CaseStatus.UPHELD, None)
    (ob,) = obligations(platform.store)
    assert (ob.cause, ob.members) == ("OBJECTION_UPHELD", ("ok_br",))

    # r-gone is deleted at the source after the build: found by `builds stale`, counted (not listed by member)
    gone = [record("r-keep", "ok_us"), record("r-gone", "ok_us", deleted=utcnow().isoformat()), rows[2]]
    write_parquet(src, gone)
    stale_builds(platform.store, check_deletions=True, key=KEY)
    deleted = next(o for o in obligations(platform.store) if o.cause == "RECORD_DELETED")
    assert (deleted.records, deleted.member_count, deleted.members, deleted.status) == (1, 1, (), "open")

    second = rebuild(platform.store, first, platform.root / "v2", key=KEY).build_id
    register_model(platform.store, "ranker", "2", [second])
    assert {o.cause: o.status for o in obligations(platform.store)} == {
        "OBJECTION_UPHELD": "met",
        "RECORD_DELETED": "met",
    }
