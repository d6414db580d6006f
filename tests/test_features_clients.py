"""Third-party clients against a real server: OWSLib's OGC API Features client, and a schemathesis fuzz run of
the OpenAPI document that must find no 5xx."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.features_support import *  # noqa: F403  (the real uvicorn server fixtures)

if TYPE_CHECKING:  # schemathesis is optional: the fuzz test skips without it
    from schemathesis import APIOperation, Case


def test_owslib_lists_collections_and_pages(server: str, db) -> None:
    from owslib.ogcapi.features import Features

    client = Features(server)
    ids = [c["id"] for c in client.collections()["collections"]]
    assert "buildings" in ids
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in client.conformance()["conformsTo"]
    seen = []
    offset = 0
    while True:
        page = client.collection_items("buildings", limit=100, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 100
    assert seen == [r[0] for r in db.execute("SELECT id FROM onemap.building ORDER BY id")]
    filtered = client.collection_items("buildings", limit=5, filter="floors > 20", bbox=[113, 22, 115, 23])
    assert all(f["properties"]["floors"] > 20 for f in filtered["features"])


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors(server: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_url(f"{server}/api")
    failures: list[str] = []
    read_only = schema.include(method="GET")
    for operation in read_only.get_all_operations():
        op = operation.ok()
        if any(part in op.path for part in ("/tiles", "/map", "/raster", "/styles", "/health")):
            continue  # other route groups have their own tests
        _run(op, failures)
    assert not failures, failures
    assert httpx.get(f"{server}/collections").status_code == 200


def _run(operation: APIOperation, failures: list[str]) -> None:
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(case=operation.as_strategy())
    def probe(case: Case) -> None:
        response = case.call()
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

    probe()
