"""The API documentation page (/api.html) in headless Chromium with no network: Swagger UI, vendored, renders
the OpenAPI document's operations and asks nothing of any other host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import assert_page_clean, chromium, chromium_available, platform_server

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with platform_server(database_url, tmp_path_factory.mktemp("docs-server")) as base:
        yield base


def test_api_documentation_renders_offline(server: str) -> None:
    assert chromium_available(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    with chromium() as new_page:
        page = new_page()
        page.goto(f"{server}/api.html")
        operations = page.wait_until("document.querySelectorAll('.opblock').length", 60)
        assert operations > 50  # every route of the document, not an empty shell
        title = page.evaluate("document.querySelector('.info .title').textContent")
        assert "onemap" in title
        assert_page_clean(page)
