"""The rules of DESIGN.md, row-wise and vectorised — and that the two forms agree."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.decide import (
    ConsentFacts,
    RecordFacts,
    adult_cutoff,
    decide,
    decide_members,
    decide_records,
)
from consentry.pipeline.engines import split_tally
from consentry.policy import Policy, PolicyDocument, load_policy
from consentry.record_rules import (
    CLASS_COUNTS,
    RECORD_CLASSES,
    class_reason_sql,
    class_tally_sql,
    record_allowed_sql,
    record_class_sql,
)
from consentry.store.protocol import SNAPSHOT_SCHEMA, Member
from consentry.vocab import Choice, ReasonCode, Source

REFERENCE = Path(__file__).parent.parent / "examples" / "policies" / "social-network.yaml"
GENAI = "genai_training"


def t(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC) if "+" not in s else datetime.fromisoformat(s)


@pytest.fixture(scope="module")
def ref() -> Policy:
    return load_policy(REFERENCE)


def adult(country: str | None = "US", **kw: object) -> Member:
    base = {
        "member_id": "m1",
        "country": country,
        "birth_date": date(1990, 5, 1),
        "created_at": t("2020-01-01"),
    }
    base.update(kw)
    return Member(**base)  # type: ignore[arg-type]


POST = RecordFacts(kind="post", visibility="public", created_at=t("2024-01-01"))


class TestStory:
    """The reference policy replayed: the network's timeline, done right."""

    def test_before_disclosure_nothing_is_allowed(self, ref: Policy) -> None:
        d = decide(ref, GENAI, adult(), at=t("2024-09-01"), record=POST)
        assert d.reason is ReasonCode.NOT_DISCLOSED
        assert d.policy_version == "2024-06-01"
        assert not d.allowed

    def test_announced_but_not_yet_in_effect_is_not_disclosed(self, ref: Policy) -> None:
        # The story's network trained in September 2024; its terms said so only later.
        assert decide(ref, GENAI, adult(), at=t("2024-09-20")).reason is ReasonCode.NOT_DISCLOSED

    def test_us_member_allowed_once_in_effect(self, ref: Policy) -> None:
        d = decide(ref, GENAI, adult("US"), at=t("2024-12-01"), record=POST)
        assert d.allowed and d.reason is ReasonCode.ALLOWED
        assert d.policy_version == "2024-11-20" and d.policy_sha256 == ref.version("2024-11-20").sha256

    @pytest.mark.parametrize("country", ["DE", "FR", "IE", "NL", "NO", "IS", "LI", "CH", "GB"])
    def test_europe_excluded_in_2024(self, ref: Policy, country: str) -> None:
        assert decide(ref, GENAI, adult(country), at=t("2024-12-01")).reason is ReasonCode.REGION_EXCLUDED

    def test_unknown_or_missing_country_gets_the_strictest_rule(self, ref: Policy) -> None:
        for country in (None, "ZZ", ""):
            assert decide(ref, GENAI, adult(country), at=t("2024-12-01")).reason is ReasonCode.REGION_EXCLUDED

    def test_eu_waits_out_the_notice_of_the_version_that_brought_it_in(self, ref: Policy) -> None:
        # v3 in effect 2025-11-03, published 2025-09-18 with 60 days' notice → 2025-11-17.
        assert decide(ref, GENAI, adult("DE"), at=t("2025-11-10")).reason is ReasonCode.NOTICE_PERIOD
        assert decide(ref, GENAI, adult("DE"), at=t("2025-11-17")).reason is ReasonCode.ALLOWED
        # US members were told in 2024: v3's longer notice does not hold them back.
        assert decide(ref, GENAI, adult("US"), at=t("2025-11-10")).reason is ReasonCode.ALLOWED

    def test_minors_and_missing_birth_dates(self, ref: Policy) -> None:
        at = t("2024-12-01")
        minor = adult(birth_date=date(2010, 1, 1))
        assert decide(ref, GENAI, minor, at=at).reason is ReasonCode.MINOR
        assert decide(ref, GENAI, adult(birth_date=None), at=at).reason is ReasonCode.AGE_UNKNOWN
        # personalization has no age rule
        assert decide(ref, "personalization", minor, at=at).reason is ReasonCode.ALLOWED

    def test_turning_eighteen_on_the_day(self, ref: Policy) -> None:
        at = t("2024-12-01T12:00:00")
        assert decide(ref, GENAI, adult(birth_date=date(2006, 12, 1)), at=at).allowed
        assert decide(ref, GENAI, adult(birth_date=date(2006, 12, 2)), at=at).reason is ReasonCode.MINOR

    def test_leap_day_birthdays(self) -> None:
        assert adult_cutoff(t("2018-02-28"), 18) == date(2000, 2, 28)
        assert adult_cutoff(t("2018-03-01"), 18) == date(2000, 3, 1)
        assert adult_cutoff(t("2024-02-29"), 18) == date(2006, 2, 28)

    def test_kinds_and_visibility(self, ref: Policy) -> None:
        at = t("2024-12-01")
        dm = RecordFacts(kind="private_message", visibility="private", created_at=t("2024-01-01"))
        assert decide(ref, GENAI, adult(), at=at, record=dm).reason is ReasonCode.CATEGORY_EXCLUDED
        conn = RecordFacts(kind="post", visibility="connections", created_at=t("2024-01-01"))
        assert decide(ref, GENAI, adult(), at=at, record=conn).reason is ReasonCode.VISIBILITY_EXCLUDED

    def test_record_created_later_and_malformed(self, ref: Policy) -> None:
        at = t("2024-12-01")
        late = RecordFacts(kind="post", visibility="public", created_at=t("2024-12-02"))
        assert decide(ref, GENAI, adult(), at=at, record=late).reason is ReasonCode.CREATED_AFTER_AS_OF
        bad = RecordFacts(malformed=True)
        assert decide(ref, GENAI, None, at=at, record=bad).reason is ReasonCode.MALFORMED
        assert decide(ref, GENAI, None, at=at, record=POST).reason is ReasonCode.UNKNOWN_MEMBER

    def test_closure_and_deletion_recorded_later_still_win_in_a_build(self, ref: Policy) -> None:
        at, now = t("2024-12-01"), t("2025-06-01")
        closed = adult(closed_at=t("2025-01-01"))
        assert decide(ref, GENAI, closed, at=at).reason is ReasonCode.ALLOWED  # pure replay
        assert decide(ref, GENAI, closed, at=at, now=now).reason is ReasonCode.ACCOUNT_CLOSED
        deleted = RecordFacts(kind="post", visibility="public", created_at=t("2024-01-01"), deleted_at=t("2025-02-01"))
        assert decide(ref, GENAI, adult(), at=at, record=deleted).allowed
        assert decide(ref, GENAI, adult(), at=at, now=now, record=deleted).reason is ReasonCode.RECORD_DELETED

    def test_later_withdrawal_wins(self, ref: Policy) -> None:
        at, now = t("2024-12-01"), t("2025-06-01")
        later_deny = ConsentFacts(now_choice=Choice.DENY, now_source=Source.SETTINGS, now_event_id=7)
        assert decide(ref, GENAI, adult(), at=at).allowed  # allowed as of T without the later deny
        d = decide(ref, GENAI, adult(), later_deny, at=at, now=now)
        assert d.reason is ReasonCode.OPTED_OUT and d.event_id == 7

    def test_deny_at_t_is_not_undone_by_a_later_allow(self, ref: Policy) -> None:
        c = ConsentFacts(
            at_choice=Choice.DENY,
            at_source=Source.GPC,
            at_event_id=3,
            now_choice=Choice.ALLOW,
            now_source=Source.SETTINGS,
            now_event_id=9,
        )
        d = decide(ref, GENAI, adult(), c, at=t("2024-12-01"), now=t("2025-06-01"))
        assert d.reason is ReasonCode.OPTED_OUT and d.event_id == 3

    def test_objections(self, ref: Policy) -> None:
        at = t("2024-12-01")
        pending = ConsentFacts(at_case_id="obj_1")
        d = decide(ref, "personalization", adult(), pending, at=at)
        assert d.reason is ReasonCode.OBJECTION_PENDING and d.case_id == "obj_1"
        upheld = ConsentFacts(at_choice=Choice.DENY, at_source=Source.OBJECTION_FORM, at_event_id=4)
        assert decide(ref, "personalization", adult(), upheld, at=at).reason is ReasonCode.OBJECTION_UPHELD

    def test_opt_in(self, ref: Policy) -> None:
        at = t("2024-12-01")
        assert decide(ref, "ads_partners", adult(), at=at).reason is ReasonCode.NOT_OPTED_IN
        yes = ConsentFacts(at_choice=Choice.ALLOW, at_source=Source.SETTINGS, at_event_id=1)
        assert decide(ref, "ads_partners", adult(), yes, at=at).allowed
        gpc = ConsentFacts(
            now_choice=Choice.DENY,
            now_source=Source.GPC,
            now_event_id=2,
            at_choice=Choice.ALLOW,
            at_source=Source.SETTINGS,
            at_event_id=1,
        )
        assert decide(ref, "ads_partners", adult(), gpc, at=at, now=t("2025-01-01")).reason is ReasonCode.NOT_OPTED_IN


