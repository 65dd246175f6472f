"""Embedding map: every image in 2-D (UMAP) per model; select points to see those images."""

from __future__ import annotations

import streamlit as st

from analysis import explain, figures, tables
from dashboard import components, loaders

COLOURINGS = {"true label": "label", "prediction": "prediction", "correctness": "correctness", "view": "view"}


def approaches_for(projection: str, approaches: list[dict]) -> list[dict]:
    """Approaches built on this projection's model first, then the others."""
    own = [record for record in approaches if tables.model_key(record) == projection]
    return own + [record for record in approaches if record not in own]


def map_controls(ref, projections: list[str], approaches: list[dict]) -> tuple[str, str, str | None, str | None]:
    """Model, colouring, whose predictions, which prompt set's class prompts."""
    left, middle, right = st.columns([3, 2, 3])
    projection = left.selectbox("Model", projections, key="map_projection", persist_state="session")
    colouring = middle.radio("Colour by", list(COLOURINGS), key="map_colour", horizontal=True)
    ordered = approaches_for(projection, approaches)
    approach_id = None
    if ordered:
        own = [record for record in ordered if tables.model_key(record) == projection] or ordered
        best = max(own, key=lambda record: record["metrics"]["accuracy"])["id"]
        approach_id = components.approach_selector("Predictions of", ordered, "map_approach", default=best,
                                                   container=right)
    prompt_sets = tables.prompt_sets_of(loaders.projection(ref, projection))
    prompt_set = None
    if len(prompt_sets) > 1:
        chosen = opened_approach_prompt_set(approaches, approach_id)
        prompt_set = left.selectbox("Class prompts of", prompt_sets, key="map_prompt_set",
                                    index=prompt_sets.index(chosen) if chosen in prompt_sets else 0)
    return projection, COLOURINGS[colouring], approach_id, prompt_set


def opened_approach_prompt_set(approaches: list[dict], approach_id: str | None) -> str | None:
    """The prompt set of the chosen approach, or of the most accurate zero-shot approach."""
    by_id = {record["id"]: record for record in approaches}
    if approach_id in by_id and by_id[approach_id].get("prompt_set"):
        return by_id[approach_id]["prompt_set"]
    zeroshot = [record for record in approaches if record.get("kind") == "zeroshot"]
    return max(zeroshot, key=lambda record: record["metrics"]["accuracy"]).get("prompt_set") if zeroshot else None


def selected_ids(event) -> list[str]:
    """Image ids of the points chosen with the box or lasso (text points carry no id)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    ids = [point.get("customdata") for point in points]
    return [image_id if isinstance(image_id, str) else image_id[0] for image_id in ids
            if image_id and isinstance(image_id, (str, list))]


def selection_panel(ref, opened, ids: list[str]) -> None:
    st.subheader("Selected images")
    if not ids:
        st.caption("Draw a box or a lasso around points on the map to see those images here.")
        return
    scored = loaders.scored_images(ref)
    rows = scored[scored["image_id"].isin(ids)]
    unscored = len(set(ids)) - len(rows)
    st.markdown(f"{len(set(ids))} images selected"
                + (f"; {unscored} of them are training or unlabelled images (no held-out predictions)." if unscored else "."))
    if len(rows):
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
event = components.figure(figures.projection_figure(points, colour_by, opened.classes,
                                                    method=tables.projection_method(opened.manifest, projection)),
                          explain.read_projection(points), key=f"map_chart_{projection}",
                          on_select="rerun", selection_mode=("box", "lasso"))
st.caption("Predictions exist for the held-out images only; training and unlabelled images show as “not scored”. "
           "Stars are the class prompts (text embeddings) when the model has them.")
selection_panel(ref, opened, selected_ids(event))
