"""The pages work together (issue 15), under streamlit's AppTest on a competition-shaped bundle:
baselines in every picker, card and agreement table; state kept across pages and restored from the
URL; label problems as pictures side by side; the full-size view; the map's dependent options."""

from __future__ import annotations

import html

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle, tables
from analysis.stats import approach_agreement
from analysis.present import image_details, label_review, map_views
from tests.apptest import gallery_cards, go, open_card, open_page

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from large_bundle import write_large_bundle  # noqa: E402

pytestmark = pytest.mark.usefixtures("empty_results")

BASELINES = ["baseline:majority", "baseline:image-stats"]


@pytest.fixture(scope="module")
def competition_bundle(tmp_path_factory) -> Path:
    """Baselines, two CLIP models, a probe and ConvNeXt; two held-out photos of one kernel; a
    conflicting pair of identical images in the label problems."""
    folder = tmp_path_factory.mktemp("state") / "bundle"
    write_large_bundle(folder, n_images=600, seed=2, baselines=True)
    images = pd.read_parquet(folder / "images.parquet")
    held_out = images.index[images["split"] == "eval"][:2]
    images.loc[held_out, "seed_id"] = "kernel-7"
    bundle.write_parquet(folder / "images.parquet", images)
    first, second = images.loc[held_out, "image_id"]
    problems = bundle.open_bundle(folder).diagnostics("label_problems")
    problems["rows"].insert(0, {"problem": "conflicting_labels", "image_ids": [first, second],
                                "labels": ["pure", "broken"], "splits": ["eval", "eval"],
                                "detail": "2 identical files labelled pure / broken"})
    bundle.save_diagnostics(folder, "label_problems", problems)
    return folder


@pytest.fixture(scope="module")
def opened(competition_bundle) -> bundle.Bundle:
    return bundle.open_bundle(competition_bundle)


@pytest.fixture(scope="module")
def scored(opened) -> pd.DataFrame:
    return tables.scored_images(opened.images(), {r["id"]: opened.predictions(r["id"]) for r in opened.approaches},
                                opened.classes)


# --- 1. baselines are approaches like any other ---------------------------------------------------

def test_baselines_in_every_picker_and_card(competition_bundle, opened):
    labels = tables.approach_labels(opened.approaches)
    app = open_page(competition_bundle, "views/compare.py")
    assert set(BASELINES) <= set(app.multiselect(key="compare_approaches").value)  # in the default selection
    for key in ("compare_first", "compare_second"):
        assert {labels[b] for b in BASELINES} <= set(app.selectbox(key=key).options)
    go(app, "views/gallery.py")
    assert {labels[b] for b in BASELINES} <= set(app.selectbox(key="gallery_approach").options)
    app.selectbox(key="gallery_approach").set_value("baseline:majority").run()
    cards = [card["title"] for card in gallery_cards(app)]
    assert cards and all("baseline: majority says" in card for card in cards)  # the cards show a baseline's answers
    go(app, "views/embedding_map.py")
    assert {labels[b] for b in BASELINES} <= set(app.selectbox(key="map_approach").options)


def test_agreement_follows_the_chosen_approaches(competition_bundle, opened, scored):
    chosen = ["baseline:image-stats", "finetune:convnext_tiny"]
    app = open_page(competition_bundle, "views/compare.py")
    app.multiselect(key="compare_approaches").set_value(chosen).run()
    short = tables.approach_labels([opened.approach(i) for i in chosen], short=True)
    table = next(frame.value for frame in app.dataframe if "images" in frame.value.columns)
    assert list(table.columns[:2]) == [short[i] for i in chosen]
    right = {i: (scored[f"pred:{i}"] == scored["label"]).to_numpy() for i in chosen}
    both = int((right[chosen[0]] & right[chosen[1]]).sum())
    neither = int((~right[chosen[0]] & ~right[chosen[1]]).sum())
    counts = {tuple(row[:2]): row["images"] for _, row in table.iterrows()}
    assert counts[(tables.RIGHT, tables.RIGHT)] == both and counts[(tables.WRONG, tables.WRONG)] == neither
    assert f"The {neither} images every chosen approach gets wrong" in [e.label for e in app.expander]


