"""The demo sign-in: pick a demo member. Only mounted with `consentry serve --demo`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from consentry.errors import NotFoundError
from consentry.service.auth import start_session, verify_csrf
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.routes._render import page
from consentry.service.sessions import SessionKind

router = APIRouter(include_in_schema=False)

Ctx = Annotated[ServiceContext, Depends(get_ctx)]
_SHOWN = 40


@router.get("/demo/sign-in")
def sign_in_page(request: Request, ctx: Ctx) -> Response:
    """A list of demo members to sign in as."""
    table = ctx.store.members_table().slice(0, _SHOWN)
    members = list(zip(table.column("member_id").to_pylist(), table.column("country").to_pylist(), strict=True))
    return page(request, "demo_sign_in.html", members=members, title="Demo sign-in")


@router.post("/demo/sign-in", dependencies=[Depends(verify_csrf)])
def sign_in(request: Request, ctx: Ctx, member_id: Annotated[str, Form(max_length=255)]) -> RedirectResponse:
    """Sign in as the chosen demo member."""
    if ctx.store.find_member(member_id) is None:
        raise NotFoundError(f"no demo member {member_id!r}")
    start_session(request, ctx, SessionKind.MEMBER, member_id)
    return RedirectResponse("/settings/data-privacy", status_code=303)
