"""Misclassified gallery: every wrong answer on the held-out images, filterable, dense, taggable;
each card opens the image's details (every answer, tags, nearest training images)."""

from __future__ import annotations

import functools

import streamlit as st

from analysis.present import confusion_cells, explain
from analysis.core import escape, records, tables, tags
from dashboard import components, confusion_grid, dense_gallery, loaders, tagging
from dashboard import panels as page_panels

CELL_KEY = "gallery_cell"  # gallery_cell_{row}_{column}: true class row, predicted class column
FILTER_KEYS = ("gallery_true", "gallery_predicted", "gallery_views")
ORDER_HELP = ("most confident: the answers given with the highest probability first (a confident mistake is the most "
              "telling); least confident: the lowest first; smallest margin: the top two classes closest; highest "
              "loss: the lowest probability given to the true class (cross-entropy) first")


def show_cell(true_class: str, predicted_class: str) -> None:
    """Callback of a confusion-matrix cell: the cell becomes the true/predicted class filter."""
    st.session_state["gallery_true"] = [true_class]
    st.session_state["gallery_predicted"] = [predicted_class]
    st.session_state["gallery_only_wrong"] = true_class != predicted_class


def clear_filters() -> None:
    for key in FILTER_KEYS + (tagging.FILTER_KEY,):
        st.session_state[key] = []
    st.session_state["gallery_confidence"] = (0.0, 1.0)
    st.session_state["gallery_only_wrong"] = True
    st.session_state["gallery_search"] = ""


def filters(opened, scored, approaches: list[dict]) -> dict:
    """The filter widgets, compact enough to leave the cards in view; returns the arguments of
    ``tables.filter_gallery``."""
    approach_id = components.approach_selector("Approach", approaches, "gallery_approach",
                                               default=records.default_approach(approaches)["id"])
    left, right = st.columns(2)
    true_classes = left.multiselect("True class", opened.classes, key="gallery_true", placeholder="any",
                                   **components.KEPT)
    predicted = right.multiselect("Predicted class", opened.classes, key="gallery_predicted", placeholder="any",
                                **components.KEPT)
    left, right = st.columns(2)
    confidence = left.slider("Confidence of the answer", 0.0, 1.0, (0.0, 1.0), step=0.05, key="gallery_confidence",
                             format="percent", help="the probability the approach gave its answer (top-1)",
                             **components.KEPT)
    views = sorted(scored["view"].dropna().unique())
    chosen_views = right.multiselect("View", views, key="gallery_views", placeholder="any",
                                  **components.KEPT) if len(views) > 1 else []
    left, right = st.columns(2)
    search = left.text_input("Image id or file name", key="gallery_search", placeholder="contains…",
                             help="only images whose id or file name contains this text (case ignored)",
                             **components.KEPT)
    order = right.selectbox("Order", list(tables.GALLERY_ORDERS), key="gallery_order", help=ORDER_HELP,
                            **components.KEPT)
    left, right = st.columns(2)
    only_wrong = left.toggle("Only misclassified", value=True, key="gallery_only_wrong", **components.KEPT)
    right.button("Clear filters", on_click=clear_filters, icon=":material/filter_alt_off:", key="gallery_clear")
    return dict(approach_id=approach_id, true_classes=true_classes, predicted_classes=predicted,
                confidence=tuple(confidence), views=chosen_views, only_wrong=only_wrong, order=order,
                search=search)


def tag_controls(ref, opened, all_tags) -> list[str]:
    """Filter by tag and export the tagged images; returns the chosen tags."""
    left, right = st.columns(2)
    chosen = tagging.tag_filter(all_tags, container=left)
    tagging.export_button(ref, all_tags, opened.images(), container=right)
    if all_tags.empty:
        st.caption("Tag images from their **Details** (label wrong, ambiguous, bad photo); tags are saved beside "
                   "the bundle and can be exported for relabelling.")
    return chosen


