"""The member-facing library logic: which controls show, state, since, what changed it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.errors import InputError, NotFoundError
from consentry.service import member_actions
from consentry.service.member_actions import ChangedBy, ControlKind
from consentry.store import SqlStore
from consentry.store.protocol import Member
from consentry.vocab import CaseStatus, Choice, Source

T = datetime(2025, 1, 15, tzinfo=UTC)


def _by_purpose(view: member_actions.SettingsView) -> dict[str, member_actions.PurposeSetting]:
    return {p.purpose: p for p in view.purposes}


def test_us_member_gets_a_toggle_for_generative_ai_on_by_default(svc_store: SqlStore) -> None:
    view = member_actions.settings_view(svc_store, "us-alice", T)
    genai = _by_purpose(view)["genai_training"]
    assert view.policy_version == "2024-11-20"
    assert genai.control is ControlKind.TOGGLE
    assert genai.enabled and genai.changed_by is ChangedBy.DEFAULT and genai.since is None


@pytest.mark.parametrize("member", ["de-dora", "gb-gary"])
def test_excluded_region_gets_a_sentence_and_no_control(svc_store: SqlStore, member: str) -> None:
    genai = _by_purpose(member_actions.settings_view(svc_store, member, T))["genai_training"]
    assert genai.control is ControlKind.NOT_IN_REGION
    assert not genai.enabled
    assert "does not apply in your region" in genai.sentence


def test_before_generative_ai_was_disclosed_it_is_not_shown(svc_store: SqlStore) -> None:
    view = member_actions.settings_view(svc_store, "us-alice", datetime(2024, 7, 1, tzinfo=UTC))
    assert "genai_training" not in _by_purpose(view)
    assert _by_purpose(view)["personalization"].control is ControlKind.OBJECTION_FORM


def test_german_member_gets_the_toggle_once_2025_terms_apply(svc_store: SqlStore) -> None:
    view = member_actions.settings_view(svc_store, "de-dora", datetime(2026, 1, 1, tzinfo=UTC))
    assert _by_purpose(view)["genai_training"].control is ControlKind.TOGGLE


def test_toggle_off_then_on_records_state_since_and_who(svc_store: SqlStore) -> None:
    off = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    genai = _by_purpose(member_actions.settings_view(svc_store, "us-alice", T + timedelta(seconds=1)))["genai_training"]
    assert (genai.enabled, genai.since, genai.changed_by, genai.event_id) == (False, T, ChangedBy.MEMBER, off.event_id)
    on = member_actions.set_choice(svc_store, "us-alice", "genai_training", True, T + timedelta(minutes=1))
    assert on.choice is Choice.ALLOW and on.source is Source.SETTINGS and on.policy_version == "2024-11-20"
    genai = _by_purpose(member_actions.settings_view(svc_store, "us-alice", T + timedelta(hours=1)))["genai_training"]
    assert genai.enabled and genai.changed_by is ChangedBy.MEMBER


def test_a_toggle_never_changes_another_purpose(svc_store: SqlStore) -> None:
    member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    view = _by_purpose(member_actions.settings_view(svc_store, "us-alice", T + timedelta(seconds=1)))
    assert view["ads_partners"].changed_by is ChangedBy.DEFAULT
    assert view["personalization"].enabled


def test_toggle_refused_where_excluded_or_objection_form(svc_store: SqlStore) -> None:
    with pytest.raises(InputError, match="does not apply in your region"):
        member_actions.set_choice(svc_store, "de-dora", "genai_training", False, T)
    with pytest.raises(InputError, match="objection form"):
        member_actions.set_choice(svc_store, "us-alice", "personalization", False, T)
    with pytest.raises(InputError, match="not disclosed"):
        member_actions.set_choice(svc_store, "us-alice", "no_such_purpose", False, T)
    assert svc_store.events() == []


def test_unknown_member_is_not_found(svc_store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        member_actions.settings_view(svc_store, "nobody", T)


def test_objection_needs_no_reason_and_shows_as_open_case(svc_store: SqlStore) -> None:
    case = member_actions.file_objection(svc_store, "us-alice", ["personalization"], T)
    assert case.text is None and case.status is CaseStatus.RECEIVED and case.due_by > T
    view = _by_purpose(member_actions.settings_view(svc_store, "us-alice", T + timedelta(seconds=1)))
    assert view["personalization"].open_case_id == case.case_id
    assert member_actions.member_case(svc_store, "us-alice", case.case_id) == case
    with pytest.raises(NotFoundError):
        member_actions.member_case(svc_store, "us-bob", case.case_id)


def test_objection_refused_for_toggle_purposes_and_empty_choice(svc_store: SqlStore) -> None:
    with pytest.raises(InputError, match="at least one"):
        member_actions.file_objection(svc_store, "us-alice", [], T)
    with pytest.raises(InputError):
        member_actions.file_objection(svc_store, "us-alice", ["genai_training"], T)
    assert member_actions.objection_purposes(svc_store, "us-alice", T) == ["content_moderation", "personalization"]


def test_upheld_objection_is_what_changed_the_state(svc_store: SqlStore) -> None:
    case = member_actions.file_objection(svc_store, "us-alice", ["personalization"], T)
    svc_store.decide_objection(case.case_id, CaseStatus.UPHELD, T + timedelta(days=2))
    p = _by_purpose(member_actions.settings_view(svc_store, "us-alice", T + timedelta(days=3)))["personalization"]
    assert (p.enabled, p.changed_by, p.open_case_id) == (False, ChangedBy.OBJECTION, None)
    data = member_actions.member_data(svc_store, "us-alice", T + timedelta(days=3))
    assert [c.case_id for c in data.closed_cases] == [case.case_id] and data.open_cases == ()


def test_gpc_turns_off_covered_purposes_once_per_version(svc_store: SqlStore) -> None:
    member_actions.set_choice(svc_store, "us-alice", "ads_partners", True, T)
    first = member_actions.honour_gpc(svc_store, "us-alice", T + timedelta(seconds=1))
    again = member_actions.honour_gpc(svc_store, "us-alice", T + timedelta(seconds=2))
    assert [e.event_id for e in first] == [e.event_id for e in again]
    view = member_actions.settings_view(svc_store, "us-alice", T + timedelta(seconds=3))
    ads = _by_purpose(view)["ads_partners"]
    assert view.gpc_honoured and not ads.enabled and ads.changed_by is ChangedBy.GPC
    assert _by_purpose(view)["genai_training"].changed_by is ChangedBy.DEFAULT


def test_history_is_the_members_own_newest_first(svc_store: SqlStore) -> None:
    a = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, T)
    b = member_actions.set_choice(svc_store, "us-alice", "genai_training", True, T + timedelta(seconds=1))
    member_actions.set_choice(svc_store, "us-bob", "genai_training", False, T)
    assert [e.event_id for e in member_actions.choice_history(svc_store, "us-alice")] == [b.event_id, a.event_id]
    with pytest.raises(NotFoundError):
        member_actions.member_event(svc_store, "us-bob", a.event_id)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["genai_training", "ads_partners"]), st.booleans(), st.integers(0, 5)),
        min_size=1,
        max_size=8,
    ),
    probe=st.integers(0, 6),
)
def test_view_state_agrees_with_the_ledger(svc_store: SqlStore, steps: list[tuple[str, bool, int]], probe: int) -> None:
    """The view reads the member's events once; its state must be the store's own `state()`."""
    member = f"us-h{len(svc_store.events())}"
    svc_store.add_members([Member(member, "US", date(1985, 1, 1), datetime(2020, 1, 1, tzinfo=UTC))])
    for purpose, enabled, minutes in steps:
        member_actions.set_choice(svc_store, member, purpose, enabled, T + timedelta(minutes=minutes))
    at = T + timedelta(minutes=probe)
    view = _by_purpose(member_actions.settings_view(svc_store, member, at))
    for purpose in ("genai_training", "ads_partners"):
        expected = svc_store.state(member, purpose, at)
        assert view[purpose].event_id == (expected.event_id if expected else None)
