"""The rules through `consentry.decide`: the reference policy's story, row-wise, and the record filter's boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from rules.scenarios import RECORD_SCHEMA

from consentry.decide import (
    ConsentFacts,
    RecordFacts,
    adult_cutoff,
    decide,
    decide_members,
    decide_records,
)
from consentry.policy import Policy, PolicyDocument, load_policy
from consentry.rules import record_allowed_sql
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

    def test_web_content_and_rights_holders_reservations(self, ref: Policy) -> None:
        at = t("2025-12-01")  # the 2025-11-03 version takes web content and honours every signal kind
        shared = RecordFacts(kind="article", visibility="public", created_at=t("2025-01-01"), origin="web")
        assert decide(ref, GENAI, adult(), at=at, record=shared).allowed  # nothing captured: nothing reserved
        allowed = RecordFacts(**{**shared.__dict__, "signals": "yy-y"})
        assert decide(ref, GENAI, adult(), at=at, record=allowed).allowed
        for verdict in ("n---", "-n--", "--n-", "---n", "y?yy"):  # each kind reserves; an unreadable one excludes
            reserved = RecordFacts(**{**shared.__dict__, "signals": verdict})
            assert decide(ref, GENAI, adult(), at=at, record=reserved).reason is ReasonCode.RESERVED_BY_RIGHTS_HOLDER
        # after VISIBILITY_EXCLUDED, before ACCOUNT_CLOSED
        hidden = RecordFacts(**{**shared.__dict__, "signals": "n---", "visibility": "connections"})
        assert decide(ref, GENAI, adult(), at=at, record=hidden).reason is ReasonCode.VISIBILITY_EXCLUDED
        closed = adult(closed_at=t("2025-06-01"))
        reserved = RecordFacts(**{**shared.__dict__, "signals": "n---"})
        assert decide(ref, GENAI, closed, at=at, record=reserved).reason is ReasonCode.RESERVED_BY_RIGHTS_HOLDER
        # the 2024-11-20 version has no web_content block: web content is not taken at all
        earlier = RecordFacts(**{**shared.__dict__, "created_at": t("2024-01-01")})
        assert decide(ref, GENAI, adult(), at=t("2024-12-01"), record=earlier).reason is ReasonCode.CATEGORY_EXCLUDED

    def test_a_purpose_honours_only_the_kinds_it_names(self) -> None:
        doc = {
            "policy": "p",
            "versions": [
                {
                    "version": "1",
                    "published_at": "2024-01-01T00:00:00Z",
                    "effective_at": "2024-01-01T00:00:00Z",
                    "notice_days": 0,
                    "terms_url": "https://example.org/t",
                    "purposes": {
                        "p": {
                            "label": "P",
                            "legal_basis": "consent",
                            "mode": "opt_out",
                            "kinds": ["article"],
                            "web_content": {"eligible": True, "honour_signals": ["tdmrep"]},
                        }
                    },
                }
            ],
        }
        policy = Policy.from_document(PolicyDocument.model_validate(doc), {})
        at = t("2024-06-01")
        for verdict, reason in (("nyn?", ReasonCode.ALLOWED), ("y?yy", ReasonCode.RESERVED_BY_RIGHTS_HOLDER)):
            rec = RecordFacts(kind="article", visibility="public", created_at=at, origin="web", signals=verdict)
            assert decide(policy, "p", adult(), at=at, record=rec).reason is reason

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


# ------------------------------------------------------------ the forms' boundaries
# (that every generated form agrees with `decide` on random scenarios: tests/rules/test_forms_agree.py)


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
