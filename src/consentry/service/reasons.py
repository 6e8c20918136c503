"""Reason codes in the member's words: what a page or a receipt says instead of the raw code."""

from __future__ import annotations

from datetime import datetime

from consentry.vocab import ReasonCode

__all__ = ["REASON_LABELS", "reason_label"]

#: What each reason means to the member, in words (never the raw code).
REASON_LABELS: dict[ReasonCode, str] = {
    ReasonCode.ALLOWED: "In use",
    ReasonCode.MALFORMED: "Not used: the record could not be read",
    ReasonCode.CREATED_AFTER_AS_OF: "Not used: created after the dataset's date",
    ReasonCode.UNKNOWN_MEMBER: "Not used: we have no record of your account",
    ReasonCode.NOT_DISCLOSED: "Not used: our terms in effect do not mention this use",
    ReasonCode.REGION_EXCLUDED: "Not used: this does not apply in your region",
    ReasonCode.NOTICE_PERIOD: "Not used yet: the notice period of our new terms is running",
    ReasonCode.MINOR: "Not used: you are under the minimum age for this use",
    ReasonCode.AGE_UNKNOWN: "Not used: we do not know your date of birth",
    ReasonCode.CATEGORY_EXCLUDED: "Not used: this kind of content is excluded",
    ReasonCode.VISIBILITY_EXCLUDED: "Not used: content with this visibility is excluded",
    ReasonCode.ACCOUNT_CLOSED: "Not used: your account is closed",
    ReasonCode.RECORD_DELETED: "Not used: the content was deleted",
    ReasonCode.OBJECTION_PENDING: "Paused while your objection is reviewed",
    ReasonCode.OBJECTION_UPHELD: "Off: your objection was upheld",
    ReasonCode.OPTED_OUT: "Off: turned off",
    ReasonCode.NOT_OPTED_IN: "Off until you turn it on",
    ReasonCode.SCRUB_FAILED: "Not used: personal details could not be removed",
}


def reason_label(reason: ReasonCode, starts: datetime | None = None) -> str:
    """The member-facing words for a reason code (the notice period names its end when known)."""
    if reason is ReasonCode.NOTICE_PERIOD and starts is not None:
        return f"Not used yet: our new terms allow it from {starts.day} {starts:%B %Y}"
    return REASON_LABELS.get(reason, "Not used")
