"""What a member sees is the decision the builds use: settings, page, my-data and receipts agree with `decide`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.decide import decide_for
from consentry.errors import ObjectionError
from consentry.service import create_app
from consentry.service.reasons import REASON_LABELS, reason_label
from consentry.store import SqlStore
from consentry.store.protocol import Member, NewEvent
from consentry.timeutil import parse_instant
from consentry.vocab import CaseStatus, Choice, ReasonCode, Source

from .conftest import make_config, sign_in

Client = Callable[[str], TestClient]
PAUSED = "Paused while your objection is reviewed"
#: 2025-11-10: version 2025-11-03 is in effect, and German members are in its notice period until 17 November.
IN_NOTICE = datetime(2025, 11, 10, 12, tzinfo=UTC)


def _purposes(body: dict[str, object]) -> dict[str, dict[str, object]]:
    entries = body["purposes"]
    assert isinstance(entries, list)
    return {p["purpose"]: p for p in entries}


def test_open_objection_pauses_the_use_on_the_api_and_the_page(member_client: Client, svc_store: SqlStore) -> None:
    c = member_client("us-alice")
    r = c.post("/v1/me/objections", json={"purposes": ["personalization"]})
    assert r.status_code == 201
    body = c.get("/v1/me/settings").json()
    p = _purposes(body)["personalization"]
    decision = decide_for(svc_store, "us-alice", "personalization", at=parse_instant(body["at"]))
    assert decision.reason is ReasonCode.OBJECTION_PENDING and not decision.allowed
    assert (p["enabled"], p["reason"], p["reason_label"]) == (False, "OBJECTION_PENDING", PAUSED)
    assert PAUSED in str(p["sentence"])
    page = c.get("/settings/data-privacy").text
    item = page[page.index('id="purpose-personalization"') :].split("</li>")[0]
    assert 'data-enabled="off"' in item and PAUSED in item and ">On<" not in item
    assert ">OBJECTION_PENDING<" not in page
    my_data = c.get("/settings/my-data").text
    row = my_data[my_data.index('<tr data-purpose="personalization"') :].split("</tr>")[0]
    assert 'data-enabled="off"' in row and "Not used" in row and PAUSED in row


def test_notice_period_keeps_the_toggle_but_not_the_use(svc_store: SqlStore) -> None:
    with TestClient(create_app(svc_store, make_config(clock_start=IN_NOTICE))) as c:
        sign_in(c, "de-dora")
        genai = _purposes(c.get("/v1/me/settings").json())["genai_training"]
        assert genai["control"] == "toggle"
        assert (genai["enabled"], genai["choice_enabled"], genai["reason"]) == (False, True, "NOTICE_PERIOD")
        assert genai["reason_label"] == "Not used yet: our new terms allow it from 17 November 2025"
        page = c.get("/settings/data-privacy").text
        item = page[page.index('id="purpose-genai_training"') :].split("</li>")[0]
        assert ">Off<" in item and "Turn off" in item and "Your own setting is on" in item


def test_minor_and_unknown_age_are_not_shown_as_on(svc_store: SqlStore, member_client: Client) -> None:
    created = datetime(2020, 1, 1, tzinfo=UTC)
    svc_store.add_members([Member("us-minor", "US", date(2012, 1, 1), created), Member("us-nobd", "US", None, created)])
    for member, reason in (("us-minor", "MINOR"), ("us-nobd", "AGE_UNKNOWN")):
        genai = _purposes(member_client(member).get("/v1/me/settings").json())["genai_training"]
        assert (genai["enabled"], genai["reason"]) == (False, reason)
        assert genai["reason_label"] == REASON_LABELS[ReasonCode(reason)]


def test_receipt_says_what_the_choice_did_when_it_was_made(svc_store: SqlStore, member_client: Client) -> None:
    us = member_client("us-alice")
    allowed = us.post("/v1/me/choices", json={"purpose": "ads_partners", "enabled": True}).json()
    iso = us.get(f"/v1/me/choices/{allowed['event_id']}/receipt").json()
    assert iso["effect"] == {
        "@type": "cs:ProcessingEffect",
        "as_of": allowed["at"],
        "data_used": True,
        "reason": "ALLOWED",
        "reason_label": "In use",
    }
    with TestClient(create_app(svc_store, make_config(clock_start=IN_NOTICE))) as de:
        sign_in(de, "de-dora")
        e = de.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True}).json()
        kantara = de.get(f"/v1/me/choices/{e['event_id']}/receipt", params={"format": "kantara"}).json()
        assert kantara["processingStatus"]["data_used"] is False
        assert kantara["processingStatus"]["reason"] == "NOTICE_PERIOD"
        assert "17 November 2025" in kantara["processingStatus"]["reason_label"]


def test_every_reason_code_has_words() -> None:
    assert set(REASON_LABELS) == set(ReasonCode)
    for code in ReasonCode:
        assert code.value not in reason_label(code) and "_" not in reason_label(code)


# ---------------------------------------------------------------- property: the API agrees with decide

CLOCKS = [
    datetime(2024, 5, 20, 9, tzinfo=UTC),  # no version in effect yet
    datetime(2024, 6, 10, 9, tzinfo=UTC),  # first version
    datetime(2024, 12, 1, 9, tzinfo=UTC),  # generative AI offered outside Europe
    datetime(2025, 1, 15, 9, tzinfo=UTC),
    IN_NOTICE,  # Europe in the notice period of 2025-11-03
    datetime(2026, 1, 1, 9, tzinfo=UTC),  # Europe opted out by default
]
PURPOSES = ["genai_training", "personalization", "content_moderation", "ads_partners"]
_ids = itertools.count()

events_st = st.lists(
    st.tuples(
        st.sampled_from(PURPOSES),
        st.sampled_from(list(Choice)),
        st.sampled_from(list(Source)),
        st.integers(-400, 30),  # days from the clock; later ones must not count
    ),
    max_size=6,
)
objections_st = st.lists(
    st.tuples(
        st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=2, unique=True),
        st.integers(-90, 5),  # filed, days from the clock
        st.sampled_from([None, CaseStatus.UPHELD, CaseStatus.REJECTED]),
        st.integers(1, 40),  # decided this many days after filing
    ),
    max_size=2,
)


def _member_with_history(
    store: SqlStore,
    clock: datetime,
    profile: tuple[str | None, date | None, int | None],
    events: list[tuple[str, Choice, Source, int]],
    objections: list[tuple[list[str], int, CaseStatus | None, int]],
) -> str:
    country, born, closed_days = profile
    member = f"h-{next(_ids)}"
    closed = clock + timedelta(days=closed_days) if closed_days is not None else None
    store.add_members([Member(member, country, born, datetime(2020, 1, 1, tzinfo=UTC), closed)])
    for purpose, choice, source, days in events:
        at = clock + timedelta(days=days, minutes=-7)
        store.record(NewEvent(member, purpose, choice, at, source, actor=member, policy_version=None))
    for purposes, filed, outcome, after in objections:
        try:  # the store refuses what the workflow forbids (nothing disclosed, decided too late): keep the rest
            case = store.file_objection(member, purposes, clock + timedelta(days=filed, minutes=-11))
            if outcome is not None:
                store.decide_objection(case.case_id, outcome, case.received_at + timedelta(days=after))
        except ObjectionError:
            continue
    return member


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    clock=st.sampled_from(CLOCKS),
    profile=st.tuples(
        st.sampled_from(["US", "DE", "GB", "FR", "CH", "BR", None]),
        st.sampled_from([date(1985, 6, 1), date(2012, 3, 1), date(2007, 1, 1), None]),
        st.sampled_from([None, None, None, -3, 10]),  # closed: days from the clock
    ),
    events=events_st,
    objections=objections_st,
    gpc=st.booleans(),
)
def test_settings_agree_with_decide_for_every_purpose(
    svc_store: SqlStore,
    clock: datetime,
    profile: tuple[str | None, date | None, int | None],
    events: list[tuple[str, Choice, Source, int]],
    objections: list[tuple[list[str], int, CaseStatus | None, int]],
    gpc: bool,
) -> None:
    """Random members, choices from every source, objections open and decided, GPC: the API says what decide says."""
    member = _member_with_history(svc_store, clock, profile, events, objections)
    with TestClient(create_app(svc_store, make_config(clock_start=clock))) as c:
        sign_in(c, member)
        body = c.get("/v1/me/settings", headers={"Sec-GPC": "1"} if gpc else {}).json()
    at = parse_instant(body["at"])
    shown = _purposes(body)
    policy = svc_store.policy()
    for purpose in PURPOSES:
        decision = decide_for(svc_store, member, purpose, at=at, policy=policy)
        if purpose not in shown:
            assert not decision.allowed, (purpose, decision.reason)
            continue
        p = shown[purpose]
        assert (p["enabled"], p["reason"]) == (decision.allowed, decision.reason.value), purpose
        starts = policy.processing_starts(purpose, profile[0], at)
        assert p["reason_label"] == reason_label(decision.reason, starts)
