"""Schemathesis against /openapi.json: no generated input, signed in or not, yields a 5xx.

Every operation runs with a member session (cookie + CSRF header) and a staff
reviewer key, so the generator reaches the handlers behind authentication.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from consentry.policy import load_policy
from consentry.service import SESSION_COOKIE, StaffRegistry, StaffRole, create_app
from consentry.store import open_store
from consentry.store.protocol import Member

from .conftest import CLOCK, MEMBERS, make_config, sign_in

ROOT = Path(__file__).resolve().parents[2]
#: Every response: no 5xx, a declared status, the declared content type, body and headers as the schema says.
STRICT = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A populated store, the app, a member session and a reviewer key."""
    from datetime import date, datetime

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'c.db'}")
    store.publish(load_policy(ROOT / "examples" / "policies" / "social-network.yaml"))
    created = datetime(2020, 1, 1, tzinfo=UTC)
    store.add_members([Member(m, c, date(1985, 6, 1), created) for m, c in MEMBERS.items()])
    app = create_app(store, make_config(write_limit=100_000))
    key = StaffRegistry(store).add_key("fuzz", StaffRole.REVIEWER).secret
    with TestClient(app) as client:
        token = sign_in(client, "us-alice")
        client.post("/v1/me/objections", json={"purposes": ["personalization"]})
        client.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False})
        cookie = client.cookies.get(SESSION_COOKIE)
    yield {"app": app, "cookie": cookie, "csrf": token, "key": key, "clock": CLOCK}
    store.close()


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_fuzzed(fuzz_env: dict[str, Any]) -> None:
    """Each operation of the schema gets bounded generated inputs; none may yield a 5xx.

    (Schemathesis' pytest plugin does not load under this pytest, so operations
    are driven through their Hypothesis strategies directly.)
    """
    operations = _operations(fuzz_env["app"])
    assert len(operations) >= 15
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            headers = dict(case.headers or {})
            headers["Authorization"] = f"Bearer {fuzz_env['key']}"  # bad keys: test_security.py
            headers["X-CSRF-Token"] = fuzz_env["csrf"]
            response = case.call(headers=headers, cookies={SESSION_COOKIE: fuzz_env["cookie"]})
            case.validate_response(response, checks=STRICT)
            statuses.append(response.status_code)
            assert response.status_code < 500
            if response.status_code >= 400:
                assert response.headers["content-type"] == ["application/problem+json"]
            if case.operation.definition.raw.get("security"):  # without credentials: refused, as declared
                anonymous = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                refused = case.call(headers=anonymous, cookies={SESSION_COOKIE: "signed-out"})
                case.validate_response(refused, checks=STRICT)
                assert refused.status_code in (401, 422), refused.status_code

        try:
            run()
        except Exception as e:  # collect every failing operation, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {e}")
    assert not failures, "\n\n".join(failures)
    # The generator got past authentication and validation, not only 401/422s.
    assert len(statuses) > 150 and sum(200 <= s < 300 for s in statuses) > 30


def test_the_contract_is_typed(fuzz_env: dict[str, Any]) -> None:
    """Every 2xx body has a typed schema, every error is problem+json, every operation says how to authenticate."""
    with TestClient(fuzz_env["app"]) as client:
        doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert set(doc["components"]["securitySchemes"]) >= {"memberSession", "csrfToken", "staffKey", "consoleSession"}
    assert schemas["Purpose"]["enum"] == ["ads_partners", "content_moderation", "genai_training", "personalization"]
    assert schemas["ChoiceIn"]["properties"]["purpose"] == {"$ref": "#/components/schemas/Purpose"}
    assert {"type", "title", "status", "detail", "instance"} <= set(schemas["Problem"]["required"])
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            for status, response in op["responses"].items():
                (media,) = response["content"]
                schema = response["content"][media]["schema"]
                if status.startswith("2"):
                    assert media == "application/json" and schema, where
                else:
                    assert media == "application/problem+json", where
                    assert schema == {"$ref": "#/components/schemas/Problem"}, where
            if path.startswith(("/v1/me", "/v1/admin")):
                assert op["security"], where
                write = method != "get"
                assert write == any("csrfToken" in alternative for alternative in op["security"]), where
                # Every write can be refused for credentials, CSRF or role, input, and the rate limit.
                assert not write or {"401", "403", "422", "429"} <= set(op["responses"]), where
