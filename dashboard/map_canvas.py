"""The Embedding map's canvas: a Streamlit component (``st.components.v2``) that draws every image
point on a 2-D canvas and hands a box, a lasso or a clicked point back to the page, in the shape of
Streamlit's plotly selection (``{"points": [{"customdata": row}], "box": [...], "lasso": [...]}``).

Its script and style are ``map_canvas.js`` and ``map_canvas.css`` beside this module; what it draws
is :func:`analysis.present.map_canvas_data.map_canvas_data`. Why not plotly: see that module.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import streamlit as st

from analysis.present import map_views

HERE = Path(__file__).parent
NAME = "cornlens_map_canvas"
EVENT = "selection"  # the trigger the script sets; the page's callback reads it from the component's state

_render = st.components.v2.component(
    NAME, html="<div class='cl-map'></div>", css=(HERE / "map_canvas.css").read_text(encoding="utf-8"),
    js=(HERE / "map_canvas.js").read_text(encoding="utf-8"), isolate_styles=False)


def map_canvas(data: dict, version: str, map_id: str, key: str, on_select: Callable[[], None],
               selected: bool, shape: dict | None = None) -> None:
    """Draw ``data`` (``map_canvas_data``) under ``key``; ``on_select`` runs when a selection is made
    (read it with :func:`selection`).

    ``version`` names what is drawn: the browser redraws the points only when it changes, so a rerun
    after a selection keeps the reader's zoom. ``map_id`` names the map (bundle and model): the
    browser keeps the outline of the last selection drawn on it, shown while ``selected`` (the page
    holds a selection of this map) and dropped when not. ``shape`` is an outline the browser has not
    drawn itself, a box given in the page's address (``{"box": [x0, x1, y0, y1]}``); None otherwise,
    so that a rerun whose data is unchanged reaches the browser as a reference to the message it
    already holds, not as every point again (1.2 MB at 100,000 points).
    """
    _render(data=data | {"version": version, "map_id": map_id, "selected": selected, "selection": shape}, key=key,
            height="content", **{f"on_{EVENT}_change": on_select})


def selection(key: str) -> dict:
    """The selection the map under ``key`` just sent, cleaned (``map_views.clean_selection``: a
    payload of the wrong shape is an empty selection)."""
    state = st.session_state.get(key)
    return map_views.clean_selection(state.get(EVENT) if state is not None and hasattr(state, "get") else None)


def version_of(*parts: object) -> str:
    """A short name for what a map draws, from what it is built from (the bundle, map, colouring…)."""
    return hashlib.blake2s(repr(parts).encode()).hexdigest()[:16]
