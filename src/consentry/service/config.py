"""Service settings, built from an injectable environment mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from consentry.errors import ConfigError
from consentry.service.oidc import OidcSettings
from consentry.service.receipts import Controller
from consentry.timeutil import parse_instant

__all__ = ["ServiceConfig"]


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """A comma-separated list (None when unset)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    if not names:
        raise ConfigError(f"{name}: give a comma-separated list, e.g. consent.example.org,localhost")
    return names


#: Host names the service answers by default (the test client's name included).
DEFAULT_TRUSTED_HOSTS = ("localhost", "127.0.0.1", "testserver")
_ANY_INTERFACE = frozenset({"0.0.0.0", "::", ""})


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if value < 1:
        raise ConfigError(f"{name}: must be at least 1")
    return value


@dataclass(frozen=True)
class ServiceConfig:
    """How the web service runs.

    - `secret_key` signs session cookies (set CONSENTRY_SECRET_KEY so sessions survive restarts
      and are shared by every worker; a random key is used otherwise);
    - `trusted_header_secret` enables the trusted-header identity mode (docs/service.md);
    - `demo` enables the demo sign-in page (never in production);
    - `cookie_secure` marks cookies Secure (HTTPS only; off for the loopback demo);
    - `write_limit` writes per `write_window_s` seconds per member or staff key;
    - `worker_threads` bounds the threads serving sync handlers (CONSENTRY_WORKER_THREADS);
      keep it near the store's connection pool size;
    - `clock_start` pins "now" to this instant at start-up (it then moves on in real time),
      so a demo can be shown as of a moment in the policy's history;
    - `forwarded_allow_ips` are the proxies whose `X-Forwarded-For`/`-Proto` are believed
      (CONSENTRY_FORWARDED_ALLOW_IPS; addresses or networks; none by default, so the
      client address is the TCP peer's and rotating the header changes nothing);
    - `trusted_hosts` are the `Host` names answered (CONSENTRY_TRUSTED_HOSTS; others get 400),
      plus `served_host`, the interface `consentry serve --host` listens on, when it names one;
    - a sign-in session ends `session_idle_s` after its last request (CONSENTRY_SESSION_IDLE_S,
      30 min) and `session_max_age_s` after sign-in (CONSENTRY_SESSION_MAX_AGE_S, 8 h);
    - `hsts` sends Strict-Transport-Security (on unless `demo`, which runs over plain HTTP);
    - `public_lake` is the content-lake JSONL whose public records the demo's public pages show
      (CONSENTRY_PUBLIC_LAKE; only with `demo`);
    - `oidc`: staff sign in to the console with OpenID Connect (CONSENTRY_OIDC_*, consentry.service.oidc).
    """

    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    trusted_header_secret: str | None = field(default=None, repr=False)
    demo: bool = False
    cookie_secure: bool = True
    write_limit: int = 60
    write_window_s: float = 60.0
    clock_start: datetime | None = None
    session_max_age_s: int = 8 * 3600
    session_idle_s: int = 30 * 60
    worker_threads: int = 4
    header_max_skew_s: int = 300
    controller: Controller = field(default_factory=Controller)
    forwarded_allow_ips: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = DEFAULT_TRUSTED_HOSTS
    served_host: str | None = None
    public_lake: Path | None = None
    oidc: OidcSettings | None = None

    @property
    def allowed_hosts(self) -> list[str]:
        """The `Host` names answered: `trusted_hosts`, and the served interface when it names one."""
        hosts = list(self.trusted_hosts)
        if self.served_host is not None and self.served_host not in _ANY_INTERFACE:
            hosts.append(self.served_host)
        return list(dict.fromkeys(hosts))

    @property
    def hsts(self) -> bool:
        """Whether responses carry Strict-Transport-Security (never in the plain-HTTP demo)."""
        return not self.demo

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> ServiceConfig:
        """Read CONSENTRY_SECRET_KEY, CONSENTRY_TRUSTED_HEADER_SECRET, CONSENTRY_COOKIE_SECURE,
        CONSENTRY_WRITE_LIMIT, CONSENTRY_WRITE_WINDOW_S, CONSENTRY_SERVICE_CLOCK,
        CONSENTRY_FORWARDED_ALLOW_IPS, CONSENTRY_TRUSTED_HOSTS, CONSENTRY_SESSION_IDLE_S,
        CONSENTRY_SESSION_MAX_AGE_S, CONSENTRY_PUBLIC_LAKE and CONSENTRY_OIDC_* (consentry.service.oidc)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("CONSENTRY_SECRET_KEY"):
            key = env["CONSENTRY_SECRET_KEY"]
            if len(key) < 16:
                raise ConfigError("CONSENTRY_SECRET_KEY: use at least 16 random characters")
            values["secret_key"] = key
        if env.get("CONSENTRY_TRUSTED_HEADER_SECRET"):
            values["trusted_header_secret"] = env["CONSENTRY_TRUSTED_HEADER_SECRET"]
        values["cookie_secure"] = _truthy(env.get("CONSENTRY_COOKIE_SECURE"), True)
        values["write_limit"] = _int(env, "CONSENTRY_WRITE_LIMIT", 60)
        values["write_window_s"] = float(_int(env, "CONSENTRY_WRITE_WINDOW_S", 60))
        values["worker_threads"] = _int(env, "CONSENTRY_WORKER_THREADS", 4)
        values["session_idle_s"] = _int(env, "CONSENTRY_SESSION_IDLE_S", 30 * 60)
        values["session_max_age_s"] = _int(env, "CONSENTRY_SESSION_MAX_AGE_S", 8 * 3600)
        if env.get("CONSENTRY_SERVICE_CLOCK"):
            values["clock_start"] = parse_instant(env["CONSENTRY_SERVICE_CLOCK"], field="CONSENTRY_SERVICE_CLOCK")
        values["oidc"] = OidcSettings.from_environ(env)
        if (proxies := _names(env, "CONSENTRY_FORWARDED_ALLOW_IPS")) is not None:
            values["forwarded_allow_ips"] = proxies
        if (hosts := _names(env, "CONSENTRY_TRUSTED_HOSTS")) is not None:
            values["trusted_hosts"] = hosts
        if env.get("CONSENTRY_PUBLIC_LAKE"):
            values["public_lake"] = Path(env["CONSENTRY_PUBLIC_LAKE"])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
