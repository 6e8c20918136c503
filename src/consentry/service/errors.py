"""Stable error bodies: ``{"error": {"code", "message", "field"}}`` for the API, a page for browsers."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from consentry.errors import (
    ConsentryError,
    InputError,
    NotFoundError,
    ObjectionError,
    PolicyConflictError,
    StoreError,
)

__all__ = ["ApiError", "ErrorCode", "install_error_handlers"]

log = logging.getLogger("consentry.service")


class ErrorCode(StrEnum):
    """The stable `error.code` values clients may rely on."""

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


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/v1") or path.startswith("/openapi") or path.startswith("/static")


def _render(request: Request, err: ApiError) -> Response:
    if _wants_json(request):
        body = {"error": {"code": err.code.value, "message": err.message, "field": err.field}}
        return JSONResponse(body, status_code=err.status, headers=err.headers)
    if err.status == 401 and request.method == "GET":
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


def _field(loc: Any) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[-1]) if loc else None)


def install_error_handlers(app: FastAPI) -> None:
    """Every client mistake becomes a 4xx with a stable body; nothing leaks a traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _render(request, exc)

    @app.exception_handler(ConsentryError)
    async def _library_error(request: Request, exc: ConsentryError) -> Response:
        return _render(request, _from_library(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field(first.get("loc", ()))
        message = str(first.get("msg", "invalid request"))
        return _render(request, ApiError(422, ErrorCode.INVALID_REQUEST, message, field))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
        if exc.status_code >= 500:
            code = ErrorCode.INTERNAL
        headers = dict(exc.headers or {})
        return _render(request, ApiError(exc.status_code, code, str(exc.detail), None, headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _render(request, ApiError(500, ErrorCode.INTERNAL, "internal error; it has been logged"))
