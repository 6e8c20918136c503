"""Staff sign-in with OpenID Connect (authlib): authorization code with PKCE, state and nonce checked,
the ID token verified against the provider's JWKS, the Consentry role taken from a configured claim.

Configured from the environment (`OidcSettings.from_environ`):

    CONSENTRY_OIDC_ISSUER         the provider's issuer URL (its /.well-known/openid-configuration is read)
    CONSENTRY_OIDC_CLIENT_ID      the console's client id at the provider
    CONSENTRY_OIDC_CLIENT_SECRET  its secret (client_secret_basic)
    CONSENTRY_OIDC_ROLES_CLAIM    the ID-token claim listing the user's groups or roles (default "groups")
    CONSENTRY_OIDC_ROLE_MAP       claim value → Consentry role, e.g.
                                  "privacy-publishers=publisher,privacy-reviewers=reviewer,privacy=viewer"
    CONSENTRY_OIDC_SCOPES         scopes asked for (default "openid profile email groups")
    CONSENTRY_OIDC_REDIRECT_URI   the callback URL registered at the provider
                                  (default: this service's /admin/oidc/callback as the request reached it)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from consentry.errors import ConfigError
from consentry.service.staff import StaffRole

__all__ = ["ROLE_PRECEDENCE", "OidcSettings", "role_from_claims"]

#: When a user's claim maps to several roles, the first of these wins.
ROLE_PRECEDENCE = (StaffRole.PUBLISHER, StaffRole.REVIEWER, StaffRole.VIEWER)


@dataclass(frozen=True)
class OidcSettings:
    """Where staff sign in, and how the provider's claim becomes a Consentry role."""

    issuer: str
    client_id: str
    client_secret: str
    role_map: tuple[tuple[str, StaffRole], ...]
    roles_claim: str = "groups"
    scopes: str = "openid profile email groups"
    redirect_uri: str | None = None

    @property
    def metadata_url(self) -> str:
        """The provider's discovery document."""
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> OidcSettings | None:
        """The settings from CONSENTRY_OIDC_*; None when CONSENTRY_OIDC_ISSUER is unset."""
        issuer = env.get("CONSENTRY_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        missing = [n for n in ("CONSENTRY_OIDC_CLIENT_ID", "CONSENTRY_OIDC_CLIENT_SECRET") if not env.get(n)]
        if missing:
            raise ConfigError(f"{missing[0]}: set it with CONSENTRY_OIDC_ISSUER (the console's client at the provider)")
        return cls(
            issuer=issuer,
            client_id=env["CONSENTRY_OIDC_CLIENT_ID"],
            client_secret=env["CONSENTRY_OIDC_CLIENT_SECRET"],
            role_map=parse_role_map(env.get("CONSENTRY_OIDC_ROLE_MAP", "")),
            roles_claim=env.get("CONSENTRY_OIDC_ROLES_CLAIM", "").strip() or "groups",
            scopes=env.get("CONSENTRY_OIDC_SCOPES", "").strip() or "openid profile email groups",
            redirect_uri=env.get("CONSENTRY_OIDC_REDIRECT_URI", "").strip() or None,
        )


def parse_role_map(raw: str) -> tuple[tuple[str, StaffRole], ...]:
    """`value=role,value=role` → pairs (ConfigError naming the bad entry)."""
    pairs: list[tuple[str, StaffRole]] = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        value, sep, role = entry.rpartition("=")
        roles = ", ".join(r.value for r in StaffRole)
        if not sep or not value.strip() or role.strip() not in {r.value for r in StaffRole}:
            raise ConfigError(f"CONSENTRY_OIDC_ROLE_MAP: {entry!r} is not CLAIM_VALUE=ROLE with a role among {roles}")
        pairs.append((value.strip(), StaffRole(role.strip())))
    if not pairs:
        raise ConfigError("CONSENTRY_OIDC_ROLE_MAP: map at least one claim value to a role, e.g. privacy=viewer")
    return tuple(pairs)


def role_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> StaffRole | None:
    """The Consentry role the ID token's roles claim maps to (the strongest of several); None if none."""
    raw = claims.get(settings.roles_claim)
    values: set[str] = set()
    if isinstance(raw, str):
        values = {raw}
    elif isinstance(raw, list):
        values = {v for v in raw if isinstance(v, str)}
    mapped = {role for value, role in settings.role_map if value in values}
    return next((r for r in ROLE_PRECEDENCE if r in mapped), None)


def oauth_client(settings: OidcSettings) -> Any:
    """The authlib client of the provider (discovery, JWKS and PKCE S256 configured)."""
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register(
        "staff",
        server_metadata_url=settings.metadata_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        client_kwargs={"scope": settings.scopes, "code_challenge_method": "S256"},
    )
    return oauth.create_client("staff")
