"""The shape of members and consent-events files is bounded, on SQLite and PostgreSQL alike.

A line (or CSV row) longer than 1 MiB, a row with more than 256 fields, or a text
value longer than 5,000 characters is refused with one line naming ``file:line``;
nothing is written. Each refusal of a maximal bad input costs under 1 CPU-second
(`time.process_time`, not wall-clock time).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.bounds import MAX_FIELD_CHARS, MAX_FIELDS
from consentry.errors import InputError
from consentry.lines import MAX_LINE_BYTES
from consentry.store import SqlStore

MEMBER = {"member_id": "m7", "country": "US", "birth_date": "", "created_at": "2020-01-01T00:00:00Z"}
EVENT = {"member_id": "m1", "purpose": "genai_training", "choice": "deny", "at": "2025-01-01T00:00:00Z"}
HEADER = ",".join(MEMBER)
CSV_ROW = "m7,US,,2020-01-01T00:00:00Z"


def _refused(store: SqlStore, run: Callable[[], object], where: str, *needles: str) -> InputError:
    """`run` raises a one-line InputError at `where`, within 1 CPU-second, and the store is unchanged."""
    head, members = store.head(), store.members_table().num_rows
    start = time.process_time()
    with pytest.raises(InputError) as err:
        run()
    cpu = time.process_time() - start
    assert err.value.where == where, str(err.value)
    for needle in needles:
        assert needle in str(err.value), str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 300
    assert cpu < 1.0, f"{cpu:.2f} CPU-seconds to refuse"
    assert (store.head(), store.members_table().num_rows) == (head, members)
    return err.value


def _jsonl(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _padded(row: dict[str, object], field: str, size: int) -> str:
    """`row` as a JSON line of exactly `size` bytes, its line break included (the padding in `field`)."""
    base = json.dumps({**row, field: ""})
    return json.dumps({**row, field: "x" * (size - len(base) - 1)})


def test_members_lines_up_to_the_bound_are_read_and_one_byte_more_refused(ready: SqlStore, tmp_path: Path) -> None:
    # 1 MiB in 241 values of up to 4,350 characters each (every field within its own bound)
    at_bound = json.dumps({**MEMBER, **{f"p{i:03d}": "x" * 4350 for i in range(240)}})
    at_bound = at_bound[:-1] + ', "q": "' + "y" * (MAX_LINE_BYTES - len(at_bound) - 10) + '"}'
    assert len(at_bound) + 1 == MAX_LINE_BYTES
    assert ready.import_members(_jsonl(tmp_path / "ok.jsonl", at_bound)) == 1
    longer = at_bound[:-2] + 'y"}'
    path = _jsonl(tmp_path / "members.jsonl", json.dumps({**MEMBER, "member_id": "m8"}), longer)
    _refused(ready, lambda: ready.import_members(path), f"{path}:2", "longer than 1 MiB")
    assert ready.find_member("m8") is None


def test_a_giant_line_without_a_line_break_is_refused_without_reading_it_whole(ready: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "members.jsonl"
    with path.open("wb") as f:
        f.write(json.dumps(MEMBER).encode() + b"\n" + b'{"member_id": "')
        for _ in range(64):  # 64 MiB of one value, no line break
            f.write(b"x" * MAX_LINE_BYTES)
    _refused(ready, lambda: ready.import_members(path), f"{path}:2", "longer than 1 MiB")
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"[" * (8 * MAX_LINE_BYTES))
    _refused(ready, lambda: ready.import_events(events), f"{events}:1", "longer than 1 MiB")


@pytest.mark.parametrize("kind", ["members", "events"])
def test_too_many_fields_are_refused(ready: SqlStore, tmp_path: Path, kind: str) -> None:
    base = MEMBER if kind == "members" else EVENT
    extra = {f"f{i}": 0 for i in range(MAX_FIELDS - len(base))}
    ok, bad = {**base, **extra}, {**base, **extra, "one_more": 0}
    path = _jsonl(tmp_path / f"{kind}.jsonl", json.dumps(ok), json.dumps(bad))
    imports = ready.import_members if kind == "members" else ready.import_events
    _refused(ready, lambda: imports(path), f"{path}:2", f"has {MAX_FIELDS + 1} fields; at most {MAX_FIELDS}")
    # the maximal bad input: a 1 MiB line of fields
    many = "{" + ",".join(f'"{i}":0' for i in range(100_000)) + "}"
    path = _jsonl(tmp_path / f"many-{kind}.jsonl", many)
    _refused(ready, lambda: imports(path), f"{path}:1", "at most 256 are allowed")


@pytest.mark.parametrize("kind", ["members", "events"])
def test_a_value_past_its_bound_is_refused(ready: SqlStore, tmp_path: Path, kind: str) -> None:
    base = MEMBER if kind == "members" else EVENT
    imports = ready.import_members if kind == "members" else ready.import_events
    path = _jsonl(tmp_path / f"{kind}.jsonl", json.dumps({**base, "note": "n" * (MAX_FIELD_CHARS + 1)}))
    err = _refused(ready, lambda: imports(path), f"{path}:1", f"at most {MAX_FIELD_CHARS}")
    assert err.field == "note"
    # the maximal bad input: one value as long as the line allows, in a field that is parsed
    path = _jsonl(tmp_path / f"big-{kind}.jsonl", _padded(base, "member_id", MAX_LINE_BYTES))
    _refused(ready, lambda: imports(path), f"{path}:1", f"at most {MAX_FIELD_CHARS}")
    ok = _jsonl(tmp_path / f"ok-{kind}.jsonl", json.dumps({**base, "note": "n" * MAX_FIELD_CHARS}))
    assert imports(ok)


def test_members_csv_rows_are_bounded(ready: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(f"{HEADER}\n{CSV_ROW}\nm8,US,,2020-01-01T00:00:00Z,{'z' * MAX_LINE_BYTES}\n")
    _refused(ready, lambda: ready.import_members(path), f"{path}:3", "longer than 1 MiB")
    # quoted fields running over many lines: the row is named by the line it starts on
    path.write_text(f"{HEADER},note\n{CSV_ROW}" + ',"x\n"' * (MAX_LINE_BYTES // 5) + "\n")
    _refused(ready, lambda: ready.import_members(path), f"{path}:2", "longer than 1 MiB")
    path.write_text(f"{HEADER},note\n{CSV_ROW},{'n' * (MAX_FIELD_CHARS + 1)}\n")
    err = _refused(ready, lambda: ready.import_members(path), f"{path}:2", f"at most {MAX_FIELD_CHARS}")
    assert err.field == "note"
    path.write_text(f"{HEADER}\n{CSV_ROW},{',' * 300_000}\n")
    _refused(ready, lambda: ready.import_members(path), f"{path}:2", "values but the header 4 columns")
    path.write_text(HEADER + "".join(f",c{i}" for i in range(MAX_FIELDS)) + f"\n{CSV_ROW}\n")
    _refused(ready, lambda: ready.import_members(path), f"{path}:1", f"at most {MAX_FIELDS} are allowed")
    path.write_text(f"{HEADER}\n{CSV_ROW}\nm8,US,,2020-01-01T00:00:00Z,{'z' * 200_000}\n")  # past csv's own limit
    _refused(ready, lambda: ready.import_members(path), f"{path}:3")
    path.write_text(f"{HEADER}\n{CSV_ROW}\nm8,US\n\n")  # a short row: the rest is empty
    _refused(ready, lambda: ready.import_members(path), f"{path}:3", "created_at")


def test_members_csv_not_utf8_names_the_line(ready: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(f"{HEADER}\n{CSV_ROW}\n".encode() + b"m8,US,,2020-01-01T00:00:00Z\xff\n")
    _refused(ready, lambda: ready.import_members(path), f"{path}:3", "not UTF-8")


def test_members_parquet_cells_and_columns_are_bounded(ready: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "members.parquet"
    columns = {k: [v or None, v or None] for k, v in MEMBER.items()}
    columns["member_id"] = ["m7", "m8"]
    pq.write_table(pa.table({**columns, "note": ["ok", "n" * (MAX_FIELD_CHARS + 1)]}), path)
    err = _refused(ready, lambda: ready.import_members(path), f"{path}:row 2", f"at most {MAX_FIELD_CHARS}")
    assert err.field == "note"
    pq.write_table(pa.table({**columns, "country": ["US", "U" * 1_000_000]}), path)
    _refused(ready, lambda: ready.import_members(path), f"{path}:row 2", f"at most {MAX_FIELD_CHARS}")
    wide = {**columns, **{f"c{i}": [0, 0] for i in range(MAX_FIELDS)}}
    pq.write_table(pa.table(wide), path)
    _refused(ready, lambda: ready.import_members(path), str(path), f"at most {MAX_FIELDS} are allowed")
    assert ready.find_member("m7") is None
