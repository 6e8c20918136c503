"""The member JSON API under /v1/me: settings, choices, receipts, objections, data use."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from consentry.service import member_actions
from consentry.service.api_models import (
    ChoiceHistory,
    DataUse,
    Event,
    IsoReceipt,
    KantaraReceipt,
    MemberCase,
    MemberObjections,
    PurposeId,
    SessionOut,
    SettingsOut,
)
from consentry.service.auth import member_id, member_writer
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import problems
from consentry.service.receipts import ReceiptFormat
from consentry.service.routes._render import build_for_member, event_dict, member_case_dict
from consentry.service.security import csrf_token
from consentry.vocab import Source

router = APIRouter(prefix="/v1", tags=["member"])

Member = Annotated[str, Depends(member_id)]
Writer = Annotated[str, Depends(member_writer)]
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


class ChoiceIn(BaseModel):
    """Turn a `setting` purpose on or off."""

    model_config = ConfigDict(extra="forbid")
    purpose: PurposeId
    enabled: bool


class ObjectionIn(BaseModel):
    """Object to one or more purposes; the text is optional (no reason required)."""

    model_config = ConfigDict(extra="forbid")
    purposes: list[PurposeId] = Field(min_length=1, max_length=20)
    text: str | None = Field(default=None, max_length=5000)


@router.get(
    "/session",
    summary="Who is signed in, and the CSRF token for writes",
    response_model=SessionOut,
    responses=problems(401),
)
def session(request: Request, member: Member) -> dict[str, Any]:
    """Send the token back as `X-CSRF-Token` on every write."""
    return {"member_id": member, "csrf_token": csrf_token(request.session)}


@router.get(
    "/me/settings",
    summary="The member's data-privacy settings now",
    response_model=SettingsOut,
    responses=problems(401, 404),
)
async def settings(member: Member, ctx: Ctx) -> JSONResponse:
    """One entry per purpose the terms in effect disclose, with control, state, since and why."""
    # A cached view is served on the event loop; concurrent misses share one store read in a worker thread.
    view = await ctx.settings_async(member)
    return JSONResponse(view.to_dict())


@router.post(
    "/me/choices",
    status_code=201,
    summary="Turn a setting on or off",
    response_model=Event,
    responses=problems(401, 403, 404, 422, 429),
)
def set_choice(
    body: ChoiceIn,
    member: Writer,
    ctx: Ctx,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> dict[str, Any]:
    """Records one consent event; repeating an `Idempotency-Key` returns the first event."""
    key = f"api:{member}:{idempotency_key}" if idempotency_key else None
    event = member_actions.set_choice(
        ctx.store,
        member,
        body.purpose,
        body.enabled,
        ctx.now(),
        source=Source.API,
        policy=ctx.policy(),
        idempotency_key=key,
        store_stamps=ctx.real_clock,
    )
    ctx.member_changed(member)
    return event_dict(event)


@router.get(
    "/me/choices",
    summary="The member's history of choices, newest first",
    response_model=ChoiceHistory,
    responses=problems(401, 404),
)
def choices(member: Member, ctx: Ctx) -> dict[str, Any]:
    """Every consent event recorded for the member."""
    return {"choices": [event_dict(e) for e in member_actions.choice_history(ctx.store, member)]}


@router.get(
    "/me/choices/{event_id}/receipt",
    summary="A consent receipt for one choice",
    response_model=IsoReceipt | KantaraReceipt,
    responses=problems(401, 404, 422),
)
def receipt(
    event_id: int,
    member: Member,
    ctx: Ctx,
    format: Annotated[ReceiptFormat, Query()] = ReceiptFormat.ISO27560,
) -> JSONResponse:
    """ISO/IEC TS 27560 with DPV terms (default) or Kantara Consent Receipt v1.1."""
    body = member_actions.choice_receipt(
        ctx.store, member, event_id, format, ctx.config.controller, ctx.policy(), created=ctx.now()
    )
    name = f"consent-receipt-{event_id}-{format.value}.json"
    return JSONResponse(body, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/me/objections",
    summary="The member's objection cases",
    response_model=MemberObjections,
    responses=problems(401, 404),
)
def objections(member: Member, ctx: Ctx) -> dict[str, Any]:
    """Open and closed cases, newest first, and the purposes the form offers now."""
    data = ctx.store.objections(member_id=member)
    cases = sorted(data, key=lambda c: c.received_at, reverse=True)
    offered = member_actions.objection_purposes(ctx.store, member, ctx.now(), ctx.policy())
    return {"cases": [member_case_dict(c) for c in cases], "purposes": offered}


@router.post(
    "/me/objections",
    status_code=201,
    summary="File an objection",
    response_model=MemberCase,
    responses=problems(401, 403, 404, 409, 422, 429),
)
def file_objection(body: ObjectionIn, member: Writer, ctx: Ctx) -> dict[str, Any]:
    """Returns the case with its id and the date by which a decision is due."""
    case = member_actions.file_objection(ctx.store, member, body.purposes, ctx.now(), body.text, ctx.policy())
    ctx.member_changed(member)
    return member_case_dict(case)


@router.get(
    "/me/objections/{case_id}",
    summary="One of the member's objection cases",
    response_model=MemberCase,
    responses=problems(401, 404, 422),
)
def objection(case_id: str, member: Member, ctx: Ctx) -> dict[str, Any]:
    """404 for a case that is not the member's."""
    return member_case_dict(member_actions.member_case(ctx.store, member, case_id))


@router.get(
    "/me/data-use",
    summary="Builds that used the member's data",
    response_model=DataUse,
    responses=problems(401, 404),
)
def data_use(member: Member, ctx: Ctx) -> dict[str, Any]:
    """Which training-data builds included the member's records, and when."""
    data = member_actions.member_data(ctx.store, member, ctx.now(), ctx.policy())
    return {"builds": [build_for_member(b) for b in data.builds]}
