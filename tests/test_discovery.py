"""What a GIS client reads before it reads data: the conformance declaration (from the mounted route modules),
the OpenAPI 3.0 document, the declared and clamped page size, HEAD and 405, Link headers, and links behind a
reverse proxy's path prefix."""

from __future__ import annotations

import types
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.conformance import declared
from api.links import QUERYABLES, link, link_header
from api.main import ROUTERS
from api.openapi import OPENAPI_30, schema_30
from api.routers import features, features_edit, ogc_common
from api.settings import DEFAULT_LIMIT, MAX_LIMIT
from tests.features_support import *  # noqa: F403  (client, keys, the real uvicorn server)
from tests.features_support import Keys, LiveServer, as_key

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete"
ITEMS = "/collections/buildings/items"


def test_conformance_is_what_the_mounted_modules_declare(client: TestClient) -> None:
    answered = client.get("/conformance").json()["conformsTo"]
    assert answered == declared(ROUTERS)
    assert len(answered) == len(set(answered))
    assert set(features.CONFORMANCE) | set(features_edit.CONFORMANCE) <= set(answered)
    assert not hasattr(ogc_common, "CONFORMANCE")  # one home: the modules whose routes implement them
    # Without the editing routes there is no Part 4; a new module is picked up, duplicates collapse in order.
    assert PART4 not in declared([features])
    extra = types.ModuleType("extra")
    extra.CONFORMANCE = ["http://example.org/conf/x", CORE]  # type: ignore[attr-defined]
    assert declared([features, extra, features]) == [*features.CONFORMANCE, "http://example.org/conf/x"]


def _walk(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_openapi_document_is_valid_openapi_30(client: TestClient) -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator

    for path in ("/api", "/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == OPENAPI_30
    document = client.get("/api").json()
    assert document["openapi"].startswith("3.0.")
    OpenAPIV30SpecValidator(document).validate()
    left = [f"{p}/{k}" for p, k, v in _walk(document) if (k in ("const", "examples", "$defs", "prefixItems")
            and "/schema" in p)
            or (k == "type" and isinstance(v, list)) or (k == "exclusiveMinimum" and not isinstance(v, bool))]
    assert not left, left[:5]
    landing = client.get("/").json()
    [desc] = [link for link in landing["links"] if link["rel"] == "service-desc"]
    assert desc["type"] == OPENAPI_30 and desc["href"].endswith("/api")
    assert client.get("/api.html").status_code == 200


def test_json_schema_2020_becomes_openapi_30_schema() -> None:
    converted = schema_30({
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}], "title": "A"},
            "b": {"const": "x", "examples": ["x"]},
            "c": {"type": ["string", "null"]},
            "d": {"anyOf": [{"$ref": "#/components/schemas/P"}, {"type": "null"}]},
            "e": {"$ref": "#/components/schemas/P", "description": "d"},
            "f": {"type": "string", "contentMediaType": "application/octet-stream"},
        },
    })
    p = converted["properties"]
    assert p["a"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "nullable": True, "title": "A"}
    assert p["b"] == {"enum": ["x"], "example": "x"}
    assert p["c"] == {"type": "string", "nullable": True}
    assert p["d"] == {"nullable": True, "allOf": [{"$ref": "#/components/schemas/P"}]}
    assert p["e"] == {"description": "d", "allOf": [{"$ref": "#/components/schemas/P"}]}
    assert p["f"] == {"type": "string", "format": "binary"}


def test_limit_is_declared_and_a_larger_one_is_clamped(client: TestClient) -> None:
    operation = client.get("/api").json()["paths"]["/collections/{collection_id}/items"]["get"]
    [limit] = [p for p in operation["parameters"] if p["name"] == "limit"]
    assert limit["schema"]["type"] == "integer"
    assert (limit["schema"]["default"], limit["schema"]["minimum"], limit["schema"]["maximum"]) == (
        DEFAULT_LIMIT, 1, MAX_LIMIT)
    plain = client.get(ITEMS).json()
    assert plain["numberReturned"] == min(DEFAULT_LIMIT, plain["numberMatched"])
    big = client.get(ITEMS, params={"limit": MAX_LIMIT * 3, "properties": ""})
    assert big.status_code == 200, big.text
    page = big.json()
    assert page["numberReturned"] == min(MAX_LIMIT, page["numberMatched"])
    [self_link] = [link for link in page["links"] if link["rel"] == "self"]
    assert f"limit={MAX_LIMIT}" in self_link["href"]  # the links page by what was served
    for bad in (0, -1):
        response = client.get(ITEMS, params={"limit": bad})
        assert response.status_code == 400 and "limit" in response.json()["detail"]


