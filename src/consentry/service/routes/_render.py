"""Small shared renderers: JSON shapes of library records, and page responses in the visitor's language."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from consentry.errors import ConsentryError
from consentry.policy import Policy, PolicyVersion
from consentry.service.auth import SESSION_TOKEN
from consentry.service.i18n import LANGUAGES, flash_message, negotiate, translator
from consentry.store.protocol import ConsentEvent, ObjectionCase
from consentry.timeutil import iso, utcnow

__all__ = ["build_for_member", "event_dict", "flash", "member_case_dict", "page", "page_context"]

#: The staff console's language: its words are marked and catalogued, its pages not yet translated whole.
STAFF_LANGUAGE = "en"

#: Where a confirmation waits when the visitor has no stored session (trusted-header mode).
_COOKIE_FLASHES = "flashes"


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
    """Render a template with the request in its context, in the member's language, with waiting confirmations."""
    templates = request.app.state.templates
    ctx = request.app.state.ctx
    context.setdefault("demo", request.app.state.demo)
    member = context.get("member")
    chosen = ctx.store.languages.get(member) if member else None
    request.state.member_language = chosen
    request.state.language = chosen if chosen in LANGUAGES else None
    if name.startswith("admin/"):
        request.state.language = STAFF_LANGUAGE  # the console is in English for now (docs/i18n.md)
    request.state.flashes = _pop_flashes(request)
    response: Response = templates.TemplateResponse(request, name, context)
    return response


def _session_digest(request: Request) -> str | None:
    token = request.session.get(SESSION_TOKEN)
    return hashlib.sha256(token.encode()).hexdigest() if isinstance(token, str) and token else None


def flash(request: Request, key: str, **params: str) -> None:
    """Keep a confirmation (a key of `i18n.FLASHES` and its values) for the session's next page."""
    message = json.dumps({"m": key, "p": params})
    digest = _session_digest(request)
    if digest is not None:
        request.app.state.ctx.store.flashes.push(digest, message, utcnow())
    else:
        request.session[_COOKIE_FLASHES] = [*request.session.get(_COOKIE_FLASHES, []), message][-5:]


def _pop_flashes(request: Request) -> list[str]:
    digest = _session_digest(request)
    waiting = list(request.session.pop(_COOKIE_FLASHES, []))
    if digest is not None:
        waiting += request.app.state.ctx.store.flashes.pop(digest)
    return waiting


def _policy(request: Request) -> Policy | None:
    try:
        policy: Policy = request.app.state.ctx.policy()
    except ConsentryError:
        return None
    return policy


def page_context(request: Request) -> dict[str, Any]:
    """What every template gets: the language's words and dates, policy labels in it, confirmations."""
    language = getattr(request.state, "language", None) or negotiate(request.headers.get("accept-language"))
    tr = translator(language)
    policy = _policy(request)
    now = request.app.state.ctx.now()

    def label(purpose: str) -> str:
        for version in _versions_for(policy, now):
            if version.discloses(purpose):
                return version.label(purpose, language)
        return purpose.replace("_", " ").capitalize()

    def describe(purpose: str) -> str | None:
        for version in _versions_for(policy, now):
            if version.discloses(purpose):
                return version.description(purpose, language)
        return None

    raw = getattr(request.state, "flashes", [])
    return {
        **tr.template_globals(),
        "label": label,
        "describe": describe,
        "flashes": [m for m in (flash_message(r, tr, label) for r in raw) if m],
        "languages": LANGUAGES,
        "member_language": getattr(request.state, "member_language", None),
    }


def _versions_for(policy: Policy | None, now: datetime) -> list[PolicyVersion]:
    """The version in effect first, then the others from the latest back (for purposes no longer disclosed)."""
    if policy is None:
        return []
    current = policy.version_at(now)
    rest = [v for v in reversed(policy.versions) if v is not current]
    return [current, *rest] if current is not None else rest
