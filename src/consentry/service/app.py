"""The FastAPI application: member pages, the staff console and the JSON API over one store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from consentry import __version__
from consentry.service.config import ServiceConfig
from consentry.service.context import ServiceContext
from consentry.service.errors import install_error_handlers
from consentry.service.i18n import DEFAULT_LANGUAGE, case_reference, translator
from consentry.service.openapi import install_openapi
from consentry.service.routes._render import page_context
from consentry.service.security import SecurityHeaders, csrf_token
from consentry.store.protocol import Store
from consentry.timeutil import iso

__all__ = ["SESSION_COOKIE", "create_app"]

SESSION_COOKIE = "consentry_session"
_HERE = Path(__file__).parent


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(_HERE / "templates"), context_processors=[page_context])
    env = templates.env
    env.autoescape = True
    env.add_extension("jinja2.ext.i18n")
    english = translator(DEFAULT_LANGUAGE)
    env.install_gettext_callables(english.gettext, english.ngettext, newstyle=True)  # type: ignore[attr-defined]

    @pass_context
    def when(context: Context, t: datetime | None) -> str:
        return str(context.get("tr", english).when(t))

    @pass_context
    def day(context: Context, t: datetime | None) -> str:
        return str(context.get("tr", english).day(t))

    def csrf(request: Request) -> str:
        return csrf_token(request.session)

    env.filters["when"] = when
    env.filters["day"] = day
    env.filters["ref"] = case_reference
    env.filters["iso"] = iso
    env.globals["csrf"] = csrf
    env.globals["version"] = __version__
    return templates


def create_app(store: Store, config: ServiceConfig | None = None) -> FastAPI:
    """Build the service over `store` (see docs/service.md for identity modes and routes)."""
    from consentry.service.routes import admin_api, admin_pages, demo, member_api, member_pages, meta, receipts, signals

    config = config or ServiceConfig()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync handlers run in worker threads, each holding a store connection while it works.
        # More threads than the store keeps pooled connections only churns connections.
        anyio.to_thread.current_default_thread_limiter().total_tokens = config.worker_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Consentry",
        version=__version__,
        description=(
            "Member data-privacy settings, objections, transparency and the privacy staff console. "
            "Errors are RFC 9457 problem details (application/problem+json) with the stable `code` "
            "and the `field` at fault."
        ),
        docs_url=None,
        redoc_url=None,
    )
    ctx = app.state.ctx = ServiceContext(store, config)
    app.state.templates = _templates()
    app.state.demo = config.demo
    install_error_handlers(app)
    install_openapi(app, lambda: ctx.policy().purposes())
    if config.demo:
        _public_site(app, ctx)
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=config.session_max_age_s,
        same_site="lax",
        https_only=config.cookie_secure,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=config.allowed_hosts)
    app.add_middleware(SecurityHeaders, hsts=config.hsts)
    if config.forwarded_allow_ips:
        # Outermost: the client address and scheme are settled before anything reads them.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.forwarded_allow_ips))
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    routers: list[Any] = [
        meta.router,
        member_pages.router,
        member_api.router,
        receipts.router,
        admin_pages.router,
        admin_api.router,
        signals.router,
    ]
    from consentry.service.routes import models_api, models_pages

    routers += [models_api.router, models_pages.router]
    for router in routers:
        app.include_router(router)
    if config.demo:
        app.include_router(demo.router)
    if config.oidc is not None:
        from consentry.service.oidc import oauth_client
        from consentry.service.routes import staff_oidc

        app.state.oidc_client = oauth_client(config.oidc)
        app.include_router(staff_oidc.router)
    return app


def _public_site(app: FastAPI, ctx: ServiceContext) -> None:
    """The demo's public pages, each through ReservationHeaders (the innermost middleware)."""
    from consentry.service.public_site import PublicPosts
    from consentry.service.routes import public_site
    from consentry.signals.asgi import ReservationHeaders
    from consentry.signals.headers import Headers

    lake = ctx.config.public_lake
    posts = PublicPosts.from_jsonl(lake) if lake is not None else PublicPosts()
    app.state.public_posts = posts

    async def member_headers(member_id: str) -> Headers:
        return (await ctx.signals_async(member_id)).headers

    app.add_middleware(ReservationHeaders, member_of=posts.member_of, signals=member_headers)
    app.include_router(public_site.router)
