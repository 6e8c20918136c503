"""A small platform for build tests: members covering every member-level reason, and a lake.

`platform` publishes the reference policy into a fresh SQLite store and adds
members whose names say what they test; `write_lake` writes records covering
every record-level reason, as Parquet, JSONL or CSV.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.policy import Policy
from consentry.store import SqlStore, open_store
from consentry.store.protocol import Member, NewEvent
from consentry.vocab import CaseStatus, Choice, Source

UTC_ = UTC
AS_OF = datetime(2025, 1, 15, tzinfo=UTC)
GENAI = "genai_training"
KEY = b"test-pseudonym-key"


def t(s: str) -> datetime:
    """An instant from 'YYYY-MM-DD'."""
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


ADULT = date(1980, 1, 1)

# member_id -> (country, birth_date, closed_at)
MEMBERS: dict[str, tuple[str | None, date | None, datetime | None]] = {
    "ok_us": ("US", ADULT, None),
    "ok_br": ("BR", ADULT, None),
    "eu_fr": ("FR", ADULT, None),
    "minor_us": ("US", date(2012, 5, 1), None),
    "nobirth_us": ("US", None, None),
    "closed_us": ("US", ADULT, t("2024-12-01")),
    "optout_us": ("US", ADULT, None),
    "later_optout_us": ("US", ADULT, None),
    "pending_us": ("US", ADULT, None),
    "upheld_us": ("US", ADULT, None),
}


@dataclass
class Platform:
    """A store with the reference policy, the members above and their choices."""

    store: SqlStore
    policy: Policy
    root: Path
    url: str = ""  # the database URL with its password, for CLI subprocesses (store.url hides it)


def _seed(store: SqlStore, policy: Policy) -> None:
    store.publish(policy)
    store.add_members(Member(m, country, bd, t("2024-01-01"), closed) for m, (country, bd, closed) in MEMBERS.items())
    store.record(NewEvent("optout_us", GENAI, Choice.DENY, t("2024-12-01"), Source.SETTINGS))
    # recorded now, effective long after the build's T: later withdrawals win
    store.record(NewEvent("later_optout_us", GENAI, Choice.DENY, t("2025-06-01"), Source.SETTINGS))
    store.file_objection("pending_us", [GENAI], t("2024-12-10"))
    case = store.file_objection("upheld_us", [GENAI], t("2024-12-10"))
    store.decide_objection(case.case_id, CaseStatus.UPHELD, t("2024-12-20"))


@pytest.fixture
def platform(tmp_path: Path, reference_policy: Policy) -> Iterator[Platform]:
    """A seeded SQLite store (see MEMBERS) under tmp_path."""
    store = open_store(f"sqlite:///{tmp_path / 'db' / 'consentry.db'}")
    _seed(store, reference_policy)
    yield Platform(store, reference_policy, tmp_path, f"sqlite:///{tmp_path / 'db' / 'consentry.db'}")
    store.close()


@pytest.fixture
def any_platform(tmp_path: Path, reference_policy: Policy, store_url: str) -> Iterator[Platform]:
    """`platform` on each kind of database: SQLite, and PostgreSQL (needs CONSENTRY_TEST_PG_URL)."""
    store = open_store(store_url)
    _seed(store, reference_policy)
    yield Platform(store, reference_policy, tmp_path, store_url)
    store.close()


def record(
    rid: str,
    member: str,
    *,
    kind: str = "post",
    visibility: str = "public",
    created: str = "2024-12-15T10:00:00Z",
    deleted: str | None = None,
    text: Any = None,
    language: str | None = "en",
) -> dict[str, Any]:
    """One record as the records contract describes it."""
    return {
        "record_id": rid,
        "member_id": member,
        "kind": kind,
        "visibility": visibility,
        "created_at": created,
        "deleted_at": deleted,
        "text": text if text is not None else f"text of {rid}",
        "language": language,
    }


def lake_records() -> list[dict[str, Any]]:
    """Records covering every reason a genai_training build as of AS_OF can give (but MALFORMED)."""
    rows = [record(f"r-ok-us-{i}", "ok_us") for i in range(3)]
    rows += [record("r-ok-br", "ok_br", kind="comment")]
    rows += [record(f"r-{m}", m) for m in MEMBERS if not m.startswith("ok_")]
    rows += [
        record("r-future", "ok_us", created="2025-02-01T00:00:00Z"),
        record("r-unknown", "nobody"),
        record("r-dm", "ok_us", kind="private_message"),
        record("r-conn", "ok_us", visibility="connections"),
        record("r-deleted", "ok_us", deleted="2024-12-31T00:00:00Z"),
        record("r-deleted-later", "ok_br", deleted="2025-03-01T00:00:00Z"),
    ]
    return rows


EXPECTED = {
    "ALLOWED": 4,
    "CREATED_AFTER_AS_OF": 1,
    "UNKNOWN_MEMBER": 1,
    "REGION_EXCLUDED": 1,
    "MINOR": 1,
    "AGE_UNKNOWN": 1,
    "CATEGORY_EXCLUDED": 1,
    "VISIBILITY_EXCLUDED": 1,
    "ACCOUNT_CLOSED": 1,
    "RECORD_DELETED": 2,
    "OBJECTION_PENDING": 1,
    "OBJECTION_UPHELD": 1,
    "OPTED_OUT": 2,
}


def _ts(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as a Parquet file with the contract's types (timestamps with time zone)."""
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "record_id": pa.array([r["record_id"] for r in rows], pa.string()),
            "member_id": pa.array([r["member_id"] for r in rows], pa.string()),
            "kind": pa.array([r["kind"] for r in rows], pa.string()),
            "visibility": pa.array([r["visibility"] for r in rows], pa.string()),
            "created_at": pa.array([_ts(r["created_at"]) for r in rows], ts),
            "deleted_at": pa.array([_ts(r["deleted_at"]) for r in rows], ts),
            "text": pa.array([r["text"] for r in rows], pa.string()),
            "language": pa.array([r["language"] for r in rows], pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]], extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    """Rows as JSONL, plus raw lines appended as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as CSV with a header line."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})
    return path
