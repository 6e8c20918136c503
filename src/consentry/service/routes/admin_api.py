"""The staff JSON API under /v1/admin: objections, policy versions, builds, decisions, ledger, audit."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from consentry.decide import decide_for
from consentry.policy import load_policy_text
from consentry.service import staff_actions
from consentry.service.admin_models import (
    AuditLog,
    BuildOut,
    Builds,
    DecisionOut,
    Published,
    Queue,
    StaffCase,
    Timeline,
    VerifyOut,
)
from consentry.service.api_models import PURPOSE_MARK
from consentry.service.auth import StaffAuth, require_role, staff_writer
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import problems
from consentry.service.staff import StaffRole
from consentry.timeutil import iso, parse_instant
from consentry.vocab import CaseStatus, Visibility

router = APIRouter(prefix="/v1/admin", tags=["staff"])

Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Viewer = Annotated[StaffAuth, require_role()]
Reviewer = Annotated[StaffAuth, staff_writer(StaffRole.REVIEWER)]
Publisher = Annotated[StaffAuth, staff_writer(StaffRole.PUBLISHER)]


def plain(obj: Any) -> Any:
    """Dataclasses, enums and times made JSON-ready (for registry records)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [plain(v) for v in obj]
    if hasattr(obj, "__fspath__"):
        return str(obj)
    return obj


class QueueFilter(StrEnum):
    """Which cases the queue lists."""

    OPEN = "open"
    ALL = "all"


class Outcome(StrEnum):
    """How a case can be decided."""

    UPHELD = "upheld"
    REJECTED = "rejected"


