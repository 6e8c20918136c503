"""A synthetic platform for the demo and the benchmarks: members, choices, objections, a content lake.

Everything is drawn from one seeded `random.Random`, so the same seed gives
the same platform. Names, e-mail addresses and phone numbers are made up.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from consentry.store.protocol import Member, NewEvent
from consentry.vocab import Choice, Source

__all__ = ["RECORD_SCHEMA", "SyntheticPlatform", "records_table"]

COUNTRY_WEIGHTS = {
    "US": 28, "IN": 14, "BR": 9, "CA": 6, "HK": 3, "DE": 8, "FR": 6, "IE": 3, "NL": 4,
    "GB": 8, "CH": 2, "MX": 2, "JP": 2, "AU": 2, "ES": 1, "IT": 1, "NO": 1,
}  # fmt: skip
FIRST = ["Ada", "Wei", "Priya", "Olusegun", "María", "Jonas", "Aiko", "Fatima", "Liam", "Chloé",
         "Mateus", "Ingrid", "Rahul", "Siobhán", "Dmitri", "Amara", "Hiroshi", "Zanele", "Lucas", "Noor"]  # fmt: skip
LAST = ["Lovelace", "Zhang", "Raman", "Adeyemi", "García", "Schmidt", "Tanaka", "Haddad", "O'Brien",
        "Dubois", "Silva", "Johansen", "Gupta", "Murphy", "Ivanov", "Okafor", "Sato", "Dlamini",
        "Moreau", "Khan"]  # fmt: skip
COMPANIES = ["Acme Robotics", "Globex", "Initech", "Umbrella Health", "Hooli", "Stark Logistics"]
TOPICS = ["remote work", "career growth", "machine learning", "supply chains", "design systems", "hiring"]

KIND_WEIGHTS = {
    "post": 30, "comment": 25, "article": 6, "poll": 3, "profile": 5, "group_post": 8,
    "group_message": 6, "private_message": 10, "ai_prompt": 4, "resume": 2, "job_application": 1,
}  # fmt: skip
VIS_WEIGHTS = {"public": 70, "connections": 22, "private": 8}

RECORD_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("member_id", pa.string()),
        ("kind", pa.string()),
        ("visibility", pa.string()),
        ("created_at", pa.string()),
        ("deleted_at", pa.string()),
        ("text", pa.string()),
        ("language", pa.string()),
    ]
)

_T0 = datetime(2015, 1, 1, tzinfo=UTC)


def _between(rng: random.Random, a: datetime, b: datetime) -> datetime:
    seconds = int((b - a).total_seconds())
    return a + timedelta(seconds=rng.randrange(max(seconds, 1)))


@dataclass
class SyntheticPlatform:
    """Members and their history, drawn from `seed`; `until` bounds every event."""

    members_count: int = 20_000
    seed: int = 2024
    until: datetime = datetime(2026, 11, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        countries = list(COUNTRY_WEIGHTS)
        weights = list(COUNTRY_WEIGHTS.values())
        self.members: list[Member] = []
        self.names: dict[str, str] = {}
        for i in range(self.members_count):
            country: str | None = rng.choices(countries, weights)[0]
            if rng.random() < 0.005:
                country = None
            age = rng.choice([14, 15, 16, 17]) if rng.random() < 0.06 else rng.randint(18, 75)
            born: date | None = date(2024 - age, rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.04:
                born = None
            created = _between(rng, _T0, datetime(2024, 6, 1, tzinfo=UTC))
            closed = _between(rng, datetime(2025, 1, 1, tzinfo=UTC), self.until) if rng.random() < 0.01 else None
            mid = f"m{i:06d}"
            self.members.append(Member(mid, country, born, created, closed))
            self.names[mid] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        self._rng = rng

    def consent_events(self) -> Iterator[NewEvent]:
        """Settings toggles for genai_training and ads_partners, in time order per member."""
        rng = random.Random(self.seed + 1)
        start = datetime(2024, 9, 18, tzinfo=UTC)
        for m in self.members:
            r = rng.random()
            if r < 0.14:  # turned the generative-AI setting off …
                off = _between(rng, start, self.until)
                yield NewEvent(m.member_id, "genai_training", Choice.DENY, off, Source.SETTINGS, actor=m.member_id)
                if rng.random() < 0.2:  # … and some turned it back on later
                    on = _between(rng, off, self.until)
                    yield NewEvent(m.member_id, "genai_training", Choice.ALLOW, on, Source.SETTINGS, actor=m.member_id)
            if rng.random() < 0.2:
                at = _between(rng, datetime(2024, 6, 1, tzinfo=UTC), self.until)
                yield NewEvent(m.member_id, "ads_partners", Choice.ALLOW, at, Source.SETTINGS, actor=m.member_id)

    def gpc_signals(self) -> Iterator[tuple[str, datetime]]:
        """Members whose browser sent Sec-GPC: 1, and when."""
        rng = random.Random(self.seed + 2)
        for m in self.members:
            if rng.random() < 0.03:
                yield m.member_id, _between(rng, datetime(2024, 7, 1, tzinfo=UTC), self.until)

    def objections(self) -> Iterator[tuple[str, list[str], datetime, str | None]]:
        """(member, purposes, filed at, outcome: upheld | rejected | None for still open)."""
        rng = random.Random(self.seed + 3)
        for m in self.members:
            if rng.random() < 0.015:
                purposes = rng.choice(
                    [["personalization"], ["content_moderation"], ["personalization", "content_moderation"]]
                )
                filed = _between(rng, datetime(2024, 7, 1, tzinfo=UTC), self.until)
                outcome = rng.choices(["upheld", "rejected", None], [60, 25, 15])[0]
                yield m.member_id, purposes, filed, outcome


def records_table(platform: SyntheticPlatform, records: int, seed: int = 7) -> pa.Table:
    """A content lake: records of every kind, some deleted, some malformed, texts with PII."""
    rng = random.Random(seed)
    kinds, kw = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    vis, vw = list(VIS_WEIGHTS), list(VIS_WEIGHTS.values())
    members = platform.members
    cols: dict[str, list[str | None]] = {name: [] for name in RECORD_SCHEMA.names}
    for i in range(records):
        m = members[rng.randrange(len(members))]
        member_id: str | None = m.member_id if rng.random() > 0.003 else f"ghost{i}"
        created = _between(rng, max(m.created_at, datetime(2023, 1, 1, tzinfo=UTC)), platform.until)
        created_text: str | None = created.isoformat().replace("+00:00", "Z")
        deleted = None
        if rng.random() < 0.03:
            deleted = _between(rng, created, platform.until).isoformat().replace("+00:00", "Z")
        if rng.random() < 0.002:  # malformed rows: no id, or a date nobody can read
            if rng.random() < 0.5:
                member_id = None
            else:
                created_text = "last tuesday"
        cols["record_id"].append(f"r{i:08d}")
        cols["member_id"].append(member_id)
        cols["kind"].append(rng.choices(kinds, kw)[0])
        cols["visibility"].append(rng.choices(vis, vw)[0])
        cols["created_at"].append(created_text)
        cols["deleted_at"].append(deleted)
        cols["text"].append(_text(rng, platform.names.get(m.member_id, "Sam Doe")))
        cols["language"].append(rng.choice(["en", "en", "en", "de", "fr", "pt"]))
    return pa.table(cols, schema=RECORD_SCHEMA)


def _text(rng: random.Random, name: str) -> str:
    first, last = name.split(" ", 1)
    handle = f"{first}.{last}".lower().replace("'", "")
    friend = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    phone = rng.choice(["+1 415 555 {:04d}", "+44 20 7946 {:04d}", "+49 30 901820{:02d}", "+91 98765 4{:04d}"])
    templates = [
        f"Thrilled to share that I joined {rng.choice(COMPANIES)}! Reach me at {handle}@example.com.",
        f"Great panel on {rng.choice(TOPICS)} today with {friend}. Slides: https://example.org/{handle}/slides",
        f"Hi all, I'm {name}. Open to roles in {rng.choice(TOPICS)}; call me on {phone.format(rng.randrange(100))}.",
        f"What does everyone think about {rng.choice(TOPICS)}? Asking for my team at {rng.choice(COMPANIES)}.",
        f"Thanks {friend} for the recommendation! cc @{handle}",
        f"Card on file 4111 1111 1111 1111, please refund — {name}",
    ]
    return rng.choice(templates)
