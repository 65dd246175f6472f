"""A confusion matrix a person clicks to pick a pair of classes (the gallery's filter): a grid of
counts (Streamlit buttons, no chart library to load), or past :data:`GRID_CLASSES` classes, where a
grid's cells would be too small to read or click, the most frequent mistakes as a row of buttons.
What a cell holds and says is :mod:`analysis.present.confusion_cells`."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from analysis.core import escape
from analysis.present.confusion_cells import MAIN_CONFUSION, Cell, top_confusions

GRID_CLASSES = 8  # more classes than this: the most frequent mistakes, not a grid


def cell_button(container, cell: Cell, key: str, pick: Callable[[str, str], None], shown: bool,
                label: str | None = None) -> None:
    """One count to click (``pick(true, predicted)``); marked while ``shown``; none to show, none to click."""
    container.button(label or cell.label(plain=shown), key=key, help=cell.help(), on_click=pick,
                     args=(cell.true, cell.predicted), disabled=not cell.count,
                     type="primary" if shown else "secondary", width="stretch" if label is None else "content")


def confusion_grid(cells: list[list[Cell]], classes: list[str], key: str, pick: Callable[[str, str], None],
                   is_shown: Callable[[Cell], bool]) -> None:
    """The matrix (rows: true class, columns: predicted) as counts to click, each button keyed
    ``{key}_{row}_{column}``; past :data:`GRID_CLASSES` classes, the most frequent mistakes only."""
    if len(classes) > GRID_CLASSES:
        st.caption(f"The most frequent mistakes on the held-out images ({len(classes)} classes: too many for a "
                   "grid; the class filters reach every other pair) — **click one** to show its images.")
        row = st.container(horizontal=True, gap="xsmall")
        for i, j, cell in top_confusions(cells, GRID_CLASSES):
            cell_button(row, cell, f"{key}_{i}_{j}", pick, is_shown(cell), label=(
                f"{escape.markdown_text(cell.true)} → {escape.markdown_text(cell.predicted)}: "
                f"{cell.label(plain=True)} ({cell.share:.0%})"))
        return
    st.caption("Confusion matrix on the held-out images (rows: true class, columns: predicted; green: right "
               f"answers, red: a mistake that takes at least {MAIN_CONFUSION:.0%} of its true class; a count's "
               "share shows on hover) — **click a count** to show its images.")
    spec = [1.2] + [1] * len(classes)
    header = st.columns(spec, gap="xsmall", vertical_alignment="bottom")
    header[0].caption("true\u00a0↓ predicted\u00a0→")
    for column, name in zip(header[1:], classes):
        column.caption(escape.markdown_text(name))
    for i, row in enumerate(cells):
        columns = st.columns(spec, gap="xsmall", vertical_alignment="center")
        columns[0].caption(escape.markdown_text(classes[i]))
        for j, (column, cell) in enumerate(zip(columns[1:], row)):
            cell_button(column, cell, f"{key}_{i}_{j}", pick, is_shown(cell))
