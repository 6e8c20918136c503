"""The policy file as typed data: versions, purposes, region rules.

These models mirror the YAML format of docs/policy.md one-to-one; `extra="forbid"`
everywhere so a misspelt key is an error, not a silently ignored rule.
Cross-field checks that need the whole document (country groups, region
overlaps, version ordering) live in `consentry.policy.validate`.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from consentry.policy.receipt_terms import ReceiptTerms
from consentry.vocab import PUBLISHED_SIGNAL_CATEGORIES, Control, LegalBasis, Mode, SignalKind, Visibility

__all__ = [
    "DEFAULT_FORGET_WITHIN_DAYS",
    "DEFAULT_MAX_EXPOSURE",
    "DEFAULT_MAX_EXTRACTION_RATE",
    "AuditSettings",
    "DatasetSettings",
    "ObjectionSettings",
    "PolicyDocument",
    "PurposeRule",
    "PurposeText",
    "RegionRule",
    "VersionSpec",
    "VersionTexts",
]

#: Days to retrain a model without data its owner took back, when a purpose does not say
#: (docs/policy.md: the one-month limit for answering a request to erase or object).
DEFAULT_FORGET_WITHIN_DAYS = 30
#: The highest canary exposure (bits) a memorisation audit passes when a purpose does not say:
#: the canary ranks among the top 1/1024 of its format's candidates (docs/audit.md).
DEFAULT_MAX_EXPOSURE = 10.0
#: The highest share of extraction probes completing a member's true value, when a purpose does not say:
#: four times what chance gives with the probe's 20 candidates per value (1/21, docs/audit.md).
DEFAULT_MAX_EXTRACTION_RATE = 0.2

PURPOSE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectionSettings(_Strict):
    """How objection cases are handled under a version."""

    response_days: int = Field(30, ge=1, le=366)
    max_extension_days: int = Field(60, ge=0, le=366)
    restrict_while_pending: bool = True


class DatasetSettings(_Strict):
    """How build outputs made under a version describe themselves (Croissant metadata, dataset card)."""

    #: the licence of the build outputs: an SPDX id (``CC-BY-NC-4.0``) or the URL of the licence text
    license: str = Field(min_length=1, max_length=200)
    #: who publishes the datasets (an organisation's name)
    creator: str | None = Field(None, min_length=1, max_length=200)


class RegionRule(_Strict):
    """A mode for a set of countries (ISO 3166-1 alpha-2 codes or group names)."""

    countries: list[str] = Field(min_length=1)
    mode: Mode


class WebContentSettings(_Strict):
    """Third-party content (records of origin `web`) for one purpose, and the rights holders' signals it honours."""

    #: may records of origin `web` be used at all (absent block: no, CATEGORY_EXCLUDED)
    eligible: bool = False
    #: the signal kinds whose reservations exclude a record (RESERVED_BY_RIGHTS_HOLDER); an unknown kind is refused
    honour_signals: list[SignalKind] = Field(default_factory=lambda: list(SignalKind))

    @field_validator("honour_signals")
    @classmethod
    def _once(cls, kinds: list[SignalKind]) -> list[SignalKind]:
        if len(set(kinds)) != len(kinds):
            raise ValueError("lists a signal kind twice; list each once")
        return kinds


class AuditSettings(_Strict):
    """A purpose's model audits: whether a passed memorisation audit is required, and its thresholds."""

    #: A model version trained for the purpose is releasable only after a passed memorisation audit
    required: bool = False
    #: The highest exposure (bits) any planted canary may have
    max_exposure: float = Field(DEFAULT_MAX_EXPOSURE, ge=0, le=1000)
    #: The highest share of extraction probes on members in the builds that may complete the true value
    max_extraction_rate: float = Field(DEFAULT_MAX_EXTRACTION_RATE, ge=0, le=1)


