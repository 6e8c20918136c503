"""Member pages: /settings/data-privacy, /settings/objection, /settings/my-data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from consentry.errors import InputError
from consentry.service import member_actions
from consentry.service.auth import end_session, member_id, member_writer
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.i18n import LANGUAGES, N_
from consentry.service.notices import notice_for
from consentry.service.receipts import ReceiptFormat
from consentry.service.routes._render import flash, page
from consentry.service.sessions import SessionKind
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source

router = APIRouter(include_in_schema=False)

Member = Annotated[str, Depends(member_id)]
Writer = Annotated[str, Depends(member_writer)]
Ctx = Annotated[ServiceContext, Depends(get_ctx)]


@router.get("/")
def home() -> RedirectResponse:
    """The settings page is the front door."""
    return RedirectResponse("/settings/data-privacy", status_code=303)


@router.get("/settings/data-privacy")
def data_privacy(request: Request, member: Member, ctx: Ctx) -> Response:
    """One control per disclosed purpose, as the policy says; the notice banner while new terms are announced."""
    view = ctx.settings(member)
    gpc = request.headers.get("sec-gpc", "").strip() == "1"
    policy = ctx.policy()
    now = ctx.now()
    banner = notice_for(policy, view.country, now)
    turned_off = {
        c.purpose
        for c in (banner.changes if banner is not None else ())
        if (e := ctx.store.state(member, c.purpose, now)) is not None and e.choice is Choice.DENY
    }
    version = policy.version_at(now)
    gpc_uses = [p for p, rule in version.purposes.items() if rule.gpc] if version is not None else []
    return page(
        request,
        "settings.html",
        view=view,
        gpc_request=gpc,
        gpc_uses=gpc_uses,
        banner=banner,
        turned_off=turned_off,
        member=member,
        title=N_("Data privacy"),
    )


@router.post("/settings/data-privacy/{purpose}")
def toggle(
    request: Request, purpose: str, member: Writer, ctx: Ctx, enabled: Annotated[str, Form()]
) -> RedirectResponse:
    """One click to turn a setting off, one click to turn it on."""
    member_actions.set_choice(
        ctx.store,
        member,
        purpose,
        enabled == "on",
        ctx.now(),
        source=Source.SETTINGS,
        policy=ctx.policy(),
        store_stamps=ctx.real_clock,
    )
    ctx.member_changed(member)
    flash(request, "turned_on" if enabled == "on" else "turned_off", use=purpose)
    return RedirectResponse(f"/settings/data-privacy#purpose-{purpose}", status_code=303)


@router.get("/settings/objection")
def objection_form(request: Request, member: Member, ctx: Ctx) -> Response:
    """Choose purposes, optional free text, submit; past cases and their status below."""
    now = ctx.now()
    view = member_actions.settings_view(ctx.store, member, now, ctx.policy())
    offered = [p for p in view.purposes if p.control is member_actions.ControlKind.OBJECTION_FORM]
    cases = sorted(ctx.store.objections(member_id=member), key=lambda c: c.received_at, reverse=True)
    chosen = request.query_params.get("purpose")
    return page(
        request, "objection.html", offered=offered, cases=cases, chosen=chosen, member=member, title=N_("Object")
    )


@router.post("/settings/objection")
def file_objection(
    request: Request,
    member: Writer,
    ctx: Ctx,
    purposes: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 - FastAPI copies defaults
    text: Annotated[str | None, Form(max_length=5000)] = None,
) -> RedirectResponse:
    """File the case, then show its id and the date a decision is due."""
    case = member_actions.file_objection(ctx.store, member, purposes, ctx.now(), text, ctx.policy())
    ctx.member_changed(member)
    flash(request, "objection_filed", case=case.case_id)
    return RedirectResponse(f"/settings/objection/{case.case_id}", status_code=303)


@router.get("/settings/objection/{case_id}")
def objection_case(request: Request, case_id: str, member: Member, ctx: Ctx) -> Response:
    """The confirmation / status page of one of the member's cases."""
    case = member_actions.member_case(ctx.store, member, case_id)
    return page(request, "objection_case.html", case=case, member=member, title=N_("Your objection"))


@router.get("/settings/my-data")
def my_data(request: Request, member: Member, ctx: Ctx) -> Response:
    """History of choices (each with its receipt), builds that used the data, objection cases."""
    from consentry.pipeline.member_models import member_models

    data = member_actions.member_data(ctx.store, member, ctx.now(), ctx.policy())
    models = member_models(ctx.store, member, now=ctx.now())
    return page(
        request,
        "my_data.html",
        data=data,
        models=models,
        formats=list(ReceiptFormat),
        member=member,
        title=N_("My data"),
    )


@router.post("/settings/language")
def choose_language(
    request: Request,
    member: Writer,
    ctx: Ctx,
    language: Annotated[str, Form(max_length=16)],
    back: Annotated[str, Form(max_length=200)] = "/settings/data-privacy",
) -> RedirectResponse:
    """The member's own language for these pages ("auto": follow the browser's Accept-Language again)."""
    if language != "auto" and language not in LANGUAGES:
        raise InputError(f"choose one of: auto, {', '.join(LANGUAGES)}", field="language")
    ctx.store.languages.set(member, None if language == "auto" else language, utcnow())
    if language == "auto":
        flash(request, "language_automatic")
    else:
        flash(request, "language_saved", language=language)
    target = back if back.startswith("/settings/") and "//" not in back else "/settings/data-privacy"
    return RedirectResponse(target, status_code=303)


@router.post("/sign-out")
def sign_out(request: Request, member: Writer, ctx: Ctx) -> RedirectResponse:
    """End this session: its cookie, even if copied, no longer signs anyone in."""
    end_session(request, ctx)
    flash(request, "signed_out")
    return RedirectResponse("/", status_code=303)


@router.post("/sign-out-everywhere")
def sign_out_everywhere(request: Request, member: Writer, ctx: Ctx) -> RedirectResponse:
    """End every session of the member, on every device, this one included."""
    ctx.sessions.end_all(SessionKind.MEMBER, member, utcnow())
    request.session.clear()
    flash(request, "signed_out_everywhere")
    return RedirectResponse("/", status_code=303)
