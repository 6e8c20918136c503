"""The objection workflow and GPC signals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consentry.errors import InputError, NotFoundError, ObjectionError
from consentry.store import SqlStore
from consentry.vocab import CaseStatus, Choice, Source

from .conftest import t

FILED = t("2025-03-01T00:00:00Z")


def test_filing_needs_no_reason_and_sets_due_by(ready: SqlStore) -> None:
    case = ready.file_objection("m1", ["personalization", "content_moderation", "personalization"], FILED)
    assert case.case_id.startswith("obj_") and len(case.case_id) >= 12
    assert case.purposes == ("content_moderation", "personalization")
    assert case.due_by == FILED + timedelta(days=30)
    assert case.status is CaseStatus.RECEIVED and case.text is None
    assert ready.objection(case.case_id) == case
    assert ready.open_case("m1", "personalization", FILED) == case
    assert ready.open_case("m1", "personalization", FILED - timedelta(seconds=1)) is None
    assert ready.open_case("m1", "genai_training", FILED) is None


def test_filing_refuses_undisclosed_purposes_and_unknown_members(ready: SqlStore) -> None:
    with pytest.raises(ObjectionError, match="does not disclose genai_training"):
        ready.file_objection("m1", ["genai_training"], t("2024-07-01T00:00:00Z"))
    with pytest.raises(ObjectionError, match="no policy version is in effect"):
        ready.file_objection("m1", ["personalization"], t("2020-01-01T00:00:00Z"))
    with pytest.raises(NotFoundError):
        ready.file_objection("ghost", ["personalization"], FILED)
    with pytest.raises(InputError):
        ready.file_objection("m1", [], FILED)
    assert ready.objections() == []


def test_upheld_records_a_deny_per_purpose(ready: SqlStore) -> None:
    case = ready.file_objection("m1", ["personalization", "content_moderation"], FILED, text="no thanks")
    decided = ready.decide_objection(case.case_id, CaseStatus.UPHELD, FILED + timedelta(days=10), actor="dpo")
    assert decided.status is CaseStatus.UPHELD and decided.decided_by == "dpo"
    events = ready.events(member_id="m1")
    assert {(e.purpose, e.choice, e.source, e.case_id) for e in events} == {
        ("personalization", Choice.DENY, Source.OBJECTION_FORM, case.case_id),
        ("content_moderation", Choice.DENY, Source.OBJECTION_FORM, case.case_id),
    }
    assert all(e.at == FILED + timedelta(days=10) for e in events)
    assert ready.open_case("m1", "personalization", FILED + timedelta(days=10)) is None
    assert ready.open_case("m1", "personalization", FILED + timedelta(days=9)) is not None
    with pytest.raises(ObjectionError, match="already upheld"):
        ready.decide_objection(case.case_id, CaseStatus.REJECTED, FILED + timedelta(days=11), grounds="x")
    assert ready.verify().ok


def test_rejection_needs_grounds(ready: SqlStore) -> None:
    case = ready.file_objection("m2", ["personalization"], FILED)
    with pytest.raises(ObjectionError, match="grounds"):
        ready.decide_objection(case.case_id, CaseStatus.REJECTED, FILED + timedelta(days=1))
    rejected = ready.decide_objection(
        case.case_id, CaseStatus.REJECTED, FILED + timedelta(days=1), grounds="compelling legitimate grounds"
    )
    assert rejected.grounds == "compelling legitimate grounds"
    assert ready.events() == []


def test_one_extension_before_the_original_deadline(ready: SqlStore) -> None:
    case = ready.file_objection("m1", ["personalization"], FILED)
    with pytest.raises(ObjectionError, match="reasons"):
        ready.extend_objection(case.case_id, FILED + timedelta(days=5), "  ", 30)
    with pytest.raises(ObjectionError, match="1 to 60 days"):
        ready.extend_objection(case.case_id, FILED + timedelta(days=5), "complex", 61)
    with pytest.raises(ObjectionError, match="before the original deadline"):
        ready.extend_objection(case.case_id, case.due_by, "complex", 30)
    extended = ready.extend_objection(case.case_id, FILED + timedelta(days=5), "many requests", 60)
    assert extended.due_by == case.due_by + timedelta(days=60)
    assert extended.extension_reasons == "many requests"
    with pytest.raises(ObjectionError, match="only once"):
        ready.extend_objection(case.case_id, FILED + timedelta(days=6), "again", 1)


def test_overdue_listing(ready: SqlStore) -> None:
    a = ready.file_objection("m1", ["personalization"], FILED)
    b = ready.file_objection("m2", ["personalization"], FILED + timedelta(days=20))
    c = ready.file_objection("m2", ["content_moderation"], FILED)
    ready.decide_objection(c.case_id, CaseStatus.UPHELD, FILED + timedelta(days=2))
    later = FILED + timedelta(days=31)
    assert [x.case_id for x in ready.objections(overdue_at=later)] == [a.case_id]
    assert {x.case_id for x in ready.objections(status=CaseStatus.RECEIVED)} == {a.case_id, b.case_id}
    assert [x.case_id for x in ready.objections(member_id="m2")] == [c.case_id, b.case_id]
    with pytest.raises(NotFoundError):
        ready.objection("obj_nope")


def test_gpc_denies_covered_purposes_once_per_version(ready: SqlStore) -> None:
    at = t("2025-02-01T00:00:00Z")
    first = ready.record_gpc("m1", at)
    assert [(e.purpose, e.choice, e.source, e.policy_version) for e in first] == [
        ("ads_partners", Choice.DENY, Source.GPC, "2024-11-20")
    ]
    assert first[0].idempotency_key == "gpc:m1:2024-11-20:ads_partners"
    assert ready.record_gpc("m1", at + timedelta(days=3)) == first
    assert ready.head()[0] == 1
    later = ready.record_gpc("m1", t("2026-01-01T00:00:00Z"))
    assert later[0].policy_version == "2025-11-03" and ready.head()[0] == 2
    assert ready.record_gpc("m1", t("2020-01-01T00:00:00Z")) == []
    with pytest.raises(NotFoundError):
        ready.record_gpc("ghost", at)
