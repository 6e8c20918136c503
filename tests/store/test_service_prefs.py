"""The service's small records: members' languages, one-time confirmations, case assignments."""

from __future__ import annotations

from datetime import UTC, datetime

from consentry.store import SqlStore

T = datetime(2025, 1, 15, tzinfo=UTC)


def test_a_members_language_is_kept_replaced_and_forgotten(store: SqlStore) -> None:
    assert store.languages.get("m1") is None
    store.languages.set("m1", "de", T)
    store.languages.set("m1", "fr", T)
    store.languages.set("m2", "de", T)
    assert (store.languages.get("m1"), store.languages.get("m2")) == ("fr", "de")
    store.languages.set("m1", None, T)
    assert store.languages.get("m1") is None


def test_confirmations_are_read_once_in_order_per_session(store: SqlStore) -> None:
    store.flashes.push("a" * 64, "first", T)
    store.flashes.push("a" * 64, "second", T)
    store.flashes.push("b" * 64, "other", T)
    assert store.flashes.pop("a" * 64) == ["first", "second"]
    assert store.flashes.pop("a" * 64) == []
    assert store.flashes.pop("b" * 64) == ["other"]


def test_cases_are_assigned_reassigned_and_unassigned(store: SqlStore) -> None:
    store.assignments.assign("obj_1", "ana", T, "key_1")
    store.assignments.assign("obj_2", "ben", T, "key_1")
    store.assignments.assign("obj_1", "carla", T, "key_2")
    assert store.assignments.all() == {"obj_1": "carla", "obj_2": "ben"}
    store.assignments.assign("obj_2", None, T, "key_1")
    assert store.assignments.all() == {"obj_1": "carla"}
