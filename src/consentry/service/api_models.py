"""The JSON API's response bodies, typed: what `/openapi.json` promises and Schemathesis checks.

Times are RFC 3339 strings in UTC (``…Z``), as `consentry.timeutil.iso` writes
them. A purpose id is marked `x-consentry-purpose`: the published OpenAPI
document turns it into the enum of the policy's purposes (consentry.service.openapi).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from consentry.service.member_actions import ChangedBy, ControlKind
from consentry.vocab import CaseStatus, Choice, LegalBasis, Mode, ReasonCode, Source

__all__ = [
    "BuildUse",
    "ChoiceHistory",
    "DataUse",
    "Event",
    "Health",
    "Instant",
    "IsoReceipt",
    "Jwk",
    "JwkSet",
    "KantaraReceipt",
    "MemberCase",
    "MemberObjections",
    "PurposeId",
    "PurposeSettingOut",
    "ReceiptEffect",
    "SessionOut",
    "SettingsOut",
    "SignedReceiptOut",
]

#: Marks a schema as "one of the policy's purposes" (replaced by the enum in /openapi.json).
PURPOSE_MARK = "x-consentry-purpose"

Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
PurposeId = Annotated[str, Field(min_length=1, max_length=64, json_schema_extra={PURPOSE_MARK: True})]


class Out(BaseModel):
    """A response body: every field always present (null when unknown)."""

    model_config = ConfigDict(extra="forbid")


class Health(Out):
    """Liveness."""

    status: Literal["ok"]


class SessionOut(Out):
    """Who is signed in, and the CSRF token to send back as `X-CSRF-Token` on writes."""

    member_id: str
    csrf_token: str


class PurposeSettingOut(Out):
    """One purpose: its control, the decision the builds use now, and the member's own setting."""

    purpose: PurposeId
    label: str
    description: str | None
    legal_basis: LegalBasis
    control: ControlKind
    mode: Mode
    enabled: bool = Field(description="the decision the builds use now (consentry decide)")
    choice_enabled: bool = Field(description="the member's own setting, or the default")
    reason: ReasonCode
    reason_label: str
    since: Instant | None
    changed_by: ChangedBy
    event_id: int | None
    open_case_id: str | None
    sentence: str


class SettingsOut(Out):
    """The member's data-privacy settings now."""

    member_id: str
    country: str | None
    at: Instant
    policy_version: str | None
    terms_url: str | None
    gpc_honoured: bool
    purposes: list[PurposeSettingOut]


class Event(Out):
    """One consent event of the ledger."""

    event_id: int
    purpose: PurposeId
    choice: Choice
    at: Instant
    recorded_at: Instant | None
    source: Source
    policy_version: str | None
    case_id: str | None
    hash: str | None


class ChoiceHistory(Out):
    """Every choice of the member, newest first."""

    choices: list[Event]


class MemberCase(Out):
    """An objection case as its member sees it (no staff ids)."""

    case_id: str
    purposes: list[PurposeId]
    received_at: Instant
    due_by: Instant
    status: CaseStatus
    text: str | None
    extended_at: Instant | None
    extension_reasons: str | None
    decided_at: Instant | None
    grounds: str | None


class MemberObjections(Out):
    """The member's cases, newest first, and the purposes the objection form offers now."""

    cases: list[MemberCase]
    purposes: list[PurposeId]


class BuildUse(Out):
    """A training-data build that used the member's data."""

    build_id: str
    purpose: PurposeId
    as_of: Instant
    created_at: Instant


class DataUse(Out):
    """Builds that used the member's data."""

    builds: list[BuildUse]


class Processing(Out):
    """What a choice did when it was made: the decision the builds took then."""

    as_of: Instant
    data_used: bool
    reason: ReasonCode
    reason_label: str


class _Loose(BaseModel):
    """A JSON-LD / Kantara object: the named fields, and whatever else the standard allows."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ReceiptEffect(_Loose):
    """What the choice did when it was made (`cs:ProcessingEffect`)."""

    type: Literal["cs:ProcessingEffect"] = Field(alias="@type")
    as_of: Instant
    data_used: bool
    reason: ReasonCode
    reason_label: str


class IsoReceipt(_Loose):
    """ISO/IEC TS 27560 consent receipt (JSON-LD, W3C DPV terms; docs/receipts.md)."""

    context: dict[str, Any] = Field(alias="@context")
    type: list[Literal["dpv:ConsentRecord", "dpv:ConsentReceipt"]] = Field(alias="@type")
    schema_version: str
    record_id: str
    created: Instant
    data_subject: dict[str, Any]
    controller: dict[str, Any]
    notice: dict[str, Any]
    purpose: dict[str, Any]
    legal_basis: Literal["dpv:Consent", "dpv:LegitimateInterest"]
    jurisdiction: dict[str, Any]
    personal_data: list[dict[str, Any]]
    operations: list[str]
    storage: list[dict[str, Any]]
    processing_conditions: list[dict[str, Any]] | None = None
    recipients: list[dict[str, Any]]
    rights: list[dict[str, Any]]
    withdrawal: dict[str, Any] | None = None
    objection: dict[str, Any] | None = None
    authority: dict[str, Any] | None = None
    event: dict[str, Any]
    history: list[dict[str, Any]] | None = None
    effect: ReceiptEffect | None = None


class KantaraReceipt(_Loose):
    """Kantara Initiative Consent Receipt v1.1."""

    version: str
    jurisdiction: str
    consentTimestamp: int  # the standard names, as written
    collectionMethod: str
    consentReceiptID: str
    language: str
    piiPrincipalId: str
    piiControllers: list[dict[str, Any]]
    policyUrl: str | None
    services: list[dict[str, Any]]
    sensitive: bool
    spiCat: list[str]
    policyVersion: str | None
    policySha256: str | None
    ledgerEventHash: str | None
    processingStatus: Processing | None = None


class SignedReceiptOut(Out):
    """A receipt signed with the store's current key: a JWS in the flattened JSON serialization (RFC 7515)."""

    protected: str = Field(description="base64url of the JWS header: alg Ed25519, kid, cty")
    payload: str = Field(description="base64url of the receipt's JSON")
    signature: str = Field(description="base64url of the Ed25519 signature")


class Jwk(Out):
    """The public half of a receipt signing key (RFC 7517, OKP Ed25519)."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str = Field(description="the key's RFC 7638 thumbprint, as in a signed receipt's header")
    alg: Literal["Ed25519"]
    use: Literal["sig"]


class JwkSet(Out):
    """The keys that verify signed receipts, current first."""

    keys: list[Jwk]