# ------------------------------------------------------------ agreement property

COUNTRIES = ["US", "DE", "FR", "GB", "IN", None, "ZZ"]
KINDS = ["post", "comment", "private_message"]
VIS = ["public", "connections", "private"]
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
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
            purposes["p"] = {
                "label": "P",
                "legal_basis": "consent",
                "mode": draw(st.sampled_from(["opt_out", "opt_in", "excluded"])),
                "regions": regions,
                "min_age": draw(st.sampled_from([None, 0, 13, 18])),
                "require_birth_date": draw(st.booleans()),
                "kinds": draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True)),
                "visibility": draw(st.lists(st.sampled_from(VIS), min_size=1, max_size=3, unique=True)),
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
def member_rows(draw: st.DrawFn, member_id: str) -> dict[str, object]:
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
def record_rows(draw: st.DrawFn, n_members: int) -> dict[str, object]:
    return {
        "record_id": "r",
        "member_id": f"m{draw(st.integers(0, n_members))}",  # m{n_members} is unknown
        "kind": draw(st.sampled_from([*KINDS, None])),
        "visibility": draw(st.sampled_from([*VIS, None])),
        "created_at": draw(st.integers(-30, 500).map(day)),
        "deleted_at": draw(opt_day),
        "_malformed": draw(st.booleans()) and draw(st.booleans()),
    }


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[Policy, list[dict[str, object]], list[dict[str, object]], datetime, datetime]:
    policy = draw(policies())
    n = draw(st.integers(1, 6))
    members = [draw(member_rows(f"m{i}")) for i in range(n)]
    records = draw(st.lists(record_rows(n), min_size=1, max_size=12))
    at = day(draw(st.integers(-10, 450)))
    now = at + timedelta(days=draw(st.integers(0, 120)))
    return policy, members, records, at, now