def test_head_answers_every_get_resource_without_a_body(client: TestClient) -> None:
    routes = iter_route_contexts(client.app.router.routes)  # type: ignore[attr-defined]
    plain_gets = [r.path for r in routes if r.path and "GET" in (r.methods or ()) and "{" not in r.path]
    assert "/collections" in plain_gets and "/dashboard" in plain_gets
    for path in [*plain_gets, ITEMS, "/collections/buildings", "/static/onemap/viewer.js"]:
        head = client.head(path)
        assert head.status_code != 405, path
        assert head.content == b"", path
    get, head = client.get(ITEMS, params={"limit": 3}), client.head(ITEMS, params={"limit": 3})
    assert head.status_code == 200 and head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["link"] == get.headers["link"]


def test_405_names_every_method_the_path_answers(client: TestClient) -> None:
    response = client.request("PATCH", ITEMS)  # GET lives in features.py, POST in features_edit.py
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}
    assert response.headers["content-type"].startswith("application/problem+json")
    landing = client.delete("/")
    assert landing.status_code == 405 and landing.headers["allow"] == "GET, HEAD"


def test_link_header_carries_the_paging_links(client: TestClient, keys: Keys) -> None:
    response = client.get(ITEMS, params={"limit": 2, "offset": 2})
    body = {link["rel"]: link["href"] for link in response.json()["links"]}
    header = {rel: found["url"] for rel, found in response.links.items()}
    assert {"self", "next", "prev", "alternate"} <= set(header)
    assert all(header[rel] == body[rel] for rel in header)
    assert "collection" not in header  # the body has it; the header keeps to paging and formats
    # OGC API Features Part 3: a filterable resource links its queryables in the Link header.
    assert header[QUERYABLES].endswith("/collections/buildings/queryables")
    assert client.head(header[QUERYABLES].removeprefix("http://testserver")).status_code == 200
    first = client.get(ITEMS, params={"limit": 1}).json()["features"][0]["id"]
    feature = client.get(f"{ITEMS}/{first}")
    assert feature.links["self"]["url"].endswith(f"{ITEMS}/{first}")
    assert feature.links["alternate"]["url"].endswith("?f=html")
    assert client.get("/collections").links["self"]["url"].endswith("/collections")
    # A feature id that is no URL text (Chinese, ">") is percent-encoded, never a 500 from a Latin-1 header.
    odd = client.get(f"{ITEMS}/楼>1")
    assert odd.status_code == 400, odd.text
    assert link_header([link("http://h/items/楼>1", "self")]) == (
        '<http://h/items/%E6%A5%BC%3E1>; rel="self"; type="application/json"')


# As nginx sends them: X-Forwarded-For names the client, not the proxy, and must not stop the proxy being trusted.
PROXIED = {"X-Forwarded-Prefix": "/onemap", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "gis.example.org",
           "X-Forwarded-For": "10.20.30.40"}
OUTSIDE = "https://gis.example.org/onemap"


def _links(node: Any) -> list[str]:
    found = []
    for _, key, value in _walk(node):
        if key in ("href", "url", "tiles", "sprite", "glyphs"):
            found += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
    return found


