"""Reason codes in the member's words: what a page or a receipt says instead of the raw code."""

from __future__ import annotations

from datetime import datetime

from consentry.service.i18n import REASON_WORDS
from consentry.vocab import ReasonCode

__all__ = ["REASON_LABELS", "reason_label"]

#: What each reason means to the member, in words (never the raw code); the pages translate them.
REASON_LABELS: dict[ReasonCode, str] = dict(REASON_WORDS)


def reason_label(reason: ReasonCode, starts: datetime | None = None) -> str:
    """The member-facing words for a reason code (the notice period names its end when known)."""
    if reason is ReasonCode.NOTICE_PERIOD and starts is not None:
        return f"Not used yet: our new terms allow it from {starts.day} {starts:%B %Y}"
    return REASON_LABELS.get(reason, "Not used")
