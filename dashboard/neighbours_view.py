"""The nearest training images of one image, with what their vote says beside each approach's answer.

Shown in the gallery's details, from a map selection and from the label-problem rows.
"""

from __future__ import annotations


import pandas as pd
import streamlit as st

from analysis.core import escape
from analysis.present import explain, figures
from analysis.stats import neighbours
from analysis.core import tables
from analysis.core.bundle import Bundle
from dashboard import loaders
from dashboard.badges import RIGHT_MARK, WRONG_MARK, class_badge
from dashboard.loaders import BundleRef

K_CHOICES = (5, 10, 20)
PER_ROW = 5  # neighbour thumbnails per row where space is narrow; dialogs show 10
SPACE_KEY, K_KEY = "neighbours_last_space", "neighbours_last_k"  # the last choice, offered next time


def space_label(manifest: dict, space: str) -> str:
    kind = manifest.get("embeddings", {}).get(space, {}).get("kind")
    return f"{'ConvNeXt' if kind == 'convnext' else 'CLIP'} {space}"


def space_controls(opened: Bundle, key: str) -> tuple[str, int] | None:
    """Which embedding space and how many neighbours; None when the bundle has no embeddings.

    Each place has its own widgets (``key``); the last choice is remembered for the next place.
    """
    names = neighbours.spaces(opened.manifest)
    if not names:
        return None
    space_key, k_key = f"{key}_space", f"{key}_k"
    if st.session_state.get(space_key) not in names:
        st.session_state[space_key] = st.session_state.get(SPACE_KEY) if st.session_state.get(SPACE_KEY) in names \
            else names[0]
    if st.session_state.get(k_key) not in K_CHOICES:
        st.session_state[k_key] = st.session_state.get(K_KEY, neighbours.DEFAULT_K)
    left, right = st.columns([3, 1])
    space = left.selectbox("Similarity in the space of", names, key=space_key,
                           format_func=lambda name: space_label(opened.manifest, name),
                           help="Exact cosine similarity between the cached image embeddings of this model.")
    k = right.selectbox("Neighbours", K_CHOICES, key=k_key)
    st.session_state[SPACE_KEY], st.session_state[K_KEY] = space, k
    return space, int(k)


def answers_of(ref: BundleRef, opened: Bundle, image_id: str, approach_ids: list[str] | None = None) -> pd.DataFrame:
    """The answers of ``approach_ids`` (default: the representative approaches) for the image;
    empty unless it is a held-out image (only those are scored)."""
    scored = loaders.scored_images(ref)
    rows = scored[scored["image_id"] == image_id]
    if rows.empty:
        return tables.image_predictions(pd.Series(dtype=object), [], {})
    ids = list(dict.fromkeys((approach_ids or []) + [record["id"] for record in
                                                     tables.representative_approaches(opened.approaches)]))
    return tables.image_predictions(rows.iloc[0], ids,
                                    tables.approach_labels([opened.approach(approach_id) for approach_id in ids],
                                                           short=True))


def vote_panel(vote: neighbours.Vote, answers: pd.DataFrame, colours: dict[str, str],
               shares: dict[str, float]) -> None:
    """The vote in one sentence (beside the class's share of all training images: what chance gives),
    then each approach's answer and whether the neighbours agree."""
    chance = (f" ({escape.markdown_text(vote.winner)} is {shares[vote.winner]:.0%} of all training images)"
              if vote.winner in shares else "")
    st.markdown(f"**{vote.sentence()}**{chance}.")  # Markdown, its class name escaped
    if answers.empty:
        st.caption("No approach answered for this image (only held-out images are scored).")
        return
    lines = []
    for answer in answers.itertuples():
        mark = RIGHT_MARK if answer.correct else WRONG_MARK
        agree = "the neighbours give no vote" if vote.winner is None else "the neighbours agree" \
            if vote.agrees_with(answer.prediction) else f"the neighbours say {escape.markup_text(str(vote.winner))}"
        lines.append(f"{mark} {class_badge(answer.prediction, colours)} {answer.probability:.0%} "
                     f"<span style='color:#666;font-size:0.85em'>{escape.markup_text(answer.approach)} — {agree}</span>")
    st.markdown("<br>".join(lines), unsafe_allow_html=True)


