"""The dashboard's figures drawn by plotly.js's cartesian bundle (``dashboard.chart``): the bundle is
the plotly.js the figures are built for, its route serves that one file, and a page draws the same
figure either way (the bundle where the server serves it, Streamlit's plotly element elsewhere).
The browser draws it in ``tests/test_browser.py``."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import version

import plotly.graph_objects as go
import pytest
from packaging.version import Version
from plotly.offline import get_plotlyjs_version
from starlette.routing import Match

from dashboard import chart
from tests.apptest import open_page
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.usefixtures("empty_results")


@pytest.fixture
def served():
    """The server serves the bundle (as ``dashboard/Home.py`` says it does), for this test only."""
    chart.serve(True)
    yield
    chart.serve(False)


SAME_PLOTLY_JS = get_plotlyjs_version() == chart.BUNDLE_VERSION
needs_the_bundles_plotly = pytest.mark.skipif(not SAME_PLOTLY_JS, reason=(
    f"this plotly expects plotly.js {get_plotlyjs_version()}, the bundle is {chart.BUNDLE_VERSION}: every figure is "
    "drawn by Streamlit's plotly element (test_what_the_bundle_draws checks that)"))


def test_the_bundle_is_the_plotly_js_of_the_locked_plotly():
    assert [path.name for path in chart.BUNDLE.parent.glob("plotly-cartesian-*")] == [chart.BUNDLE.name]  # one only
    assert f"plotly.js (cartesian - minified) v{chart.BUNDLE_VERSION}" in chart.BUNDLE.read_text(encoding="utf-8")[:200]
    assert (chart.BUNDLE.parent / "plotly-LICENSE.txt").read_text(encoding="utf-8").startswith("MIT License")
    locked = next(line.split("==")[1].split()[0] for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
                  if line.startswith("plotly=="))
    # the lock's plotly, or a newer one (tools/try-newest, before it writes a lock), needs the cartesian bundle of
    # its plotly.js; an older one (tools/try-newest --oldest) draws with Streamlit's element (the test below)
    if Version(version("plotly")) >= Version(locked):
        assert SAME_PLOTLY_JS, (f"plotly {version('plotly')} expects plotly.js {get_plotlyjs_version()}, the bundle is "
                                f"{chart.BUNDLE_VERSION}: vendor the cartesian bundle of that plotly.js")


def test_what_the_bundle_draws(served, monkeypatch):
    every_kind = go.Figure([go.Bar(x=["a"], y=[1]), go.Scatter(x=[0], y=[1]), go.Heatmap(z=[[1]]),
                            go.Box(y=[1, 2]), go.Histogram(x=[1, 2])])
    assert chart.drawn_here(every_kind) == SAME_PLOTLY_JS
    monkeypatch.setattr(chart, "BUNDLE_VERSION", get_plotlyjs_version())  # as if the bundle were this plotly's
    assert chart.drawn_here(every_kind)
    assert not chart.drawn_here(go.Figure([go.Bar(x=["a"], y=[1]), go.Scattergl(x=[0], y=[1])]))  # WebGL: not in it
    chart.serve(False)  # a script run without Home.py's server
    assert not chart.drawn_here(every_kind)
    chart.serve(True)
    monkeypatch.setattr(chart, "BUNDLE_VERSION", "0.0.1")  # plotly's Python package expects another plotly.js
    assert not chart.drawn_here(every_kind)


def answer(route, path: str) -> tuple[int, dict, bytes]:
    """What ``route`` answers a GET of ``path``: status, headers, body."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"spec_version": "2.4"}, "method": "GET", "path": path, "root_path": "",
             "query_string": b"", "headers": []}
    match, child = route.matches(scope)
    if match is not Match.FULL:
        return 404, {}, b""
    asyncio.run(asyncio.wait_for(route.handle(dict(scope, **child), receive, send), timeout=30))
    start = next(message for message in sent if message["type"] == "http.response.start")
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(message.get("body", b"") for message in sent
                                              if message["type"] == "http.response.body")


@pytest.mark.parametrize("base_path", ["", "lens", "/tools/lens/"])
def test_the_route_serves_the_bundle_and_nothing_else(base_path):
    route = chart.asset_route(base_path)
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    status, headers, body = answer(route, f"{base}/{chart.ASSET_PATH}")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert body == chart.BUNDLE.read_bytes()
    for other in (f"{base}/cornlens-assets/chart.py", f"{base}/cornlens-assets/../Home.py",
                  f"{base}/cornlens-assets/{chart.BUNDLE.name}/x", f"/elsewhere/{chart.ASSET_PATH}"):
        assert answer(route, other)[0] == 404, other


def page_figures(app) -> tuple[list[dict], list[dict]]:
    """The figures a page drew with the cartesian bundle and with Streamlit's plotly element."""
    bundle = [json.loads(json.loads(element.proto.json)["figure"]) for element in app.get("bidi_component")
              if element.proto.component_name == "cornlens_chart"]
    streamlit = [json.loads(element.proto.spec) for element in app.get("plotly_chart")]
    return bundle, streamlit


@needs_the_bundles_plotly
def test_a_page_draws_the_same_figures_either_way(demo_bundle, served):
    with_bundle, elsewhere = page_figures(open_page(demo_bundle, "views/probe.py"))
    assert with_bundle and not elsewhere  # every figure of the page is the bundle's kind
    chart.serve(False)
    without, streamlit = page_figures(open_page(demo_bundle, "views/probe.py"))
    assert streamlit and not without
    assert [figure["data"] for figure in with_bundle] == [figure["data"] for figure in streamlit]
    assert [figure["layout"].get("title") for figure in with_bundle] == [figure["layout"].get("title")
                                                                         for figure in streamlit]


@needs_the_bundles_plotly
def test_webgl_figures_stay_with_streamlit(demo_bundle, served):
    # the autopsy's map of images and class prompts (a WebGL sample of the images), its section opened
    with_bundle, streamlit = page_figures(open_page(demo_bundle, "views/autopsy.py"))
    assert with_bundle and len(streamlit) == 1
    assert any(trace.get("type") == "scattergl" for trace in streamlit[0]["data"])
    assert all(trace.get("type") != "scattergl" for figure in with_bundle for trace in figure["data"])
