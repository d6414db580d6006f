"""Domain errors -> HTTP problem responses (RFC 9457). Only 5xx are logged; no SQL or trace reaches a client."""

from __future__ import annotations

import logging
from http import HTTPStatus

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import UNAVAILABLE, get_database
from layers.errors import LayerForbidden
from spatial.errors import DatabaseUnavailable, InvalidInput, NotFound, OnemapError
from spatial.sources.errors import IdempotencyConflict, PushTooLarge

log = logging.getLogger("onemap.api")


class Unauthorized(OnemapError):
    """No key, or an unknown or revoked one."""


class Forbidden(OnemapError):
    """The key is valid but its role may not do this."""


class Conflict(OnemapError):
    """The request clashes with the current state (a name taken, a stale version)."""


STATUS_BY_ERROR: list[tuple[type[Exception], int]] = [
    (Unauthorized, 401),
    (Forbidden, 403),
    (LayerForbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (IdempotencyConflict, 409),
    (PushTooLarge, 413),
    (InvalidInput, 400),
    (DatabaseUnavailable, 503),
]


def problem(status: int, detail: str, title: str | None = None) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OnemapError)
    async def domain_error(_: Request, exc: OnemapError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.error("service error: %s", exc)
        return problem(status, str(exc))

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(sqlalchemy.exc.OperationalError)
    async def database_lost(request: Request, _: Exception) -> JSONResponse:
        # The server went away mid-request (restart, crash): a retry in a moment will work.
        get_database(request).suspect()
        return problem(503, UNAVAILABLE)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return problem(400, f"invalid parameter {where}: {first.get('msg', 'malformed')}".strip())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "internal error; it has been logged")
