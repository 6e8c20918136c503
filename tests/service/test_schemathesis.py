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
from schemathesis.checks import not_a_server_error

from consentry.policy import load_policy
from consentry.service import SESSION_COOKIE, StaffRegistry, StaffRole, create_app
from consentry.store import open_store
from consentry.store.protocol import Member

from .conftest import CLOCK, MEMBERS, make_config, sign_in

ROOT = Path(__file__).resolve().parents[2]


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
            headers.setdefault("X-CSRF-Token", fuzz_env["csrf"])
            response = case.call(headers=headers, cookies={SESSION_COOKIE: fuzz_env["cookie"]})
            case.validate_response(response, checks=[not_a_server_error])
            statuses.append(response.status_code)
            assert response.status_code < 500
            if response.status_code >= 400:
                assert set(response.json()["error"]) == {"code", "message", "field"}

        try:
            run()
        except Exception as e:  # collect every failing operation, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {e}")
    assert failures == []
    # The generator got past authentication and validation, not only 401/422s.
    assert len(statuses) > 150 and sum(200 <= s < 300 for s in statuses) > 30
