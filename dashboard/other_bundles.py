"""The Compare page's other bundles: the approaches of more bundles of the same images and split,
shown beside this one's (:mod:`analysis.core.side_by_side`).

The choices are the sidebar's (bundles under the results folder, bundles opened by path or URL), or
a folder typed here; every one is confined like any folder a browser asks for
(:func:`dashboard.loaders.confined`). A bundle of other images, labels or split is refused with the
reason and the page goes on with the rest. The chosen bundles are kept in the URL (``?compare_bundles=``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.core import escape, side_by_side
from analysis.core.bundle import Bundle, BundleError
from dashboard import components, loaders
from dashboard.loaders import BundleRef

KEY = "compare_bundles"
TYPED_KEY = "compare_bundle_typed"
TYPED_ERROR_KEY = "compare_bundle_typed_error"
SEEN_KEY = "compare_bundles_seen"  # the bundles added at the last run: a new one gets its approaches chosen


def add_typed() -> None:
    """Callback of the typed folder: a bundle joins the choices and the chosen bundles."""
    typed = st.session_state.get(TYPED_KEY, "").strip()
    st.session_state[TYPED_ERROR_KEY] = None
    if not typed:
        return
    try:
        path = components.typed_bundle(typed)
    except BundleError as error:
        st.session_state[TYPED_ERROR_KEY] = str(error)
        return
    if path == st.session_state.get(components.BUNDLE_KEY):
        st.session_state[TYPED_ERROR_KEY] = f"`{path}` is the bundle this page shows; add another one."
        return
    chosen = list(st.session_state.get(KEY) or [])
    st.session_state[KEY] = chosen + ([path] if path not in chosen else [])
    st.session_state[TYPED_KEY] = ""


def picker(ref: BundleRef) -> BundleRef:
    """Choose other bundles to compare with; returns ``ref`` with the comparable ones added
    (``BundleRef.others``) and says on the page why each other one is not."""
    options = [path for path in components.known_bundles() if path != ref.path]
    # named beside the shown bundle, as analysis.core.side_by_side.SideBySide names them on the charts
    names = dict(zip(options, side_by_side.bundle_names([Path(path) for path in [ref.path, *options]])[1:]))
    asked = st.query_params.get_all(KEY)  # a shared link names bundles; only known ones can be restored
    left, right = st.columns([3, 2])
    chosen = left.multiselect(
        "Add approaches from other bundles", options, format_func=names.get, key=KEY,
        placeholder="other runs on the same images and split" if options else "no other bundle found",
        help="Another run on the same images with the same split (other prompts, seed or models). Its "
             "approaches join every chart and table below, marked [bundle name].", **components.KEPT)
    right.text_input("…or add a bundle folder", key=TYPED_KEY, on_change=add_typed, placeholder="/path/to/bundle",
                     help="Any bundle folder the dashboard may open (under the results folder or CORNLENS_ROOTS).")
    if st.session_state.get(TYPED_ERROR_KEY):
        st.error(escape.markdown_text(st.session_state[TYPED_ERROR_KEY]), icon=":material/error:")
    if unknown := [name for name in asked if name not in names.values()]:
        st.warning(f"This link asks for {', '.join(f'**{escape.markdown_text(name)}**' for name in unknown)}, which is not among the bundles "
                   "this dashboard lists (the results folder and bundles opened in this session); add it by its "
                   "folder above.", icon=":material/link_off:")
    others = []
    for path in chosen:
        try:
            other = loaders.bundle_ref(path)
            refused = loaders.refusal(ref, other)
        except BundleError as error:
            refused = str(error)
        if refused:
            st.error(f"**{escape.markdown_text(names.get(path, path))}** is not added: {escape.markdown_text(refused)}",
                     icon=":material/block:")
        else:
            others.append(other)
    return ref._replace(others=tuple(others))


def select_added(opened: Bundle, key: str) -> bool:
    """Choose, in the approaches picker ``key``, the representative approaches of each bundle added
    since the last run (call it before the picker is drawn; on a first visit the picker's default
    does it). Returns True when it set the picker's value."""
    added = list(dict.fromkeys(name for name in map(side_by_side.bundle_of, opened.approaches) if name))
    new = [name for name in added if name not in st.session_state.get(SEEN_KEY, [])]
    st.session_state[SEEN_KEY] = added
    if not new or key not in st.session_state:
        return False
    chosen = list(st.session_state[key] or [])
    st.session_state[key] = chosen + [record["id"] for record in side_by_side.representative_by_bundle(
        opened.approaches, new) if record["id"] not in chosen]
    return True