def is_shown(cell: confusion_cells.Cell) -> bool:
    """True when the gallery's filters show this cell's images (its true and predicted class are
    chosen, and a right answer only with "Only misclassified" off)."""
    true, predicted = st.session_state.get("gallery_true") or [], st.session_state.get("gallery_predicted") or []
    right_hidden = st.session_state.get("gallery_only_wrong", True) and cell.true == cell.predicted
    return cell.true in true and cell.predicted in predicted and not right_hidden


def confusion_matrix_panel(ref, record: dict, classes: list[str]) -> None:
    """The held-out confusion matrix as counts to click (``dashboard.confusion_grid``): a count shows its images."""
    matrix = record["metrics"].get("confusion_matrix")
    if not matrix:
        return
    cells, reading = page_panels.page_data(ref, ("gallery_matrix", record["id"]), lambda: (
        confusion_cells.confusion_cells(matrix, classes), explain.read_confusion(matrix, classes)))
    confusion_grid.confusion_grid(cells, classes, CELL_KEY, show_cell, is_shown)
    st.caption(reading)


def gallery_panel(ref, opened, scored, chosen: dict, labels: dict[str, str], tagged: list[str], all_tags) -> None:
    rows = tables.filter_gallery(scored, **chosen)
    if tagged:
        rows = rows[rows["image_id"].isin(tags.tagged_ids(all_tags, tagged))]
    what = "misclassified" if chosen["only_wrong"] else "held-out"
    narrowed = any(chosen[key] for key in ("true_classes", "predicted_classes", "views", "search")) or \
        chosen["confidence"] != (0.0, 1.0) or bool(tagged)
    heading, density = st.columns([3, 2], vertical_alignment="bottom")
    heading.subheader(f"{len(rows)} {what} images" + (" matching the filters" if narrowed else ""))
    per_row, per_page = dense_gallery.density_controls("gallery", container=density)
    if rows.empty:
        st.info("No images match these filters.")
        return
    st.caption(f"{chosen['order'].capitalize()} answers of **{escape.markdown_text(labels[chosen['approach_id']])}** first. Each card: the "
               f"true label, then that approach's answer ({tables.RIGHT} right, {tables.WRONG} wrong) and its "
               "confidence; **Details** opens the full-size view: every approach's probabilities, the tags and the "
               "image's nearest training images.")
    shown = [record["id"] for record in tables.representative_approaches(opened.approaches)]
    shown = [chosen["approach_id"]] + [approach_id for approach_id in shown if approach_id != chosen["approach_id"]]
    card_labels = tables.approach_labels([opened.approach(approach_id) for approach_id in shown], short=True)
    grid = functools.partial(dense_gallery.compact_grid, per_row=per_row, all_tags=all_tags)
    components.paged_grid(rows, ref, shown, card_labels, opened.classes, key="gallery", per_page=per_page, grid=grid)


@st.fragment
def gallery_page(ref, opened) -> None:
    """The filters, the confusion matrix and the cards: a fragment, so that a click in the matrix or a
    filter reruns and redraws only these, not the sidebar, the title and the banner around them."""
    loaders.page_ran()  # a click here is a person at work: the text tower's process starts later
    scored = loaders.scored_images(ref)
    all_tags = tagging.current_tags(ref)
    left, right = st.columns([2, 3])
    with left:
        chosen = filters(opened, scored, opened.approaches)
        tagged = tag_controls(ref, opened, all_tags)
    with right:
        confusion_matrix_panel(ref, opened.approach(chosen["approach_id"]), opened.classes)
    gallery_panel(ref, opened, scored, chosen, tables.approach_labels(opened.approaches), tagged, all_tags)


st.title("Misclassified gallery")
ref, opened = components.require_bundle()
approaches = opened.approaches
if not approaches:
    components.missing(opened.manifest, ref, "approaches")
    st.stop()
gallery_page(ref, opened)
