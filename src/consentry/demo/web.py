"""Web content for the demo lake: articles members shared, with the signals their sites sent (docs/signals.md).

A handful of made-up sites, each stating its reservation its own way: robots.txt
Content-Usage rules, a TDMRep file for a paywalled section, an aipref header that
allows training, X-Robots-Tag, C2PA manifests on photos, a header nobody can
parse, and a site that sent nothing. Drawn from one seeded `random.Random`.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from consentry.demo.synth import TOPICS, SyntheticPlatform

__all__ = ["web_rows"]


def _manifest(use: str) -> dict[str, Any]:
    entries = {"cawg.ai_generative_training": {"use": use}, "cawg.ai_inference": {"use": "allowed"}}
    assertion = {"label": "cawg.training-mining", "data": {"entries": entries}}
    return {"active_manifest": "urn:demo", "manifests": {"urn:demo": {"assertions": [assertion]}}}


#: site -> (page path templates, the signals captured with its pages)
_SITES: dict[str, tuple[list[str], dict[str, Any] | None]] = {
    "dailynews.example": (
        ["/world/{n}", "/tech/{n}"],
        {"robots": "User-Agent: *\nAllow: /\nContent-Usage: / train-ai=n\n"},
    ),
    "journal.example": (
        ["/premium/{n}", "/free/{n}"],
        {"tdmrep": [{"location": "/premium/*", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}]},
    ),
    "openblog.example": (["/posts/{n}"], {"headers": {"Content-Usage": "train-ai=y"}}),
    "magazine.example": (["/stories/{n}"], {"headers": {"X-Robots-Tag": "noai, noimageai"}}),
    "photos.example": (["/p/{n}.jpg"], {"c2pa": _manifest("notAllowed")}),
    "commons.example": (["/f/{n}.jpg"], {"c2pa": _manifest("allowed")}),
    "legacy.example": (["/a/{n}"], {"headers": {"Content-Usage": "train-ai=="}}),  # cannot be parsed
    "quiet.example": (["/notes/{n}"], None),  # sent nothing
}


def web_rows(platform: SyntheticPlatform, count: int, seed: int = 11) -> list[dict[str, Any]]:
    """`count` shared articles (origin web) of the platform's members, with their URL and captured signals."""
    rng = random.Random(seed)
    sites = list(_SITES)
    rows = []
    for i in range(count):
        member = platform.members[rng.randrange(len(platform.members))]
        site = sites[i % len(sites)]
        paths, signals = _SITES[site]
        url = f"https://{site}{rng.choice(paths).format(n=rng.randrange(10_000))}"
        created = datetime(2025, rng.randrange(1, 11), rng.randrange(1, 28), 12, tzinfo=UTC)
        row: dict[str, Any] = {
            "record_id": f"w{i:07d}",
            "member_id": member.member_id,
            "kind": "article",
            "visibility": "public",
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "text": f"Worth a read on {rng.choice(TOPICS)}: {url}",
            "language": "en",
            "origin": "web",
            "url": url,
        }
        if signals is not None:
            row["signals"] = json.dumps(signals, sort_keys=True)
        rows.append(row)
    return rows
