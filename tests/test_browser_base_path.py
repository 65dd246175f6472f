"""The dashboard behind a reverse proxy's path (``--server.baseUrlPath``) in a real browser: the
pages, the chart bundle the server serves itself (``dashboard.chart``), the map's canvas and the
gallery's thumbnails all load under that path, and nothing the pages ask for is missing."""

from __future__ import annotations

import pytest
from plotly.offline import get_plotlyjs_version

from dashboard import chart
from tests.test_browser import browser, dashboard_server, page, pytestmark, results, settle  # noqa: F401  (fixtures)

BASE_PATH = "tools/cornlens"


@pytest.fixture(scope="module")
def proxied(demo_bundle, results, tmp_path_factory):  # noqa: F811
    """The dashboard served under :data:`BASE_PATH`, opening the demo bundle."""
    yield from dashboard_server(demo_bundle, results, tmp_path_factory, base_path=BASE_PATH)


def test_every_part_of_the_dashboard_loads_under_a_base_path(proxied, page):  # noqa: F811
    assert proxied.endswith(f"/{BASE_PATH}")
    missing: list[str] = []
    page.on("response", lambda answer: answer.status >= 400 and missing.append(f"{answer.status} {answer.url}"))
    assets: list[str] = []
    page.on("request", lambda asked: "/cornlens-assets/" in asked.url and assets.append(asked.url))

    page.goto(f"{proxied}/", wait_until="networkidle")
    page.get_by_role("heading", name="CornLens").wait_for(timeout=60_000)
    settle(page)
    if get_plotlyjs_version() == chart.BUNDLE_VERSION:  # the headline chart, drawn by the bundle under the path
        page.locator(".cl-chart[data-drawn='1'] .main-svg").first.wait_for(timeout=30_000)
        assert assets and all(url.startswith(f"{proxied}/cornlens-assets/plotly-cartesian-") for url in assets)

    page.get_by_role("link", name="Embedding map").first.click()
    page.locator(".cl-map[data-drawn]").wait_for(timeout=60_000)  # the canvas drew its points
    assert int(page.locator(".cl-map").get_attribute("data-drawn")) > 0
    assert page.url.startswith(f"{proxied}/embedding_map")

    page.goto(f"{proxied}/gallery", wait_until="networkidle")  # a shared link to a page under the path
    page.get_by_role("heading", name="Misclassified gallery").wait_for(timeout=60_000)
    thumbnail = page.locator("img[src^='data:image/']").first
    thumbnail.wait_for(timeout=30_000)
    thumbnail.evaluate("image => image.complete ? null : new Promise(done => image.addEventListener('load', done))")
    assert thumbnail.evaluate("image => image.naturalWidth") > 0
    settle(page)
    assert missing == []
