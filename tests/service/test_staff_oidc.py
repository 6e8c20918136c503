"""Staff sign-in with OpenID Connect against a real provider: npm's oidc-provider, run with Node.

The provider (tests/oidc/provider.mjs) has one static client and three users
whose `groups` claim the console maps to roles. httpx plays the browser: it
follows the provider's redirects and posts its login and consent forms; the
app runs in the test client, and authlib inside it talks to the provider over
real HTTP (discovery, token endpoint, JWKS).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from consentry.service import StaffRegistry, StaffRole, create_app
from consentry.service.oidc import OidcSettings
from consentry.store import SqlStore

from .conftest import make_config

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
CALLBACK = "http://testserver/admin/oidc/callback"
ROLE_MAP = (
    ("staff", StaffRole.VIEWER),
    ("privacy-reviewers", StaffRole.REVIEWER),
    ("privacy-publishers", StaffRole.PUBLISHER),
)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[dict[str, str]]:
    """The provider, listening on a free loopback port for the whole session; stops when its stdin closes."""
    subprocess.run(["bash", str(OIDC_DIR.parents[1] / "scripts" / "oidc-provider.sh")], check=True)
    proc = subprocess.Popen(
        ["node", str(OIDC_DIR / "provider.mjs"), CALLBACK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=10)
        pytest.fail(f"the OIDC provider did not start: {proc.stderr.read() if proc.stderr else ''}")
    try:
        yield json.loads(line)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def console(svc_store: SqlStore, oidc_provider: dict[str, str]) -> Iterator[TestClient]:
    """The service with OpenID Connect sign-in configured against the provider."""
    settings = OidcSettings(
        issuer=oidc_provider["issuer"],
        client_id=oidc_provider["client_id"],
        client_secret=oidc_provider["client_secret"],
        role_map=ROLE_MAP,
    )
    with TestClient(create_app(svc_store, make_config(oidc=settings))) as client:
        yield client


def _at_provider(idp: httpx.Client, response: httpx.Response) -> tuple[httpx.Response, str | None]:
    """Follow the provider's redirects; stop at a page, or at the redirect back to the console."""
    while response.is_redirect:
        target = urljoin(str(response.url), response.headers["location"])
        if target.startswith("http://testserver/"):
            return response, target
        response = idp.get(target)
    return response, None


def _form_action(page: httpx.Response) -> str:
    m = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert m, page.text
    return urljoin(str(page.url), m.group(1))


def provider_round_trip(console: TestClient, login: str, password: str) -> str:
    """Start at the console, sign in and consent at the provider; the callback URL it sends the browser to."""
    start = console.get("/admin/oidc/sign-in", follow_redirects=False)
    assert start.status_code == 302, start.text
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and query["response_type"] == ["code"]
    with httpx.Client() as idp:
        page, back = _at_provider(idp, idp.get(start.headers["location"]))
        assert back is None and "Sign in" in page.text
        answer = idp.post(_form_action(page), data={"login": login, "password": password})
        if answer.status_code == 401:
            return ""
        page, back = _at_provider(idp, answer)
        if back is None:  # the consent page
            page, back = _at_provider(idp, idp.post(_form_action(page)))
        assert back is not None and back.startswith(CALLBACK), page.text
        return back


def sign_in(console: TestClient, login: str, password: str) -> httpx.Response:
    """The whole sign-in; the console's answer to the callback."""
    back = provider_round_trip(console, login, password)
    return console.get(back.removeprefix("http://testserver"), follow_redirects=False)


