"""The dense gallery's cards as one Streamlit component (``st.components.v2``): a grid of thumbnails
with their labels, answers and a Details button each.

One element for a page of 48 cards: drawn as ~200 Streamlit elements (a Markdown block of HTML and a
button per card, the columns around them), a click in the confusion matrix kept the server and the
browser busy 0.6–0.8 s on 2 cores. Script and style: ``card_grid.js`` and ``card_grid.css`` beside this
module; what a card holds: :func:`analysis.present.gallery_cards.card`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import streamlit as st

HERE = Path(__file__).parent
NAME = "cornlens_card_grid"
EVENT = "open"  # the trigger a Details button sets: the image id

_render = st.components.v2.component(
    NAME, html="<div class='cl-cards'></div>", css=(HERE / "card_grid.css").read_text(encoding="utf-8"),
    js=(HERE / "card_grid.js").read_text(encoding="utf-8"), isolate_styles=False)


def card_grid(cards: list[dict], per_row: int, key: str, on_open: Callable[[str], None]) -> None:
    """Draw ``cards`` (``gallery_cards.card``), ``per_row`` to a row, under ``key``; ``on_open(image_id)``
    runs when a card's Details button is pressed."""
    version = hashlib.blake2s(json.dumps([cards, per_row]).encode()).hexdigest()[:16]
    shown = frozenset(card["id"] for card in cards)
    _render(data={"cards": cards, "per_row": per_row, "version": version}, key=key, height="content",
            **{f"on_{EVENT}_change": lambda: opened(key, shown, on_open)})


def opened(key: str, shown: frozenset[str], on_open: Callable[[str], None]) -> None:
    """Callback of a Details button: ``on_open(image_id)`` for an image of the cards it was drawn
    with; anything else the browser sends (an id not on the page, not a string) is ignored."""
    state = st.session_state.get(key)
    image_id = state.get(EVENT) if state is not None and hasattr(state, "get") else None
    if isinstance(image_id, str) and image_id in shown:
        on_open(image_id)
