"""Request size limits, enforced before any parser runs (query strings, JSON, multipart, CQL2).

A pure ASGI middleware: the URL is measured from the raw scope, the body as it streams in (a wrong or missing
Content-Length does not get past it), so a hostile request costs at most the limit in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import problem

Message = MutableMapping[str, Any]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` as the body streams in. An HTTPException, because FastAPI turns any other error
    while it reads a body into a 400, and the error handlers answer this one as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_url_bytes: int, max_body_bytes: int, upload_paths: dict[str, int]
    ) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.max_body_bytes = max_body_bytes
        self.upload_paths = upload_paths  # path prefix -> its own limit (file uploads, deliveries)

    def body_limit(self, path: str) -> int:
        for prefix, limit in self.upload_paths.items():
            if path.startswith(prefix):
                return limit
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        if url_bytes > self.max_url_bytes:
            await _refuse(scope, receive, send, 414,
                          f"the URL is {url_bytes:,} bytes long, at most {self.max_url_bytes:,}: send a long "
                          "filter as a CQL2 JSON body, or split the request")
            return
        limit = self.body_limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, 413, _too_large(limit))
            return
        await self._guarded(scope, receive, send, limit)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes: split it into smaller requests"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    response: Callable[[Scope, Receive, Send], Awaitable[None]] = problem(status, detail)
    await response(scope, receive, send)
