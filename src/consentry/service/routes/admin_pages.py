"""The staff console under /admin: objections queue, policy timeline, builds, replay, ledger."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from consentry.decide import decide_for
from consentry.errors import InputError
from consentry.service import staff_actions
from consentry.service.auth import StaffAuth, end_session, require_role, staff_writer, start_session, verify_csrf
from consentry.service.charts import reason_bars
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import ApiError, ErrorCode
from consentry.service.routes._render import flash, page
from consentry.service.routes.admin_api import decide_objection, extend_objection
from consentry.service.sessions import SessionKind
from consentry.service.staff import StaffRole
from consentry.timeutil import parse_instant, utcnow
from consentry.vocab import CaseStatus

router = APIRouter(prefix="/admin", include_in_schema=False)

Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Viewer = Annotated[StaffAuth, require_role()]
Reviewer = Annotated[StaffAuth, staff_writer(StaffRole.REVIEWER)]


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    """Paste a staff API key to open a console session."""
    oidc = request.app.state.ctx.config.oidc is not None
    return page(request, "admin/sign_in.html", title="Staff sign-in", staff=None, oidc=oidc)


@router.post("/sign-in", dependencies=[Depends(verify_csrf)])
def sign_in(request: Request, ctx: Ctx, api_key: Annotated[str, Form(max_length=200)]) -> RedirectResponse:
    """Exchange a valid key for a console session (the key itself is not kept in the cookie)."""
    ctx.limiter.hit(f"ip:{request.client.host if request.client else 'unknown'}")
    actor = ctx.staff.authenticate(api_key.strip())
    if actor is None:
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "that staff API key is unknown or revoked", "api_key")
    start_session(request, ctx, SessionKind.STAFF, actor.session_subject)
    ctx.staff.audit(actor, "console.sign_in", None, "ok", {"via": "api_key"})
    return RedirectResponse("/admin/objections", status_code=303)


@router.post("/sign-out")
def sign_out(
    request: Request, auth: Viewer, ctx: Ctx, _csrf: Annotated[None, Depends(verify_csrf)]
) -> RedirectResponse:
    """End the console session: its cookie, even if copied, no longer works."""
    end_session(request, ctx)
    ctx.staff.audit(auth.actor, "console.sign_out")
    flash(request, "signed_out")
    return RedirectResponse("/admin/sign-in", status_code=303)


@router.post("/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, auth: Viewer, ctx: Ctx, _csrf: Annotated[None, Depends(verify_csrf)]
) -> RedirectResponse:
    """End every console session of this key or account, in every browser, this one included."""
    ended = ctx.sessions.end_all(SessionKind.STAFF, auth.actor.session_subject, utcnow())
    request.session.clear()
    ctx.staff.audit(auth.actor, "console.sign_out_everywhere", None, "ok", {"sessions": ended})
    flash(request, "signed_out_everywhere")
    return RedirectResponse("/admin/sign-in", status_code=303)


@router.get("")
def home() -> RedirectResponse:
    """The queue is the console's front page."""
    return RedirectResponse("/admin/objections", status_code=303)