RECORD_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("member_id", pa.string()),
        ("kind", pa.string()),
        ("visibility", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("deleted_at", pa.timestamp("us", tz="UTC")),
        ("_malformed", pa.bool_()),
    ]
)


def _row_member(row: dict[str, object]) -> Member:
    return Member(
        member_id=str(row["member_id"]),
        country=row["country"],  # type: ignore[arg-type]
        birth_date=row["birth_date"],
        created_at=DAY0,
        closed_at=row["closed_at"],  # type: ignore[arg-type]
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_row_wise_and_vectorised_forms_agree(
    scenario: tuple[Policy, list[dict[str, object]], list[dict[str, object]], datetime, datetime],
) -> None:
    policy, members, records, at, now = scenario
    snapshot = pa.Table.from_pylist(members, schema=SNAPSHOT_SCHEMA)
    verdicts = decide_members(policy, "p", snapshot, at=at, now=now)
    rec_table = pa.Table.from_pylist(records, schema=RECORD_SCHEMA)
    vectorised = decide_records(policy, "p", verdicts, rec_table, at=at, now=now).to_pylist()
    by_id = {m["member_id"]: m for m in members}
    for rec, got in zip(records, vectorised, strict=True):
        row = by_id.get(rec["member_id"])
        expected = decide(
            policy,
            "p",
            _row_member(row) if row else None,
            ConsentFacts.from_snapshot_row(row) if row else None,
            at=at,
            now=now,
            record=RecordFacts(
                kind=rec["kind"],
                visibility=rec["visibility"],  # type: ignore[arg-type]
                created_at=rec["created_at"],
                deleted_at=rec["deleted_at"],  # type: ignore[arg-type]
                malformed=bool(rec["_malformed"]),
            ),
        )
        assert got == expected.reason.value, (rec, row)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_member_verdicts_agree_with_row_wise_member_decisions(
    scenario: tuple[Policy, list[dict[str, object]], list[dict[str, object]], datetime, datetime],
) -> None:
    policy, members, _, at, now = scenario
    snapshot = pa.Table.from_pylist(members, schema=SNAPSHOT_SCHEMA)
    verdicts = decide_members(policy, "p", snapshot, at=at, now=now).to_pylist()
    for row, verdict in zip(members, verdicts, strict=True):
        assert verdict["member_id"] == row["member_id"]
        vectorised = (
            verdict["gate_reason"]
            or ("ACCOUNT_CLOSED" if verdict["closed"] else None)
            or verdict["consent_reason"]
            or "ALLOWED"
        )
        expected = decide(policy, "p", _row_member(row), ConsentFacts.from_snapshot_row(row), at=at, now=now)
        assert vectorised == expected.reason.value, row


def _engine_forms(
    policy: Policy, verdicts: pa.Table, records: pa.Table, at: datetime, now: datetime
) -> list[tuple[str, bool, bool]]:
    """Per record: the reason from its class computed first (as the local engine counts), whether
    `record_allowed_sql` keeps it, and whether its member passes every member-level check."""
    record_class = record_class_sql(policy, "p", at=at, now=now, records="r")
    allowed = record_allowed_sql(policy, "p", at=at, now=now, records="r")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("records", records.append_column("_row", pa.array(range(records.num_rows), pa.int64())))
        con.register("m", verdicts)
        rows = con.execute(
            f"SELECT {class_reason_sql('f.c', 'm')}, coalesce(f.allowed, FALSE), m.member_id IS NOT NULL "
            "AND m.gate_reason IS NULL AND NOT m.closed AND m.consent_reason IS NULL "
            f"FROM (SELECT r._row, r.member_id, {record_class} AS c, ({allowed}) AS allowed FROM records r) AS f "
            "LEFT JOIN m ON f.member_id = m.member_id ORDER BY f._row"
        ).fetchall()
    finally:
        con.close()
    return [(str(reason), bool(keep), bool(member_ok)) for reason, keep, member_ok in rows]


def _class_tally(policy: Policy, verdicts: pa.Table, records: pa.Table, at: datetime, now: datetime) -> pa.Table:
    """The engines' counting: records per member and class (CLASS_COUNTS), then `class_tally_sql`."""
    record_class = record_class_sql(policy, "p", at=at, now=now, records="r")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("records", records)
        con.register("m", verdicts)
        classes = f"SELECT member_id, {record_class} AS c FROM records r"
        counts = ", ".join(CLASS_COUNTS)
        con.execute(f"CREATE TABLE g AS SELECT member_id, {counts} FROM ({classes}) GROUP BY member_id")
        tally: pa.Table = con.sql(class_tally_sql("g", "m")).to_arrow_table()
    finally:
        con.close()
    return tally


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_local_engines_split_forms_agree_with_the_reason_code(
    scenario: tuple[Policy, list[dict[str, object]], list[dict[str, object]], datetime, datetime],
) -> None:
    """Counting from record classes, and filtering allowed members' records by the record-level rules
    alone, give exactly what the reason code gives."""
    policy, members, records, at, now = scenario
    # and the boundaries: created exactly at T, deleted exactly now
    records = records + [{**r, "created_at": at} for r in records] + [{**r, "deleted_at": now} for r in records]
    verdicts = decide_members(policy, "p", pa.Table.from_pylist(members, schema=SNAPSHOT_SCHEMA), at=at, now=now)
    rec_table = pa.Table.from_pylist(records, schema=RECORD_SCHEMA)
    reasons = decide_records(policy, "p", verdicts, rec_table, at=at, now=now).to_pylist()
    for rec, reason, (grouped, keep, member_ok) in zip(
        records, reasons, _engine_forms(policy, verdicts, rec_table, at, now), strict=True
    ):
        assert grouped == reason, rec
        assert reason in {*RECORD_CLASSES, "UNKNOWN_MEMBER", "ALLOWED"} or reason in ReasonCode.__members__, rec
        if member_ok:
            assert keep == (reason == "ALLOWED"), rec
    counts, allowed = split_tally(_class_tally(policy, verdicts, rec_table, at, now))
    assert counts == dict(Counter(reasons))
    pairs = zip(records, reasons, strict=True)
    allowed_members = Counter(str(r["member_id"]) for r, reason in pairs if reason == "ALLOWED")
    assert dict(zip(allowed["member_id"].to_pylist(), allowed["count"].to_pylist(), strict=True)) == allowed_members


def test_the_record_level_filter_keeps_the_boundaries_of_the_reason_code(ref: Policy) -> None:
    """Created exactly at T is kept, deleted exactly now is not, and kind and visibility decide the rest."""
    at, now = t("2025-01-01"), t("2025-03-01")
    member = {
        "member_id": "m1", "country": "US", "birth_date": date(1990, 5, 1), "created_at": t("2020-01-01"),
        "closed_at": None, "at_choice": None, "at_source": None, "at_event_id": None, "now_choice": None,
        "now_source": None, "now_event_id": None, "at_case_id": None, "now_case_id": None,
    }  # fmt: skip
    verdicts = decide_members(ref, GENAI, pa.Table.from_pylist([member], schema=SNAPSHOT_SCHEMA), at=at, now=now)
    base = {"record_id": "r", "member_id": "m1", "kind": "post", "visibility": "public", "_malformed": False}
    records = [
        {**base, "created_at": at, "deleted_at": None},
        {**base, "created_at": at + timedelta(microseconds=1), "deleted_at": None},
        {**base, "created_at": at, "deleted_at": now},
        {**base, "created_at": at, "deleted_at": now + timedelta(microseconds=1)},
        {**base, "created_at": at, "deleted_at": None, "kind": "private_message"},
        {**base, "created_at": at, "deleted_at": None, "visibility": "connections"},
        {**base, "created_at": at, "deleted_at": None, "_malformed": True},
    ]
    table = pa.Table.from_pylist(records, schema=RECORD_SCHEMA)
    reasons = decide_records(ref, GENAI, verdicts, table, at=at, now=now).to_pylist()
    assert reasons == [
        "ALLOWED", "CREATED_AFTER_AS_OF", "RECORD_DELETED", "ALLOWED",
        "CATEGORY_EXCLUDED", "VISIBILITY_EXCLUDED", "MALFORMED",
    ]  # fmt: skip
    con = duckdb.connect()
    try:
        con.register("r", table)
        kept = [bool(k) for (k,) in con.execute(f"SELECT coalesce({_allowed(ref, at, now)}, FALSE) FROM r").fetchall()]
    finally:
        con.close()
    assert kept == [reason == "ALLOWED" for reason in reasons]


def _allowed(policy: Policy, at: datetime, now: datetime) -> str:
    return record_allowed_sql(policy, GENAI, at=at, now=now, records="r")
