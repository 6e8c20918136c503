"""The demo tells the story of docs/concepts.md: nothing before disclosure, Europe out, then in after notice."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from consentry.demo import run_demo
from consentry.demo.synth import SyntheticPlatform
from consentry.pipeline import list_builds, stale_builds
from consentry.pipeline.models import resolve_models
from consentry.pipeline.obligations import obligations
from consentry.store import open_store
from consentry.store.protocol import Store

EUROPE = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "CH", "GB",
}  # fmt: skip


def _settings_page(store: Store, platform: SyntheticPlatform, country: str, at: datetime) -> str:
    """The settings page of the demo's first open member in `country`, as the demo service shows it at `at`."""
    from fastapi.testclient import TestClient

    from consentry.service import ServiceConfig, create_app

    member = next(m.member_id for m in platform.members if m.country == country and m.closed_at is None)
    config = ServiceConfig(secret_key="demo-test-secret-0123456789", demo=True, cookie_secure=False, clock_start=at)
    with TestClient(create_app(store, config)) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/demo/sign-in").text)
        assert token is not None
        c.post("/demo/sign-in", data={"member_id": member, "csrf_token": token.group(1)})
        return c.get("/settings/data-privacy").text


def test_demo_replays_the_story_and_builds(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_demo(tmp_path / "demo", members=600, records=4000, console=Console(file=out, width=120))
    counts = result.counts
    platform = SyntheticPlatform(members_count=600)
    europe = sum(1 for m in platform.members if m.country in EUROPE or m.country is None)

    assert counts["2024-09-01"] == {"NOT_DISCLOSED": 600}
    assert counts["2024-09-20"] == {"NOT_DISCLOSED": 600}
    assert counts["2024-12-01"]["REGION_EXCLUDED"] == europe
    assert counts["2025-11-10"]["NOTICE_PERIOD"] == europe
    assert "NOTICE_PERIOD" not in counts["2025-12-01"]
    assert counts["2025-12-01"]["ALLOWED"] > counts["2024-12-01"]["ALLOWED"]

    store = open_store(result.db_url)
    assert store.verify().ok
    first, retrained = list_builds(store)
    assert retrained.predecessor == first.build_id
    stale = stale_builds(store)
    assert [s.build.build_id for s in stale] == [first.build_id]
    assert stale[0].stale_members > 0 and "OPTED_OUT" in stale[0].causes
    # Version 1, trained before the withdrawals, owes them; version 2, retrained on the rebuild, meets them.
    (owed,) = obligations(store)
    assert owed.model.version == "1" and owed.cause == "OPTED_OUT" and owed.member_count == stale[0].stale_members
    assert owed.status == "met" and owed.met_by == resolve_models(store, "feed-ranker@2")[0].model_id
    assert 'id="notice-banner"' in _settings_page(store, platform, "DE", datetime(2025, 10, 1, tzinfo=UTC))
    assert 'id="notice-banner"' not in _settings_page(store, platform, "US", datetime(2025, 10, 1, tzinfo=UTC))
    text = out.getvalue()
    assert "NOTICE_PERIOD" in text and "manifest:" in text and "stale build" in text
    assert result.opted_out_member is not None
    assert f"/in/{result.opted_out_member}" in text and "Content-Usage: train-ai=n" in text
    assert "forgetting obligations" in text and "met (v2)" in text
    # the story ends with a memorisation audit of version 2, an n-gram model trained on the rebuild
    (audit,) = store.model_audits.for_model(resolve_models(store, "feed-ranker@2")[0].model_id)
    summary = audit.report["summary"]
    assert summary["planted"] > 0 and summary["median_exposure"] > summary["control_median_exposure"] + 5
    assert f"audit {audit.audit_id}" in text and (tmp_path / "demo" / "audit" / "report.html").is_file()
    # shared web articles whose sites reserved them are left out, counted per signal kind
    assert "RESERVED_BY_RIGHTS_HOLDER" in text
    reserved = re.search(r"reserved by their rights holders, per signal: (.*)", text)
    assert reserved and all(kind in reserved.group(1) for kind in ("aipref", "tdmrep", "robots", "cawg", "unreadable"))
    # Rerunnable: a second run starts from scratch and ends in the same place.
    again = run_demo(tmp_path / "demo", members=600, records=4000, console=Console(file=io.StringIO()))
    assert again.counts == counts
