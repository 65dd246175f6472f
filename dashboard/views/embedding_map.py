"""Embedding map: every image in 2-D (UMAP) per model; select points to see those images."""

from __future__ import annotations

import functools

import streamlit as st

from analysis.present import map_views
from analysis.core import tables
from dashboard import components, loaders, map_canvas, tagging

SELECTION_KEY = "map_selection"  # the last selection: {projection, ids, box (URL form), drawn (an outline)}
BOX_PARAM = "map_box"  # a box selection in the URL: x0,x1,y0,y1 in map units
BOX_MAP_PARAM = "map_box_on"  # the map that box was drawn on


def follow_projection(approaches: list[dict]) -> None:
    """Callback of the model choice: the predictions shown become that model's best approach, so a
    ConvNeXt map is not coloured by a CLIP probe's answers (and the other way round)."""
    st.session_state["map_approach"] = map_views.best_approach_for(st.session_state["map_projection"], approaches)


def follow_approach(approaches: list[dict], prompt_sets: list[str]) -> None:
    """Callback of "Predictions of": a zero-shot approach brings its own prompt set's class prompts."""
    prompt_set = map_views.approach_prompt_set(approaches, st.session_state["map_approach"])
    if prompt_set in prompt_sets:
        st.session_state["map_prompt_set"] = prompt_set


def map_controls(ref, projections: list[str], approaches: list[dict]) -> tuple[str, str, str | None, str | None]:
    """Model, colouring, whose predictions, which prompt set's class prompts."""
    left, middle, right = st.columns([3, 2, 3])
    projection = left.selectbox("Model", projections, key="map_projection", on_change=follow_projection,
                                args=(approaches,), **components.KEPT)
    colouring = middle.radio("Colour by", list(map_views.COLOURINGS), key="map_colour", horizontal=True, **components.KEPT)
    prompt_sets = tables.prompt_sets_of(loaders.projection(ref, projection))
    approach_id = None
    if approaches:
        approach_id = components.approach_selector("Predictions of", map_views.approaches_for(projection, approaches),
                                                   "map_approach", default=map_views.best_approach_for(projection, approaches),
                                                   container=right, on_change=follow_approach, args=(approaches, prompt_sets))
    prompt_set = None
    if len(prompt_sets) > 1:
        first = map_views.first_prompt_set(approaches, approach_id, prompt_sets)
        prompt_set = left.selectbox("Class prompts of", prompt_sets, key="map_prompt_set",
                                    index=prompt_sets.index(first), **components.KEPT)
    return projection, map_views.COLOURINGS[colouring], approach_id, prompt_set


def remember_selection(chart_key: str, projection: str, points) -> None:
    """Callback of the map: keep what was selected (across pages) and, for a box, write it to the URL."""
    selection = map_canvas.selection(chart_key)
    boxes, lassos = selection.get("box") or [], selection.get("lasso") or []
    st.session_state[SELECTION_KEY] = {"projection": projection, "ids": map_views.selection_ids(selection, points),
                                       "box": map_views.box_text(boxes) if len(boxes) == 1 and not lassos else "",
                                       "drawn": bool(boxes or lassos or selection["points"])}


def current_selection(points, projection: str) -> tuple[list[str], bool, dict | None]:
    """The selected image ids of *this* map, whether it holds a selection, and the outline of a box
    given in the URL that the browser has not drawn (None otherwise: the browser keeps the outlines
    it drew): the last
    selection drawn on it, else a box given in the URL for it (``?map_box=…&map_box_on=MAP``; a link
    without ``map_box_on`` means the map it opens). A selection belongs to the map it was drawn on:
    another map starts with none, never with the same coordinates applied to its own, unrelated, axes."""
    stored = st.session_state.get(SELECTION_KEY)
    shape, selected = None, False
    if stored and stored["projection"] == projection:
        box, ids, selected = stored["box"], stored["ids"], stored.get("drawn", True)
    elif not stored and st.query_params.get(BOX_MAP_PARAM, projection) == projection:
        box = st.query_params.get(BOX_PARAM, "")
        ids = map_views.ids_in_box(points, box)
        shape = map_views.box_shape(box)
        selected = shape is not None
    else:
        box, ids = "", []
    if box and (st.query_params.get(BOX_PARAM) != box or st.query_params.get(BOX_MAP_PARAM) != projection):
        st.query_params[BOX_PARAM], st.query_params[BOX_MAP_PARAM] = box, projection
    elif not box:
        for name in (BOX_PARAM, BOX_MAP_PARAM):
            if name in st.query_params:
                del st.query_params[name]
    return ids, selected, shape


def selection_panel(ref, opened, ids: list[str]) -> None:
    st.subheader("Selected images")
    if not ids:
        st.caption("Draw a box or a lasso around points on the map, or click one point, to see those images here.")
        return
    images = opened.images()
    include_training = st.toggle("Show training and unlabelled images too", key="map_training", **components.KEPT,
                                 help="Approaches are scored on the held-out images only; training and unlabelled "
                                      "images show their label and split, without answers.")
    breakdown = map_views.selection_breakdown(images, ids, opened.classes)
    st.markdown(f"{len(set(ids))} images selected, by class and split:\n\n{components.markdown_grid(breakdown)}")
    tagging.tag_selection(ref, list(dict.fromkeys(ids)), key="map")
    rows = map_views.selected_rows(images, loaders.scored_images(ref), ids, include_training)
    if rows.empty:
        st.info("None of the selected images is held out; switch on “Show training and unlabelled images too” "
                "to see them.")
        return
    shown = tables.representative_approaches(opened.approaches)
    components.paged_grid(rows, ref, [record["id"] for record in shown], tables.approach_labels(shown, short=True),
                          opened.classes, key="map", per_page=16)


st.title("Embedding map")
ref, opened = components.require_bundle()
projections = opened.projection_names()
if not projections:
    components.missing(opened.manifest, ref, "projections")
    st.stop()
projection, colour_by, approach_id, prompt_set = map_controls(ref, projections, opened.approaches)
points = loaders.map_points(ref, projection, approach_id, prompt_set)
if colour_by in ("prediction", "correctness") and approach_id is None:
    st.info("This bundle has no predictions yet; colouring by true label.")
    colour_by = "label"
chart_key = f"map_chart_{projection}"
ids, selected, shape = current_selection(points, projection)
map_canvas.map_canvas(loaders.map_canvas(ref, projection, colour_by, approach_id, prompt_set),
                      version=map_canvas.version_of(ref, projection, colour_by, approach_id, prompt_set),
                      map_id=map_canvas.version_of(ref, projection), key=chart_key,
                      on_select=functools.partial(remember_selection, chart_key, projection, points),
                      selected=selected, shape=shape)
if colour_by == "label":
    st.caption(loaders.map_reading(ref, projection, approach_id, prompt_set))
labels = tables.approach_labels(opened.approaches)
st.caption(map_views.colouring_caption(colour_by, labels.get(approach_id)) + " Stars are the class prompts (text "
           "embeddings) when the model has them.")
selection_panel(ref, opened, ids)
