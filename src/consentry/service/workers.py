"""Running the service: one process, or several worker processes sharing one listening socket.

`consentry serve --workers N` starts N uvicorn worker processes; each builds its
own app with `app_from_environ` (uvicorn's app factory), opening its own store
connection. Whatever must agree between them lives in the store: sessions,
rate limits, the policy, the ledger. What each keeps in memory is only an
optimisation (docs/service.md, "Workers and where state lives").

The event loop is the standard library's asyncio, not uvloop: under saturation
uvloop left new connections waiting seconds to be accepted while the requests of
connections already open kept the loop busy (bench/README.md, "Latency bursts").
"""

from __future__ import annotations

import json
import os
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from consentry.service.config import ServiceConfig
    from consentry.store.protocol import Store

__all__ = ["OVERRIDES_ENV", "app_from_environ", "serve"]

#: The serve command's settings that are not environment variables, handed to every worker (JSON).
OVERRIDES_ENV = "CONSENTRY_SERVE_OVERRIDES"
#: The event loop and HTTP parser every process uses.
LOOP = "asyncio"
HTTP = "httptools"


def app_from_environ() -> FastAPI:
    """The app of one worker process: the store CONSENTRY_DB names, the settings from the environment."""
    from consentry.service.app import create_app
    from consentry.service.config import ServiceConfig
    from consentry.store import Access, open_store
    from consentry.timeutil import parse_instant

    overrides: dict[str, Any] = json.loads(os.environ.get(OVERRIDES_ENV) or "{}")
    if overrides.get("clock_start"):
        overrides["clock_start"] = parse_instant(overrides["clock_start"], field="--as-of")
    store = open_store(os.environ["CONSENTRY_DB"], Access.WRITE)
    return create_app(store, ServiceConfig.from_environ(os.environ, **overrides))


def serve(
    store: Store, db_url: str, config: ServiceConfig, overrides: dict[str, Any], host: str, port: int, workers: int
) -> None:
    """Serve on `host`:`port`: in this process over `store` (one worker), or in `workers` processes.

    Worker processes open the store at `db_url` themselves and take `overrides` (the serve
    command's options) through the environment; without CONSENTRY_SECRET_KEY they share one
    random cookie key, so a cookie signed by one worker is honoured by the others.
    """
    import uvicorn

    # Forwarded headers are the app's business (CONSENTRY_FORWARDED_ALLOW_IPS), never uvicorn's loopback default.
    common: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "proxy_headers": False}
    if workers == 1:
        from consentry.service.app import create_app

        uvicorn.run(create_app(store, config), loop=LOOP, http=HTTP, **common)
        return
    # The workers open their own stores; this process only supervises them.
    os.environ["CONSENTRY_DB"] = db_url
    os.environ.setdefault("CONSENTRY_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ[OVERRIDES_ENV] = json.dumps(
        {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in overrides.items()}
    )
    uvicorn.run(
        "consentry.service.workers:app_from_environ", factory=True, workers=workers, loop=LOOP, http=HTTP, **common
    )
