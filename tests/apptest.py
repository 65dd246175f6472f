"""Opening the dashboard under streamlit's AppTest, as the dashboard tests do."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from streamlit.testing.v1 import AppTest

HOME = Path(__file__).resolve().parent.parent / "dashboard" / "navigation.py"  # the pages (Home.py serves them)


def open_page(bundle_path: Path | None = None, page: str | None = None, query: dict | None = None,
              every_section: bool = True, **state) -> AppTest:
    """Home on ``bundle_path`` (``?bundle=``, plus any other ``query`` parameters), then ``page`` with
    ``state`` set in its session, every closed section opened (as a reader who opens them all; pass
    ``every_section=False`` for the page as it first shows); fails on any exception the script raised."""
    app = AppTest.from_file(str(HOME), default_timeout=90)
    if bundle_path is not None:
        app.query_params["bundle"] = str(bundle_path)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    if page:
        app.run()
        app.switch_page(page)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return open_every_section(app) if every_section else app


def open_every_section(app: AppTest) -> AppTest:
    """Open every closed section of the page (``dashboard.panels.show(open_sections=…)``) and run it again."""
    closed = [key for key in app.session_state if str(key).startswith("section:")
              and not app.session_state[key]]
    if not closed:
        return app
    for key in closed:
        app.session_state[key] = True
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def go(app: AppTest, page: str) -> AppTest:
    """Switch an open app to ``page``, as a click in the sidebar does, and open its closed sections."""
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return open_every_section(app)


def gallery_cards(app: AppTest) -> list[dict]:
    """The cards the gallery's card grid (``dashboard.card_grid``) was sent, in order."""
    return [card for element in app.get("bidi_component") if element.proto.component_name == "cornlens_card_grid"
            for card in json.loads(element.proto.json)["cards"]]


def card_ids(app: AppTest) -> list[str]:
    """The image ids of the gallery's cards, in order."""
    return [card["id"] for card in gallery_cards(app)]


def card_thumbnails(app: AppTest) -> list[str]:
    """The gallery's cards that show a thumbnail (a ``data:`` URI)."""
    return [card["thumb"] for card in gallery_cards(app) if str(card.get("thumb") or "").startswith("data:image/")]


def open_card(app: AppTest, image_id: str, list_key: str = "gallery") -> AppTest:
    """Press a gallery card's Details, as its callback does (``full_view.open_image``): AppTest cannot
    press a button inside a component; the browser tests press the real one."""
    from dashboard import full_view

    app.session_state[full_view.CURRENT_KEY] = (list_key, image_id)
    return app.run()


def shown_text(app: AppTest) -> str:
    """Everything the page says in words (titles, markdown, captions, notices, metrics)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(element.value) for element in getattr(app, kind)]
    parts += [f"{metric.label}: {metric.value}" for metric in app.metric]
    parts += [expander.label for expander in app.expander]  # a closed section's heading
    return "\n".join(parts)


def map_canvases(app: AppTest) -> list[dict]:
    """What each Embedding map canvas (``dashboard.map_canvas``) on the page was sent: its data, with
    ``points`` read back from Arrow into a ``pyarrow.Table``."""
    found = []
    for element in app.get("bidi_component"):
        if element.proto.component_name != "cornlens_map_canvas":
            continue
        mixed = element.proto.mixed
        data = json.loads(mixed.json)
        for name, value in data.items():
            if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith("__streamlit_arrow"):
                data[name] = pa.ipc.open_stream(mixed.arrow_blobs[next(iter(value.values()))].data).read_all()
        found.append(data)
    return found
