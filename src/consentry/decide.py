"""The rules' public entry points: may this record of this member be used for this purpose as of T?

The rules live in `consentry.rules`, where the reason order is declared once
and every form is generated from it; this module keeps the names callers use.
"""

from __future__ import annotations

from consentry.rules import (
    MEMBER_VERDICT_SCHEMA,
    ConsentFacts,
    Decision,
    RecordFacts,
    adult_cutoff,
    decide,
    decide_for,
    decide_members,
    decide_records,
    is_allowed,
    latest_event,
    open_case_at,
)

__all__ = [
    "MEMBER_VERDICT_SCHEMA",
    "ConsentFacts",
    "Decision",
    "RecordFacts",
    "adult_cutoff",
    "decide",
    "decide_for",
    "decide_members",
    "decide_records",
    "is_allowed",
    "latest_event",
    "open_case_at",
]