def test_links_behind_a_reverse_proxy_carry_its_prefix(live_server: LiveServer, client: TestClient) -> None:
    base = live_server.url
    for path in ("/", "/collections", "/collections/buildings", f"{ITEMS}?limit=2&offset=2", "/conformance"):
        response = httpx.get(base + path, headers=PROXIED)
        assert response.status_code == 200, (path, response.text)
        hrefs = _links(response.json())
        assert hrefs and all(h.startswith(OUTSIDE + "/") for h in hrefs), (path, hrefs)
        assert all(found["url"].startswith(OUTSIDE + "/") for found in response.links.values())
    assert httpx.get(f"{base}/api", headers=PROXIED).json()["servers"] == [{"url": "/onemap"}]
    tilejson = httpx.get(f"{base}/collections/buildings/tiles/WebMercatorQuad/tilejson.json", headers=PROXIED)
    assert tilejson.status_code == 200 and all(t.startswith(OUTSIDE + "/") for t in tilejson.json()["tiles"])
    style = httpx.get(f"{base}/styles/onemap.json", headers=PROXIED)
    assert style.status_code == 200, style.text
    served = [h for h in _links(style.json()) if h.startswith(("http", "/"))]
    assert served and all(h.startswith(OUTSIDE + "/") for h in served), served
    # A proxy that passes the prefix on (proxy_pass without a trailing slash) reaches the same resources.
    unstripped = httpx.get(f"{base}/onemap/collections/buildings", headers=PROXIED)
    assert unstripped.status_code == 200 and unstripped.json()["links"][0]["href"].startswith(OUTSIDE + "/")
    # A prefix that is no plain path (another host, a climb, markup) is not written into links.
    for hostile in ("//evil.example", "/a/../b", '/x"><script>', "https://evil.example"):
        doc = httpx.get(f"{base}/", headers={**PROXIED, "X-Forwarded-Prefix": hostile}).json()
        assert doc["links"][0]["href"] == "https://gis.example.org/", hostile
    # An untrusted peer cannot move the links anywhere: the test client's address is not 127.0.0.1.
    assert client.get("/", headers=PROXIED).json()["links"][0]["href"] == "http://testserver/"


@pytest.mark.parametrize("path", ["/map", "/dashboard"])
def test_pages_behind_a_reverse_proxy_ask_for_prefixed_urls(live_server: LiveServer, keys: Keys,
                                                           path: str) -> None:
    import re

    response = httpx.get(live_server.url + path, headers={**PROXIED, **as_key(keys.admin)})
    assert response.status_code == 200, response.text
    assets = re.findall(r'(?:src|href)="(/[^"]*)"', response.text)
    assert assets, "no asset URLs found"
    assert all(a.startswith("/onemap/") for a in assets), [a for a in assets if not a.startswith("/onemap/")]
    if path == "/dashboard":
        assert '"root":"/onemap"' in response.text.replace(" ", "")  # the wall's script prefixes its requests
    else:  # the viewer's tile, heatmap and archive URLs are written into the page
        assert '"/collections/' not in response.text and '"/onemap/collections/' in response.text
    for asset in assets[:3]:  # and they are there (the proxy strips the prefix)
        assert httpx.get(live_server.url + asset.removeprefix("/onemap")).status_code == 200


def test_error_pages_and_kpi_links_behind_a_reverse_proxy(live_server: LiveServer, keys: Keys) -> None:
    page = httpx.get(f"{live_server.url}/map/buildings/no-such-building", headers=PROXIED)
    assert page.status_code in (401, 404) and 'href="/onemap/map"' in page.text
    figures = httpx.get(f"{live_server.url}/kpis", headers={**PROXIED, **as_key(keys.admin)})
    assert figures.status_code == 200, figures.text
    series = [link["href"] for link in figures.json()["links"]]
    assert series and all(h.startswith("/onemap/kpis/") for h in series)


def test_head_on_a_real_server_sends_the_get_headers_and_ends_streams(live_server: LiveServer,
                                                                       keys: Keys) -> None:
    url = f"{live_server.url}{ITEMS}?limit=3&properties=code"
    get, head = httpx.get(url), httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["link"] == get.headers["link"]
    # A Server-Sent Events stream answers HEAD with its headers and ends, instead of streaming to nobody.
    stream = httpx.head(f"{live_server.url}/warnings/stream", headers=as_key(keys.admin), timeout=10)
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
