"""HTTP methods every resource answers the same way: HEAD wherever GET is (the GET response without its body,
RFC 9110 9.3.2), and a 405 that names, in ``Allow``, every method the path answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Answers HEAD with what GET would answer, without the body; once, in front of every route (FastAPI's
    routes, unlike Starlette's, answer only the methods they name). The headers stay those of the GET
    (Content-Length, Link); the app is told the client left once the headers are out, so that a stream
    (the SSE routes) stops instead of producing a body nobody reads."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        started = False
        finished = False

        async def headers_only(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
                await send(message)
            elif message["type"] == "http.response.body" and not finished:
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def gone_once_answered() -> Message:
            if started:
                return {"type": "http.disconnect"}
            return await receive()

        await self.app({**scope, "method": "GET"}, gone_once_answered, headers_only)


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route answers at this request's path: a path may be served by several routes (GET in
    one module, POST in another), and the router's own 405 names only the first one's."""
    found: set[str] = set()
    for route in iter_route_contexts(routes):
        methods: Any = route.methods
        if not methods:
            continue
        match, _ = route.matches(scope)
        if match in (Match.FULL, Match.PARTIAL):
            found |= set(methods)
    if "GET" in found:
        found.add("HEAD")  # HeadAsGet
    return sorted(found)
