"""Small shared renderers: JSON shapes of library records, and page responses."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from consentry.store.protocol import ConsentEvent, ObjectionCase
from consentry.timeutil import iso

__all__ = ["build_for_member", "event_dict", "member_case_dict", "page"]


def event_dict(e: ConsentEvent) -> dict[str, Any]:
    """A ledger event as the member API shows it."""
    return {
        "event_id": e.event_id,
        "purpose": e.purpose,
        "choice": e.choice.value,
        "at": iso(e.at),
        "recorded_at": iso(e.recorded_at),
        "source": e.source.value,
        "policy_version": e.policy_version,
        "case_id": e.case_id,
        "hash": e.hash,
    }


def member_case_dict(c: ObjectionCase) -> dict[str, Any]:
    """An objection case as its member sees it (no staff ids)."""
    return {
        "case_id": c.case_id,
        "purposes": list(c.purposes),
        "received_at": iso(c.received_at),
        "due_by": iso(c.due_by),
        "status": c.status.value,
        "text": c.text,
        "extended_at": iso(c.extended_at),
        "extension_reasons": c.extension_reasons,
        "decided_at": iso(c.decided_at),
        "grounds": c.grounds,
    }


def build_for_member(b: Any) -> dict[str, Any]:
    """A build that used the member's data (no paths or internal counts)."""
    return {
        "build_id": str(b.build_id),
        "purpose": b.purpose,
        "as_of": iso(b.as_of),
        "created_at": iso(b.created_at),
    }


def page(request: Request, name: str, **context: Any) -> Response:
    """Render a template with the request in its context."""
    templates = request.app.state.templates
    context.setdefault("demo", request.app.state.demo)
    response: Response = templates.TemplateResponse(request, name, context)
    return response
