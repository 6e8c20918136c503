"""Members import: JSONL, CSV and Parquet, all-or-nothing, with file:line errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.errors import InputError, NotFoundError
from consentry.store import SqlStore

from .conftest import t

ROWS = [
    {"member_id": "a1", "country": "NO", "birth_date": "1990-02-03", "created_at": "2020-01-01T00:00:00Z"},
    {"member_id": "a2", "country": "US", "birth_date": "", "created_at": "2021-01-01T10:00:00+02:00"},
    {
        "member_id": "a3",
        "country": "",
        "birth_date": None,
        "created_at": "2022-01-01",
        "closed_at": "2024-01-01T00:00:00Z",
    },
]


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _csv(path: Path, rows: list[dict[str, object]]) -> Path:
    cols = ["member_id", "country", "birth_date", "created_at", "closed_at"]
    lines = [",".join(cols)] + [",".join(str(r.get(c) or "") for c in cols) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _parquet(path: Path, rows: list[dict[str, object]]) -> Path:
    table = pa.table(
        {
            "member_id": [r["member_id"] for r in rows],
            "country": [r["country"] or None for r in rows],
            "birth_date": [date.fromisoformat(str(r["birth_date"])) if r["birth_date"] else None for r in rows],
            "created_at": [
                t(str(r["created_at"]) if "T" in str(r["created_at"]) else f"{r['created_at']}T00:00:00Z") for r in rows
            ],
            "closed_at": [t(str(r["closed_at"])) if r.get("closed_at") else None for r in rows],
        }
    )
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("writer", [_jsonl, _csv, _parquet], ids=["jsonl", "csv", "parquet"])
def test_import_each_format(store: SqlStore, tmp_path: Path, writer: object) -> None:
    ext = {"_jsonl": "jsonl", "_csv": "csv", "_parquet": "parquet"}[writer.__name__]  # type: ignore[attr-defined]
    path = writer(tmp_path / f"members.{ext}", ROWS)  # type: ignore[operator]
    assert store.import_members(path) == 3
    a1, a2, a3 = (store.member(m) for m in ("a1", "a2", "a3"))
    assert (a1.country, a1.birth_date, a1.created_at) == ("NO", date(1990, 2, 3), t("2020-01-01T00:00:00Z"))
    assert (a2.birth_date, a2.created_at) == (None, t("2021-01-01T08:00:00Z"))
    assert (a3.country, a3.closed_at) == (None, t("2024-01-01T00:00:00Z"))
    table = store.members_table()
    assert table.column("member_id").to_pylist() == ["a1", "a2", "a3"]
    assert table.column("birth_date").to_pylist() == [date(1990, 2, 3), None, None]


def test_reimport_updates_members(store: SqlStore, tmp_path: Path) -> None:
    store.import_members(_jsonl(tmp_path / "m.jsonl", ROWS))
    changed = [dict(ROWS[0], country="SE", closed_at="2025-05-05T00:00:00Z")]
    store.import_members(_jsonl(tmp_path / "m2.jsonl", changed))
    again = store.member("a1")
    assert again.country == "SE" and again.closed_at == t("2025-05-05T00:00:00Z")
    assert store.members_table().num_rows == 3


@pytest.mark.parametrize(
    ("bad", "line", "field"),
    [
        ({"country": "XX"}, 3, "country"),
        ({"birth_date": "03/02/1990"}, 3, "birth_date"),
        ({"created_at": "yesterday"}, 3, "created_at"),
        ({"created_at": "2020-01-01T00:00:00"}, 3, "created_at"),
        ({"member_id": ""}, 3, "member_id"),
        ({"member_id": "a1"}, 3, "member_id"),
        ({"closed_at": "2000-01-01T00:00:00Z"}, 3, "closed_at"),
    ],
    ids=["country", "date", "time", "naive-time", "empty-id", "duplicate-id", "closed-before-created"],
)
def test_bad_row_names_file_line_field_and_writes_nothing(
    store: SqlStore, tmp_path: Path, bad: dict[str, str], line: int, field: str
) -> None:
    rows = [ROWS[0], ROWS[1], dict(ROWS[2], **bad)]
    path = _jsonl(tmp_path / "m.jsonl", rows)
    with pytest.raises(InputError) as err:
        store.import_members(path)
    assert err.value.where == f"{path}:{line}"
    assert err.value.field == field
    assert store.members_table().num_rows == 0


def test_bad_birth_date_is_not_echoed(store: SqlStore, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "m.jsonl", [dict(ROWS[0], birth_date="1990-13-45")])
    with pytest.raises(InputError) as err:
        store.import_members(path)
    assert "1990" not in str(err.value)


def test_missing_column_in_csv(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("member_id,birth_date,created_at\na1,,2020-01-01T00:00:00Z\n")
    with pytest.raises(InputError) as err:
        store.import_members(path)
    assert err.value.where == f"{path}:1" and err.value.field == "country"


def test_csv_error_line_numbers(store: SqlStore, tmp_path: Path) -> None:
    path = _csv(tmp_path / "m.csv", [ROWS[0], dict(ROWS[1], country="ZZ")])
    with pytest.raises(InputError) as err:
        store.import_members(path)
    assert err.value.where == f"{path}:3"


def test_invalid_json_and_missing_file(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(InputError, match=r"m\.jsonl:2"):
        store.import_members(path)
    with pytest.raises(InputError, match="no such file"):
        store.import_members(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="unsupported file type"):
        store.import_members(_jsonl(tmp_path / "m.txt", ROWS))


def test_member_lookup_and_close(store: SqlStore, tmp_path: Path) -> None:
    store.import_members(_jsonl(tmp_path / "m.jsonl", ROWS))
    assert store.find_member("zz") is None
    with pytest.raises(NotFoundError):
        store.member("zz")
    closed = store.close_account("a2", t("2025-03-01T00:00:00Z"))
    assert closed.closed_at == t("2025-03-01T00:00:00Z")
    with pytest.raises(NotFoundError):
        store.close_account("zz", t("2025-03-01T00:00:00Z"))
