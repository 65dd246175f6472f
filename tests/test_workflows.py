"""What people who use FiftyOne or W&B look for (issue 24): confidence on cards and other orders,
per-class precision / recall / F1, downloads, search by id or file name, tagging a map selection;
and a map selection that belongs to the map it was drawn on."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle, tables, tags
from tests.apptest import card_ids, card_thumbnails, gallery_cards, open_page, shown_text

pytestmark = pytest.mark.usefixtures("empty_results")

CLIP_MAP, CONVNEXT_MAP = "CornLens-Tiny:random", "convnext_atto"
EVERYWHERE = "-1e9,1e9,-1e9,1e9"  # a box around every point of any map


@pytest.fixture
def demo_copy(demo_bundle, tmp_path):
    """A copy of the demo bundle that a test may tag."""
    folder = tmp_path / "bundle"
    shutil.copytree(demo_bundle, folder)
    return folder


# --- the pure parts -----------------------------------------------------------------------------------

def scored_by_hand() -> pd.DataFrame:
    """Three images of one approach ``a``: probabilities chosen so that each order differs."""
    images = pd.DataFrame({"image_id": ["x1", "x2", "x3"], "path": ["train/AA.png", "train/BB.png", "train/CC.png"],
                           "label": ["pure", "pure", "broken"], "split": "eval", "view": "top"})
    predictions = pd.DataFrame({"image_id": ["x1", "x2", "x3"], "pred_label": ["broken", "broken", "pure"],
                                "prob_pure": [0.05, 0.45, 0.7], "prob_broken": [0.9, 0.55, 0.3],
                                "prob_silkcut": [0.05, 0.0, 0.0]})
    return tables.scored_images(images, {"a": predictions}, ["pure", "broken", "silkcut"])


@pytest.mark.parametrize("order, expected", [("most confident", ["x1", "x3", "x2"]),
                                             ("least confident", ["x2", "x3", "x1"]),
                                             ("smallest margin", ["x2", "x3", "x1"]),  # 0.10, 0.40, 0.85
                                             ("highest loss", ["x1", "x3", "x2"])])   # p(true) 0.05, 0.30, 0.45
def test_gallery_orders(order, expected):
    scored = scored_by_hand()
    assert np.allclose(scored[tables.margin_column("a")], [0.85, 0.10, 0.40])
    assert tables.filter_gallery(scored, "a", order=order)["image_id"].tolist() == expected


def test_gallery_search_by_id_or_file_name():
    scored = scored_by_hand()
    assert tables.filter_gallery(scored, "a", search="X2")["image_id"].tolist() == ["x2"]
    assert tables.filter_gallery(scored, "a", search="cc.png")["image_id"].tolist() == ["x3"]
    assert tables.filter_gallery(scored, "a", search="nothing").empty


def test_tag_a_whole_selection_keeps_other_tags(tmp_path):
    tags.set_tags(tmp_path, "x1", ["ambiguous"])
    tags.add_tag(tmp_path, ["x1", "x2", "x2"], "label wrong")
    found = tags.read_tags(tmp_path)
    assert tags.tags_of(found, "x1") == ["label wrong", "ambiguous"] and tags.tags_of(found, "x2") == ["label wrong"]
    with pytest.raises(tags.TagError):
        tags.add_tag(tmp_path, ["x1"], " ")


# --- the pages ----------------------------------------------------------------------------------------

def test_a_selection_belongs_to_the_map_it_was_drawn_on(demo_bundle):
    app = open_page(demo_bundle, "views/embedding_map.py", query={"map_projection": CLIP_MAP, "map_box": EVERYWHERE})
    assert app.selectbox(key="map_projection").value == CLIP_MAP
    assert any("images selected" in block.value for block in app.markdown)
    app.selectbox(key="map_projection").set_value(CONVNEXT_MAP).run()
    assert not app.exception
    assert not any("images selected" in block.value for block in app.markdown)  # no phantom selection
    assert any("Draw a box" in caption.value for caption in app.caption)
    assert "map_box" not in app.query_params
    # a link that names the map its box belongs to selects nothing on the other map
    other = open_page(demo_bundle, "views/embedding_map.py",
                      query={"map_projection": CONVNEXT_MAP, "map_box": EVERYWHERE, "map_box_on": CLIP_MAP})
    assert not any("images selected" in block.value for block in other.markdown)


def test_a_box_over_the_whole_map_counts_every_image_by_class_and_split(demo_bundle):
    app = open_page(demo_bundle, "views/embedding_map.py", query={"map_projection": CLIP_MAP, "map_box": EVERYWHERE})
    images = bundle.open_bundle(demo_bundle).images()
    told = next(block.value for block in app.markdown if "images selected" in block.value)
    assert told.startswith(f"{len(images)} images selected")
    rows = [line.strip("|").split("|") for line in told.splitlines() if line.startswith("| ")]
    heading, counts = [cell.strip() for cell in rows[0]], rows[1:]
    expected = images["label"].fillna("unlabelled").value_counts()
    assert {row[0].strip(): int(row[heading.index("all")]) for row in counts} == expected.to_dict()
    held_out = images.loc[images["split"] == "eval", "label"].value_counts()
    assert {row[0].strip(): int(row[heading.index("held-out")]) for row in counts if int(row[heading.index("held-out")])} \
        == held_out.to_dict()
    assert card_thumbnails(app)  # the first page's cards, their thumbnails inside the page: no fetch each


def test_tag_every_image_of_a_map_selection(demo_copy):
    app = open_page(demo_copy, "views/embedding_map.py", query={"map_projection": CLIP_MAP, "map_box": EVERYWHERE})
    n_images = len(bundle.open_bundle(demo_copy).images())
    app.selectbox(key="map_tag_all").set_value("bad photo")
    app.button(key="map_tag_all_button").click().run()
    assert not app.exception
    assert tags.read_tags(demo_copy).query("tag == 'bad photo'")["image_id"].nunique() == n_images


def test_gallery_cards_show_confidence_orders_and_search(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    app = open_page(demo_bundle, "views/gallery.py", gallery_only_wrong=False)
    assert app.selectbox(key="gallery_order").options == list(tables.GALLERY_ORDERS)
    cards = gallery_cards(app)
    assert cards and all(card["answers"][0]["probability"].endswith("%") for card in cards)  # the chosen approach's confidence on every card
    app.selectbox(key="gallery_order").set_value("highest loss").run()
    assert any("Highest loss answers" in caption.value for caption in app.caption)
    held_out = opened.images().query("split == 'eval'")
    wanted = str(held_out["image_id"].iloc[3])
    app.text_input(key="gallery_search").set_value(wanted).run()
    assert not app.exception
    shown = card_ids(app)
    assert shown and all(wanted in image_id for image_id in shown)
    assert "matching the filters" in shown_text(app)


@pytest.mark.parametrize("page", ["views/probe.py", "views/convnext.py", "views/autopsy.py"])
def test_approach_pages_show_class_scores_and_downloads(demo_bundle, page):
    app = open_page(demo_bundle, page)
    tables_shown = [element.value for element in app.markdown
                    if element.value.startswith("| class | precision | recall | F1 | images |")]
    assert tables_shown, "a per-class precision / recall / F1 table, drawn at once (Markdown)"
    rows = [line.split(" | ") for line in tables_shown[0].splitlines()[2:]]
    opened = bundle.open_bundle(demo_bundle)
    assert [row[0].removeprefix("| ") for row in rows] == opened.classes
    first = [record["metrics"]["per_class"][opened.classes[0]] for record in opened.approaches
             if record["metrics"].get("per_class")]
    assert (rows[0][1], rows[0][4].rstrip(" |")) in {(f"{scores['precision']:.1%}", str(scores["support"]))
                                                     for scores in first}  # an approach's numbers, as percentages
    labels = [element.proto.label for element in app.get("download_button")]
    assert "Predictions (CSV)" in labels and "Kaggle submission (CSV)" in labels  # the demo has submissions


def test_predictions_table_and_submission_file(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    record = opened.approaches_of_kind("probe")[0]
    table = tables.predictions_table(opened.images(), opened.predictions(record["id"]))
    assert list(table.columns[:5]) == ["image_id", "path", "label", "split", "pred_label"]
    assert len(table) == len(opened.predictions(record["id"]))
    scores = tables.class_scores(record, opened.classes)
    assert scores["support"].sum() == record["metrics"]["n"]


# --- layout: charts that read at 1280 px ---------------------------------------------------------------

def test_compare_metrics_draw_each_reference_only_on_its_metric_in_home_colours():
    from analysis.present import figures, figures_compare

    records = [{"id": f"{kind}:m", "kind": kind, "model": "m", "metrics": {
        "accuracy": 0.5, "accuracy_ci": [0.4, 0.6], "balanced_accuracy": 0.4, "macro_f1": 0.3}}
        for kind in ("baseline", "zeroshot", "probe", "finetune")]
    figure = figures_compare.metrics_comparison_figure(tables.metrics_table(records), 0.41, 0.25)
    lines = [(shape.xref, shape.x0, shape.line.dash) for shape in figure.layout.shapes]
    assert ("x", 0.41, "dash") in lines  # the majority line on accuracy only
    assert all(not (dash == "dash" and xref != "x") for xref, _, dash in lines)
    assert not any(xref == "x3" for xref, _, _ in lines)  # nothing across the macro-F1 bars
    assert list(figure.data[0].marker.color) == [figures.KIND_COLOURS[record["kind"]] for record in records]


def test_star_labels_alternate_so_neighbours_never_overlap():
    from analysis.present.figures import label_positions

    positions = label_positions(np.array([0.6, 0.3, 0.0, 0.8]))
    by_x = [positions[i] for i in np.argsort([0.6, 0.3, 0.0, 0.8])]
    assert all(a != b for a, b in zip(by_x, by_x[1:]))
