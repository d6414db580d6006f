"""Domain errors -> HTTP problem responses (RFC 9457). Only 5xx are logged; no SQL or trace reaches a client."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import UNAVAILABLE, get_database
from api.methods import allowed_methods
from spatial.cases.errors import AttachmentNotImage, AttachmentTooLarge, TransitionNotAllowed
from spatial.cases.feed import StaleEventId
from spatial.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InvalidInput,
    NotFound,
    OnemapError,
    TooLarge,
)
from spatial.kpis.errors import OutsideScope
from spatial.sources.errors import IdempotencyConflict, PushTooLarge

log = logging.getLogger("onemap.api")


class Unauthorized(OnemapError):
    """No key, or an unknown or revoked one."""


__all__ = ["Conflict", "Forbidden", "Unauthorized", "install_error_handlers", "problem", "status_for"]

STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (Unauthorized, 401),
    (Forbidden, 403),
    (TransitionNotAllowed, 409),
    (AttachmentTooLarge, 413),
    (AttachmentNotImage, 415),
    (StaleEventId, 410),
    (OutsideScope, 403),
    (NotFound, 404),
    (Conflict, 409),
    (IdempotencyConflict, 409),
    (PushTooLarge, 413),
    (TooLarge, 413),
    (InvalidInput, 400),
    (DatabaseUnavailable, 503),
]


def problem(
    status: int, detail: str, title: str | None = None, extra: dict[str, Any] | None = None
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
        **(extra or {}),  # RFC 9457 extension members, e.g. the actions a case allows
    }
    headers = _HEADERS.get(status)
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


_HEADERS = {401: {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}, 503: {"Retry-After": "2"}}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def status_for(exc: Exception) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


# Route groups whose clients expect another error format than RFC 9457 (path prefix -> body maker); Open311
# GeoReport v2 clients read ``[{"code": ..., "description": ...}]``.
ERROR_FORMATS: dict[str, Callable[[Request, int, str], Response]] = {}


def _respond(request: Request, status: int, detail: str, extra: dict[str, Any] | None = None) -> Response:
    for prefix, shape in ERROR_FORMATS.items():
        if request.url.path.startswith(prefix):
            return shape(request, status, detail)
    return problem(status, detail, extra=extra)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OnemapError)
    async def domain_error(request: Request, exc: OnemapError) -> Response:
        status = status_for(exc)
        if status >= 500:
            log.error("service error: %s", exc)
        return _respond(request, status, str(exc), getattr(exc, "extra", None))

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(sqlalchemy.exc.OperationalError)
    async def database_lost(request: Request, _: Exception) -> JSONResponse:
        # The server went away mid-request (restart, crash): a retry in a moment will work.
        get_database(request).suspect()
        return problem(503, UNAVAILABLE)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body", "form"))
        return _respond(request, 400, f"invalid parameter {where}: {first.get('msg', 'malformed')}".strip())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = _respond(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            allowed = allowed_methods(request.app.router.routes, request.scope)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "internal error; it has been logged")
