"""Fuzzing the importers: any file either imports whole or fails with a located InputError, writing nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.errors import InputError
from consentry.policy import Policy
from consentry.store import SqlStore

GOOD_MEMBER = {"member_id": "ok1", "country": "US", "birth_date": "1990-01-01", "created_at": "2020-01-01T00:00:00Z"}
GOOD_EVENT = {
    "member_id": "seed",
    "purpose": "genai_training",
    "choice": "deny",
    "at": "2025-01-01T00:00:00Z",
    "source": "settings",
}

junk_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["", "US", "ZZ", "de", "2020-02-30", "2020-01-01", "yesterday", "2025-01-01T00:00:00", "allow"]),
    st.lists(st.integers(), max_size=2),
)


def _mutated(base: dict[str, object]) -> st.SearchStrategy[dict[str, object]]:
    keys = [*base, "extra"]
    return st.dictionaries(st.sampled_from(keys), junk_value, max_size=len(keys)).map(lambda d: {**base, **d})


line = st.one_of(
    st.just("GOOD"),
    st.text(max_size=30),  # not JSON at all
    st.just("[1, 2, 3]"),
    st.just("{"),
    st.just(""),
)


def _render(lines: list[object], base: dict[str, object], i0: int) -> str:
    out = []
    for i, item in enumerate(lines):
        if item == "GOOD":
            out.append(json.dumps({**base, "member_id": f"ok{i0 + i}"} if "country" in base else base))
        elif isinstance(item, dict):
            out.append(json.dumps(item, ensure_ascii=False))
        else:
            out.append(str(item).replace("\n", " "))
    return "\n".join(out) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(line, _mutated(GOOD_MEMBER)), min_size=1, max_size=6))
def test_members_import_is_all_or_nothing(sqlite_store: SqlStore, lines: list[object]) -> None:
    before = sqlite_store.members_table().num_rows
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "members.jsonl"
        path.write_text(_render(lines, GOOD_MEMBER, before * 10 + 1000), encoding="utf-8")
        try:
            n = sqlite_store.import_members(path)
        except InputError as e:
            assert "members.jsonl:" in str(e), str(e)
            assert sqlite_store.members_table().num_rows == before
        else:
            assert sqlite_store.members_table().num_rows <= before + n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(line, _mutated(GOOD_EVENT)), min_size=1, max_size=6))
def test_events_import_is_all_or_nothing(sqlite_store: SqlStore, reference_policy: Policy, lines: list[object]) -> None:
    from datetime import UTC, date, datetime

    from consentry.store import Member

    if not sqlite_store.published_versions():
        sqlite_store.publish(reference_policy)
        sqlite_store.add_members([Member("seed", "US", date(1990, 1, 1), datetime(2020, 1, 1, tzinfo=UTC))])
    before = sqlite_store.head()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "events.jsonl"
        path.write_text(_render(lines, GOOD_EVENT, 0), encoding="utf-8")
        try:
            sqlite_store.import_events(path)
        except InputError as e:
            assert "events.jsonl:" in str(e), str(e)
            assert sqlite_store.head() == before
    assert sqlite_store.verify().ok
