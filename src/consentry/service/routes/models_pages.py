"""The staff console's obligations page (/admin/obligations): obligations by due date, waive; models' release."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from consentry.service.auth import StaffAuth, require_role, staff_writer
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.routes._render import page
from consentry.service.routes.models_api import waive
from consentry.service.staff import StaffRole

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Viewer = Annotated[StaffAuth, require_role()]
Reviewer = Annotated[StaffAuth, staff_writer(StaffRole.REVIEWER)]


@router.get("/obligations")
def obligations(request: Request, auth: Viewer, ctx: Ctx) -> Response:
    """Every obligation by due date: overdue ones marked, met and waived ones with what discharged them."""
    from consentry.audit.release import release_status
    from consentry.pipeline.obligations import OPEN_STATUSES
    from consentry.pipeline.obligations import obligations as compute

    ctx.staff.audit(auth.actor, "view:obligations")
    now = ctx.now()
    found = compute(ctx.store, as_of=now)
    models = ctx.store.models.all()
    return page(
        request,
        "admin/obligations.html",
        pending=[o for o in found if o.status in OPEN_STATUSES],
        settled=[o for o in found if o.status not in OPEN_STATUSES],
        models=models,
        release=release_status(ctx.store, models, now),
        now=now,
        staff=auth.actor,
        can_review=auth.actor.role is StaffRole.REVIEWER,
        title="Obligations",
    )


@router.post("/obligations/{obligation_id}/waive")
def waive_page(
    obligation_id: str, auth: Reviewer, ctx: Ctx, grounds: Annotated[str, Form(min_length=1, max_length=5000)]
) -> RedirectResponse:
    """Waive with grounds (recorded with the staff key and the time)."""
    waive(ctx, auth, obligation_id, grounds, ctx.now())
    return RedirectResponse("/admin/obligations", status_code=303)
