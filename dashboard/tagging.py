"""Tag images in the gallery ("label wrong", "ambiguous", "bad photo"), filter by tag, export for relabelling.

Tags are saved in ``<bundle>/tags.csv`` (``analysis.core.tags``) on every change, so they survive a reload
and a rerun of ``python -m analysis run``. They are read afresh on every script run (a small file),
never cached, so two browser tabs see each other's tags.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.core import escape, tags
from dashboard.loaders import BundleRef

FILTER_KEY = "gallery_tagged"


def current_tags(ref: BundleRef) -> pd.DataFrame:
    """Every tag of the bundle; an unreadable tags file is reported once and read as empty."""
    try:
        return tags.read_tags(ref.path)
    except tags.TagError as error:
        st.warning(f"Tags cannot be read: {escape.markdown_text(error)}", icon=":material/sell:")
        return tags.empty()


def save_tags(ref: BundleRef, image_id: str, key: str) -> None:
    """Callback of the tag pills: write the image's tags at once."""
    try:
        tags.set_tags(ref.path, image_id, st.session_state.get(key) or [])
    except tags.TagError as error:
        st.session_state[f"{key}_error"] = str(error)


def tag_editor(ref: BundleRef, image_id: str, key: str) -> None:
    """Pills to tag one image; every click is saved beside the bundle."""
    widget_key = f"{key}_tags_{image_id}"
    given = tags.tags_of(current_tags(ref), image_id)
    if widget_key not in st.session_state:
        st.session_state[widget_key] = given
    options = list(tags.TAGS) + [tag for tag in given if tag not in tags.TAGS]
    st.pills("Tags", options, selection_mode="multi", key=widget_key, on_change=save_tags,
             args=(ref, image_id, widget_key),
             format_func=escape.markdown_text,
             help=f"Saved at once in {escape.markdown_text(tags.tags_path(ref.path))} (yours: `run` never touches it).")
    error = st.session_state.pop(f"{widget_key}_error", None)
    if error:
        st.error(escape.markdown_text(error))


def tag_filter(frame: pd.DataFrame, container=st) -> list[str]:
    """A multiselect of the tags in use; the chosen tags narrow the gallery."""
    in_use = list(tags.summary(frame))
    if not in_use:
        st.session_state.pop(FILTER_KEY, None)
        return []
    return container.multiselect("Tagged", in_use, key=FILTER_KEY, placeholder="any or none",
                                 format_func=lambda tag: f"{tag} ({tags.summary(frame)[tag]})",  # options: plain text
                                 help="Only images carrying one of these tags.")


def export_button(ref: BundleRef, frame: pd.DataFrame, images: pd.DataFrame, container=st) -> None:
    """Download ``image_id,path,label,tag`` of every tagged image."""
    if frame.empty:
        return
    container.download_button(f"Export tags ({frame['image_id'].nunique()})", tags.export_csv(frame, images),
                              file_name="tags-export.csv", mime="text/csv", icon=":material/download:",
                              key="gallery_tags_export", on_click="ignore",
                              help=f"The {frame['image_id'].nunique()} tagged images as a CSV of image_id, path, label, tag "
                                   "(one row per tag), ready for relabelling.")


def tag_selection(ref: BundleRef, image_ids: list[str], key: str) -> None:
    """Give one tag to every image of a selection at once (the map's box or lasso)."""
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    tag = left.selectbox(f"Tag all {len(image_ids)} selected images as", tags.TAGS, key=f"{key}_tag_all",
                         accept_new_options=True, help="Saved beside the bundle with the gallery's tags; each image "
                                                       "keeps the tags it already has.")
    if right.button("Tag them", key=f"{key}_tag_all_button", icon=":material/sell:", width="stretch"):
        try:
            tags.add_tag(ref.path, image_ids, str(tag or ""))
        except tags.TagError as error:
            st.error(escape.markdown_text(str(error)))
            return
        st.toast(f"Tagged {len(image_ids)} images “{escape.markdown_text(str(tag))}”.", icon=":material/sell:")
