"""Who is asking: members (signed session or trusted gateway header) and staff (accounts: API keys or console sessions).

Trusted-header mode (production): an upstream gateway that has authenticated
the member adds three headers to every request it forwards —

    X-Consentry-Member:    the member id
    X-Consentry-Timestamp: Unix time in seconds
    X-Consentry-Signature: hex HMAC-SHA256(secret, "<timestamp>.<member id>")

— with the secret shared through CONSENTRY_TRUSTED_HEADER_SECRET. A request
with a bad signature or a timestamp more than five minutes off is refused.
In that mode every request needs the headers (the session cookie then only
carries the CSRF token). Otherwise (the `--demo` sign-in) the member id lives
in the store as a sign-in session, whose token is all the signed, HTTP-only,
SameSite session cookie carries (consentry.service.sessions).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import ApiError, ErrorCode
from consentry.service.security import CSRF_FIELD, CSRF_HEADER, check_csrf
from consentry.service.sessions import SessionKind
from consentry.service.staff import StaffActor, StaffRole
from consentry.timeutil import utcnow

__all__ = [
    "MEMBER_HEADER",
    "SESSION_TOKEN",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "StaffAuth",
    "end_session",
    "member_id",
    "member_writer",
    "require_role",
    "sign_member_header",
    "staff_auth",
    "staff_writer",
    "start_session",
    "verify_csrf",
]

MEMBER_HEADER = "x-consentry-member"
TIMESTAMP_HEADER = "x-consentry-timestamp"
SIGNATURE_HEADER = "x-consentry-signature"
#: The cookie's key for the session token (the session itself is in the store: consentry.service.sessions).
SESSION_TOKEN = "sid"


def sign_member_header(secret: str, member: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers a trusted gateway adds for `member` (for gateways and tests)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = hmac.new(secret.encode(), f"{ts}.{member}".encode(), hashlib.sha256).hexdigest()
    return {"X-Consentry-Member": member, "X-Consentry-Timestamp": ts, "X-Consentry-Signature": sig}


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, ErrorCode.UNAUTHENTICATED, message)


def _from_trusted_header(request: Request, ctx: ServiceContext) -> str | None:
    secret = ctx.config.trusted_header_secret
    member = request.headers.get(MEMBER_HEADER)
    if secret is None or member is None:
        return None
    ts = request.headers.get(TIMESTAMP_HEADER, "")
    sig = request.headers.get(SIGNATURE_HEADER, "")
    expected = sign_member_header(secret, member, int(ts) if ts.isdigit() else 0)["X-Consentry-Signature"]
    fresh = ts.isdigit() and abs(time.time() - int(ts)) <= ctx.config.header_max_skew_s
    if not (fresh and hmac.compare_digest(expected, sig)):
        raise _unauthenticated("the gateway's member signature is invalid or expired")
    if request.session.get("member") != member:
        request.session.clear()
        request.session["member"] = member
    return member


async def member_id(request: Request, ctx: ServiceContext = Depends(get_ctx)) -> str:
    """The signed-in member's id (401 when nobody is signed in). Honours Sec-GPC: 1.

    Async, so identifying the member costs no thread hop; only the GPC write goes to a worker thread.
    """
    member = _from_trusted_header(request, ctx)
    if member is None and ctx.config.trusted_header_secret is not None and not ctx.config.demo:
        # Behind a gateway, every request must say who it is for: a session alone is not enough.
        raise _unauthenticated("sign in on the platform: the gateway did not identify you")
    if member is None:
        token = request.session.get(SESSION_TOKEN)
        # Only a cookie that names a session costs a store read (on a worker thread).
        member = await run_in_threadpool(ctx.sessions.subject, token, SessionKind.MEMBER, utcnow()) if token else None
        if member is None:
            raise _unauthenticated("sign in to see your data-privacy settings")
    if request.headers.get("sec-gpc", "").strip() == "1":
        await run_in_threadpool(_gpc, ctx, member)
    return member


def _gpc(ctx: ServiceContext, member: str) -> None:
    if ctx.store.find_member(member) is None:
        raise _unauthenticated("your session names an unknown member; sign in again")
    ctx.gpc_signal(member, ctx.now())


def start_session(request: Request, ctx: ServiceContext, kind: SessionKind, subject: str) -> None:
    """Sign `subject` in: a new session in the store, its token in a fresh cookie (ending the one it replaces)."""
    now = utcnow()
    ctx.sessions.end(request.session.get(SESSION_TOKEN), now)
    request.session.clear()
    request.session[SESSION_TOKEN] = ctx.sessions.open(kind, subject, now)


def end_session(request: Request, ctx: ServiceContext) -> None:
    """Sign out: end this session in the store, and forget the cookie's contents."""
    ctx.sessions.end(request.session.get(SESSION_TOKEN), utcnow())
    request.session.clear()


