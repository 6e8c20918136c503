"""The member image: members read through it are exactly the members table, whatever changed since it was written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta

import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migrating import migrated

from consentry.store import Member, SqlStore, database, member_image, open_store
from consentry.store.members import members_generation
from consentry.store.snapshot import fetch_members

from .conftest import MEMBERS, t

CREATED = t("2024-01-01T00:00:00Z")


def _stored(store: SqlStore) -> pa.Table:
    """The members table fetched whole, without the image (the reference)."""
    with store._engine.connect() as c:
        return fetch_members(c)


def _image(store: SqlStore) -> tuple[int, pa.Table] | None:
    with store._engine.connect() as c:
        return member_image.load_image(c)


@pytest.fixture
def reader(store_url: str, store: SqlStore) -> Iterator[SqlStore]:
    """A second store on the same database: another process's view, with its own members in memory."""
    other = open_store(store_url)
    yield other
    other.close()


ids_st = st.lists(st.sampled_from(["a", "b", "c", "m1", "m10", "m2", "z", "é", "\U0001f600"]), min_size=1, unique=True)
ops_st = st.lists(
    st.one_of(
        st.tuples(st.just("add"), ids_st, st.sampled_from(["US", "DE", None])),
        st.tuples(st.just("close"), st.integers(0, 8), st.none()),
        st.tuples(st.just("refresh"), st.none(), st.none()),
        st.tuples(st.just("maintain"), st.none(), st.none()),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops_st)
def test_members_read_through_the_image_are_the_table(
    store: SqlStore, reader: SqlStore, ops: list[tuple[str, object, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_image, "REFRESH_ROWS", 2)  # readers find the image due often
    for day, (op, arg, country) in enumerate(ops, start=1):
        if op == "add":
            assert isinstance(arg, list)
            born = date(1990, 1, 1) + timedelta(days=day)
            store.add_members(Member(m, country, born, CREATED) for m in arg)  # type: ignore[arg-type]
        elif op == "close":
            known = _stored(store).column("member_id").to_pylist()
            if known:
                assert isinstance(arg, int)
                store.close_account(known[arg % len(known)], CREATED + timedelta(days=day))
        elif op == "refresh":
            store.refresh_member_image()
            image = _image(store)
            assert image is not None and image[1].equals(_stored(store))
        else:
            reader.members_table()
            reader.maintain_member_image()
        assert reader.members_table().equals(_stored(store)), op


def test_only_the_rows_changed_since_the_image_are_fetched(ready: SqlStore) -> None:
    assert ready.refresh_member_image() is True
    assert ready.refresh_member_image() is False  # already current
    generation, image = _image(ready) or (0, None)
    assert image is not None and image.equals(_stored(ready))
    ready.add_members([Member("m0", "FR", None, CREATED), Member("m2", "AT", None, CREATED)])
    ready.close_account("m1", t("2025-02-01T00:00:00Z"))
    with ready._engine.connect() as c:
        changed = fetch_members(c, changed_after=generation)
        assert changed.column("member_id").to_pylist() == ["m0", "m1", "m2"]
        assert fetch_members(c, changed_after=members_generation(c)).num_rows == 0
        table, due = member_image.current_members(c, members_generation(c))
    assert table.equals(_stored(ready))
    assert table.column("country").to_pylist() == ["FR", "US", "AT", None]
    assert not due  # three changed rows: merged, no rewrite yet


def test_a_snapshot_leaves_the_image_due_until_a_build_maintains_it(ready: SqlStore) -> None:
    assert _image(ready) is None
    ready.snapshot("genai_training", t("2025-07-01T00:00:00Z"))
    assert ready.maintain_member_image() is True  # there was none
    assert ready.maintain_member_image() is False
    image = _image(ready)
    assert image is not None and image[1].equals(_stored(ready))


def test_an_image_newer_than_the_reader_or_damaged_is_not_used(ready: SqlStore) -> None:
    ready.refresh_member_image()
    with ready._engine.connect() as c:
        now = members_generation(c)
        table, due = member_image.current_members(c, now - 1)  # as a transaction that began before it was written
    assert table.equals(_stored(ready)) and not due
    with ready._engine.begin() as c:
        part = c.execute(sa.select(member_image.member_image)).one()
        c.execute(sa.insert(member_image.member_image).values(part=1, generation=now - 1, data=part.data))
        assert member_image.load_image(c) is None  # parts of two generations: not an image
        table, due = member_image.current_members(c, now)
    assert table.equals(_stored(ready)) and due


def test_a_member_deleted_by_hand_is_not_kept_alive_by_the_image(ready: SqlStore, reader: SqlStore) -> None:
    ready.refresh_member_image()
    with ready._engine.begin() as c:  # nothing in consentry deletes members; a database administrator might
        c.execute(sa.text("DELETE FROM members WHERE member_id = 'm2'"))
    assert reader.members_table().column("member_id").to_pylist() == ["m1", "m3"]
    assert reader.maintain_member_image() is True  # and the image is rewritten without them
    image = _image(ready)
    assert image is not None and image[1].equals(_stored(ready))


def test_an_image_in_parts_reads_back_in_order(ready: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(member_image, "PART_MEMBERS", 2)
    ready.refresh_member_image()
    with ready._engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM member_image")).scalar() == 2
    image = _image(ready)
    assert image is not None and image[1].equals(_stored(ready))


def test_the_migration_stamps_stored_members_and_downgrades(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "0004") as conn:
        conn.execute(
            sa.text("INSERT INTO members (member_id, country, birth_day, created_us) VALUES ('m1', 'US', 7000, 0)")
        )
    eng.dispose()

    store = open_store(store_url)  # upgrades to every head
    with store._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT changed_gen FROM members")).scalar() == 0
    store.add_members(MEMBERS[1:2])
    assert store.refresh_member_image() is True
    assert store.members_table().column("member_id").to_pylist() == ["m1", "m2"]

    with migrated(store._engine, "downgrade", "0004") as conn:
        assert not sa.inspect(conn).has_table("member_image")
        assert "changed_gen" not in {col["name"] for col in sa.inspect(conn).get_columns("members")}
        assert conn.execute(sa.text("SELECT count(*) FROM members")).scalar() == 2
        assert conn.execute(sa.text("SELECT name FROM store_counters")).scalars().all() == ["members"]
    store.close()


def test_stores_rewriting_the_image_at_once_leave_one_image(store_url: str, store: SqlStore, reader: SqlStore) -> None:
    errors: list[BaseException] = []

    def refresh(s: SqlStore) -> None:
        try:
            s.refresh_member_image()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    for round_ in range(8):
        store.add_members([Member(f"m{round_}-{i}", "US", None, CREATED) for i in range(50)])
        threads = [threading.Thread(target=refresh, args=(s,)) for s in (store, reader)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors, errors
        image = _image(store)
        assert image is not None and image[1].equals(_stored(store))
