"""The optional `receipts:` block of a policy version: what a consent receipt states beyond the rules.

ISO/IEC TS 27560 asks a consent record for facts the rules themselves do not
need: the notice's language, the personal-data categories (and whether they
are sensitive or of a special category), the processing operations, where data
is stored and processed, how long it is kept, who receives it, how a choice is
withdrawn, the data subject's rights, the supervisory authority and how long a
choice stays valid. A version states them here; every field has a default, and
a version without the block gets the defaults (see docs/policy.md), so
existing policy files stay valid and keep their hashes.

Categories and operations are names of W3C DPV concepts (`pd:` personal-data
categories, `dpv:` purposes and processing operations), checked against the
lists below so a receipt never names a concept DPV does not define.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from consentry.errors import PolicyIssue
from consentry.policy.countries import expand, is_country

__all__ = [
    "DPV_PERSONAL_DATA",
    "DPV_PROCESSING",
    "DPV_PURPOSES",
    "Authority",
    "DataCategory",
    "PurposeReceiptTerms",
    "ReceiptRecipient",
    "ReceiptTerms",
    "RecipientRole",
    "Right",
    "check_receipt_terms",
]

# DPV 2.2 processing operations (https://w3id.org/dpv#), the ones a data platform does.
DPV_PROCESSING = frozenset(
    [
        "Adapt",
        "Aggregate",
        "Analyse",
        "Anonymise",
        "Collect",
        "Combine",
        "Consult",
        "Copy",
        "Derive",
        "Disclose",
        "Erase",
        "Filter",
        "Generate",
        "Infer",
        "Obtain",
        "Organise",
        "Profiling",
        "Pseudonymise",
        "Record",
        "Remove",
        "Retrieve",
        "Share",
        "Store",
        "Structure",
        "Transfer",
        "Transform",
        "Use",
    ]
)
# DPV 2.2 purposes a purpose of a policy can be a kind of (skos:broader).
DPV_PURPOSES = frozenset(
    [
        "Advertising",
        "CommercialResearch",
        "EnforceSecurity",
        "FraudPreventionAndDetection",
        "ImproveExistingProductsAndServices",
        "Marketing",
        "MisusePreventionAndDetection",
        "PersonalisedAdvertising",
        "Personalisation",
        "ResearchAndDevelopment",
        "ServiceOptimisation",
        "ServicePersonalisation",
        "ServiceProvision",
        "TargetedAdvertising",
    ]
)
# DPV 2.2 personal-data categories (https://w3id.org/dpv/pd#) of a social platform's members.
DPV_PERSONAL_DATA = frozenset(
    [
        "AccountIdentifier",
        "Age",
        "BirthDate",
        "Behavioural",
        "Biometric",
        "BrowsingBehaviour",
        "Communication",
        "CommunicationsMetadata",
        "Contact",
        "EmailAddress",
        "EthnicOrigin",
        "Genetic",
        "Health",
        "Identifier",
        "IndividualProfile",
        "Interaction",
        "Language",
        "Name",
        "Opinion",
        "PoliticalAffiliation",
        "PoliticalOpinion",
        "Preference",
        "PrivacyPreference",
        "Profile",
        "PubliclyAvailableSocialMedia",
        "Religion",
        "ReligiousBelief",
        "Sexual",
        "SexualPreference",
        "Social",
        "SocialMedia",
        "SocialMediaCommunication",
        "SocialNetwork",
        "TradeUnionMembership",
        "UserAgent",
        "Username",
    ]
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _dpv_names(names: list[str], known: frozenset[str], what: str) -> list[str]:
    for n in names:
        if n not in known:
            raise ValueError(f"{n!r} is not a DPV {what} Consentry knows; use one of: {', '.join(sorted(known))}")
    if len(set(names)) != len(names):
        raise ValueError("lists a name twice; list each once")
    return names


class Right(StrEnum):
    """The data subject's rights a receipt lists (titles in `RIGHT_TITLES`)."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    OBJECT = "object"
    WITHDRAW_CONSENT = "withdraw_consent"
    COMPLAINT = "complaint"


class RecipientRole(StrEnum):
    """What a recipient is to the controller (a DPV entity type)."""

    CONTROLLER = "controller"
    PROCESSOR = "processor"
    THIRD_PARTY = "third_party"


