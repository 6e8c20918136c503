"""The demo's public pages (`/in/{member}`, `/posts/{record_id}`) and the site-wide signal files.

Only mounted with `consentry serve --demo`; the pages carry their member's
signals through `consentry.signals.asgi.ReservationHeaders` (see `consentry.service.app`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from consentry.errors import NotFoundError
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.public_site import PublicPosts
from consentry.service.routes._render import page
from consentry.signals.site import robots_txt, tdmrep_json

#: HEAD as well as GET: a crawler may read a page's headers without its body.
router = APIRouter(include_in_schema=False)

Ctx = Annotated[ServiceContext, Depends(get_ctx)]


def _posts(request: Request) -> PublicPosts:
    posts: PublicPosts = request.app.state.public_posts
    return posts


@router.api_route("/robots.txt", methods=["GET", "HEAD"])
def robots(ctx: Ctx) -> PlainTextResponse:
    """Crawl rules and the aipref Content-Usage rules for the site as a whole."""
    return PlainTextResponse(robots_txt(ctx.policy(), ctx.now()))


@router.api_route("/.well-known/tdmrep.json", methods=["GET", "HEAD"])
def tdmrep(ctx: Ctx) -> Response:
    """The site's TDMRep rules (members' pages state their own reservation in headers)."""
    return Response(tdmrep_json(ctx.policy(), ctx.now()), media_type="application/json")


@router.api_route("/in/{member_id}", methods=["GET", "HEAD"])
def profile(request: Request, member_id: str, ctx: Ctx) -> Response:
    """A member's public profile: their public posts."""
    if ctx.store.find_member(member_id) is None:
        raise NotFoundError(f"no member {member_id!r}")
    posts = _posts(request).by_member(member_id)
    return page(request, "public_profile.html", owner=member_id, posts=posts, title=member_id)


@router.api_route("/posts/{record_id}", methods=["GET", "HEAD"])
def post(request: Request, record_id: str) -> Response:
    """One public post."""
    found = _posts(request).post(record_id)
    if found is None:
        raise NotFoundError(f"no public post {record_id!r}")
    return page(request, "public_post.html", post=found, title=f"Post {record_id}")
