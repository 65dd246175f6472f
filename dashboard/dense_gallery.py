"""The dense gallery: compact cards (image, true label, the chosen approach's answer), many per row;
everything else about an image is one click away, in the full-size view (``full_view``: every
approach's probabilities, tags, nearest training images)."""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from analysis.present import figures, gallery_cards
from analysis.core import tables, tags
from dashboard import card_grid, full_view, loaders
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


def compact_grid(rows: pd.DataFrame, ref: BundleRef, approach_ids: list[str], labels: dict[str, str],
                 classes: list[str], key: str, per_row: int = DEFAULT_PER_ROW, all_tags: pd.DataFrame | None = None,
                 every_answer: bool = False) -> None:
    """A card (``gallery_cards.card``) of every row, ``per_row`` to a row, drawn as one element
    (``card_grid``; a ``grid`` of ``components.paged_grid``); Details opens the image's full-size view.
    A card shows the first approach's answer, or with ``every_answer`` each approach's, named."""
    all_tags = tags.empty() if all_tags is None else all_tags
    thumbs = loaders.thumbnails(ref, rows["image_id"])
    page_tags = tags.tags_by_image(all_tags, rows["image_id"].astype(str))
    colours = figures.class_colours(classes)
    cards = [gallery_cards.card(row, tables.image_answers(row, approach_ids, labels), colours,
                                thumbs.get(row["image_id"]), page_tags.get(str(row["image_id"]), []), every_answer)
             for row in rows.to_dict("records")]  # plain dicts: a Series per card cost ~1 ms of pandas each
    card_grid.card_grid(cards, per_row, f"{key}_cards", on_open=functools.partial(full_view.open_image, key))
