"""Links the server writes: absolute URLs under the request's base (which carries a reverse proxy's prefix, see
``api.proxy``), link objects for OGC documents, and the same links as an HTTP ``Link`` header (RFC 8288)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from fastapi import Request

JSON = "application/json"

QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
# Relations worth a header: what a client pages or switches format with, and the queryables of a filterable
# resource (OGC API Features Part 3 finds them in the items' Link header). Others (data, conformance,
# collection) stay in the body, so that a header never grows past what proxies accept.
HEADER_RELATIONS = frozenset({"self", "alternate", "next", "prev", "first", "last", QUERYABLES})


def base_url(request: Request) -> str:
    """The server's root as the client sees it, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def root_path(request: Request) -> str:
    """The path prefix under which the client reaches the server ("" when served at the host's root)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def link(href: str, rel: str, type_: str = JSON, title: str | None = None) -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": type_}
    if title:
        found["title"] = title
    return found


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def link_header(links: Iterable[Mapping[str, str]]) -> str:
    """``links`` (the document's own) as one RFC 8288 ``Link`` header value, for the paging relations."""
    parts = []
    for found in links:
        if found.get("rel") not in HEADER_RELATIONS:
            continue
        # Titles may be Chinese; RFC 8288 would need title*=UTF-8'' for them, and header values are Latin-1.
        params = [f'rel="{found["rel"]}"']
        if found.get("type"):
            params.append(f"type={_quoted(found['type'])}")
        if found.get("title") and found["title"].isascii():
            params.append(f"title={_quoted(found['title'])}")
        # Header values are Latin-1 and the target ends at ">": anything else in a URL is percent-encoded.
        target = quote(found["href"], safe=":/?#[]@!$&'()*+,;=%~")
        parts.append(f"<{target}>; " + "; ".join(params))
    return ", ".join(parts)


def with_link_header(headers: dict[str, str] | None, links: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """``headers`` plus ``Link`` for ``links`` (when any has a paging relation)."""
    out = dict(headers or {})
    value = link_header(links)
    if value:
        out["Link"] = value
    return out
