"""The public signals API: what a member's pages say about AI use of their content."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import problems
from consentry.service.public_signals import SignalsOut

router = APIRouter(prefix="/v1/signals", tags=["signals"])

Ctx = Annotated[ServiceContext, Depends(get_ctx)]


@router.get(
    "/members/{member_id}",
    response_model=SignalsOut,
    responses=problems(422),
    summary="A member's reservation signals now (public; cheap enough for every page view)",
)
async def member_signals(member_id: Annotated[str, Path(min_length=1, max_length=255)], ctx: Ctx) -> Response:
    """The headers the member's public pages carry: only the reservation, the same for an unknown id as for
    a member who reserves everything. Served from memory for up to a second; this worker's writes show at once."""
    signals = await ctx.signals_async(member_id)
    return Response(signals.body, media_type="application/json", headers={"Cache-Control": "public, max-age=1"})
