"""The staff JSON API's response bodies, typed (see consentry.service.api_models for the conventions)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from consentry.service.api_models import Instant, Out, PurposeId
from consentry.vocab import CaseStatus, Control, LegalBasis, Mode, ReasonCode

__all__ = [
    "AuditEntryOut",
    "AuditLog",
    "BuildOut",
    "BuildRowOut",
    "Builds",
    "DecisionOut",
    "Published",
    "PublishedVersion",
    "PurposeSummary",
    "Queue",
    "QueueCase",
    "RegionChangeOut",
    "StaffCase",
    "StaleOut",
    "StaleShardOut",
    "Timeline",
    "VerifyOut",
    "VersionOut",
]


class StaffCase(Out):
    """An objection case as staff see it (with the member id and who decided)."""

    case_id: str
    member_id: str
    purposes: list[PurposeId]
    received_at: Instant
    due_by: Instant
    status: CaseStatus
    text: str | None
    policy_version: str | None
    extended_at: Instant | None
    extension_reasons: str | None
    decided_at: Instant | None
    grounds: str | None
    decided_by: str | None


class QueueCase(StaffCase):
    """A case in the queue, flagged."""

    overdue: bool
    extendable: bool = Field(description="open, not yet extended, and still within its first period")
    days_left: int


class Queue(Out):
    """The objection queue, earliest due first."""

    cases: list[QueueCase]


class RegionChangeOut(Out):
    """Countries whose mode for a purpose changed from the previous version."""

    purpose: PurposeId
    before: str
    after: str
    countries: list[str]


class PurposeSummary(Out):
    """What a version says of one purpose."""

    label: str
    legal_basis: LegalBasis
    control: Control
    mode: Mode = Field(description="the mode outside the countries the version names")
    excluded_countries: list[str]
    min_age: int | None
    gpc: bool


class VersionOut(Out):
    """One policy version on the timeline."""

    version: str
    sha256: str
    published_at: Instant
    effective_at: Instant
    notice_ends_at: Instant
    notice_days: int
    terms_url: str
    purposes: dict[str, PurposeSummary] = Field(description="purpose id → what this version says of it")
    added: list[PurposeId]
    removed: list[PurposeId]
    region_changes: list[RegionChangeOut]
    in_effect: bool
    short_notice: bool


class Timeline(Out):
    """Every version of the policy."""

    policy: str
    versions: list[VersionOut]


class PublishedVersion(Out):
    """What publishing did with one version."""

    version: str
    sha256: str
    status: Literal["stored", "unchanged"]


class Published(Out):
    """The outcome of publishing a policy file, per version."""

    versions: list[PublishedVersion]


class BuildOut(Out):
    """A build's registry entry."""

    build_id: str
    purpose: PurposeId
    as_of: Instant
    created_at: Instant
    out_dir: str
    engine: str
    counts: dict[str, Any]
    manifest_sha256: str | None
    members: int
    predecessor: str | None
    decided_at: Instant | None
    scrub: bool
    sources: list[str]
    ledger: list[int | str] | None = Field(description="[events, head hash] of the ledger the build read")
    shards: int = Field(ge=1, description="cohort shards of the output (1: unsharded)")


class StaleShardOut(Out):
    """One shard of a sharded build holding members who have since taken their data back."""

    shard: int
    members: int
    records: int


class StaleOut(Out):
    """What makes a build stale: members who have since taken their data back."""

    build_id: str
    purpose: PurposeId
    as_of: Instant
    out_dir: str
    members: int
    stale_members: int
    stale_records: int
    causes: dict[str, dict[str, int]]
    unchecked: list[str]
    deletions_checked_at: Instant | None
    ledger_problem: str | None
    shards: int = Field(description="cohort shards of the output (1: unsharded)")
    stale_shards: list[StaleShardOut] = Field(description="a sharded build's shards holding stale members")


class BuildRowOut(BuildOut):
    """A build with its per-reason counts, and what made it stale if it is."""

    included: int
    excluded: dict[str, int]
    stale: StaleOut | None


class Builds(Out):
    """Registered builds, newest first."""

    builds: list[BuildRowOut]


class DecisionOut(Out):
    """A decision replayed: the answer, its reason code and the evidence."""

    allowed: bool
    reason: ReasonCode
    purpose: str
    at: Instant
    member_id: str | None
    policy_version: str | None
    policy_sha256: str | None
    event_id: int | None
    case_id: str | None


class VerifyOut(Out):
    """The ledger's hash chain, walked."""

    ok: bool
    events: int
    head_hash: str
    first_bad_event: int | None
    problem: str | None


class AuditEntryOut(Out):
    """One staff action: the account that took it, and the API key if one was used."""

    audit_id: int
    at: Instant
    key_id: str | None
    role: str
    action: str
    target: str | None
    outcome: str
    detail: dict[str, Any] | None
    account_id: str | None = Field(description="None only for actions logged before staff accounts existed")


class AuditLog(Out):
    """Staff actions, newest first."""

    entries: list[AuditEntryOut]
