"""Every bound of consentry.bounds holds the same on SQLite and PostgreSQL, on every way in.

Before, SQLite took NUL bytes, a 10 MB actor or a 1 MB idempotency key that
PostgreSQL refused with a database error, and both took events dated 9999 or
year 1 and members created in 2999. Now each is an InputError naming the field
(and ``file:line`` for files), and nothing is written.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentry import bounds
from consentry.cli import app
from consentry.errors import InputError
from consentry.store import Member, NewEvent, SqlStore
from consentry.timeutil import utcnow
from consentry.vocab import CaseStatus, Choice, Source

from .conftest import t

P = "genai_training"
NOW = None  # "now", stamped by the store


def _event(**kw: object) -> NewEvent:
    base: dict[str, object] = {
        "member_id": "m1",
        "purpose": P,
        "choice": Choice.DENY,
        "at": t("2025-01-01T00:00:00Z"),
        "source": Source.ADMIN,
    }
    return NewEvent(**{**base, **kw})  # type: ignore[arg-type]


def _refused(store: SqlStore, fn, field: str, *needles: str) -> InputError:  # type: ignore[no-untyped-def]
    before = store.head()
    with pytest.raises(InputError) as err:
        fn()
    assert err.value.field == field, str(err.value)
    for needle in needles:
        assert needle in str(err.value)
    assert len(str(err.value)) < 300 and "\n" not in str(err.value)
    assert store.head() == before
    return err.value


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("actor", "a" * 10_000_000, "at most 255"),
        ("idempotency_key", "k" * 1_000_000, "at most 255"),
        ("actor", "pat\x00", "U+0000"),
        ("idempotency_key", "key\x1b[31m", "U+001B"),
        ("at", t("9999-12-31T00:00:00Z"), "in the future"),
        ("at", datetime(1, 1, 1, tzinfo=UTC), "before 1900-01-01"),
        ("at", timedelta(minutes=10), "in the future"),  # from now, when the test runs
        ("purpose", "p" * 65, "at most 64"),
    ],
)
def test_event_bounds(ready: SqlStore, field: str, value: object, needle: str) -> None:
    if isinstance(value, timedelta):
        value = utcnow() + value
    _refused(ready, lambda: ready.record(_event(**{field: value})), field, needle)
    _refused(ready, lambda: ready.record_many([_event(), _event(**{field: value})]), field, "event 2", needle)


@pytest.mark.parametrize("member_id", ["m\x00", "m\u200b1", "m\n1", "x" * 256, ""])
def test_member_id_bounds_for_members_and_events(ready: SqlStore, member_id: str) -> None:
    member = Member(member_id, "US", None, t("2020-01-01T00:00:00Z"))
    _refused(ready, lambda: ready.add_members([member]), "member_id")
    with pytest.raises(InputError) as err:
        ready.record(_event(member_id=member_id))
    assert err.value.field == "member_id"


def test_values_at_their_bounds_are_taken(ready: SqlStore) -> None:
    longest = "é" * 255
    ready.add_members([Member(longest, "US", date(1900, 1, 1), datetime(1900, 1, 1, tzinfo=UTC))])
    e = ready.record(
        _event(member_id=longest, actor="a" * 255, idempotency_key="k" * 255, at=utcnow() + timedelta(minutes=4))
    )
    assert ready.state(longest, P).event_id == e.event_id  # type: ignore[union-attr]
    assert ready.member(longest).created_at == datetime(1900, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"created_at": t("2999-01-01T00:00:00Z")}, "created_at", "in the future"),
        ({"created_at": datetime(1, 1, 1, tzinfo=UTC)}, "created_at", "before 1900"),
        ({"closed_at": t("2999-01-01T00:00:00Z")}, "closed_at", "in the future"),
        ({"birth_date": date(1, 1, 1)}, "birth_date", "1900-01-01 .. today"),
        ({"birth_date": date.today() + timedelta(days=2)}, "birth_date", "1900-01-01 .. today"),
    ],
)
def test_member_bounds(ready: SqlStore, changes: dict[str, object], field: str, needle: str) -> None:
    fields: dict[str, object] = {
        "member_id": "m9",
        "country": "US",
        "birth_date": None,
        "created_at": t("2020-01-01T00:00:00Z"),
    }
    member = Member(**{**fields, **changes})  # type: ignore[arg-type]
    _refused(ready, lambda: ready.add_members([member]), field, needle)
    assert ready.find_member("m9") is None
    if field == "closed_at":
        _refused(ready, lambda: ready.close_account("m1", t("2999-01-01T00:00:00Z")), "closed_at", needle)


def test_objection_bounds(ready: SqlStore) -> None:
    at = t("2025-12-01T00:00:00Z")
    _refused(ready, lambda: ready.file_objection("m1", ["personalization"], at, "a\x00b"), "text", "NUL")
    _refused(ready, lambda: ready.file_objection("m1", ["personalization"], at, "\ud800"), "text", "surrogate")
    future = utcnow() + timedelta(days=1)
    _refused(ready, lambda: ready.file_objection("m1", ["personalization"], future), "at", "in the future")
    case = ready.file_objection("m1", ["personalization"], at, "line one\nline two\t(tabbed)")
    long_grounds = "g" * (bounds.MAX_TEXT + 1)
    decide = ready.decide_objection
    _refused(ready, lambda: decide(case.case_id, CaseStatus.REJECTED, at, long_grounds), "grounds", "at most 5000")
    _refused(ready, lambda: decide(case.case_id, CaseStatus.UPHELD, at, None, "x" * 300), "actor", "at most 255")
    _refused(ready, lambda: ready.extend_objection(case.case_id, at, "r\x00", 10), "reasons", "NUL")
    assert ready.objection(case.case_id).status is CaseStatus.RECEIVED
    assert ready.decide_objection(case.case_id, CaseStatus.UPHELD, at, None, "reviewer").status is CaseStatus.UPHELD


# ---------------------------------------------------------------------------- files


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


_GOOD_MEMBER = {"member_id": "m7", "country": "US", "birth_date": "", "created_at": "2020-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"member_id": "m\u0000x"}, "member_id", "U+0000"),
        ({"created_at": "2999-01-01T00:00:00Z"}, "created_at", "in the future"),
        ({"created_at": "0001-01-01T00:00:00Z"}, "created_at", "before 1900"),
        ({"birth_date": "0001-01-01"}, "birth_date", "today"),
    ],
)
def test_members_file_bounds_name_file_line_field(
    ready: SqlStore, tmp_path: Path, changes: dict[str, object], field: str, needle: str
) -> None:
    path = _jsonl(tmp_path / "members.jsonl", [_GOOD_MEMBER, {**_GOOD_MEMBER, "member_id": "m8", **changes}])
    err = _refused(ready, lambda: ready.import_members(path), field, needle)
    assert err.where == f"{path}:2"
    assert ready.find_member("m7") is None  # all or nothing


_GOOD_EVENT = {"member_id": "m1", "purpose": P, "choice": "deny", "at": "2025-01-01T00:00:00Z", "source": "import"}


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"at": "9999-12-31T00:00:00Z"}, "at", "in the future"),
        ({"at": "0001-01-01T00:00:00Z"}, "at", "before 1900"),
        ({"at": "9999-12-31T23:59:59-05:00"}, "at", "out of range"),
        ({"actor": "a" * 300}, "actor", "at most 255"),
        ({"idempotency_key": "k\u0000"}, "idempotency_key", "U+0000"),
        ({"member_id": "m1\u0007"}, "member_id", "U+0007"),
    ],
)
def test_events_file_bounds_name_file_line_field(
    ready: SqlStore, tmp_path: Path, changes: dict[str, object], field: str, needle: str
) -> None:
    path = _jsonl(tmp_path / "events.jsonl", [_GOOD_EVENT, {**_GOOD_EVENT, **changes}])
    err = _refused(ready, lambda: ready.import_events(path), field, needle)
    assert err.where == f"{path}:2"


def test_members_csv_with_a_byte_order_mark(ready: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(
        "\ufeffmember_id,country,birth_date,created_at\r\nm5,US,1990-01-01,2020-01-01T00:00:00Z\r\n".encode()
    )
    assert ready.import_members(path) == 1
    assert ready.member("m5").country == "US"


def test_cli_consent_set_with_a_huge_actor_is_one_line(ready: SqlStore, store_url: str) -> None:
    r = CliRunner().invoke(
        app,
        ["consent", "set", "--member", "m1", "--purpose", P, "--choice", "deny", "--actor", "a" * 100_000],
        env={"CONSENTRY_DB": store_url},
    )
    assert r.exit_code == 1
    assert r.stderr.strip() == "error: actor: is 100000 characters long; at most 255 are allowed"
    assert ready.head()[0] == 0