class PurposeRule(_Strict):
    """What a version says about one purpose."""

    label: str = Field(min_length=1)
    description: str | None = None
    legal_basis: LegalBasis
    assessment: str | None = None
    control: Control = Control.SETTING
    gpc: bool = False
    mode: Mode
    regions: list[RegionRule] = Field(default_factory=list)
    min_age: int | None = Field(None, ge=0, le=120)
    require_birth_date: bool = False
    kinds: list[str] = Field(min_length=1)
    visibility: list[Visibility] = Field(default_factory=lambda: [Visibility.PUBLIC], min_length=1)
    pass_through: list[str] = Field(default_factory=list)
    # Forgetting: days to retrain a model without data taken back (None: DEFAULT_FORGET_WITHIN_DAYS);
    # left out of the canonical form when absent, so versions written before it keep their SHA-256.
    forget_within_days: int | None = Field(None, ge=1, le=3650)
    #: Signals published on members' pages while the purpose is reserved for them:
    #: kind -> categories (docs/signals.md), e.g. {aipref: train-ai, robots: [noai, noimageai]}.
    signals: dict[SignalKind, list[str]] = Field(default_factory=dict)

    @field_validator("signals", mode="before")
    @classmethod
    def _one_category_or_a_list(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("signals")
    @classmethod
    def _published_categories(cls, signals: dict[SignalKind, list[str]]) -> dict[SignalKind, list[str]]:
        for kind, categories in signals.items():
            known = PUBLISHED_SIGNAL_CATEGORIES.get(kind)
            if known is None:
                raise ValueError(f"{kind.value}: Consentry reads this signal but never publishes it; remove it")
            if not categories:
                raise ValueError(f"{kind.value}: name at least one of {', '.join(known)}")
            for c in categories:
                if c not in known:
                    raise ValueError(f"{kind.value}: {c!r} is not one of {', '.join(known)}")
            if len(set(categories)) != len(categories):
                raise ValueError(f"{kind.value}: lists a category twice; list each once")
        return signals

    # Third-party content and rights holders' signals (absent: web content not eligible, every signal honoured).
    web_content: WebContentSettings | None = None
    # Model audits (absent: no audit required; docs/audit.md).
    audit: AuditSettings | None = None

    @property
    def web_eligible(self) -> bool:
        """Records of origin `web` may be used for this purpose."""
        return self.web_content is not None and self.web_content.eligible

    @property
    def honoured_signals(self) -> tuple[SignalKind, ...]:
        """The signal kinds this purpose honours, in SignalKind's order (every kind unless the policy says)."""
        chosen = set(self.web_content.honour_signals) if self.web_content is not None else set(SignalKind)
        return tuple(k for k in SignalKind if k in chosen)

    @field_validator("kinds", "pass_through")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for n in names:
            if not KIND_NAME.match(n):
                raise ValueError(f"{n!r} is not a valid name; use lower_snake_case")
        if len(set(names)) != len(names):
            raise ValueError("lists a name twice; list each once")
        return names


class PurposeText(_Strict):
    """A purpose's member-facing texts in one more language."""

    label: str | None = Field(None, min_length=1)
    description: str | None = Field(None, min_length=1)


class VersionTexts(_Strict):
    """A version's member-facing texts in one more language (see `PolicyDocument.languages`)."""

    notice: str | None = Field(None, min_length=1)
    purposes: dict[str, PurposeText] = Field(default_factory=dict)


class VersionSpec(_Strict):
    """One version of the policy as written in the file."""

    version: str = Field(min_length=1, max_length=64)
    published_at: AwareDatetime
    effective_at: AwareDatetime
    notice_days: int = Field(ge=0, le=3650)
    terms_url: str = Field(min_length=1)
    objections: ObjectionSettings = Field(default_factory=ObjectionSettings)
    purposes: dict[str, PurposeRule] = Field(default_factory=dict)
    #: optional; absent from the canonical form (and so from the version's SHA-256) when not given
    datasets: DatasetSettings | None = None
    # Member-facing texts: what the notice-period banner says, and the other languages.
    notice: str | None = Field(None, min_length=1)
    translations: dict[str, VersionTexts] = Field(default_factory=dict)
    # What consent receipts state beyond the rules (ISO/IEC TS 27560); None: the defaults.
    receipts: ReceiptTerms | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: object) -> object:
        # An unquoted 2024-11-20 reaches us as a date; it is still an id.
        return v.isoformat() if isinstance(v, date | datetime) else v

    @field_validator("purposes")
    @classmethod
    def _purpose_names(cls, purposes: dict[str, PurposeRule]) -> dict[str, PurposeRule]:
        for name in purposes:
            if not PURPOSE_NAME.match(name):
                raise ValueError(f"purpose name {name!r} must be lower_snake_case")
        return purposes


class PolicyDocument(_Strict):
    """A whole policy file: its name, country groups and version history."""

    policy: str = Field(min_length=1)
    country_groups: dict[str, list[str]] = Field(default_factory=dict)
    versions: list[VersionSpec] = Field(min_length=1)
    # The languages of the member-facing texts; the first is the language of the plain strings.
    languages: list[str] = Field(default_factory=list)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not LANGUAGE_CODE.match(code):
                raise ValueError(f"{code!r} is not a language code; use ISO 639-1 such as en, de, fr")
        if len(set(codes)) != len(codes):
            raise ValueError("lists a language twice; list each once")
        return codes
