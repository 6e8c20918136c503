"""Web records with captured signals, one (or more) excluded by each kind of signal, for the build tests.

`web_records` gives records of member ok_us (an adult in the US, allowed for
genai_training as of `AS_OF` under the reference policy's 2025-11-03 version,
which takes web content and honours every signal kind) and what a build says
of them: `EXPECTED` counts per reason and `CAUSES` per signal kind.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

AS_OF = datetime(2025, 12, 1, tzinfo=UTC)
MEMBER = "ok_us"

_CONSTRAINED = {
    "manifests": {
        "urn:m": {
            "assertions": [
                {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "constrained"}}}}
            ]
        }
    }
}
_ROBOTS_NO = "User-Agent: *\nAllow: /\nContent-Usage: / train-ai=n\nContent-Usage: /open/ train-ai=y\n"

#: name -> (signals, url, cause): cause None means allowed
CASES: dict[str, tuple[Any, str | None, str | None]] = {
    "aipref": ({"headers": {"Content-Usage": "train-ai=n, search=y"}}, "https://news.example/a/1", "aipref"),
    "tdm_header": ({"headers": {"TDM-Reservation": "1"}}, "https://news.example/a/2", "tdmrep"),
    "tdm_file": (
        {"tdmrep": [{"location": "/premium/*", "tdm-reservation": 1}, {"location": "/", "tdm-reservation": 0}]},
        "https://news.example/premium/3",
        "tdmrep",
    ),
    "robots_txt": ({"robots": _ROBOTS_NO}, "https://blog.example/post/4", "aipref"),  # aipref vocabulary
    "x_robots": ({"headers": {"X-Robots-Tag": "noindex, noai"}}, "https://blog.example/post/5", "robots"),
    "cawg": ({"c2pa": _CONSTRAINED}, "https://photos.example/6.jpg", "cawg"),
    # most restrictive wins: an allowing header does not undo a robots reservation
    "conflict": (
        {"headers": {"Content-Usage": "train-ai=y"}, "robots": _ROBOTS_NO},
        "https://blog.example/p/7",
        "robots",
    ),
    "bad_header": ({"headers": {"Content-Usage": "train-ai=="}}, "https://news.example/a/8", "unreadable"),
    "bad_tdmrep": ({"tdmrep": "{not json"}, "https://news.example/a/9", "unreadable"),
    "bad_robots": ({"robots": "User-Agent: *\nContent-Usage: train-ai=n\n"}, "https://blog.example/p/10", "unreadable"),
    "bad_c2pa": (
        {"c2pa": {"manifests": {"m": {"assertions": [{"label": "cawg.training-mining", "data": {"entries": 3}}]}}}},
        "https://photos.example/11.jpg",
        "unreadable",
    ),
    "not_json": ("{this is not json", "https://news.example/a/12", "unreadable"),
    "no_url": ({"tdmrep": [{"location": "/", "tdm-reservation": 0}]}, None, "unreadable"),
    "allowing": (
        {"headers": {"Content-Usage": "train-ai=y", "tdm-reservation": "0"}, "robots": _ROBOTS_NO},
        "https://blog.example/open/13",
        None,
    ),
    "elsewhere": (
        {"tdmrep": [{"location": "/premium/*", "tdm-reservation": 1}]},
        "https://news.example/free/14",
        None,
    ),
    "silent": ({"headers": {"Content-Type": "text/html"}}, "https://news.example/a/15", None),
}

CAUSES = {"aipref": 3, "tdmrep": 2, "robots": 1, "cawg": 1, "unreadable": 6}


def _signals(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def web_records(extra: dict[str, tuple[Any, str | None, str | None]] | None = None) -> list[dict[str, Any]]:
    """One web record per case (signals as JSON text), a web record without signals, and a member's own post."""
    rows = []
    for name, (signals, url, _) in {**CASES, **(extra or {})}.items():
        rows.append(_row(f"w-{name}", "web", url, _signals(signals)))
    rows.append(_row("w-uncaptured", "web", "https://news.example/a/16", None))
    rows.append(_row("m-post", None, None, None))
    return rows


def _row(rid: str, origin: str | None, url: str | None, signals: str | None) -> dict[str, Any]:
    return {
        "record_id": rid,
        "member_id": MEMBER,
        "kind": "article" if origin else "post",
        "visibility": "public",
        "created_at": "2025-06-01T10:00:00Z",
        "deleted_at": None,
        "text": f"text of {rid}",
        "language": "en",
        "origin": origin,
        "url": url,
        "signals": signals,
    }


def expected(extra_causes: dict[str, int] | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Counts per reason (non-zero only) and per signal cause of `web_records` with extra cases' causes."""
    causes = dict(CAUSES)
    for cause, n in (extra_causes or {}).items():
        causes[cause] += n
    reserved = sum(causes.values())
    allowed = sum(1 for _, _, c in CASES.values() if c is None) + 2
    return {"ALLOWED": allowed, "RESERVED_BY_RIGHTS_HOLDER": reserved}, causes
