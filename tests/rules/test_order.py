"""The reason order's declaration: in ReasonCode's order, documented as declared, and checked when imported."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentry.policy import load_policy
from consentry.rules import REASONS, RECORD_CLASSES, Reason, Stage, record_class_sql
from consentry.rules.order import _check
from consentry.vocab import ReasonCode

DOCS = Path(__file__).parents[2] / "docs" / "rules.md"
REFERENCE = Path(__file__).parents[2] / "examples" / "policies" / "social-network.yaml"


def test_the_order_is_reason_codes_order_and_the_docs_table_says_so() -> None:
    rows = re.findall(r"^\| (\d+) \| `([A-Z_]+)` \| ([a-z—]+) \|", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    documented = [(code, stage) for _, code, stage in rows]
    declared = [(r.code.value, r.stage.value) for r in REASONS]
    assert documented == [*declared, ("SCRUB_FAILED", "scrub"), ("ALLOWED", "—")]
    assert [code for code, _ in documented] == [c.value for c in ReasonCode]


def test_record_entries_read_the_record_and_member_entries_a_verdict() -> None:
    for r in REASONS:
        if r.stage is Stage.RECORD:
            assert r.verdict is None, r.code
        if r.stage in (Stage.MEMBER, Stage.CONSENT):
            assert r.verdict is not None, r.code
    reserved = [f"RESERVED_BY_RIGHTS_HOLDER__{c}" for c in ("aipref", "tdmrep", "robots", "cawg", "unreadable")]
    expected = ("MALFORMED", "CREATED_AFTER_AS_OF", "CATEGORY_EXCLUDED", "VISIBILITY_EXCLUDED", *reserved)
    assert (*expected, "RECORD_DELETED", "OK") == RECORD_CLASSES


def _swapped(i: int) -> tuple[Reason, ...]:
    reasons = list(REASONS)
    reasons[i], reasons[i + 1] = reasons[i + 1], reasons[i]
    return tuple(reasons)


def _changed(code: ReasonCode, **changes: object) -> tuple[Reason, ...]:
    return tuple(dataclasses.replace(r, **changes) if r.code is code else r for r in REASONS)  # type: ignore[arg-type]


def test_a_declaration_the_forms_cannot_follow_is_refused() -> None:
    _check(REASONS)
    with pytest.raises(AssertionError, match="ReasonCode's order"):
        _check(_swapped(0))
    with pytest.raises(AssertionError, match="ReasonCode's order"):
        _check(REASONS[:-1])
    with pytest.raises(AssertionError, match="adjacent"):  # gate_reason split in two by a record entry
        _check(_changed(ReasonCode.ACCOUNT_CLOSED, verdict="gate_reason"))
    with pytest.raises(AssertionError, match="one entry only"):  # a flag holds one code
        _check(_changed(ReasonCode.RECORD_DELETED, verdict="closed", keeps=None))
    with pytest.raises(AssertionError, match="keeps"):
        _check(_changed(ReasonCode.RECORD_DELETED, keeps=None))
    with pytest.raises(AssertionError, match="causes come with"):  # counted per cause, but no SQL for a cause
        _check(_changed(ReasonCode.RESERVED_BY_RIGHTS_HOLDER, cause_sql=None))


def test_a_record_entry_is_one_class_and_one_condition() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    sql = record_class_sql(load_policy(REFERENCE), "genai_training", at=at, now=at)
    whens = [line.split("THEN ")[-1] for line in sql.splitlines() if "WHEN" in line]
    assert whens == [f"'{c}'" for c in RECORD_CLASSES[:-1]]  # an entry counted per cause: one WHEN a cause
