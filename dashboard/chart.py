"""A plotly figure drawn by plotly.js's *cartesian* bundle (``vendor/plotly-cartesian-*.min.js``:
bar, box, heatmap, histogram, scatter…, 1.5 MB) instead of Streamlit's plotly element, which loads
the whole of plotly.js (4.7 MB). In a browser without a GPU, evaluating that bundle is most of what a
page with a chart costs on its first visit: a page of one small chart took 2.0 s here, 0.9 s without
the chart, 1.45 s with this one (README, "Scale"; ``benchmarks/bench_dashboard_browser.py`` measures
both ways, its "Streamlit alone" rows).

The figure is the same plotly figure the report draws (built by ``analysis.present``), sent as its
JSON with every string made plain text first (``figure_style.text_only``). The bundle is served by
the dashboard's own server (:func:`asset_route`, installed by ``dashboard/Home.py``) and loaded once
per tab. Where it is not served (a page script run without ``Home.py``: AppTest, ``streamlit run
dashboard/navigation.py``), where plotly's Python package expects another plotly.js, and for WebGL
traces (not in the cartesian bundle), :func:`figure` falls back to ``st.plotly_chart``.
"""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st
from plotly.offline import get_plotlyjs_version
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

from analysis.present import figure_style

HERE = Path(__file__).parent
BUNDLES = sorted((HERE / "vendor").glob("plotly-cartesian-*.min.js"))
if len(BUNDLES) != 1:
    raise RuntimeError(f"{HERE / 'vendor'} holds {len(BUNDLES)} plotly.js cartesian bundles, not one: keep the one of "
                       "the plotly.js the installed plotly expects (README, \"Dependencies and the lock\")")
BUNDLE = BUNDLES[0]
BUNDLE_VERSION = BUNDLE.name.removeprefix("plotly-cartesian-").removesuffix(".min.js")
ASSET_PATH = "cornlens-assets/" + BUNDLE.name  # under the server's base path, beside the pages
CARTESIAN = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image",
                       "pie", "scatter", "scatterternary", "violin"})  # the bundle's traces (its README)

_render = st.components.v2.component(
    "cornlens_chart", html="<div class='cl-chart'></div>", js=(HERE / "chart.js").read_text(encoding="utf-8"),
    isolate_styles=False)
_served = {"on": False}


def asset_route(base_path: str) -> Route:
    """The route that serves the cartesian bundle at :data:`ASSET_PATH` under ``base_path`` (the
    server's ``server.baseUrlPath``), a fixed file: nothing from the request names what is read."""

    async def bundle(_request: Request) -> FileResponse:
        return FileResponse(BUNDLE, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=31536000, immutable"})

    base = "/" + base_path.strip("/") if base_path.strip("/") else ""
    return Route(f"{base}/{ASSET_PATH}", bundle, methods=["GET", "HEAD"])


def serve(on: bool = True) -> None:
    """Tell :func:`figure` whether the server serves the bundle (``dashboard/Home.py`` does)."""
    _served["on"] = on


def drawn_here(fig: go.Figure) -> bool:
    """True when :func:`figure` draws ``fig`` with the cartesian bundle: the server serves it, plotly's
    Python package expects that plotly.js, and every trace is one of the bundle's."""
    return (_served["on"] and get_plotlyjs_version() == BUNDLE_VERSION
            and all(trace.type in CARTESIAN for trace in fig.data))


def figure(fig: go.Figure, key: str | None = None) -> None:
    """Draw ``fig`` (every string in it as text: ``figure_style.text_only``) with the cartesian
    bundle where :func:`drawn_here`, else with Streamlit's plotly element; its own template and
    Plotly's toolbar without the logo either way."""
    shown = figure_style.text_only(fig)
    if not drawn_here(shown):
        st.plotly_chart(shown, key=key, config={"displaylogo": False}, theme=None)
        return
    _render(data={"figure": figure_style.text_only_json(fig), "src": ASSET_PATH, "height": fig.layout.height or 450},
            key=key, height="content")
