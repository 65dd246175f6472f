"""What each card of the dense gallery shows (``dashboard.card_grid`` draws them): the thumbnail,
the true label, the chosen approach's answer with its confidence, the image's tags, and every
approach's answer for the hover. Strings are data here; the browser writes them as text."""

from __future__ import annotations

from typing import Mapping, Sequence

from analysis.core import tables
from analysis.present.figure_style import CORRECTNESS_COLOURS

OTHER_COLOUR = "#777777"  # a class the bundle's list does not name


def card(row: Mapping, answers: Sequence[tables.Answer], colours: Mapping[str, str], thumbnail: str | None,
         image_tags: Sequence[str] = ()) -> dict:
    """One card: ``id``, ``thumb`` (a ``data:`` URI or None), ``label`` and its colour, ``answer``
    (the first of ``answers``: ``prediction``, its colour, ``probability`` as a percentage, ``mark``
    ✔/✘ and its colour; None without one), ``tags`` (comma-separated), ``title`` (every answer, for
    the hover) and ``help`` (what Details opens)."""
    image_id, label = str(row["image_id"]), str(row["label"])
    first = answers[0] if answers else None
    return {
        "id": image_id,
        "thumb": thumbnail,
        "label": label,
        "label_colour": colours.get(label, OTHER_COLOUR),
        "answer": None if first is None else {
            "prediction": str(first.prediction), "colour": colours.get(first.prediction, OTHER_COLOUR),
            "probability": f"{first.probability:.0%}", "correct": bool(first.correct),
            "mark": tables.RIGHT if first.correct else tables.WRONG,
            "mark_colour": CORRECTNESS_COLOURS["correct" if first.correct else "wrong"]},
        "tags": ", ".join(str(tag) for tag in image_tags),
        "title": f"{image_id}: true {label}" + "".join(
            f"; {answer.approach} says {answer.prediction} ({answer.probability:.0%})" for answer in answers),
        "help": f"{image_id}: full size, every answer, tags, nearest training images",
    }
