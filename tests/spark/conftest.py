"""Spark test fixtures: ONE local[2] SparkSession for the whole run, and a small lake.

The lake (`spark_lake`) and its store reach every reason code in a build of
`train` as of AS_OF under tests/spark/policy.yaml (NOT_DISCLOSED as of
BEFORE_DISCLOSURE), across Parquet with timestamp columns, Parquet with RFC 3339
text times, JSONL (with unreadable lines) and CSV. Texts carry personal data of
every entity type the scrubber knows, and one text it cannot scrub.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.policy import load_policy
from consentry.store import SqlStore, open_store
from consentry.store.protocol import Member, NewEvent
from consentry.vocab import CaseStatus, Choice, Source

HERE = Path(__file__).resolve().parent
POLICY = HERE / "policy.yaml"
PURPOSE = "train"
AS_OF = datetime(2025, 2, 1, tzinfo=UTC)
BEFORE_DISCLOSURE = datetime(2024, 3, 1, tzinfo=UTC)
KEY = b"spark-test-pseudonym-key"
ADULT = date(1980, 1, 1)
#: the scrubber's default limit: longer texts cannot be scrubbed (and are never written)
UNSCRUBBABLE_CHARS = 20_000_000

#: Texts with every entity type the scrubber detects (more than one in some).
PII_TEXTS = [
    "Had coffee with Ada Lovelace and Charles Babbage today.",
    "Write to me at ada.lovelace@example.com or ada@example.org",
    "Call +1 415 555 0100 or (212) 555-0147 after six",
    "My blog: https://example.com/ada/posts?id=42",
    "Follow @ada_lovelace for more",
    "Server at 192.168.10.20 and 2001:db8::1 went down",
    "Card 4111 1111 1111 1111 was charged twice",
    "Pay to IBAN DE89 3704 0044 0532 0130 00 please",
    "SSN 123-45-6789 leaked in a screenshot",
    "My passport number is X12345678 and national id 1234567890",
    "Driver license D1234567 expires soon",
    "I live at 221B Baker Street, London NW1 6XE",
    "DOB: 1985-03-14, so a party is due",
    "BSN 111222333 and CPF 123.456.789-09 on the form",
    "token=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 oops",
    "Nothing personal in this one at all.",
]


def t(s: str) -> datetime:
    """An instant from an ISO string (UTC when no zone is given)."""
    d = datetime.fromisoformat(s)
    return d if d.tzinfo else d.replace(tzinfo=UTC)


# member_id -> (country, birth date, closed at); the name says which reason its records get
MEMBERS: dict[str, tuple[str | None, date | None, datetime | None]] = {
    "ok_us": ("US", ADULT, None),
    "ok_br": ("BR", ADULT, None),
    "ok_ca_allowed": ("CA", ADULT, None),
    "ca_silent": ("CA", ADULT, None),
    "de": ("DE", ADULT, None),
    "no_country": (None, ADULT, None),
    "fr_notice": ("FR", ADULT, None),
    "minor": ("US", date(2010, 5, 1), None),
    "no_birth": ("US", None, None),
    "closed": ("US", ADULT, t("2025-01-20")),
    "closed_later": ("US", ADULT, t("2025-06-01")),
    "opted_out": ("US", ADULT, None),
    "opted_out_later": ("US", ADULT, None),
    "pending": ("US", ADULT, None),
    "upheld": ("US", ADULT, None),
}

#: per-reason counts of a build of `train` as of AS_OF over the whole lake, without scrubbing
#: (scrubbed, one ALLOWED record becomes SCRUB_FAILED)
EXPECTED = {
    "MALFORMED": 8,
    "CREATED_AFTER_AS_OF": 2,
    "UNKNOWN_MEMBER": 1,
    "REGION_EXCLUDED": 2,
    "NOTICE_PERIOD": 1,
    "MINOR": 1,
    "AGE_UNKNOWN": 1,
    "CATEGORY_EXCLUDED": 1,
    "VISIBILITY_EXCLUDED": 1,
    "ACCOUNT_CLOSED": 3,
    "RECORD_DELETED": 2,
    "OBJECTION_PENDING": 1,
    "OBJECTION_UPHELD": 1,
    "OPTED_OUT": 2,
    "NOT_OPTED_IN": 1,
    "ALLOWED": 28,
}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one SparkSession of the test run (local[2]); builds pick it up as the active session."""
    from consentry.pipeline.engines.spark import SparkOptions, spark_session

    session = spark_session(
        SparkOptions(
            master="local[2]",
            conf={"spark.sql.shuffle.partitions": "4", "spark.default.parallelism": "2"},
            app_name="consentry-tests",
        )
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@dataclass
class Lake:
    """A seeded store and the source paths of the lake."""

    store: SqlStore
    root: Path
    sources: list[str]


def _seed(store: SqlStore) -> None:
    store.publish(load_policy(POLICY))
    store.add_members(Member(m, c, bd, t("2024-01-01"), closed) for m, (c, bd, closed) in MEMBERS.items())
    store.record(NewEvent("ok_ca_allowed", PURPOSE, Choice.ALLOW, t("2024-12-01"), Source.SETTINGS))
    store.record(NewEvent("opted_out", PURPOSE, Choice.DENY, t("2024-12-01"), Source.SETTINGS))
    store.record(NewEvent("opted_out_later", PURPOSE, Choice.ALLOW, t("2024-12-01"), Source.SETTINGS))
    store.record(NewEvent("opted_out_later", PURPOSE, Choice.DENY, t("2025-06-01"), Source.SETTINGS))
    store.file_objection("pending", [PURPOSE], t("2025-01-15"))
    case = store.file_objection("upheld", [PURPOSE], t("2025-01-05"))
    store.decide_objection(case.case_id, CaseStatus.UPHELD, t("2025-01-10"))


def rec(rid: str, member: str | None, **kw: Any) -> dict[str, Any]:
    """One record (RFC 3339 text times); keyword arguments override the defaults."""
    row: dict[str, Any] = {
        "record_id": rid,
        "member_id": member,
        "kind": "post",
        "visibility": "public",
        "created_at": "2024-12-15T10:00:00Z",
        "deleted_at": None,
        "text": f"text of {rid}",
        "language": "en",
    }
    row.update(kw)
    return row


def typed_rows() -> list[dict[str, Any]]:
    """Records for the Parquet file with timestamp columns: allowed ones with PII, and most reasons."""
    rows = [rec(f"p-ok-{i:02d}", "ok_us" if i % 2 else "ok_br", text=txt) for i, txt in enumerate(PII_TEXTS)]
    rows += [rec(f"p-{m}", m) for m in MEMBERS if not m.startswith("ok_")]
    rows += [
        rec("p-ca-allowed", "ok_ca_allowed", kind="comment", language=None),
        rec("p-old-1", "ok_us", created_at="2024-02-15T08:00:00Z"),  # NOT_DISCLOSED as of BEFORE_DISCLOSURE
        rec("p-old-2", "ok_br", created_at="2024-02-20T08:00:00Z"),
        rec("p-future", "ok_us", created_at="2025-03-01T00:00:00Z"),
        rec("p-ghost", "ghost"),
        rec("p-dm", "ok_us", kind="private_message"),
        rec("p-conn", "ok_us", visibility="connections"),
        rec("p-deleted", "ok_us", deleted_at="2025-01-20T00:00:00Z"),
        rec("p-deleted-later", "ok_br", deleted_at="2025-05-01T00:00:00Z"),
        rec("p-deleted-future", "ok_br", deleted_at="2099-01-01T00:00:00Z"),
        rec("p-null-text", "ok_us", text=None),
        rec("p-null-member", None),
        rec("", "ok_us"),
        rec("p-unscrubbable", "ok_us", text="x" * (UNSCRUBBABLE_CHARS + 1)),  # SCRUB_FAILED when scrubbed
    ]
    return rows


def text_time_rows() -> list[dict[str, Any]]:
    """Records whose times are RFC 3339 strings in many spellings, some unreadable."""
    return [
        rec("s-date-only", "ok_us", created_at="2024-12-15"),
        rec("s-offset", "ok_us", created_at="2024-12-15T10:00:00+02:00"),
        rec("s-space-z", "ok_br", created_at="2024-12-15 10:00:00Z"),
        rec("s-fraction", "ok_br", created_at="2024-12-15T10:00:00.123456Z"),
        rec("s-no-zone", "ok_us", created_at="2024-12-15T10:00:00"),
        rec("s-garbage", "ok_us", created_at="yesterday"),
        rec("s-empty-deleted", "ok_us", deleted_at=""),
        rec("s-bad-deleted", "ok_us", deleted_at="not a time"),
    ]


def _write_parquet(path: Path, rows: list[dict[str, Any]], *, typed: bool) -> None:
    ts = pa.timestamp("us", tz="UTC")

    def times(col: str) -> pa.Array:
        values = [r[col] for r in rows]
        if typed:
            return pa.array([t(v) if v else None for v in values], ts)
        return pa.array(values, pa.string())

    table = pa.table(
        {
            **{
                c: pa.array([r[c] for r in rows], pa.string()) for c in ("record_id", "member_id", "kind", "visibility")
            },
            "created_at": times("created_at"),
            "deleted_at": times("deleted_at"),
            "text": pa.array([r["text"] for r in rows], pa.string()),
            "language": pa.array([r["language"] for r in rows], pa.string()),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    lines = [json.dumps(r) for r in rows] + ["{not json", json.dumps({"record_id": "j-text-not-string", "text": 5})]
    path.write_text("\n".join(lines) + "\n")


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})


def write_lake(root: Path) -> list[str]:
    """Write the lake under root; return its sources (a directory of Parquet, a JSONL, a CSV)."""
    _write_parquet(root / "lake" / "typed.parquet", typed_rows(), typed=True)
    _write_parquet(root / "lake" / "texttime.parquet", text_time_rows(), typed=False)
    _write_jsonl(
        root / "more.jsonl",
        [rec("j-ok", "ok_us", kind="comment"), rec("j-late", "ok_us", created_at="2026-01-01T00:00:00Z")],
    )
    _write_csv(root / "more.csv", [rec("c-ok", "ok_br"), rec("c-closed", "closed_later")])
    return [str(root / "lake"), str(root / "more.jsonl"), str(root / "more.csv")]


@pytest.fixture
def spark_lake(tmp_path: Path) -> Iterator[Lake]:
    """A seeded SQLite store and the lake's sources, under tmp_path."""
    store = open_store(f"sqlite:///{tmp_path / 'db' / 'consentry.db'}")
    _seed(store)
    yield Lake(store, tmp_path, write_lake(tmp_path))
    store.close()
