"""What each image card shows (``dashboard.card_grid`` draws them): the thumbnail, the true label and
the split when it is not the held-out one, the chosen approach's answer with its confidence (or, on
the map's and Compare's cards, every approach's, each named), the image's tags, and every approach's
answer for the hover. Strings are data here; the browser writes them as text."""

from __future__ import annotations

from typing import Mapping, Sequence

from analysis.core import tables
from analysis.present.figure_style import CORRECTNESS_COLOURS

OTHER_COLOUR = "#777777"  # a class the bundle's list does not name


def card(row: Mapping, answers: Sequence[tables.Answer], colours: Mapping[str, str], thumbnail: str | None,
         image_tags: Sequence[str] = (), every_answer: bool = False) -> dict:
    """One card: ``id``, ``thumb`` (a ``data:`` URI or None), ``label`` and its colour, ``split`` (empty
    for a held-out image), ``answers`` (the first of ``answers``, or each with ``every_answer``:
    ``prediction``, its colour, ``probability`` as a percentage, ``mark`` ✔/✘ and its colour, and
    ``approach``, named only with ``every_answer``), ``tags`` (comma-separated), ``title`` (every
    answer, for the hover) and ``help`` (what Details opens)."""
    image_id, label = str(row["image_id"]), str(row["label"])
    split = str(row.get("split", tables.GALLERY_SPLIT))
    return {
        "id": image_id,
        "thumb": thumbnail,
        "label": label,
        "label_colour": colours.get(label, OTHER_COLOUR),
        "split": "" if split == tables.GALLERY_SPLIT else split,
        "answers": [answer_line(answer, colours, every_answer)
                    for answer in (answers if every_answer else answers[:1])],
        "tags": ", ".join(str(tag) for tag in image_tags),
        "title": f"{image_id}: true {label}" + "".join(
            f"; {answer.approach} says {answer.prediction} ({answer.probability:.0%})" for answer in answers),
        "help": f"{image_id}: full size, every answer, tags, nearest training images",
    }


def answer_line(answer: tables.Answer, colours: Mapping[str, str], named: bool) -> dict:
    """One answer as a card shows it: ✔/✘, the predicted class in its colour, the confidence, and the
    approach's name when ``named``."""
    return {"prediction": str(answer.prediction), "colour": colours.get(answer.prediction, OTHER_COLOUR),
            "probability": f"{answer.probability:.0%}", "correct": bool(answer.correct),
            "mark": tables.RIGHT if answer.correct else tables.WRONG,
            "mark_colour": CORRECTNESS_COLOURS["correct" if answer.correct else "wrong"],
            "approach": str(answer.approach) if named else ""}
