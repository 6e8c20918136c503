"""The demo tells the story of docs/concepts.md: nothing before disclosure, Europe out, then in after notice."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from consentry.demo import run_demo
from consentry.demo.synth import SyntheticPlatform
from consentry.pipeline import list_builds, stale_builds
from consentry.store import open_store

EUROPE = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "CH", "GB",
}  # fmt: skip


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
    builds = list_builds(store)
    assert len(builds) == 1
    stale = stale_builds(store)
    assert len(stale) == 1 and stale[0].stale_members > 0 and "OPTED_OUT" in stale[0].causes
    text = out.getvalue()
    assert "NOTICE_PERIOD" in text and "manifest:" in text and "stale build" in text
    assert result.opted_out_member is not None
    assert f"/in/{result.opted_out_member}" in text and "Content-Usage: train-ai=n" in text
    # Rerunnable: a second run starts from scratch and ends in the same place.
    again = run_demo(tmp_path / "demo", members=600, records=4000, console=Console(file=io.StringIO()))
    assert again.counts == counts
