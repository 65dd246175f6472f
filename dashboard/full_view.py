"""The full-size view of an image: the picture, previous / next within the list it was opened from
(the current filter), every approach's probability of every class, and the other photos of the
same kernel (``seed_id``)."""

from __future__ import annotations


import streamlit as st

from analysis.core import escape
from analysis.present import image_details
from analysis.core import tables
from dashboard import loaders, neighbours_view, tagging
from dashboard.loaders import BundleError, BundleRef

FULL_SIZE_PX = 448  # the kernels are 84–228 px photos: shown enlarged, not at their tiny native size
ORDER_KEY = "full_view_order"      # list key → the image ids of that list, in the order shown
CURRENT_KEY = "full_view_current"  # (list key, image id) shown in the dialog
SIBLING_PX = 120


def remember_order(list_key: str, image_ids: list[str]) -> None:
    """Keep the order of a list of images (all its pages) so the full-size view can step through it."""
    st.session_state.setdefault(ORDER_KEY, {})[list_key] = list(image_ids)


def open_image(list_key: str, image_id: str) -> None:
    """Callback of a card's Details button: show ``image_id`` of the list ``list_key`` (see :func:`show`)."""
    st.session_state[CURRENT_KEY] = (list_key, image_id)


def show(ref: BundleRef, list_key: str) -> None:
    """The full-size view, when an image of the list ``list_key`` is open. Called after the list on
    every run, so that the view stays open until it is closed, whatever reruns the page."""
    current = st.session_state.get(CURRENT_KEY)
    if current and current[0] == list_key:
        full_view_dialog(ref)


def close() -> None:
    st.session_state.pop(CURRENT_KEY, None)


def step_to(image_id: str) -> None:
    list_key, _ = st.session_state[CURRENT_KEY]
    st.session_state[CURRENT_KEY] = (list_key, image_id)


@st.dialog("Image", width="large", on_dismiss=close)
def full_view_dialog(ref: BundleRef) -> None:
    list_key, image_id = st.session_state[CURRENT_KEY]
    order = st.session_state.get(ORDER_KEY, {}).get(list_key, [image_id])
    previous, following, position = image_details.neighbours(order, image_id)
    stepper(previous, following, position, len(order))
    opened = loaders.open_bundle(ref)
    images = opened.images()
    row = images[images["image_id"] == image_id].iloc[0]
    picture, facts = st.columns([3, 2])
    with picture:
        picture_panel(ref, image_id)
    with facts:
        label = row["label"] if isinstance(row["label"], str) else None
        st.markdown(f"**{escape.markdown_text(image_id)}**  \n{row.get('width', '?')}×{row.get('height', '?')} px · "
                    f"{escape.markdown_text(row.get('view', '?'))} view · {escape.markdown_text(row['split'])} split · "
                    f"seed {escape.markdown_code(row.get('seed_id', '?'))}  \n"
                    f"true class: **{escape.markdown_text(label or 'unlabelled')}**")
        tagging.tag_editor(ref, image_id, key="full_view")
    probabilities_panel(ref, opened, image_id, label)
    neighbours_panel(ref, opened, image_id)
    same_seed_panel(ref, image_details.same_seed(images, image_id))


def stepper(previous: str | None, following: str | None, position: int, total: int) -> None:
    """Previous / next buttons within the list the image was opened from."""
    left, middle, right = st.columns([1, 2, 1])
    left.button("Previous", icon=":material/chevron_left:", disabled=previous is None, key="full_view_previous",
                on_click=step_to, args=(previous,), width="stretch")
    middle.caption(f"image {position} of {total} in the current filter" if position else "")
    right.button("Next", icon=":material/chevron_right:", disabled=following is None, key="full_view_next",
                 on_click=step_to, args=(following,), width="stretch")


def picture_panel(ref: BundleRef, image_id: str) -> None:
    """The image at full size, or its thumbnail enlarged when the original file is not reachable."""
    try:
        image, is_full = loaders.full_image(ref, image_id)
    except BundleError as error:  # a path in the bundle that leads outside its dataset folder
        st.error(escape.markdown_text(error), icon=":material/block:")
        return
    if not image:
        st.warning("Neither the image file nor a thumbnail is available.")
    elif is_full:
        st.image(str(image), width=FULL_SIZE_PX, caption=str(image))
    else:
        st.image(image, width=FULL_SIZE_PX, caption="thumbnail, enlarged")
        st.caption("The original file is not reachable from here (dataset.root in the manifest) or is no "
                   "longer the image the bundle analysed; showing the bundle's thumbnail.")


def probabilities_panel(ref: BundleRef, opened, image_id: str, label: str | None) -> None:
    """Every approach's probability of every class for this image."""
    labels = tables.approach_labels(opened.approaches, short=True)  # whole in the table; the ids tell them apart
    table = image_details.probabilities(loaders.predictions_by_image(ref), image_id, opened.classes, labels, label)
    st.markdown("**Every approach's probabilities**")
    if table.empty:
        st.caption("No approach predicted this image (approaches are scored on the held-out images).")
        return
    percent = {name: st.column_config.ProgressColumn(name, format="percent", min_value=0.0, max_value=1.0)
               for name in opened.classes}
    st.dataframe(table, hide_index=True, width="stretch", column_config=percent | {
        "approach": st.column_config.TextColumn(width="large"), "right": st.column_config.TextColumn(width="small")})


def neighbours_panel(ref: BundleRef, opened, image_id: str) -> None:
    """The image's nearest training images and what they say beside each approach's answer."""
    st.markdown("**Nearest training images**")
    neighbours_view.neighbours_panel(ref, opened, image_id, key="full_view", per_row=10)


def same_seed_panel(ref: BundleRef, siblings) -> None:
    """The other photos of the same kernel, with their label, view and split."""
    if siblings.empty:
        st.caption("No other image of this kernel (seed_id) in the bundle.")
        return
    st.markdown(f"**The other {len(siblings)} image(s) of this kernel** (same seed_id)")
    thumbs = loaders.thumbnails(ref, siblings["image_id"])
    columns = st.columns(min(4, len(siblings)))
    for column, sibling in zip(columns * (len(siblings) // len(columns) + 1), siblings.itertuples()):
        with column:
            if thumbs.get(sibling.image_id):
                st.image(thumbs[sibling.image_id], width=SIBLING_PX)
            label = sibling.label if isinstance(sibling.label, str) else "unlabelled"
            st.caption(escape.markdown_text(f"{sibling.image_id} · {label} · {sibling.view} view · {sibling.split}"))
