"""Text search: type a phrase, see the images ranked by how similar CLIP finds them to it, and whether
the phrase finds the class it names. The only page that runs a model (the CLIP text tower, loaded
once per server process from the weights the bundle recorded)."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from analysis.core import escape
from analysis.present import figures
from analysis.stats import neighbours
from analysis.core import weights as model_weights
from analysis.models import texttower, tower_process
from dashboard import components, loaders, neighbours_view

SCOPES = {"all images": None, "held-out images": ["eval"], "training images": ["train"],
          "unlabelled test images": ["kaggle_test"]}
SHOWN = (24, 48, 96)
PER_ROW = 4  # a card keeps its badge, similarity and button label whole (the page is ~820 px wide)
TOP_FOR_SHARES = 50


def tower_controls(opened) -> tuple[texttower.TowerSource, str] | None:
    """The CLIP space to search and an optional weights file; None when the bundle has no CLIP embeddings."""
    spaces = neighbours.text_spaces(opened.manifest)
    if not spaces:
        return None
    space = st.selectbox("CLIP model", spaces, key="search_space") if len(spaces) > 1 else spaces[0]
    source = texttower.recorded_source(opened.manifest, space)
    with st.expander(f"Text tower: {escape.markdown_text(source.describe())}"):
        weights = st.text_input("Weights file (optional)", key="search_weights", placeholder="/path/to/checkpoint.pt",
                                help="The same weights as the bundle's, as a local open_clip checkpoint, when the "
                                     "recorded ones cannot be found on this machine.").strip()
        st.caption("Loaded once per dashboard server, on the CPU, only for this page.")
    return source, weights


def load_tower(source: texttower.TowerSource, weights: str,
               phrase: str) -> tower_process.RemoteTower | texttower.TextTower | None:
    """The loaded text tower, or None after saying which file to pass or, with no phrase to search
    yet, that it is still loading (the page stops there). It loads in the background from the
    server's first page on (``loaders.start_text_tower``): the page waits for it only to search."""
    if not phrase and not loaders.tower_loading(source, weights).done():
        return None
    with st.spinner("Loading the text tower (once per server)…"):
        tower = loaders.text_tower(source, weights)
    if isinstance(tower, str):
        unavailable(tower)
        return None
    return tower


def unavailable(message: str) -> None:
    """Why there is no text tower here, and a button that loads it again."""
    st.error(f"**Text search is not available for this bundle here.** {escape.markdown_text(message)}",
             icon=":material/key_off:")
    if st.button("Try again", key="search_retry", icon=":material/refresh:"):
        loaders.forget_towers()
        st.rerun()
    st.caption("The rest of the dashboard does not need these weights.")


def query_controls() -> tuple[str, str, int]:
    left, middle, right = st.columns([4, 2, 1])
    phrase = left.text_input("Phrase", key="search_phrase", placeholder="a broken corn kernel").strip()
    scope = middle.selectbox("Search", list(SCOPES), key="search_scope")
    shown = right.selectbox("Show", SHOWN, key="search_shown")
    return phrase, scope, int(shown)


def class_panel(table: pd.DataFrame, ranked: pd.DataFrame, classes: list[str], phrase: str, learnt: bool) -> None:
    """Similarity per true class: a box per class and the share of each class among the closest images."""
    st.markdown(neighbours.read_similarity_by_class(table, phrase, TOP_FOR_SHARES, learnt, ranked["similarity"]))
    labelled = ranked[ranked["label"].notna()]
    fig = px.box(labelled, x="label", y="similarity", color="label", category_orders={"label": classes},
                 color_discrete_map=figures.class_colours(classes), points=False, template=figures.TEMPLATE,
                 labels={"label": "true class", "similarity": f"cosine similarity to “{phrase}”"}, height=300)
    fig.update_layout(showlegend=False, margin=dict(l=10, r=10, t=10, b=10))
    left, right = st.columns([3, 2])
    with left:
        components.figure(fig, key="search_by_class")
    top = f"of top {TOP_FOR_SHARES}"
    shares = table.rename(columns={"label": "class", "n": "images", "mean": "mean", "top_share": top,
                                   "base_share": "of all"})
    right.dataframe(shares[["class", "images", "mean", top, "of all"]], hide_index=True, width="stretch",
                    column_config={top: st.column_config.NumberColumn(format="percent", help=(
                                       f"share of the {TOP_FOR_SHARES} most similar labelled images")),
                                   "of all": st.column_config.NumberColumn(format="percent", help=(
                                       "share of all labelled images searched: what chance gives")),
                                   "mean": st.column_config.NumberColumn(format="%.3f", help="mean cosine similarity")})


def ranked_images(ref, ranked: pd.DataFrame, classes: list[str]) -> None:
    """The closest images as thumbnails, most similar first; each opens its nearest training images."""
    thumbs = loaders.thumbnails(ref, ranked["image_id"])
    colours = figures.class_colours(classes)
    records = list(ranked.itertuples())
    for start in range(0, len(records), PER_ROW):
        for column, row in zip(st.columns(PER_ROW, gap="small"), records[start:start + PER_ROW]):
            with column.container(border=True, gap="small"):
                thumbnail = thumbs.get(row.image_id)
                if thumbnail:
                    st.image(thumbnail, width="stretch")
                label = components.class_badge(row.label, colours) if isinstance(row.label, str) else "unlabelled"
                st.markdown(f"<strong>{row.rank}</strong> · {label}<br><span style='font-size:0.8em'>similarity "
                            f"{row.similarity:.3f}</span>", unsafe_allow_html=True)
                if st.button("Neighbours", key=f"search_neighbours_{row.image_id}", width="stretch",
                             help=escape.markdown_text(f"{row.image_id} ({row.split}): its nearest training images")):
                    neighbours_view.neighbours_dialog(ref, row.image_id)


st.title("Text search")
ref, opened = components.require_bundle()
chosen = tower_controls(opened)
if chosen is None:
    components.missing(opened.manifest, ref, "zeroshot")
    st.stop()
source, weights = chosen
phrase, scope, shown = query_controls()
tower = load_tower(source, weights, phrase)
if tower is None and phrase:
    st.stop()
if not phrase:
    st.info("Type a phrase — *a broken corn kernel*, *silk cut*, *a discoloured kernel* — to rank the images by "
            "how similar the model finds them to it.", icon=":material/search:")
    st.stop()
index = loaders.neighbour_index(ref, source.space)
try:
    query = tower.encode([phrase])[0]
except texttower.TowerUnavailable as error:  # its process was stopped
    unavailable(str(error))
    st.stop()
ranked = neighbours.rank_by_vector(index, query, splits=SCOPES[scope])
st.subheader(f"The {min(shown, len(ranked))} images most similar to “{escape.markdown_text(phrase)}”")
st.caption(f"Searched: {scope} ({len(ranked)}).")
class_panel(neighbours.similarity_by_class(ranked, opened.classes, TOP_FOR_SHARES), ranked, opened.classes, phrase,
            model_weights.learnt(opened.manifest, source.space))
ranked_images(ref, ranked.head(shown), opened.classes)
if not model_weights.learnt(opened.manifest, source.space):
    st.caption("The text tower has random weights, so the ranking is arbitrary; it shows how the page works, not what "
               "CLIP finds.")
