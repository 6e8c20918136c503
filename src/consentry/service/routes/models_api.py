"""Models and forgetting obligations in the JSON API: the member's (/v1/me/models), staff's (/v1/admin/models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from consentry.errors import ModelError
from consentry.service.auth import StaffAuth, member_id, require_role, staff_writer
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import ApiError, ErrorCode, problems
from consentry.service.staff import StaffRole
from consentry.timeutil import parse_instant

__all__ = ["router"]

router = APIRouter(prefix="/v1")

Member = Annotated[str, Depends(member_id)]
Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Viewer = Annotated[StaffAuth, require_role()]
Reviewer = Annotated[StaffAuth, staff_writer(StaffRole.REVIEWER)]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberModelOut(_Out):
    """A model version trained with the member's data, and what happens to it for them."""

    model_id: str
    name: str
    version: str
    trained_at: str
    purpose: str
    state: str = Field(description="in_use, open, overdue (retrain due), met (retrained without it), waived")
    cause: str | None = Field(description="why the data may no longer be used (a reason code), if it may not")
    due_by: str | None = Field(description="when the model is to be retrained without the data")
    met_at: str | None = Field(description="when a version trained without the data was trained")
    met_by: str | None
    grounds: str | None = Field(description="staff's recorded grounds, when waived")
    obligation_id: str | None


class MemberModels(_Out):
    """The models trained with the member's data."""

    models: list[MemberModelOut]


class ModelOut(_Out):
    """A registered model version."""

    model_id: str
    name: str
    version: str
    builds: list[str]
    trained_at: str
    registered_at: str
    uri: str | None
    source: str


class Models(_Out):
    """Every registered model version."""

    models: list[ModelOut]


class ModelRef(_Out):
    """A model's name and version."""

    name: str
    version: str


class DueChangeOut(_Out):
    """A policy version that lowered forget_within_days, and the due date before and after."""

    policy_version: str
    effective_at: str
    forget_within_days: int
    due_by_was: str
    due_by: str


class WaiverOut(_Out):
    """Who waived an obligation, when, and on what grounds."""

    waived_at: str
    actor: str
    grounds: str


class ObligationOut(_Out):
    """One forgetting obligation (docs/models.md)."""

    obligation_id: str
    model_id: str
    model: ModelRef
    purpose: str
    cause: str
    arose_at: str
    members_affected: int
    records_affected: int
    members: list[str]
    builds: list[str]
    forget_within_days: int
    due_by: str
    due_by_changes: list[DueChangeOut]
    status: str = Field(description="open, met, waived or overdue")
    met_by: str | None
    met_at: str | None
    members_met: int
    waiver: WaiverOut | None


class Obligations(_Out):
    """Forgetting obligations, by due date."""

    obligations: list[ObligationOut]


class WaiveIn(BaseModel):
    """Waive an open or overdue obligation; the grounds are recorded."""

    model_config = ConfigDict(extra="forbid")
    grounds: str = Field(min_length=1, max_length=5000)


@router.get(
    "/me/models",
    tags=["member"],
    summary="The models trained with the member's data, and what happens to each",
    response_model=MemberModels,
    responses=problems(401),
)
def my_models(member: Member, ctx: Ctx) -> dict[str, Any]:
    """Each model version trained on a dataset holding the member's data: in use, to be retrained by, or retrained."""
    from consentry.pipeline.member_models import member_models

    return {"models": [m.to_dict() for m in member_models(ctx.store, member, now=ctx.now())]}


@router.get(
    "/admin/models", tags=["staff"], summary="Registered model versions", response_model=Models, responses=problems(401)
)
def models(auth: Viewer, ctx: Ctx) -> dict[str, Any]:
    """Every model version with the builds it was trained on."""
    ctx.staff.audit(auth.actor, "view:models")
    return {"models": [m.to_dict() for m in ctx.store.models.all()]}


@router.get(
    "/admin/models/obligations",
    tags=["staff"],
    summary="Forgetting obligations, by due date",
    response_model=Obligations,
    responses=problems(401, 404, 422),
)
def obligations(
    auth: Viewer,
    ctx: Ctx,
    model: Annotated[str | None, Query(max_length=330, description="a model id, NAME@VERSION or NAME")] = None,
    overdue: bool = False,
    as_of: Annotated[str | None, Query(max_length=64, description="RFC 3339 (default now)")] = None,
) -> dict[str, Any]:
    """Each withdrawal, objection, closure or deletion against each model trained on the data."""
    from consentry.pipeline.obligations import obligations as compute

    ctx.staff.audit(auth.actor, "view:obligations", model)
    at = parse_instant(as_of, field="as_of") if as_of else ctx.now()
    return {"obligations": [o.to_dict() for o in compute(ctx.store, as_of=at, model=model, overdue=overdue)]}


def waive(ctx: ServiceContext, auth: StaffAuth, obligation_id: str, grounds: str, now: datetime) -> dict[str, Any]:
    """Waive an obligation as `auth`'s key, audited; 409 when it is not open (shared with the console page)."""
    from consentry.pipeline.obligations import waive_obligation

    try:
        done = waive_obligation(ctx.store, obligation_id, grounds=grounds, actor=auth.actor.account_id, now=now)
    except ModelError as e:
        ctx.staff.audit(auth.actor, "obligation.waive", obligation_id, "refused")
        raise ApiError(409, ErrorCode.CONFLICT, str(e)) from None
    ctx.staff.audit(auth.actor, "obligation.waive", obligation_id, "ok", {"model_id": done.model.model_id})
    return done.to_dict()


@router.post(
    "/admin/models/obligations/{obligation_id}/waive",
    tags=["staff"],
    summary="Waive a forgetting obligation, with grounds",
    response_model=ObligationOut,
    responses=problems(401, 403, 404, 409, 422, 429),
)
def waive_route(obligation_id: str, body: WaiveIn, auth: Reviewer, ctx: Ctx) -> dict[str, Any]:
    """The model will not be retrained for it; the grounds, the staff key and the time are recorded."""
    return waive(ctx, auth, obligation_id, body.grounds, ctx.now())
