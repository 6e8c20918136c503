"""Consent events: recording, idempotency, import, state and history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentry.errors import InputError, NotFoundError
from consentry.store import NewEvent, SqlStore
from consentry.vocab import Choice, Source

from .conftest import t


def _ev(
    member: str = "m1",
    purpose: str = "genai_training",
    choice: Choice = Choice.DENY,
    at: str = "2025-01-01T00:00:00Z",
    **kw: object,
) -> NewEvent:
    return NewEvent(member, purpose, choice, t(at), Source.SETTINGS, **kw)  # type: ignore[arg-type]


def test_record_fills_policy_version_in_effect(ready: SqlStore) -> None:
    e = ready.record(_ev(at="2024-07-01T00:00:00Z", purpose="personalization"))
    assert e.policy_version == "2024-06-01"
    assert ready.record(_ev(at="2026-01-01T00:00:00Z")).policy_version == "2025-11-03"


def test_repeated_idempotency_key_returns_the_earlier_event(ready: SqlStore) -> None:
    first = ready.record(_ev(idempotency_key="k1"))
    again = ready.record(_ev(choice=Choice.ALLOW, idempotency_key="k1"))
    assert again == first
    assert ready.head()[0] == 1
    assert ready.record_many([_ev(idempotency_key="k1"), _ev(idempotency_key="k2"), _ev(idempotency_key="k2")]) == 1
    assert ready.head()[0] == 2


def test_unknown_member_or_purpose_is_refused(ready: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        ready.record(_ev(member="nobody"))
    with pytest.raises(InputError, match="unknown purpose 'telepathy'"):
        ready.record(_ev(purpose="telepathy"))
    with pytest.raises(InputError, match="member"):
        ready.record_many([_ev(), _ev(member="nobody")])
    assert ready.head()[0] == 0


def test_record_many_is_all_or_nothing(ready: SqlStore) -> None:
    with pytest.raises(InputError):
        ready.record_many([_ev(), _ev(purpose="nope")])
    assert ready.head()[0] == 0
    assert ready.record_many(_ev(at=f"2025-01-{d:02d}T00:00:00Z") for d in range(1, 11)) == 10
    assert ready.verify().ok


def test_state_is_latest_at_or_before_t_with_ties_to_the_later_event(ready: SqlStore) -> None:
    ready.record(_ev(choice=Choice.DENY, at="2025-01-01T00:00:00Z"))
    ready.record(_ev(choice=Choice.ALLOW, at="2025-03-01T00:00:00Z"))
    ready.record(_ev(choice=Choice.DENY, at="2025-03-01T00:00:00Z"))
    ready.record(_ev(choice=Choice.ALLOW, at="2025-02-01T00:00:00Z"))  # recorded late, effective earlier
    assert ready.state("m1", "genai_training", t("2024-12-31T23:59:59Z")) is None
    assert ready.state("m1", "genai_training", t("2025-01-01T00:00:00Z")).choice is Choice.DENY  # type: ignore[union-attr]
    assert ready.state("m1", "genai_training", t("2025-02-15T00:00:00Z")).event_id == 4  # type: ignore[union-attr]
    latest = ready.state("m1", "genai_training")
    assert latest is not None and latest.event_id == 3 and latest.choice is Choice.DENY
    assert ready.state("m2", "genai_training") is None


def test_events_filters(ready: SqlStore) -> None:
    ready.record(_ev("m1", "genai_training"))
    ready.record(_ev("m2", "genai_training"))
    ready.record(_ev("m1", "personalization"))
    assert [e.event_id for e in ready.events()] == [1, 2, 3]
    assert [e.event_id for e in ready.events(member_id="m1")] == [1, 3]
    assert [e.event_id for e in ready.events(member_id="m1", purpose="personalization")] == [3]


def _lines(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


GOOD = [
    {
        "member_id": "m1",
        "purpose": "genai_training",
        "choice": "deny",
        "at": "2025-01-01T00:00:00Z",
        "source": "settings",
    },
    {"member_id": "m2", "purpose": "ads_partners", "choice": "allow", "at": "2025-01-02T00:00:00Z", "source": "import"},
]


def test_import_events_and_reimport_is_idempotent(ready: SqlStore, tmp_path: Path) -> None:
    path = _lines(tmp_path / "e.jsonl", GOOD)
    assert ready.import_events(path) == 2
    assert ready.import_events(path) == 0
    assert [(e.member_id, e.choice, e.source) for e in ready.events()] == [
        ("m1", Choice.DENY, Source.SETTINGS),
        ("m2", Choice.ALLOW, Source.IMPORT),
    ]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"member_id": "ghost"}, "member_id"),
        ({"purpose": "telepathy"}, "purpose"),
        ({"choice": "maybe"}, "choice"),
        ({"source": "carrier-pigeon"}, "source"),
        ({"at": "2025-13-01"}, "at"),
    ],
)
def test_import_events_bad_line(ready: SqlStore, tmp_path: Path, bad: dict[str, str], field: str) -> None:
    path = _lines(tmp_path / "e.jsonl", [*GOOD, dict(GOOD[0], **bad)])
    with pytest.raises(InputError) as err:
        ready.import_events(path)
    assert err.value.where == f"{path}:3" and err.value.field == field
    assert ready.head()[0] == 0


def test_import_events_without_published_policy(store: SqlStore, tmp_path: Path) -> None:
    from .conftest import MEMBERS

    store.add_members(MEMBERS)
    with pytest.raises(InputError, match="no policy is published"):
        store.import_events(_lines(tmp_path / "e.jsonl", GOOD[:1]))
