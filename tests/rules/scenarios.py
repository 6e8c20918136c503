"""Random policies, members, consent facts, objections and records, and what row-wise `decide` says of them.

Shared by the DuckDB property tests (tests/rules) and the Spark ones (tests/spark).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from consentry.policy import Policy, PolicyDocument
from consentry.rules import ConsentFacts, Decision, RecordFacts, decide
from consentry.rules.reservations import reserved_by
from consentry.store.protocol import SNAPSHOT_SCHEMA, Member
from consentry.vocab import SignalKind

COUNTRIES = ["US", "DE", "FR", "GB", "IN", None, "ZZ"]
KINDS = ["post", "comment", "private_message"]
VIS = ["public", "connections", "private"]
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
PURPOSE = "p"

RECORD_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("member_id", pa.string()),
        ("kind", pa.string()),
        ("visibility", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("deleted_at", pa.timestamp("us", tz="UTC")),
        ("_malformed", pa.bool_()),
        ("origin", pa.string()),
        ("_signals", pa.string()),
    ]
)
#: signals verdicts: one character per signal kind (consentry.rules.reservations), or none captured
VERDICTS = st.one_of(st.none(), st.text(alphabet="-yn?", min_size=4, max_size=4))
BUILD_MEMBERS_SCHEMA = pa.schema([("member_id", pa.string()), ("records", pa.int64())])


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """One to three versions; the purpose mostly disclosed, with regions, ages, kinds and visibilities."""
    n = draw(st.integers(1, 3))
    effective = sorted(draw(st.lists(st.integers(0, 300), min_size=n, max_size=n, unique=True)))
    versions = []
    for i, eff in enumerate(effective):
        purposes = {}
        if draw(st.integers(0, 4)) > 0:  # mostly disclosed, so the later rules get exercised
            regions = []
            used: set[str] = set()
            for mode in draw(st.lists(st.sampled_from(["opt_out", "opt_in", "excluded"]), max_size=2)):
                cs = [
                    c
                    for c in draw(st.lists(st.sampled_from(["US", "DE", "FR", "GB"]), min_size=1, max_size=2))
                    if c not in used
                ]
                if cs:
                    used |= set(cs)
                    regions.append({"countries": sorted(set(cs)), "mode": mode})
            purposes[PURPOSE] = {
                "label": "P",
                "legal_basis": "consent",
                "mode": draw(st.sampled_from(["opt_out", "opt_in", "excluded"])),
                "regions": regions,
                "min_age": draw(st.sampled_from([None, 0, 13, 18])),
                "require_birth_date": draw(st.booleans()),
                "kinds": draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True)),
                "visibility": draw(st.lists(st.sampled_from(VIS), min_size=1, max_size=3, unique=True)),
            }
            if draw(st.booleans()):  # else absent: web content not eligible, every signal honoured
                purposes[PURPOSE]["web_content"] = {
                    "eligible": draw(st.booleans()),
                    "honour_signals": draw(st.lists(st.sampled_from(list(SignalKind)), max_size=4, unique=True)),
                }
        versions.append(
            {
                "version": f"v{i}",
                "published_at": day(eff - draw(st.integers(0, 60))),
                "effective_at": day(eff),
                "notice_days": draw(st.integers(0, 90)),
                "terms_url": "https://example.org/t",
                "objections": {"restrict_while_pending": draw(st.booleans())},
                "purposes": purposes,
            }
        )
    doc = PolicyDocument.model_validate({"policy": "gen", "versions": versions})
    return Policy.from_document(doc, {})


opt_day = st.one_of(st.none(), st.integers(-30, 500).map(day))
choice = st.sampled_from([None, "allow", "deny"])
source = st.sampled_from(["settings", "gpc", "objection_form", "import"])


@st.composite
def member_rows(draw: st.DrawFn, member_id: str) -> dict[str, Any]:
    """A snapshot row: the member, the latest choice as of T and as of now, and open objection cases."""
    at_choice, now_choice = draw(choice), draw(choice)
    return {
        "member_id": member_id,
        "country": draw(st.sampled_from(COUNTRIES)),
        "birth_date": draw(st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2020, 1, 1)))),
        "created_at": DAY0,
        "closed_at": draw(opt_day),
        "at_choice": at_choice,
        "at_source": draw(source) if at_choice else None,
        "at_event_id": draw(st.integers(1, 99)) if at_choice else None,
        "now_choice": now_choice,
        "now_source": draw(source) if now_choice else None,
        "now_event_id": draw(st.integers(100, 199)) if now_choice else None,
        "at_case_id": draw(st.sampled_from([None, None, "c1"])),
        "now_case_id": draw(st.sampled_from([None, None, "c2"])),
    }


@st.composite
def record_rows(draw: st.DrawFn, n_members: int) -> dict[str, Any]:
    """A record of one of the members, or of m{n_members}, who is unknown."""
    return {
        "record_id": "r",
        "member_id": f"m{draw(st.integers(0, n_members))}",
        "kind": draw(st.sampled_from([*KINDS, None])),
        "visibility": draw(st.sampled_from([*VIS, None])),
        "created_at": draw(st.integers(-30, 500).map(day)),
        "deleted_at": draw(opt_day),
        "_malformed": draw(st.booleans()) and draw(st.booleans()),
        "origin": draw(st.sampled_from([None, "member", "web"])),
        "_signals": draw(VERDICTS),
    }


@dataclass(frozen=True)
class Scenario:
    """A policy, a snapshot, records, a build's member set, T and now (now ≥ T)."""

    policy: Policy
    members: list[dict[str, Any]]
    records: list[dict[str, Any]]
    build_members: list[dict[str, Any]]
    at: datetime
    now: datetime

    def snapshot(self) -> pa.Table:
        return pa.Table.from_pylist(self.members, schema=SNAPSHOT_SCHEMA)

    def record_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.records, schema=RECORD_SCHEMA)

    def build_table(self) -> pa.Table:
        return pa.Table.from_pylist(self.build_members, schema=BUILD_MEMBERS_SCHEMA)

    def member_decision(self, member_id: str) -> Decision:
        """Row-wise `decide` for a member without a record (an unknown member: UNKNOWN_MEMBER)."""
        row = next((m for m in self.members if m["member_id"] == member_id), None)
        return decide(
            self.policy,
            PURPOSE,
            _member(row) if row else None,
            ConsentFacts.from_snapshot_row(row) if row else None,
            at=self.at,
            now=self.now,
            member_id=member_id,
        )

    def record_decision(self, rec: dict[str, Any]) -> Decision:
        """Row-wise `decide` for one record of `records`."""
        row = next((m for m in self.members if m["member_id"] == rec["member_id"]), None)
        return decide(
            self.policy,
            PURPOSE,
            _member(row) if row else None,
            ConsentFacts.from_snapshot_row(row) if row else None,
            at=self.at,
            now=self.now,
            record=RecordFacts(
                kind=rec["kind"],
                visibility=rec["visibility"],
                created_at=rec["created_at"],
                deleted_at=rec["deleted_at"],
                malformed=bool(rec["_malformed"]),
                origin=rec["origin"],
                signals=rec["_signals"],
            ),
        )

    def record_cause(self, rec: dict[str, Any]) -> str | None:
        """Why a RESERVED_BY_RIGHTS_HOLDER record is reserved (the signal kind, or unreadable), row-wise."""
        version = self.policy.version_at(self.at)
        rule = version.purpose(PURPOSE) if version is not None else None
        return reserved_by(rec["_signals"], rule.honoured_signals) if rule is not None else None


def _member(row: dict[str, Any]) -> Member:
    return Member(
        member_id=str(row["member_id"]),
        country=row["country"],
        birth_date=row["birth_date"],
        created_at=DAY0,
        closed_at=row["closed_at"],
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random scenario; records also sit on the boundaries (created exactly at T, deleted exactly now)."""
    policy = draw(policies())
    n = draw(st.integers(1, 6))
    members = [draw(member_rows(f"m{i}")) for i in range(n)]
    records = draw(st.lists(record_rows(n), min_size=1, max_size=12))
    at = day(draw(st.integers(-10, 450)))
    now = at + timedelta(days=draw(st.integers(0, 120)))
    records += [{**r, "created_at": at} for r in records[:3]] + [{**r, "deleted_at": now} for r in records[:3]]
    in_build = draw(st.lists(st.integers(0, n + 1), unique=True, max_size=n + 2))  # m{n}, m{n+1}: unknown
    build = [{"member_id": f"m{i}", "records": draw(st.integers(1, 5))} for i in sorted(in_build)]
    return Scenario(policy, members, records, build, at, now)