class DecisionIn(BaseModel):
    """Decide an open case; a rejection needs grounds."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    grounds: str | None = Field(default=None, max_length=5000)


class ExtensionIn(BaseModel):
    """Extend a case once, within its first period, with the reasons sent to the member."""

    model_config = ConfigDict(extra="forbid")
    reasons: str = Field(min_length=1, max_length=5000)
    days: int = Field(ge=1, le=366)


class PublishIn(BaseModel):
    """A whole policy file (YAML) to publish."""

    model_config = ConfigDict(extra="forbid")
    policy_yaml: str = Field(min_length=1, max_length=1_000_000)


def queue_item_dict(item: staff_actions.QueueItem) -> dict[str, Any]:
    """A queue entry: the case plus overdue/extendable flags."""
    d = staff_actions.case_to_dict(item.case)
    d.update(overdue=item.overdue, extendable=item.extendable, days_left=item.days_left)
    return d


@router.get(
    "/objections",
    summary="The objection queue, earliest due first",
    response_model=Queue,
    responses=problems(401, 422),
)
def objections(auth: Viewer, ctx: Ctx, show: Annotated[QueueFilter, Query()] = QueueFilter.OPEN) -> dict[str, Any]:
    """Open cases (or all with show=all), overdue ones flagged."""
    ctx.staff.audit(auth.actor, "view:objections")
    items = staff_actions.objection_queue(ctx.store, ctx.now(), include_closed=show is QueueFilter.ALL)
    return {"cases": [queue_item_dict(i) for i in items]}


@router.post(
    "/objections/{case_id}/decision",
    summary="Uphold or reject a case (reviewer)",
    response_model=StaffCase,
    responses=problems(401, 403, 404, 409, 422, 429),
)
def decide_case(case_id: str, body: DecisionIn, auth: Reviewer, ctx: Ctx) -> dict[str, Any]:
    """Upholding records a deny per purpose; a rejection needs grounds."""
    return decide_objection(ctx, auth, case_id, CaseStatus(body.outcome.value), body.grounds)


def decide_objection(
    ctx: ServiceContext, auth: StaffAuth, case_id: str, outcome: CaseStatus, grounds: str | None
) -> dict[str, Any]:
    """Decide a case and audit the outcome (shared by the console and the API)."""
    try:
        case = ctx.store.decide_objection(
            case_id, outcome, ctx.event_at(), (grounds or "").strip() or None, actor=f"staff:{auth.actor.account_id}"
        )
    except Exception:
        ctx.staff.audit(auth.actor, "objection.decide", case_id, "refused", {"outcome": outcome.value})
        raise
    ctx.member_changed(case.member_id)
    ctx.staff.audit(auth.actor, "objection.decide", case_id, "ok", {"outcome": outcome.value})
    return staff_actions.case_to_dict(case)


@router.post(
    "/objections/{case_id}/extension",
    summary="Extend a case once (reviewer)",
    response_model=StaffCase,
    responses=problems(401, 403, 404, 409, 422, 429),
)
def extend_case(case_id: str, body: ExtensionIn, auth: Reviewer, ctx: Ctx) -> dict[str, Any]:
    """Only within the first period, and only once."""
    return extend_objection(ctx, auth, case_id, body.reasons, body.days)


def extend_objection(ctx: ServiceContext, auth: StaffAuth, case_id: str, reasons: str, days: int) -> dict[str, Any]:
    """Extend a case and audit the outcome (shared by the console and the API)."""
    try:
        case = ctx.store.extend_objection(case_id, ctx.now(), reasons.strip(), days)
    except Exception:
        ctx.staff.audit(auth.actor, "objection.extend", case_id, "refused", {"days": days})
        raise
    ctx.member_changed(case.member_id)
    ctx.staff.audit(auth.actor, "objection.extend", case_id, "ok", {"days": days})
    return staff_actions.case_to_dict(case)


@router.get(
    "/policy/versions",
    summary="Policy versions as a timeline",
    response_model=Timeline,
    responses=problems(401, 404),
)
def policy_versions(auth: Viewer, ctx: Ctx) -> dict[str, Any]:
    """Published, effective, notice window, purposes and region changes of every version."""
    ctx.staff.audit(auth.actor, "view:policy")
    policy = ctx.policy()
    entries = staff_actions.policy_timeline(policy, ctx.now())
    return {"policy": policy.name, "versions": [e.to_dict() for e in entries]}


@router.post(
    "/policy/versions",
    status_code=201,
    summary="Publish a policy file (publisher)",
    response_model=Published,
    responses=problems(401, 403, 409, 422, 429),
)
def publish(body: PublishIn, auth: Publisher, ctx: Ctx) -> dict[str, Any]:
    """Stores every version; unchanged ones are a no-op, changing a published one is refused (409)."""
    try:
        outcomes = ctx.store.publish(load_policy_text(body.policy_yaml, name="policy_yaml"))
    except Exception:
        ctx.staff.audit(auth.actor, "policy.publish", None, "refused")
        raise
    ctx.forget_policy()
    ctx.staff.audit(auth.actor, "policy.publish", None, "ok", {"versions": [o.version for o in outcomes]})
    return {"versions": [{"version": o.version, "sha256": o.sha256, "status": o.status} for o in outcomes]}


@router.get(
    "/builds",
    summary="Registered builds with per-reason counts",
    response_model=Builds,
    responses=problems(401),
)
def builds(auth: Viewer, ctx: Ctx) -> dict[str, Any]:
    """Newest first; stale ones carry what made them stale."""
    ctx.staff.audit(auth.actor, "view:builds")
    rows = staff_actions.build_rows(ctx.store, ctx.now())
    return {
        "builds": [
            {
                **plain(r.build),
                "included": r.included,
                "excluded": dict(r.excluded),
                "stale": r.stale.to_dict() if r.stale else None,
            }
            for r in rows
        ]
    }


@router.get("/builds/{build_id}", summary="One build", response_model=BuildOut, responses=problems(401, 404))
def build(build_id: str, auth: Viewer, ctx: Ctx) -> dict[str, Any]:
    """The registry entry of one build (404 if unknown)."""
    from consentry.pipeline.registry import get_build

    ctx.staff.audit(auth.actor, "view:build", build_id)
    return dict(plain(get_build(ctx.store, build_id)))


@router.get(
    "/decisions",
    summary="Replay a decision as of a moment",
    response_model=DecisionOut,
    responses=problems(401, 404, 422),
)
def decision(
    auth: Viewer,
    ctx: Ctx,
    member_id: Annotated[str, Query(min_length=1, max_length=255)],
    purpose: Annotated[str, Query(min_length=1, max_length=64, json_schema_extra={PURPOSE_MARK: True})],
    at: Annotated[str | None, Query(max_length=64, description="RFC 3339; default now")] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    visibility: Annotated[Visibility | None, Query()] = None,
) -> dict[str, Any]:
    """The decision, its reason code and evidence (policy version and hash, event id, case id)."""
    moment = parse_instant(at, field="at") if at else ctx.now()
    ctx.staff.audit(auth.actor, "decision.replay", member_id, "ok", {"purpose": purpose, "at": iso(moment)})
    d = decide_for(
        ctx.store,
        member_id,
        purpose,
        at=moment,
        kind=kind,
        visibility=visibility.value if visibility else None,
        policy=ctx.policy(),
    )
    return d.to_dict()


@router.get(
    "/ledger/verify",
    summary="Verify the ledger's hash chain",
    response_model=VerifyOut,
    responses=problems(401),
)
def verify(auth: Viewer, ctx: Ctx) -> dict[str, Any]:
    """ok, number of events, head hash, and the first bad event if any."""
    report = ctx.store.verify()
    ctx.staff.audit(auth.actor, "ledger.verify", None, "ok" if report.ok else "broken")
    return dict(plain(report))


@router.get(
    "/audit",
    summary="The staff audit log, newest first",
    response_model=AuditLog,
    responses=problems(401, 422),
)
def audit(auth: Viewer, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    """Every staff action: who (key id and role), what, on what, and the outcome (this read included)."""
    ctx.staff.audit(auth.actor, "view:audit", None, "ok", {"limit": limit})
    return {"entries": [plain(e) for e in ctx.staff.audit_entries(limit)]}
