"""Builds and the ledger they saw: a truncated or rewritten ledger cannot hide withdrawals from `builds stale`,
and a build records (and insists on) the newest signed checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from consentry.errors import BuildError
from consentry.pipeline import build, stale_builds
from consentry.pipeline.staleness import LEDGER_CONTRADICTED
from consentry.store import NewEvent, anchors
from consentry.store import checkpoints as cps
from consentry.vocab import Choice, Source
from pipeline.lake import AS_OF, GENAI, KEY, Platform, lake_records, t, write_parquet


def _build(p: Platform, out: str) -> Any:
    src = write_parquet(p.root / "lake.parquet", lake_records())
    return build(p.store, GENAI, [src], p.root / out, as_of=AS_OF, scrub=False, key=KEY)


def _truncate(url: str, keep: int) -> None:
    """Delete the tail and rewrite the head row to match, as someone with database access could."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as c:
        c.execute(text("DELETE FROM consent_events WHERE event_id > :k"), {"k": keep})
        (h,) = c.execute(text("SELECT hash FROM consent_events WHERE event_id = :k"), {"k": keep}).one()
        c.execute(text("UPDATE ledger_head SET events = :k, hash = :h WHERE id = 1"), {"k": keep, "h": h})
    engine.dispose()


def test_a_truncated_ledger_makes_the_build_stale(any_platform: Platform) -> None:
    p = any_platform
    result = _build(p, "out")
    manifest = json.loads(result.manifest_path.read_text())
    seen = manifest["ledger"]["events"]
    assert seen == p.store.head()[0] and seen >= 3
    assert [s.build.build_id for s in stale_builds(p.store) if LEDGER_CONTRADICTED in s.causes] == []
    # The withdrawals recorded before the build go; the head row is rewritten, so the chain still verifies.
    _truncate(p.url, keep=1)
    assert p.store.verify().ok
    (stale,) = [s for s in stale_builds(p.store) if s.build.build_id == result.build_id]
    assert LEDGER_CONTRADICTED in stale.causes and stale.ledger_problem is not None
    assert "fewer than the" in stale.ledger_problem
    assert stale.stale_members == result.members
    assert stale.to_dict()["ledger_problem"] == stale.ledger_problem


def test_a_rewritten_ledger_makes_the_build_stale(platform: Platform) -> None:
    p = platform
    result = _build(p, "out")
    seen = p.store.head()[0]
    engine = create_engine(p.url, poolclass=NullPool)
    with engine.begin() as c:
        c.execute(text("UPDATE consent_events SET hash = :h WHERE event_id = :e"), {"h": "f" * 64, "e": seen})
    engine.dispose()
    (stale,) = [s for s in stale_builds(p.store) if s.build.build_id == result.build_id]
    assert stale.ledger_problem is not None and "rewritten" in stale.ledger_problem


@pytest.fixture
def checkpoint_dir(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key_file = tmp_path / "cp.pem"
    cps.generate_key(key_file)
    key = cps.load_private_key({cps.KEY_FILE_ENV: str(key_file)})
    directory = tmp_path / "checkpoints"
    cps.write_checkpoint(anchors.take_checkpoint(platform.store, key, t("2025-01-20")), directory, key.public_key())
    monkeypatch.setenv("CONSENTRY_CHECKPOINT_DIR", str(directory))
    return directory


def test_the_manifest_records_the_newest_checkpoint(platform: Platform, checkpoint_dir: Path) -> None:
    platform.store.record(NewEvent("ok_br", GENAI, Choice.ALLOW, t("2024-12-02"), Source.SETTINGS))
    result = _build(platform, "out")
    ledger = json.loads(result.manifest_path.read_text())["ledger"]
    (newest,) = cps.read_checkpoints(checkpoint_dir)
    assert ledger["checkpoint"]["file"] == Path(newest.source).name
    assert ledger["checkpoint"]["events"] == newest.checkpoint.events == ledger["events"] - 1
    assert ledger["checkpoint"]["head_hash"] == newest.checkpoint.head_hash


def test_a_build_refuses_a_ledger_that_fell_short_of_a_checkpoint(platform: Platform, checkpoint_dir: Path) -> None:
    _truncate(platform.url, keep=2)
    with pytest.raises(BuildError, match=r"checkpoint .* recorded") as e:
        _build(platform, "out")
    assert "ledger verify --checkpoints" in str(e.value)
    assert not (platform.root / "out").exists()
