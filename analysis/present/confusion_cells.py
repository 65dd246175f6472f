"""A confusion matrix as cells a person can pick (the gallery's matrix is a control, not a chart):
each cell's count, its share of the true class, how loudly to draw it and what its tooltip says.
The figures draw the same counts and shares (``figures.confusion_matrix_figure``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from analysis.core import escape

# An off-diagonal cell holding at least this share of its true class is drawn as a main confusion.
MAIN_CONFUSION = 0.2


@dataclass(frozen=True)
class Cell:
    """One cell: ``true`` images answered ``predicted``."""

    true: str
    predicted: str
    count: int
    share: float  # of the true class's held-out images

    def label(self, plain: bool = False) -> str:
        """The button's Markdown: the count (its share is in :meth:`help`: a count of 10,000 and its
        share do not fit a cell of a 4-class grid beside the filters), red on a main confusion (at least
        :data:`MAIN_CONFUSION` of its true class), green on right answers; ``plain``: uncoloured (the
        chosen cell)."""
        text = f"**{self.count:,}**"
        if plain:
            return text
        if self.count and self.true == self.predicted:
            return f":green[{text}]"
        if self.count and self.share >= MAIN_CONFUSION:
            return f":red[{text}]"
        return text

    def help(self) -> str:
        """The tooltip, class names as text (they come from the bundle)."""
        true, predicted = escape.markdown_text(self.true), escape.markdown_text(self.predicted)
        answer = "right answers" if self.true == self.predicted else f"taken for {predicted}"
        return f"true {true}, {answer}: {self.count:,} images ({self.share:.0%} of {true})"


def row_shares(matrix: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """A confusion matrix's counts and each row's shares of its true class (0 for an empty row)."""
    counts = np.asarray(matrix, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    return counts, np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def top_confusions(cells: list[list[Cell]], limit: int) -> list[tuple[int, int, Cell]]:
    """The ``limit`` off-diagonal cells with the most images (row, column, cell), most first; empty
    cells left out."""
    mistakes = [(i, j, cell) for i, row in enumerate(cells) for j, cell in enumerate(row) if i != j and cell.count]
    return sorted(mistakes, key=lambda found: -found[2].count)[:limit]


def confusion_cells(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> list[list[Cell]]:
    """Rows of cells (rows: true class, columns: predicted), in the order of ``classes``."""
    counts, shares = row_shares(matrix)
    return [[Cell(true, predicted, int(counts[i, j]), float(shares[i, j])) for j, predicted in enumerate(classes)]
            for i, true in enumerate(classes)]
