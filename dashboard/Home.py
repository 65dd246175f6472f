"""CornLens dashboard: ``streamlit run dashboard/Home.py``.

The server: it serves the pages (``dashboard/navigation.py``, the script every visit runs, which the
tests open with AppTest) as a Streamlit ``st.App`` whose lifespan prepares the server before it answers
(:func:`dashboard.warm.prepare`: the pages' imports and the first bundle), so a first visit does not
wait for them, whose page shell tells the browser where the server is (:mod:`dashboard.page_shell`),
and which serves the chart bundle the pages' figures are drawn with (:mod:`dashboard.chart`).
"""

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `analysis` and `dashboard` as packages

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from streamlit import config  # noqa: E402

from dashboard import chart, page_shell, warm  # noqa: E402


@asynccontextmanager
async def prepared(_app: st.App) -> AsyncIterator[None]:
    """Prepare the server before it answers, in a thread (the event loop stays free), then serve
    (the figures with the chart bundle this server serves: :mod:`dashboard.chart`)."""
    chart.serve()
    await asyncio.to_thread(warm.prepare)
    yield


app = st.App(Path(__file__).with_name("navigation.py"), lifespan=prepared,
             routes=[chart.asset_route(config.get_option("server.baseUrlPath"))],
             middleware=[Middleware(page_shell.PageShell)])