async def verify_csrf(request: Request) -> None:
    """Check the CSRF token from the X-CSRF-Token header or the form's csrf_token field."""
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    check_csrf(request.session, supplied)


async def member_writer(
    member: str = Depends(member_id),
    _csrf: None = Depends(verify_csrf),
    ctx: ServiceContext = Depends(get_ctx),
) -> str:
    """A member allowed to write now: signed in, CSRF token checked, under the rate limit (counted in the store)."""
    await run_in_threadpool(ctx.limiter.hit, f"member:{member}")
    return member


@dataclass(frozen=True)
class StaffAuth:
    """The staff actor, and how it was presented (a console session needs CSRF on writes, a bearer key does not)."""

    actor: StaffActor
    via_session: bool


_BEARER = HTTPBearer(auto_error=False, scheme_name="staffKey", description="A staff API key (csk_…).")


def staff_auth(
    request: Request,
    ctx: ServiceContext = Depends(get_ctx),
    credentials: HTTPAuthorizationCredentials | None = Security(_BEARER),
) -> StaffAuth:
    """The staff account acting: a key presented as `Authorization: Bearer csk_…`, or the console session's."""
    if credentials is not None:
        actor = ctx.staff.authenticate(credentials.credentials.strip())
        if actor is None:
            raise _unauthenticated("the staff API key is unknown or revoked, or its account is disabled")
        return StaffAuth(actor, via_session=False)
    subject = ctx.sessions.subject(request.session.get(SESSION_TOKEN), SessionKind.STAFF, utcnow())
    actor = ctx.staff.session_actor(subject) if subject is not None else None
    if actor is None:
        raise _unauthenticated("staff sign-in required: sign in, or present a staff API key")
    return StaffAuth(actor, via_session=True)


def _check_role(request: Request, ctx: ServiceContext, auth: StaffAuth, roles: tuple[StaffRole, ...]) -> None:
    """403 unless the actor holds one of `roles`; a refusal is audited (route and path ids, never personal data)."""
    if not roles or auth.actor.role in roles:
        return
    route = request.scope.get("route")
    template = getattr(route, "path", None) or "?"
    ids = [str(v) for v in request.path_params.values()]
    need = [r.value for r in roles]
    ctx.staff.audit(auth.actor, f"{request.method} {template}", ids[0] if ids else None, "forbidden", {"needs": need})
    raise ApiError(403, ErrorCode.FORBIDDEN, f"this action needs the {' or '.join(need)} role")


def require_role(*roles: StaffRole) -> Any:
    """A dependency: the staff actor must hold one of `roles` (any role may view when none given)."""

    def check(
        request: Request, auth: StaffAuth = Depends(staff_auth), ctx: ServiceContext = Depends(get_ctx)
    ) -> StaffAuth:
        _check_role(request, ctx, auth, roles)
        return auth

    return Depends(check)


async def _staff_csrf(request: Request, auth: StaffAuth = Depends(staff_auth)) -> None:
    if auth.via_session:
        await verify_csrf(request)


def staff_writer(*roles: StaffRole) -> Any:
    """A dependency for staff writes: role checked, CSRF for console sessions, rate limited."""

    def check(
        request: Request,
        auth: StaffAuth = Depends(staff_auth),
        _csrf: None = Depends(_staff_csrf),
        ctx: ServiceContext = Depends(get_ctx),
    ) -> StaffAuth:
        _check_role(request, ctx, auth, roles)
        ctx.limiter.hit(f"staff:{auth.actor.account_id}")
        return auth

    return Depends(check)
