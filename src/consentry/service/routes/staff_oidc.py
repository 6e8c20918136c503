"""Staff console sign-in with OpenID Connect: /admin/oidc/sign-in → the provider → /admin/oidc/callback.

authlib keeps the state, the nonce and the PKCE verifier in the (signed) session
cookie between the two legs, checks the state and the nonce, and verifies the ID
token's signature against the provider's JWKS and its issuer, audience and expiry.
Only mounted when `ServiceConfig.oidc` is set.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from consentry.service.auth import start_session
from consentry.service.context import ServiceContext, get_ctx
from consentry.service.errors import ApiError, ErrorCode
from consentry.service.oidc import OidcSettings, role_from_claims
from consentry.service.sessions import SessionKind

router = APIRouter(prefix="/admin/oidc", include_in_schema=False)

Ctx = Annotated[ServiceContext, Depends(get_ctx)]


def _settings(ctx: ServiceContext) -> OidcSettings:
    settings = ctx.config.oidc
    if settings is None:  # pragma: no cover - the router is only mounted with settings
        raise ApiError(404, ErrorCode.NOT_FOUND, "OpenID Connect sign-in is not configured")
    return settings


@router.get("/sign-in")
async def sign_in(request: Request, ctx: Ctx) -> Any:
    """Send the browser to the provider (authorization code, PKCE S256, state and nonce)."""
    settings = _settings(ctx)
    redirect_uri = settings.redirect_uri or str(request.url_for("oidc_callback"))
    return await request.app.state.oidc_client.authorize_redirect(request, redirect_uri)


@router.get("/callback", name="oidc_callback")
async def callback(request: Request, ctx: Ctx) -> RedirectResponse:
    """Check the answer, verify the ID token, map the roles claim, and open a console session."""
    from authlib.integrations.starlette_client import OAuthError

    settings = _settings(ctx)
    try:
        token = await request.app.state.oidc_client.authorize_access_token(request)
    except OAuthError as e:
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, f"the sign-in at the identity provider failed: {e.error}") from e
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "the identity provider sent no verified ID token")
    role = role_from_claims(claims, settings)
    if role is None:
        raise ApiError(
            403,
            ErrorCode.FORBIDDEN,
            f"your account has no Consentry role: ask for one of the groups the console maps "
            f"(claim {settings.roles_claim!r})",
        )
    name = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])
    actor = ctx.staff.oidc_sign_in(str(claims["iss"]), str(claims["sub"]), name, role)
    if actor is None:
        raise ApiError(403, ErrorCode.FORBIDDEN, "this staff account is disabled")
    start_session(request, ctx, SessionKind.STAFF, actor.session_subject)
    ctx.staff.audit(actor, "console.sign_in", None, "ok", {"via": "oidc"})
    return RedirectResponse("/admin/objections", status_code=303)
