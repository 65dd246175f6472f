"""The gallery's cards as data (``analysis.present.gallery_cards``), drawn by one component
(``dashboard.card_grid``): what a card says, and that names reach the browser as text."""

from __future__ import annotations

from analysis.core import tables
from analysis.present import gallery_cards

HOSTILE = "<img src=x onerror=alert(1)>**b**"


def test_a_card_says_the_label_the_first_answer_its_tags_and_every_answer_on_hover():
    row = {"image_id": "k1", "label": "broken"}
    answers = [tables.Answer("probe", "pure", 0.874, 0.1, False), tables.Answer("majority", "broken", 0.4, 0.4, True)]
    card = gallery_cards.card(row, answers, {"pure": "#E69F00", "broken": "#0072B2"}, "data:image/png;base64,AA",
                              ["label wrong", "ambiguous"])
    assert card["id"] == "k1" and card["label"] == "broken" and card["label_colour"] == "#0072B2"
    assert card["answers"] == [{"prediction": "pure", "colour": "#E69F00", "probability": "87%", "correct": False,
                                "mark": tables.WRONG, "mark_colour": "#D55E00", "approach": ""}]
    assert card["split"] == ""  # held out: the gallery's split goes without saying
    assert card["tags"] == "label wrong, ambiguous"
    assert card["title"] == "k1: true broken; probe says pure (87%); majority says broken (40%)"


def test_a_map_or_compare_card_names_every_answer_and_a_split_other_than_held_out():
    answers = [tables.Answer("probe", "pure", 0.874, 0.1, False), tables.Answer("majority", "broken", 0.4, 0.4, True)]
    card = gallery_cards.card({"image_id": "k1", "label": "broken", "split": "train"}, answers, {}, None,
                              every_answer=True)
    assert [(line["approach"], line["prediction"], line["mark"]) for line in card["answers"]] == [
        ("probe", "pure", tables.WRONG), ("majority", "broken", tables.RIGHT)]
    assert card["split"] == "train"


def test_a_card_without_an_answer_or_thumbnail_and_with_hostile_names_keeps_them_as_plain_text():
    card = gallery_cards.card({"image_id": HOSTILE, "label": HOSTILE}, [], {}, None)
    assert card["answers"] == [] and card["thumb"] is None and card["tags"] == ""
    assert card["label"] == HOSTILE and card["label_colour"] == gallery_cards.OTHER_COLOUR  # escaped by the browser (textContent)


def test_the_grids_script_writes_names_as_text_and_shows_only_data_images():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / "dashboard" / "card_grid.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "startsWith('data:image/')" in script
    canvas = (Path(__file__).resolve().parent.parent / "dashboard" / "map_canvas.js").read_text()
    assert "innerHTML" not in canvas and "insertAdjacentHTML" not in canvas


def test_details_opens_only_an_image_of_the_cards_shown(monkeypatch):
    import streamlit as st

    from dashboard import card_grid

    opened = []
    for sent in ("k1", "elsewhere", None, 7, ["k1"]):
        monkeypatch.setattr(st, "session_state", {"gallery_cards": {"open": sent}})
        card_grid.opened("gallery_cards", frozenset({"k1", "k2"}), opened.append)
    assert opened == ["k1"]


def test_a_map_selection_of_the_wrong_shape_is_an_empty_one(monkeypatch):
    import math

    import streamlit as st

    from analysis.present import map_views
    from dashboard import map_canvas

    empty = {"box": [], "lasso": [], "points": []}
    for sent in (None, "box", [1, 2], {"box": "x"}, {"box": [{"x": [0, math.nan], "y": [0, 1]}]},
                 {"box": [{"x": [0, 1], "y": [0, None]}]}, {"lasso": [{"x": [0, 1], "y": [0, 1]}]},
                 {"points": [{"customdata": True}, {"customdata": "3"}, 4]}):
        monkeypatch.setattr(st, "session_state", {"map_chart_m": {"selection": sent}})
        assert map_canvas.selection("map_chart_m") == empty, sent
    good = {"box": [{"x": [1, 0], "y": [0, 2]}], "lasso": [], "points": [{"customdata": 3, "x": 9}]}
    assert map_views.clean_selection(good) == {"box": [{"x": [1.0, 0.0], "y": [0.0, 2.0]}], "lasso": [],
                                               "points": [{"customdata": 3}]}
    long = {"lasso": [{"x": list(range(12_000)), "y": [0.0, 1.0] * 6_000}]}
    assert len(map_views.clean_selection(long)["lasso"][0]["x"]) <= map_views.LASSO_VERTICES