class DataCategory(_Strict):
    """A personal-data category a purpose processes: a DPV `pd:` concept, with its flags."""

    category: str
    label: str | None = None
    sensitive: bool = False
    special_category: bool = False

    @field_validator("category")
    @classmethod
    def _known(cls, v: str) -> str:
        return _dpv_names([v], DPV_PERSONAL_DATA, "personal-data category (pd:)")[0]


class ReceiptRecipient(_Strict):
    """Someone the purpose's data goes to, besides the controller."""

    name: str = Field(min_length=1)
    role: RecipientRole = RecipientRole.THIRD_PARTY
    country: str | None = None


class Authority(_Strict):
    """The supervisory authority for members in `countries` (codes or group names)."""

    countries: list[str] = Field(min_length=1)
    name: str = Field(min_length=1)
    url: str | None = None


class PurposeReceiptTerms(_Strict):
    """What receipts state about one purpose."""

    category: str | None = None
    personal_data: list[DataCategory] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=lambda: ["Store", "Use"], min_length=1)
    retention: str | None = None
    retention_note: str | None = None
    recipients: list[ReceiptRecipient] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _purpose(cls, v: str | None) -> str | None:
        return None if v is None else _dpv_names([v], DPV_PURPOSES, "purpose (dpv:)")[0]

    @field_validator("operations")
    @classmethod
    def _operations(cls, v: list[str]) -> list[str]:
        return _dpv_names(v, DPV_PROCESSING, "processing operation (dpv:)")

    @field_validator("retention")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        return _iso_duration(v)


class ReceiptTerms(_Strict):
    """A version's `receipts:` block."""

    language: str = Field("en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    storage_locations: list[str] = Field(default_factory=list)
    processing_locations: list[str] = Field(default_factory=list)
    withdrawal_url: str | None = None
    rights_url: str | None = None
    rights: list[Right] = Field(default_factory=lambda: list(Right))
    validity: str | None = None
    authorities: list[Authority] = Field(default_factory=list)
    purposes: dict[str, PurposeReceiptTerms] = Field(default_factory=dict)

    @field_validator("validity")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        return _iso_duration(v)

    def with_countries_expanded(self, groups: Mapping[str, frozenset[str]]) -> ReceiptTerms:
        """The same terms with each authority's groups replaced by their sorted country codes."""
        authorities = [
            a.model_copy(update={"countries": sorted(expand(a.countries, groups))}) for a in self.authorities
        ]
        return self.model_copy(update={"authorities": authorities})

    def authority_for(self, country: str | None) -> Authority | None:
        """The supervisory authority for a member in `country` (the first that lists it), if any."""
        return next((a for a in self.authorities if country and country in a.countries), None)

    def purpose(self, name: str) -> PurposeReceiptTerms:
        """The purpose's terms, or the defaults when the block does not name it."""
        return self.purposes.get(name) or PurposeReceiptTerms()


def _iso_duration(v: str | None) -> str | None:
    if v is not None and not re.fullmatch(r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?", v):
        raise ValueError(f"{v!r} is not an ISO 8601 duration (e.g. P2Y, P6M, P30D)")
    return v


def check_receipt_terms(
    terms: ReceiptTerms,
    purposes: Mapping[str, Any],
    vpath: tuple[str | int, ...],
    groups: Mapping[str, frozenset[str]],
    issue: Callable[..., PolicyIssue],
) -> Iterator[PolicyIssue]:
    """Cross-field checks of a version's block: purposes it names, and country codes or groups."""
    path = (*vpath, "receipts")
    for name in terms.purposes:
        if name not in purposes:
            yield issue((*path, "purposes", name), f"{name!r} is not a purpose of this version; remove it or add it")
    for field in ("storage_locations", "processing_locations"):
        for i, code in enumerate(getattr(terms, field)):
            if not is_country(code):
                yield issue((*path, field, i), f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    for a, authority in enumerate(terms.authorities):
        for c, entry in enumerate(authority.countries):
            if entry not in groups and not is_country(entry):
                yield issue(
                    (*path, "authorities", a, "countries", c),
                    f"{entry!r} is neither an ISO 3166-1 alpha-2 code nor a group name",
                )
    for name, p in terms.purposes.items():
        for r, recipient in enumerate(p.recipients):
            if recipient.country is not None and not is_country(recipient.country):
                yield issue(
                    (*path, "purposes", name, "recipients", r, "country"),
                    f"{recipient.country!r} is not an ISO 3166-1 alpha-2 country code",
                )
