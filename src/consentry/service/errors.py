"""Errors: RFC 9457 problem details (``application/problem+json``) for the API, a page for browsers.

Every failure, whatever raised it, goes through one handler (`install_error_handlers`),
which turns it into an `ApiError` and renders it. The API's body::

    {"type": "urn:consentry:problem:not_found", "title": "Not found", "status": 404,
     "detail": "no case …", "instance": "/v1/me/objections/obj_…",
     "code": "not_found", "field": null}

`code` (stable, one of `ErrorCode`) and `field` (the input at fault, if any) are
extension members; `type` is ``urn:consentry:problem:<code>``.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from consentry.errors import (
    ConsentryError,
    InputError,
    NotFoundError,
    ObjectionError,
    PolicyConflictError,
    StoreError,
)

__all__ = [
    "PROBLEM_JSON",
    "ApiError",
    "ErrorCode",
    "Problem",
    "install_error_handlers",
    "problem_body",
    "problems",
]

log = logging.getLogger("consentry.service")

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:consentry:problem:"


class ErrorCode(StrEnum):
    """The stable `code` values clients may rely on (the problem `type` ends with it)."""

    INVALID_REQUEST = "invalid_request"
    INVALID_INPUT = "invalid_input"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    WORKFLOW = "workflow_refused"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


_TITLES = {
    ErrorCode.INVALID_REQUEST: "Invalid request",
    ErrorCode.INVALID_INPUT: "Invalid input",
    ErrorCode.UNAUTHENTICATED: "Sign-in required",
    ErrorCode.FORBIDDEN: "Not allowed",
    ErrorCode.CSRF_FAILED: "Security token missing or stale",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.METHOD_NOT_ALLOWED: "Method not allowed",
    ErrorCode.CONFLICT: "Conflict",
    ErrorCode.WORKFLOW: "Refused by the objection workflow",
    ErrorCode.RATE_LIMITED: "Too many changes",
    ErrorCode.UNAVAILABLE: "Store unavailable",
    ErrorCode.INTERNAL: "Internal error",
}


class Problem(BaseModel):
    """An RFC 9457 problem details object, with the stable `code` and the `field` at fault."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(description="urn:consentry:problem:<code>")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="the request path")
    code: ErrorCode
    field: str | None


class ApiError(Exception):
    """An error with its HTTP status and stable code."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


#: What each status a route may declare means (the description in /openapi.json).
_STATUS_TEXT = {
    401: "not signed in, or the credentials are unknown, revoked or expired (unauthenticated)",
    403: "wrong staff role (forbidden) or a missing or stale CSRF token (csrf_failed)",
    404: "no such resource, or not the caller's (not_found)",
    409: "refused by the workflow or the published policy (workflow_refused, conflict)",
    422: "malformed or schema-invalid input (invalid_request) or input the rules refuse (invalid_input)",
    429: "too many writes; retry after `Retry-After` seconds (rate_limited)",
    503: "the consent store is unavailable; retry shortly (unavailable)",
}


def problems(*statuses: int, store: bool = True) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each error status it can answer, as problem+json (503 when it uses the store)."""
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    every = {*statuses, 503} if store else set(statuses)
    return {s: {"description": _STATUS_TEXT[s], "content": content} for s in sorted(every)}


_HTTP_CODES = {
    400: ErrorCode.INVALID_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.INVALID_REQUEST,
    415: ErrorCode.INVALID_REQUEST,
    422: ErrorCode.INVALID_REQUEST,
    429: ErrorCode.RATE_LIMITED,
}


def _from_library(e: ConsentryError) -> ApiError:
    if isinstance(e, InputError):
        return ApiError(422, ErrorCode.INVALID_INPUT, e.message, e.field)
    if isinstance(e, NotFoundError):
        return ApiError(404, ErrorCode.NOT_FOUND, str(e))
    if isinstance(e, ObjectionError):
        return ApiError(409, ErrorCode.WORKFLOW, str(e))
    if isinstance(e, PolicyConflictError):
        return ApiError(409, ErrorCode.CONFLICT, str(e))
    if isinstance(e, StoreError):
        log.error("store error: %s", e)
        return ApiError(503, ErrorCode.UNAVAILABLE, "the consent store is unavailable; try again shortly")
    return ApiError(400, ErrorCode.INVALID_REQUEST, str(e))


def _field(loc: Any) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[-1]) if loc else None)


def as_api_error(exc: Exception) -> ApiError:
    """Any exception as the ApiError it is answered with (unexpected ones are logged as 500 internal)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ConsentryError):
        return _from_library(exc)
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        message = str(first.get("msg", "invalid request"))
        return ApiError(422, ErrorCode.INVALID_REQUEST, message, _field(first.get("loc", ())))
    if isinstance(exc, StarletteHTTPException):
        code = ErrorCode.INTERNAL if exc.status_code >= 500 else _HTTP_CODES.get(exc.status_code)
        headers = dict(exc.headers or {})
        return ApiError(exc.status_code, code or ErrorCode.INVALID_REQUEST, str(exc.detail), None, headers)
    return ApiError(500, ErrorCode.INTERNAL, "internal error; it has been logged")


def problem_body(err: ApiError, instance: str) -> dict[str, Any]:
    """The RFC 9457 body of `err` for a request to `instance`."""
    return {
        "type": PROBLEM_TYPE + err.code.value,
        "title": _TITLES[err.code],
        "status": err.status,
        "detail": err.message,
        "instance": instance,
        "code": err.code.value,
        "field": err.field,
    }


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/v1") or path.startswith("/openapi") or path.startswith("/static")


def _render(request: Request, err: ApiError) -> Response:
    if _wants_json(request):
        body = problem_body(err, request.url.path)
        return JSONResponse(body, status_code=err.status, headers=err.headers, media_type=PROBLEM_JSON)
    # A failed OpenID Connect sign-in says why (the error page) rather than going back to a sign-in page.
    if err.status == 401 and request.method == "GET" and not request.url.path.startswith("/admin/oidc"):
        if request.url.path.startswith("/admin"):
            return RedirectResponse("/admin/sign-in", status_code=303)
        if getattr(request.app.state, "demo", False):
            return RedirectResponse("/demo/sign-in", status_code=303)
    templates = getattr(request.app.state, "templates", None)
    if templates is None:  # pragma: no cover - only before start-up completes
        return HTMLResponse(err.message, status_code=err.status, headers=err.headers)
    ctx: dict[str, Any] = {"error": err, "title": "Something went wrong"}
    response: Response = templates.TemplateResponse(
        request, "error.html", ctx, status_code=err.status, headers=err.headers
    )
    return response


async def handle_error(request: Request, exc: Exception) -> Response:
    """The service's one exception handler: every failure becomes a problem (API) or an error page."""
    err = as_api_error(exc)
    if err.code is ErrorCode.INTERNAL and err is not exc:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render(request, err)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception to `handle_error`: client mistakes are 4xx, nothing leaks a traceback."""
    for cls in (ApiError, ConsentryError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(cls, handle_error)