def test_a_reviewer_signs_in_and_acts_as_her_named_account(console: TestClient, svc_store: SqlStore) -> None:
    done = sign_in(console, "rita", "rita-password")
    assert done.status_code == 303 and done.headers["location"] == "/admin/objections"
    page = console.get("/admin/objections")
    assert page.status_code == 200 and "Rita Reviewer" in page.text and "reviewer" in page.text
    registry = StaffRegistry(svc_store)
    (account,) = registry.list_accounts()
    assert (account.name, account.role, account.subject) == ("Rita Reviewer", StaffRole.REVIEWER, "rita")
    assert account.issuer is not None and account.issuer.startswith("http://127.0.0.1:")
    entries = registry.audit_entries()
    assert [(e.action, e.account_id, e.key_id) for e in entries[::-1][:2]] == [
        ("console.sign_in", account.account_id, None),
        ("view:objections", account.account_id, None),
    ]
    # The console session writes as the account (CSRF checked); the audit names the account.
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    published = console.post(
        "/v1/admin/policy/versions", json={"policy_yaml": "x: 1"}, headers={"X-CSRF-Token": token.group(1)}
    )
    assert published.status_code == 403 and published.json()["code"] == "forbidden"
    assert registry.audit_entries()[0].account_id == account.account_id


def test_roles_come_from_the_configured_claim(console: TestClient, svc_store: SqlStore) -> None:
    assert sign_in(console, "paul", "paul-password").status_code == 303  # groups: staff, privacy-publishers
    (account,) = StaffRegistry(svc_store).list_accounts()
    assert account.role is StaffRole.PUBLISHER
    refused = sign_in(console, "mark", "mark-password")  # groups: marketing, mapped to nothing
    assert refused.status_code == 403 and "no Consentry role" in refused.text
    assert len(StaffRegistry(svc_store).list_accounts()) == 1


def test_a_wrong_password_a_forged_state_or_a_replayed_code_opens_no_session(console: TestClient) -> None:
    assert provider_round_trip(console, "rita", "not-her-password") == ""
    back = provider_round_trip(console, "rita", "rita-password")
    parts = urlsplit(back)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    forged = console.get(f"{parts.path}?{urlencode({**query, 'state': 'forged'})}", follow_redirects=False)
    assert forged.status_code == 401 and "failed" in forged.text
    assert console.get("/admin/objections", follow_redirects=False).headers["location"] == "/admin/sign-in"
    good = console.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    assert good.status_code == 303
    replayed = console.get(f"{parts.path}?{parts.query}", follow_redirects=False)
    assert replayed.status_code == 401


def test_the_sign_in_page_offers_the_company_sign_in(console: TestClient) -> None:
    page: Any = console.get("/admin/sign-in")
    assert 'href="/admin/oidc/sign-in"' in page.text


def test_the_settings_come_from_the_environment_and_a_bad_role_map_is_named() -> None:
    from consentry.errors import ConfigError
    from consentry.service import ServiceConfig
    from consentry.service.oidc import role_from_claims

    env = {
        "CONSENTRY_OIDC_ISSUER": "https://idp.example",
        "CONSENTRY_OIDC_CLIENT_ID": "console",
        "CONSENTRY_OIDC_CLIENT_SECRET": "s3cret",
        "CONSENTRY_OIDC_ROLE_MAP": "privacy=viewer, privacy-leads=publisher",
        "CONSENTRY_OIDC_ROLES_CLAIM": "roles",
    }
    settings = ServiceConfig.from_environ(env).oidc
    assert settings is not None and settings.roles_claim == "roles"
    assert role_from_claims({"roles": ["privacy", "privacy-leads"]}, settings) is StaffRole.PUBLISHER
    assert role_from_claims({"roles": "privacy"}, settings) is StaffRole.VIEWER
    assert role_from_claims({"groups": ["privacy"]}, settings) is None
    assert ServiceConfig.from_environ({}).oidc is None
    with pytest.raises(ConfigError, match=r"CONSENTRY_OIDC_ROLE_MAP: 'privacy=admin' is not"):
        ServiceConfig.from_environ({**env, "CONSENTRY_OIDC_ROLE_MAP": "privacy=admin"})
    with pytest.raises(ConfigError, match="CONSENTRY_OIDC_CLIENT_SECRET"):
        ServiceConfig.from_environ({k: v for k, v in env.items() if k != "CONSENTRY_OIDC_CLIENT_SECRET"})
