"""Signed consent receipts, the keys that verify them, and the receipt vocabulary (docs/receipts.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from consentry.receipts.context import shapes_ttl, vocab_ttl
from consentry.receipts.signing import flattened, jwks
from consentry.service import member_actions
from consentry.service.api_models import JwkSet, SignedReceiptOut
from consentry.service.auth import member_id
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import problems
from consentry.service.receipts import ReceiptFormat

router = APIRouter(tags=["receipts"])

Member = Annotated[str, Depends(member_id)]
Ctx = Annotated[ServiceContext, Depends(get_ctx)]
_TURTLE = "text/turtle; charset=utf-8"


@router.get(
    "/v1/me/choices/{event_id}/signed-receipt",
    summary="A consent receipt for one choice, signed (JWS, flattened JSON serialization)",
    response_model=SignedReceiptOut,
    responses=problems(401, 404, 422),
)
def signed_receipt(
    event_id: int,
    member: Member,
    ctx: Ctx,
    format: Annotated[ReceiptFormat, Query()] = ReceiptFormat.ISO27560,
) -> JSONResponse:
    """The receipt signed with the store's current key; check it with `consentry receipts verify FILE`."""
    token = member_actions.signed_choice_receipt(
        ctx.store, member, event_id, format, ctx.config.controller, ctx.now(), ctx.policy()
    )
    name = f"consent-receipt-{event_id}-{format.value}.jws.json"
    return JSONResponse(flattened(token), headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/.well-known/jwks.json",
    summary="The public keys that verify signed receipts (JWK Set)",
    response_model=JwkSet,
    responses=problems(),
)
def well_known_jwks(ctx: Ctx) -> dict[str, Any]:
    """Every receipt key's public half, current first (`kid` in each signed receipt's header)."""
    return jwks(ctx.store.secrets)


@router.get("/ns/receipt.ttl", response_class=Response, include_in_schema=False)
def receipt_vocabulary() -> Response:
    """The RDF Schema of the `urn:consentry:receipt#` terms receipts use where DPV has none."""
    return Response(vocab_ttl(), media_type=_TURTLE)


@router.get("/ns/receipt-shapes.ttl", response_class=Response, include_in_schema=False)
def receipt_shapes() -> Response:
    """The SHACL shapes every ISO/IEC TS 27560 receipt Consentry makes conforms to."""
    return Response(shapes_ttl(), media_type=_TURTLE)
