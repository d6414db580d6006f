"""Serving behind a reverse proxy under a path prefix (nginx at ``https://host/onemap/`` -> this server at ``/``).

The proxy says where the client is with ``X-Forwarded-Prefix``, ``-Host``, ``-Proto`` and ``-For``; from a
trusted peer (``ApiSettings.forwarded_allow_ips``, by default 127.0.0.1 as uvicorn's own) the prefix becomes
the ASGI ``root_path`` and the host the ``Host`` header, so ``request.base_url`` (every link, TileJSON and style
URL, see ``api.links``) and the pages' asset URLs carry them. Proto and For are uvicorn's own middleware, run
here behind the same trust check, so that the check sees the proxy's address, not the forwarded client's:
``onemap serve`` turns uvicorn's copy off.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

# A path of plain segments: anything else (a scheme, "..", quotes) would end up in every link the server writes.
PREFIX = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$")
HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def _first(value: bytes) -> str:
    """A proxy chain sends comma-separated values; the first is what the client asked the outermost one."""
    return value.decode("latin-1").split(",")[0].strip()


class ForwardedHeaders:
    def __init__(self, app: ASGIApp, *, trusted: list[str] | str) -> None:
        self.proxied = ProxyHeadersMiddleware(app, trusted_hosts=trusted)  # type: ignore[arg-type]
        self.app = app

    def trusts(self, scope: Scope) -> bool:
        client = scope.get("client")
        return client is not None and client[0] in self.proxied.trusted_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.trusts(scope):
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        headers = dict(scope["headers"])
        prefix = _first(headers.get(b"x-forwarded-prefix", b"")).rstrip("/")
        if prefix and PREFIX.match(prefix) and ".." not in prefix.split("/"):
            scope["root_path"] = prefix + scope.get("root_path", "")
        host = _first(headers.get(b"x-forwarded-host", b""))
        if host and HOST.match(host):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [(b"host", host.encode())]
        await self.proxied(scope, receive, send)  # type: ignore[arg-type]  # uvicorn types its own scopes