@router.get("/objections")
def objections(
    request: Request,
    auth: Viewer,
    ctx: Ctx,
    q: Annotated[str, Query(max_length=200)] = "",
    assignee: Annotated[str, Query(max_length=255)] = staff_actions.ANY_ASSIGNEE,
    sort: staff_actions.QueueSort = staff_actions.QueueSort.DUE,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Open cases, searched, filtered by assignee and sorted (by due date unless asked), a page at a time."""
    ctx.staff.audit(auth.actor, "view:objections")
    now = ctx.now()
    queue = staff_actions.queue_page(ctx.store, now, query=q, assignee=assignee, sort=sort, page=page_no)
    closed = [
        i
        for i in staff_actions.objection_queue(ctx.store, now, include_closed=True)
        if i.case.status is not CaseStatus.RECEIVED
    ]
    return page(
        request,
        "admin/objections.html",
        queue=queue,
        items=queue.items,
        closed=closed[-20:],
        staff=auth.actor,
        can_review=auth.actor.role is StaffRole.REVIEWER,
        title="Objections",
    )


def _back_to_queue(request: Request) -> RedirectResponse:
    """Back to the queue page the form was sent from (its search, filter, order and page)."""
    query = urlsplit(request.headers.get("referer", "")).query
    return RedirectResponse("/admin/objections" + (f"?{query}" if query else ""), status_code=303)


@router.post("/objections/{case_id}/assignment")
def assign(
    request: Request,
    case_id: str,
    auth: Reviewer,
    ctx: Ctx,
    assignee: Annotated[str, Form(max_length=255)] = "",
) -> RedirectResponse:
    """Assign an open case to a member of staff (a name or id), or unassign it with a blank name."""
    try:
        staff_actions.assign_case(ctx.store, case_id, assignee, utcnow(), f"staff:{auth.actor.account_id}")
    except Exception:
        ctx.staff.audit(auth.actor, "objection.assign", case_id, "refused")
        raise
    name = " ".join(assignee.split())
    ctx.staff.audit(auth.actor, "objection.assign", case_id, "ok", {"assignee": name or None})
    if name:
        flash(request, "case_assigned", case=case_id, assignee=name)
    else:
        flash(request, "case_unassigned", case=case_id)
    return _back_to_queue(request)


@router.post("/objections/{case_id}/decision")
def decide(
    request: Request,
    case_id: str,
    auth: Reviewer,
    ctx: Ctx,
    outcome: Annotated[str, Form()],
    grounds: Annotated[str, Form(max_length=5000)] = "",
) -> RedirectResponse:
    """Uphold, or reject with grounds."""
    if outcome not in (CaseStatus.UPHELD.value, CaseStatus.REJECTED.value):
        raise InputError("choose upheld or rejected", field="outcome")
    decide_objection(ctx, auth, case_id, CaseStatus(outcome), grounds)
    flash(request, "case_decided", case=case_id, status=outcome)
    return _back_to_queue(request)


@router.post("/objections/{case_id}/extension")
def extend(
    request: Request,
    case_id: str,
    auth: Reviewer,
    ctx: Ctx,
    reasons: Annotated[str, Form(min_length=1, max_length=5000)],
    days: Annotated[int, Form(ge=1, le=366)],
) -> RedirectResponse:
    """Extend once, within the first period, with reasons."""
    case = extend_objection(ctx, auth, case_id, reasons, days)
    flash(request, "case_extended", case=case_id, due=str(case["due_by"]))
    return _back_to_queue(request)


@router.get("/policy")
def policy(request: Request, auth: Viewer, ctx: Ctx) -> Response:
    """Versions as a timeline."""
    ctx.staff.audit(auth.actor, "view:policy")
    p = ctx.policy()
    entries = staff_actions.policy_timeline(p, ctx.now())
    return page(request, "admin/policy.html", policy=p, entries=entries, staff=auth.actor, title="Policy")


@router.get("/builds")
def builds(request: Request, auth: Viewer, ctx: Ctx) -> Response:
    """Builds with per-reason counts as a chart; stale builds highlighted."""
    ctx.staff.audit(auth.actor, "view:builds")
    rows = staff_actions.build_rows(ctx.store, ctx.now())
    chart = reason_bars(
        [(f"{r.build.purpose} {r.build_id[-8:]}", r.included, r.excluded, r.stale is not None) for r in rows]
    )
    return page(request, "admin/builds.html", rows=rows, chart=Markup(chart), staff=auth.actor, title="Builds")


_METADATA_TYPES = {
    "croissant": "application/ld+json",
    "openlineage": "application/json",
    "card": "text/markdown; charset=utf-8",
}


@router.get("/builds/{build_id}/metadata/{form}")
def build_metadata(build_id: str, form: str, auth: Viewer, ctx: Ctx) -> Response:
    """One build's Croissant metadata, OpenLineage events or dataset card (read from its output when asked)."""
    from consentry.pipeline.show import show_build

    if form not in _METADATA_TYPES:
        raise ApiError(404, ErrorCode.NOT_FOUND, f"no form {form!r}; use croissant, openlineage or card", "form")
    ctx.staff.audit(auth.actor, f"view:build:{form}", build_id)
    return Response(show_build(ctx.store, build_id, form), media_type=_METADATA_TYPES[form])


@router.get("/replay")
def replay(request: Request, auth: Viewer, ctx: Ctx) -> Response:
    """Decision replay: member, purpose, moment → decision and evidence."""
    q = request.query_params
    decision = None
    if q.get("member_id") and q.get("purpose"):
        at = parse_instant(q["at"], field="at") if q.get("at") else ctx.now()
        ctx.staff.audit(auth.actor, "decision.replay", q["member_id"][:255], "ok", {"purpose": q["purpose"][:64]})
        decision = decide_for(
            ctx.store,
            q["member_id"][:255],
            q["purpose"][:64],
            at=at,
            kind=q.get("kind") or None,
            visibility=q.get("visibility") or None,
            policy=ctx.policy(),
        )
    purposes = ctx.policy().purposes()
    return page(
        request,
        "admin/replay.html",
        decision=decision,
        q=q,
        purposes=purposes,
        staff=auth.actor,
        title="Decision replay",
    )


@router.get("/ledger")
def ledger(request: Request, auth: Viewer, ctx: Ctx) -> Response:
    """The hash chain's verification status, and the latest staff actions."""
    report = ctx.store.verify()
    ctx.staff.audit(auth.actor, "ledger.verify", None, "ok" if report.ok else "broken")
    ctx.staff.audit(auth.actor, "view:audit", None, "ok", {"limit": 50})
    entries = ctx.staff.audit_entries(50)
    return page(request, "admin/ledger.html", report=report, entries=entries, staff=auth.actor, title="Ledger")
