"""The published contract, `/openapi.json`: security schemes, problem responses, purposes as an enum.

FastAPI writes the operations from the routes' typed models; this module adds
what it cannot know:

- the security schemes and, per operation, which combination it needs
  (a member session cookie, plus the `X-CSRF-Token` header on writes, or the
  gateway's signed headers; a staff bearer key, or a console session plus CSRF);
- the `Problem` schema that every declared error answers with;
- the enum of purposes, from the policy the store holds (read at start, and
  again whenever the document is asked for and the policy's purposes changed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from consentry.errors import NotFoundError
from consentry.service.api_models import PURPOSE_MARK
from consentry.service.errors import Problem

__all__ = ["SECURITY_SCHEMES", "install_openapi", "operation_security"]

_PURPOSE_REF = {"$ref": "#/components/schemas/Purpose"}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "memberSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "consentry_session",
        "description": "The member's sign-in session (signed, HTTP-only cookie; the session itself is in the store).",
    },
    "csrfToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "Every write sent with a session cookie: the token from GET /v1/session.",
    },
    "gatewaySignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Consentry-Signature",
        "description": (
            "Trusted-gateway mode: hex HMAC-SHA256(secret, '<X-Consentry-Timestamp>.<X-Consentry-Member>'), "
            "sent with both of those headers."
        ),
    },
    "staffKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff API key (csk_…), tied to a named staff account.",
    },
    "consoleSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "consentry_session",
        "description": "A staff console session (sign-in with OpenID Connect or a staff API key).",
    },
}

_MEMBER_READ: list[dict[str, list[str]]] = [{"memberSession": []}, {"gatewaySignature": []}]
_MEMBER_WRITE: list[dict[str, list[str]]] = [
    {"memberSession": [], "csrfToken": []},
    {"gatewaySignature": [], "memberSession": [], "csrfToken": []},
]
_STAFF_READ: list[dict[str, list[str]]] = [{"staffKey": []}, {"consoleSession": []}]
_STAFF_WRITE: list[dict[str, list[str]]] = [{"staffKey": []}, {"consoleSession": [], "csrfToken": []}]


def operation_security(path: str, method: str) -> list[dict[str, list[str]]]:
    """The security requirements of one operation (alternatives; each lists what must be sent together)."""
    write = method.lower() not in ("get", "head", "options")
    if path.startswith("/v1/admin"):
        return _STAFF_WRITE if write else _STAFF_READ
    if path.startswith("/v1/me") or path == "/v1/session":
        return _MEMBER_WRITE if write else _MEMBER_READ
    return []


def _with_purposes(node: Any) -> Any:
    """Every schema marked as a purpose id becomes a reference to the Purpose enum."""
    if isinstance(node, dict):
        if node.get(PURPOSE_MARK):
            return dict(_PURPOSE_REF)
        return {k: _with_purposes(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_purposes(v) for v in node]
    return node


def build_schema(app: FastAPI, purposes: list[str]) -> dict[str, Any]:
    """The OpenAPI document of `app`, with `purposes` as the Purpose enum (a plain string when empty)."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    purpose: dict[str, Any] = {"type": "string", "description": "A purpose the policy names (any version)."}
    if purposes:
        purpose["enum"] = list(purposes)
    else:
        purpose.update(minLength=1, maxLength=64)
    schemas["Purpose"] = purpose
    components["securitySchemes"] = SECURITY_SCHEMES
    problem_content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            op["security"] = operation_security(path, method)
            # FastAPI adds its own 422 to routes with parameters; ours is a problem like every error.
            invalid = op.get("responses", {}).get("422")
            if invalid is not None and "application/json" in invalid.get("content", {}):
                op["responses"]["422"] = {
                    "description": "malformed or schema-invalid input",
                    "content": problem_content,
                }
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    out: dict[str, Any] = _with_purposes(schema)
    return out


def install_openapi(app: FastAPI, purposes: Callable[[], list[str]]) -> None:
    """Serve `build_schema` as /openapi.json, rebuilt when the policy's purposes change."""
    cache: dict[tuple[str, ...], dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        try:
            now = tuple(purposes())
        except NotFoundError:  # no policy published yet: purposes are plain strings
            now = ()
        if now not in cache:
            cache.clear()
            cache[now] = build_schema(app, list(now))
        app.openapi_schema = cache[now]
        return cache[now]

    app.openapi = openapi  # type: ignore[method-assign]
