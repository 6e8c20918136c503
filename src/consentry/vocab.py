"""Closed vocabularies shared by every layer: reason codes, choices, sources, modes."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "PUBLISHED_SIGNAL_CATEGORIES",
    "CaseStatus",
    "Choice",
    "Control",
    "LegalBasis",
    "Mode",
    "ReasonCode",
    "SignalKind",
    "Source",
    "Visibility",
]


class ReasonCode(StrEnum):
    """Why a record may or may not be used; evaluated in this order (docs/rules.md)."""

    MALFORMED = "MALFORMED"
    CREATED_AFTER_AS_OF = "CREATED_AFTER_AS_OF"
    UNKNOWN_MEMBER = "UNKNOWN_MEMBER"
    NOT_DISCLOSED = "NOT_DISCLOSED"
    REGION_EXCLUDED = "REGION_EXCLUDED"
    NOTICE_PERIOD = "NOTICE_PERIOD"
    MINOR = "MINOR"
    AGE_UNKNOWN = "AGE_UNKNOWN"
    CATEGORY_EXCLUDED = "CATEGORY_EXCLUDED"
    VISIBILITY_EXCLUDED = "VISIBILITY_EXCLUDED"
    RESERVED_BY_RIGHTS_HOLDER = "RESERVED_BY_RIGHTS_HOLDER"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    RECORD_DELETED = "RECORD_DELETED"
    OBJECTION_PENDING = "OBJECTION_PENDING"
    OBJECTION_UPHELD = "OBJECTION_UPHELD"
    OPTED_OUT = "OPTED_OUT"
    NOT_OPTED_IN = "NOT_OPTED_IN"
    SCRUB_FAILED = "SCRUB_FAILED"
    ALLOWED = "ALLOWED"

    @property
    def rank(self) -> int:
        """Position in the evaluation order (0 = first checked)."""
        return _ORDER.index(self)


_ORDER = list(ReasonCode)


class Choice(StrEnum):
    """A member's choice for a purpose."""

    ALLOW = "allow"
    DENY = "deny"


class Source(StrEnum):
    """Where a consent event came from."""

    SETTINGS = "settings"
    OBJECTION_FORM = "objection_form"
    GPC = "gpc"
    IMPORT = "import"
    ADMIN = "admin"
    API = "api"


class Mode(StrEnum):
    """How a purpose applies in a region."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    EXCLUDED = "excluded"

    @property
    def strictness(self) -> int:
        """Higher is stricter: excluded > opt_in > opt_out."""
        return {Mode.OPT_OUT: 0, Mode.OPT_IN: 1, Mode.EXCLUDED: 2}[self]


class Control(StrEnum):
    """How a member expresses a choice for a purpose."""

    SETTING = "setting"
    OBJECTION_FORM = "objection_form"
    NONE = "none"


class LegalBasis(StrEnum):
    """The legal basis a purpose relies on."""

    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"


class Visibility(StrEnum):
    """Who can see a record on the platform."""

    PUBLIC = "public"
    CONNECTIONS = "connections"
    PRIVATE = "private"


class CaseStatus(StrEnum):
    """The states of an objection case."""

    RECEIVED = "received"
    UPHELD = "upheld"
    REJECTED = "rejected"


class SignalKind(StrEnum):
    """A standard way of stating a reservation against AI use or text-and-data mining (docs/signals.md).

    The order is fixed: the signals verdict of a record (`consentry.rules.reservations`) has one
    character per kind, in this order.
    """

    AIPREF = "aipref"  # IETF AI preferences: the Content-Usage header and robots.txt rule
    TDMREP = "tdmrep"  # W3C TDM Reservation Protocol: tdm-reservation, tdm-policy, tdmrep.json
    ROBOTS = "robots"  # X-Robots-Tag: noai, noimageai
    CAWG = "cawg"  # the CAWG training-and-data-mining assertion of a C2PA manifest


#: What Consentry publishes for each kind of signal a purpose maps to (CAWG is only ever read):
#: aipref usage categories (draft-ietf-aipref-vocab), TDMRep's one reservation, X-Robots-Tag directives.
PUBLISHED_SIGNAL_CATEGORIES: dict[SignalKind, tuple[str, ...]] = {
    SignalKind.AIPREF: ("train-ai", "ai-use", "search"),
    SignalKind.TDMREP: ("tdm",),
    SignalKind.ROBOTS: ("noai", "noimageai"),
}
