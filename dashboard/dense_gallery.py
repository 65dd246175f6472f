"""The dense gallery: compact cards (image, true label, the chosen approach's answer), many per row;
everything else about an image is one click away, in the full-size view (``full_view``: every
approach's probabilities, tags, nearest training images)."""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd
import streamlit as st

from analysis.core import escape
from analysis.present import figures
from analysis.core import tables, tags
from dashboard import components, full_view, loaders
from dashboard.loaders import BundleRef

PER_ROW = (4, 8, 12)
PER_PAGE = (24, 48, 96)
DEFAULT_PER_ROW, DEFAULT_PER_PAGE = 8, 48


def density_controls(key: str, container=st) -> tuple[int, int]:
    """Thumbnails per row and per page."""
    left, right = container.columns(2)
    per_row = left.segmented_control("Per row", PER_ROW, default=DEFAULT_PER_ROW, key=f"{key}_per_row",
                                     required=True)
    per_page = right.selectbox("Per page", PER_PAGE, index=PER_PAGE.index(DEFAULT_PER_PAGE), key=f"{key}_per_page")
    return int(per_row or DEFAULT_PER_ROW), int(per_page)


def compact_card(ref: BundleRef, row: Mapping, approach_ids: list[str], labels: dict[str, str],
                 colours: dict[str, str], thumbnail: str | None, key: str, image_tags: Iterable[str] = ()) -> None:
    """One image in three short lines: thumbnail, true label, the first approach's answer (✔/✘) with
    its confidence, and a details link; lines never wrap (a long class name is cut with …), so 12 cards fit a row. Every
    approach's answer (baselines too) is in the card's hover text."""
    image_id = str(row["image_id"])
    answers = list(tables.image_predictions(row, approach_ids, labels).itertuples())
    answer = answers[0] if answers else None  # the chosen approach's, shown on the card
    with st.container(gap="xxsmall"):
        # the thumbnail (a data: URI made from the bundle's bytes, its type read from them) inside the card's one
        # Markdown block: an st.image per card made 48 more elements to draw, ~0.5 s of a gallery's first visit
        picture = (f"<img src='{escape.html_text(thumbnail)}' style='width:100%;display:block' alt=''>" if thumbnail
                   else "<span>no thumbnail</span>")
        said = (f"<br>{components.RIGHT_MARK if answer.correct else components.WRONG_MARK} "
                f"{components.class_badge(answer.prediction, colours)} {answer.probability:.0%}"
                if answer is not None else "")
        marker = (f"<br><span style='background:#fff3bf;padding:0 4px;border-radius:4px'>"
                  f"{escape.markup_text(', '.join(image_tags))}</span>") if image_tags else ""
        title = f"{image_id}: true {row['label']}" + "".join(  # every answer, on hover
            f"; {other.approach} says {other.prediction} ({other.probability:.0%})" for other in answers)
        st.markdown(f"<div>{picture}<div title='{escape.html_text(title)}' style='font-size:0.75em;line-height:1.45;"
                    "white-space:nowrap;overflow:hidden;text-overflow:ellipsis'>"
                    f"{components.class_badge(row['label'], colours)}{said}{marker}</div></div>",
                    unsafe_allow_html=True)  # one HTML block: Markdown leaves it whole
        st.button("Details", key=f"{key}_open_{image_id}", type="tertiary", width="stretch",
                  help=f"{image_id}: full size, every answer, tags, nearest training images",
                  on_click=full_view.open_image, args=(key, image_id))


def compact_grid(rows: pd.DataFrame, ref: BundleRef, approach_ids: list[str], labels: dict[str, str],
                 classes: list[str], key: str, per_row: int = DEFAULT_PER_ROW, all_tags: pd.DataFrame | None = None
                 ) -> None:
    """``compact_card`` of every row, ``per_row`` to a row (a ``grid`` of ``components.paged_grid``)."""
    all_tags = tags.empty() if all_tags is None else all_tags
    thumbs = loaders.thumbnails(ref, rows["image_id"])
    page_tags = tags.tags_by_image(all_tags, rows["image_id"].astype(str))
    colours = figures.class_colours(classes)
    records = rows.to_dict("records")  # plain dicts: a Series per card cost ~1 ms of pandas each
    for start in range(0, len(records), per_row):
        for column, row in zip(st.columns(per_row, gap="xsmall"), records[start:start + per_row]):
            with column:
                compact_card(ref, row, approach_ids, labels, colours, thumbs.get(row["image_id"]), key,
                             page_tags.get(str(row["image_id"]), []))