def test_comparison_agreement_counts_by_hand():
    scored = pd.DataFrame({"image_id": list("abcd"), "label": ["x", "y", "x", "y"],
                           "pred:one": ["x", "y", "y", "x"], "pred:two": ["x", "x", "y", "y"]})
    found = approach_agreement.agreement_of(scored, ["one", "two"])
    counts = {tuple(p["correct"].values()): p["count"] for p in found["patterns"]}
    assert counts == {(True, True): 1, (True, False): 1, (False, False): 1, (False, True): 1}
    assert found["all_wrong"] == ["c"] and found["n_images"] == 4


# --- 2. state across pages and in the URL ---------------------------------------------------------

def test_gallery_filters_survive_a_page_switch(competition_bundle, scored):
    app = open_page(competition_bundle, "views/gallery.py")
    app.multiselect(key="gallery_true").set_value(["silkcut"]).run()
    approach = app.selectbox(key="gallery_approach").value
    expected = len(tables.filter_gallery(scored, approach, ["silkcut"]))
    assert app.subheader[0].value == f"{expected} misclassified images matching the filters"
    go(app, "views/compare.py")
    go(app, "views/gallery.py")
    assert app.multiselect(key="gallery_true").value == ["silkcut"]
    assert app.subheader[0].value == f"{expected} misclassified images matching the filters"


def test_a_url_with_query_parameters_restores_the_filters(competition_bundle, opened, scored):
    approach = "zeroshot:ViT-B-32-quickgelu:laion400m_e32:simple"
    label = tables.approach_labels(opened.approaches)[approach]
    app = open_page(competition_bundle, "views/gallery.py",
                   {"gallery_approach": label, "gallery_true": ["pure", "broken"], "gallery_predicted": "silkcut"})
    assert app.selectbox(key="gallery_approach").value == approach
    assert app.multiselect(key="gallery_true").value == ["pure", "broken"]
    expected = tables.filter_gallery(scored, approach, ["pure", "broken"], ["silkcut"])
    assert app.subheader[0].value == f"{len(expected)} misclassified images matching the filters"


def test_the_sidebar_names_the_bundle_shown_after_typing_a_path(competition_bundle, tmp_path):
    other = tmp_path / "other-bundle"
    shutil.copytree(competition_bundle, other)
    app = open_page(competition_bundle)
    assert any(str(competition_bundle.resolve()) in c.value for c in app.sidebar.caption)
    app.sidebar.text_input(key="bundle_typed").input(str(other)).run()
    assert app.sidebar.selectbox(key="bundle_choice").value == str(other.resolve())
    assert any(f"Showing `{other.resolve()}`" in c.value for c in app.sidebar.caption)
    assert app.query_params["bundle"] in (str(other.resolve()), [str(other.resolve())])  # a list in Streamlit 1.61's AppTest
    app.sidebar.text_input(key="bundle_typed").input(str(tmp_path / "nothing")).run()
    assert "No bundle at" in app.sidebar.error[0].value
    assert app.sidebar.selectbox(key="bundle_choice").value == str(other.resolve())


def test_the_map_follows_the_model_it_shows(competition_bundle, opened):
    app = open_page(competition_bundle, "views/embedding_map.py")
    app.selectbox(key="map_projection").set_value("convnext_tiny").run()
    assert app.selectbox(key="map_approach").value == "finetune:convnext_tiny"
    app.radio(key="map_colour").set_value("view").run()
    assert any("view the photo was taken from" in c.value for c in app.caption)
    assert map_views.best_approach_for("ViT-H-14:laion2b_s32b_b79k", opened.approaches) == "probe:ViT-H-14:laion2b_s32b_b79k"


def test_map_selection_breakdown_and_box():
    images = pd.DataFrame({"image_id": list("abcd"), "label": ["pure", "pure", None, "broken"],
                           "split": ["eval", "train", "kaggle_test", "train"]})
    table = map_views.selection_breakdown(images, ["a", "b", "c"], ["pure", "broken"])
    assert table.to_dict(orient="records") == [
        {"class": "pure", "held-out": 1, "training": 1, "competition test": 0, "all": 2},
        {"class": "unlabelled", "held-out": 0, "training": 0, "competition test": 1, "all": 1}]
    points = pd.DataFrame({"image_id": list("ab") + [None], "x": [0.0, 2.0, 0.5], "y": [0.0, 2.0, 0.5],
                           "kind": ["image", "image", "text"]})
    box = map_views.box_text([{"x": [1.0, -1.0], "y": [-1, 1]}])
    assert box == "-1,1,-1,1" and map_views.ids_in_box(points, box) == ["a"]
    assert map_views.ids_in_box(points, "not a box") == []