def neighbour_thumbnails(ref: BundleRef, found: pd.DataFrame, colours: dict[str, str], per_row: int = PER_ROW) -> None:
    """The neighbours as thumbnails, most similar first, with label and similarity."""
    thumbs = loaders.thumbnails(ref, found["image_id"])
    records = list(found.itertuples())
    for start in range(0, len(records), per_row):
        for column, row in zip(st.columns(per_row, gap="xsmall"), records[start:start + per_row]):
            with column:
                thumbnail = thumbs.get(row.image_id)
                if thumbnail:
                    st.image(thumbnail, width="stretch")
                st.markdown(f"<div title='{escape.html_text(row.image_id)}' style='font-size:0.8em;"
                            "white-space:nowrap;overflow:hidden;text-overflow:ellipsis'>"
                            f"{row.rank}. {class_badge(row.label, colours)} {row.similarity:.3f}<br>"
                            f"<span style='color:#666;font-size:0.9em'>{escape.markup_text(row.image_id)}</span></div>",
                            unsafe_allow_html=True)


def neighbours_panel(ref: BundleRef, opened: Bundle, image_id: str, key: str, approach_ids: list[str] | None = None,
                     below=None, per_row: int = PER_ROW) -> None:
    """Space and k controls, the vote beside each approach's answer and, in ``below`` (default: here),
    the neighbour thumbnails."""
    chosen = space_controls(opened, key)
    if chosen is None:
        st.info(explain.missing_part(opened.manifest, ref.path, "zeroshot"), icon=":material/info:")
        return
    space, k = chosen
    try:
        index = loaders.neighbour_index(ref, space)
        found = neighbours.neighbours_of(index, image_id, k)
    except (KeyError, ValueError) as error:  # an image or embeddings file that does not match the bundle
        st.warning(escape.markdown_text(f"No neighbours for {image_id} in {space}: {error}"))
        return
    colours = figures.class_colours(opened.classes)
    vote_panel(neighbours.vote(found, opened.classes), answers_of(ref, opened, image_id, approach_ids), colours,
               neighbours.training_shares(index, opened.classes))
    with below if below is not None else st.container():
        neighbour_thumbnails(ref, found, colours, per_row)
        st.caption(f"The {len(found)} training images whose {escape.markdown_text(space_label(opened.manifest, space))} embeddings are "
                   "most similar (cosine) to this image's; held-out and unlabelled images never count, nor the image "
                   "itself.")


def image_heading(ref: BundleRef, opened: Bundle, image_id: str) -> None:
    """Id, split, size, view and true label of one image."""
    images = opened.images()
    row = images[images["image_id"] == image_id]
    if row.empty:
        st.markdown(f"**{escape.markdown_text(image_id)}**")
        return
    row = row.iloc[0]
    size = f"{row['width']}×{row['height']} px · " if "width" in row and "height" in row else ""
    label = row["label"]
    st.markdown(f"**{escape.markdown_text(image_id)}** · {escape.markdown_text(str(row['split']))}<br>{size}"
                f"{escape.markdown_text(str(row.get('view', '')))} view · "
                + (f"true {class_badge(label, figures.class_colours(opened.classes))}"
                   if isinstance(label, str) else "unlabelled"), unsafe_allow_html=True)


@st.dialog("Nearest training images", width="large")
def neighbours_dialog(ref: BundleRef, image_id: str) -> None:
    """``neighbours_panel`` in a dialog, with the image itself beside it."""
    opened = loaders.open_bundle(ref)
    picture, facts = st.columns([1, 4])
    below = st.container()
    thumbnail = loaders.thumbnails(ref, [image_id]).get(image_id)
    if thumbnail:
        picture.image(thumbnail, width="stretch")
    with facts:
        image_heading(ref, opened, image_id)
        neighbours_panel(ref, opened, image_id, key="neighbours_dialog", below=below, per_row=10)