# --- 4. label problems ----------------------------------------------------------------------------

def test_label_problems_as_pictures_side_by_side(competition_bundle, opened):
    app = open_page(competition_bundle, "views/label_problems.py")
    groups = label_review.problem_groups(opened.diagnostics("label_problems"), opened.images())
    first = groups[0]
    assert first["problem"] == "conflicting_labels" and len(first["images"]) == 2
    text = "\n".join(m.value for m in app.markdown)
    assert "1. identical images, conflicting labels" in text
    shown = [html.unescape(m.value) for m in app.markdown]  # names inside HTML are character references
    pair = [value for value in shown if any(i in value for i in first["images"]["image_id"])][:2]
    assert "pure" in pair[0] + pair[1] and "broken" in pair[0] + pair[1] and all("eval" in p for p in pair)
    assert len(app.image) >= 2
    csv = label_review.problems_csv_table(groups)
    assert len(csv) == sum(len(g["images"]) for g in groups)
    assert csv.loc[csv["group"] == 1, "label"].tolist() == first["images"]["label"].tolist()
    assert {"image_id", "path", "label", "split"} <= set(csv.columns)
    app.pills(key="problems_kinds").set_value(["conflicting_labels"]).run()
    assert sum(1 for m in app.markdown if m.value.startswith("**") and ". " in m.value[:8]) == 1


# --- 6. the full-size view ------------------------------------------------------------------------

def test_full_size_view_steps_through_the_filter(competition_bundle, opened, scored):
    app = open_page(competition_bundle, "views/gallery.py")
    approach = app.selectbox(key="gallery_approach").value
    rows = tables.filter_gallery(scored, approach)
    open_card(app, str(rows["image_id"].iloc[0]))
    assert any(f"image 1 of {len(rows)} in the current filter" in c.value for c in app.caption)
    probabilities = next(frame.value for frame in app.dataframe if "approach" in frame.value.columns
                         and set(opened.classes) <= set(frame.value.columns))
    assert len(probabilities) == len(opened.approaches)
    assert np.allclose(probabilities[opened.classes].sum(axis=1), 1.0, atol=1e-4)
    app.button(key="full_view_next").click().run()
    assert any(f"image 2 of {len(rows)}" in c.value for c in app.caption)
    assert any(m.value.startswith(f"**{rows['image_id'].iloc[1]}**") for m in app.markdown)


def test_full_size_view_details():
    images = pd.DataFrame({"image_id": ["a", "b", "c"], "seed_id": ["s", "s", "t"], "view": ["top", "bottom", "top"]})
    assert image_details.same_seed(images, "a")["image_id"].tolist() == ["b"]
    assert image_details.same_seed(images, "c").empty
    assert image_details.neighbours(["x", "a", "y"], "a") == ("x", "y", 2)
    assert image_details.neighbours(["a"], "a") == (None, None, 1)
    predictions = {"one": bundle.predictions_frame(["a"], np.array([[0.7, 0.3]]), ["pure", "broken"]).set_index("image_id")}
    table = image_details.probabilities(predictions, "a", ["pure", "broken"], {"one": "One"}, "broken")
    assert table.to_dict(orient="records") == [{"approach": "One", "answer": "pure", "right": "✘", "pure": 0.7,
                                                "broken": 0.3}]


# --- 5. the ConvNeXt page says what it was trained with and whether it was still improving --------

def test_convnext_page_hyperparameters_and_still_improving(competition_bundle, opened):
    app = open_page(competition_bundle, "views/convnext.py")
    record = opened.approaches_of_kind("finetune")[0]
    settings = next(element.value for element in app.markdown if element.value.startswith("| setting | value |"))
    rows = settings.splitlines()[2:]  # a Markdown table drawn at once: heading, alignment, one row per setting
    assert len(rows) == len([v for v in record["params"].values() if not isinstance(v, (dict, list))])
    diagnostics = opened.diagnostics(record["id"])
    if diagnostics["best_epoch"] == max(row["epoch"] for row in diagnostics["epochs"]):
        assert any("still improving" in notice.value for notice in [*app.info, *app.warning])
    by_view = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")
               if "Accuracy by view" in json.dumps(json.loads(chart.proto.spec)["layout"].get("title", ""))]
    assert [trace["name"] for trace in by_view[0]["data"]][-1] == "always the majority class"
