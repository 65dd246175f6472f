"""The dashboard under streamlit's AppTest: every page on the demo bundle, on a bundle with parts
missing, on a complete (fake, competition-shaped) bundle, on a broken bundle and with no bundle;
plus the figure, reading and table functions the pages and the report share."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from analysis.core import bundle, records, tables
from analysis.stats import approach_agreement
from analysis.present import confusion_cells, explain, export, figures, ladder_panels, panels
from dashboard import loaders
from tests.apptest import card_ids, card_thumbnails, map_canvases, open_card, open_page, shown_text

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from large_bundle import write_large_bundle  # noqa: E402

pytestmark = pytest.mark.usefixtures("empty_results")

PAGES = {
    "views/home.py": "CornLens", "views/autopsy.py": "Zero-shot autopsy", "views/probe.py": "Linear probe",
    "views/convnext.py": "ConvNeXt", "views/compare.py": "Compare approaches", "views/embedding_map.py": "Embedding map",
    "views/gallery.py": "Misclassified gallery", "views/label_problems.py": "Label problems",
    "views/search.py": "Text search", "views/report.py": "Report",
}


# --- helpers --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full_bundle(tmp_path_factory) -> Path:
    """Every part present, with hand-made diagnostics in the documented shapes (benchmarks/large_bundle.py)."""
    folder = tmp_path_factory.mktemp("full") / "bundle"
    write_large_bundle(folder, n_images=1500, seed=1, baselines=True)
    return folder


@pytest.fixture(scope="module")
def partial_bundle(demo_bundle, tmp_path_factory) -> Path:
    """The demo bundle without its model approaches (baselines kept), projections and their diagnostics."""
    folder = tmp_path_factory.mktemp("partial") / "bundle"
    shutil.copytree(demo_bundle, folder)

    def keep_baselines(manifest: dict) -> None:
        for record in manifest["approaches"]:
            if record["kind"] != "baseline":
                (folder / record["predictions_file"]).unlink()
        manifest["approaches"] = [r for r in manifest["approaches"] if r["kind"] == "baseline"]
        manifest["projections"] = {}

    bundle.update_manifest(folder, keep_baselines)
    for path in (folder / "diagnostics").glob("*.json"):
        if path.stem not in ("data", "confounders"):
            path.unlink()
    shutil.rmtree(folder / "projections", ignore_errors=True)
    return folder





def charts(app: AppTest) -> list:
    return app.get("plotly_chart")


def figure_titles(app: AppTest) -> list[str]:
    found = []
    for chart in charts(app):
        spec = json.loads(chart.proto.spec)
        found.append(((spec.get("layout") or {}).get("title") or {}).get("text") or "")
    return found


# --- every page on the demo bundle ----------------------------------------------------------------

def test_a_closed_section_with_nothing_to_show_is_left_out():
    """No empty heading: a section is offered only when a panel of it has data or names a missing part."""
    from dataclasses import replace

    from dashboard import panels as page_panels

    empty = panels.PanelSpec("x", "x", "Its own feature space", None, lambda d: "", lambda d: False)
    assert not page_panels._has_content([empty], None)
    assert page_panels._has_content([replace(empty, missing="projections")], None)
    assert page_panels._has_content([empty, replace(empty, shows=lambda d: True)], None)


def test_autopsy_draws_its_later_sections_only_once_opened(demo_bundle):
    """The autopsy draws the ladder and its attribution at once (every reading of theirs on the first
    view); every other heading, the prompts too, is a closed section whose charts are built and sent only
    when a reader opens it."""
    app = open_page(demo_bundle, "views/autopsy.py", every_section=False)
    closed = [expander.label for expander in app.expander]
    assert {panels.PROMPTS, "Where images and texts sit", "Confidence and mistakes",
            "Shortcuts in the images"} <= set(closed), closed
    opened = bundle.open_bundle(demo_bundle)
    (model, _), = records.best_per_model(opened.approaches, records.ZEROSHOT).items()
    data = panels.autopsy_data(panels.BundleSource(opened), model)
    first_text = shown_text(app)
    headings = {spec.heading for spec in panels.LADDER_PANELS}
    specs = tuple(spec for spec in panels.AUTOPSY_PANELS if spec.heading in headings)
    at_once = [panel.reading for panel in panels.build_all(specs, data) if panel.reading]
    assert at_once and all(reading in first_text for reading in at_once)
    first = figure_titles(app)
    assert first and "Prompt ladder" not in first, first
    app.session_state[next(key for key in app.session_state if str(key).endswith(f":{panels.PROMPTS}"))] = True
    app.run()
    assert not app.exception
    both = figure_titles(app)
    assert len(both) > len(first) and set(first) <= set(both) and "Prompt ladder" in both, (first, both)



@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_on_the_demo_bundle(demo_bundle, page):
    app = open_page(demo_bundle, page)
    opened = bundle.open_bundle(demo_bundle)
    text = shown_text(app)
    assert app.title[0].value == PAGES[page]
    assert "Demo bundle" in text and "has random weights" in text  # the banner on every page
    assert "unexpected shape" not in text
    kinds = {record["kind"] for record in opened.approaches}
    if page == "views/home.py":
        table = app.table[0].value
        assert (table["source"] == tables.SOURCE_BUNDLE).sum() == len(opened.approaches)
        assert (table["source"] == "published").sum() == 4
    elif page == "views/autopsy.py":
        if "zeroshot" in kinds:
            assert "The prompt set chosen on the training images" in text and "Prompt ladder" in figure_titles(app)
        else:
            assert "python -m analysis demo --out" in text
        assert "Shortcuts in the images" in text
    elif page == "views/probe.py":
        assert ("effective shots" in text) if "probe" in kinds else ("no linear probe yet" in text)
    elif page == "views/convnext.py":
        assert ("Mistakes" in text) if "finetune" in kinds else ("no fine-tuned ConvNeXt yet" in text)
    elif page == "views/compare.py":
        assert "Metrics side by side" in figure_titles(app)
    elif page == "views/embedding_map.py":
        canvases = map_canvases(app)
        assert len(canvases) == (1 if opened.projection_names() else 0)
        if canvases and canvases[0]["stars"]:  # one prompt set's class prompts, not every set's at once
            assert sorted(star["label"] for star in canvases[0]["stars"]) == sorted(opened.classes)
    elif page == "views/gallery.py":
        scored = tables.scored_images(opened.images(), {r["id"]: opened.predictions(r["id"]) for r in opened.approaches},
                                      opened.classes)
        shown = records.default_approach(opened.approaches)  # chosen on training, never the held-out best
        wrong = len(tables.filter_gallery(scored, shown["id"]))
        assert app.subheader[0].value.startswith(f"{wrong} misclassified images")
        assert len(card_thumbnails(app)) == min(wrong, 48)
    elif page == "views/search.py":
        assert "Type a phrase" in text
    elif page == "views/report.py":
        # HTML and Markdown, and the headline chart as PNG where kaleido is installed
        assert ("not available yet" in text) or len(app.get("download_button")) == 2 + export.png_export_available()


# --- parts missing --------------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_with_parts_missing(partial_bundle, page):
    app = open_page(partial_bundle, page)
    text = shown_text(app)
    command = f"python -m analysis demo --out {partial_bundle}"
    expected = {
        "views/home.py": ["Not in this bundle yet: zero-shot CLIP, linear probe and fine-tuned ConvNeXt", command],
        "views/autopsy.py": ["no zero-shot CLIP approach yet", command, "Shortcuts in the images"],
        "views/probe.py": ["no linear probe yet", command],
        "views/convnext.py": ["no fine-tuned ConvNeXt yet", command],
        "views/compare.py": ["are right under every approach chosen here"],  # baselines compared like any approach
        "views/embedding_map.py": ["no embedding map yet", command],
        "views/gallery.py": ["misclassified images"],
        "views/label_problems.py": ["no agreement table yet", command],
        "views/search.py": ["Type a phrase"],
        "views/report.py": [],
    }[page]
    for phrase in expected:
        assert phrase in text, f"{page} does not say {phrase!r}:\n{text}"
    assert app.title[0].value == PAGES[page]


def test_missing_part_names_the_run_command_for_real_data(full_bundle):
    manifest = json.loads((full_bundle / "manifest.json").read_text())
    manifest["demo"] = False
    del manifest["generated_by"]
    text = explain.missing_part(manifest, "/results/corn", "finetune")
    assert f"python -m analysis run --data {manifest['dataset']['root']} --out /results/corn --convnext convnext_tiny" in text
    text = explain.missing_part(manifest, "/results/corn", "probe")
    assert "--clip ViT-B-32-quickgelu:laion400m_e32 --clip ViT-H-14:laion2b_s32b_b79k" in text
    text = explain.missing_parts(manifest, "/results/corn", ["probe", "finetune"])
    assert text.startswith("Not in this bundle yet: linear probe and fine-tuned ConvNeXt.")
    assert "--clip ViT-H-14:laion2b_s32b_b79k --convnext convnext_tiny\n" in text


# --- a complete bundle ----------------------------------------------------------------------------

def test_home_headline_table(full_bundle):
    app = open_page(full_bundle)
    shown = app.table[0].value.reset_index()
    opened = bundle.open_bundle(full_bundle)
    ours = shown[shown["source"] == tables.SOURCE_BUNDLE]
    kinds = list(records.KINDS)  # the ladder's order, never ranked by held-out accuracy
    in_order = sorted(opened.approaches, key=lambda r: (kinds.index(r["kind"]), -records.choice_accuracy(r)))
    assert [text.split(" ")[0] for text in ours["accuracy (95% interval)"]] == \
        [f"{r['metrics']['accuracy']:.1%}" for r in in_order]
    low, high = in_order[0]["metrics"]["accuracy_ci"]
    assert ours["accuracy (95% interval)"].iloc[0].endswith(f"({low * 100:.1f}–{high * 100:.1f}%)")
    published = shown[shown["source"] == "published"].set_index("approach")
    assert published.loc["zero-shot open_clip ViT-B-32-quickgelu", "published LB"] == "16.7% / 18.4%"
    assert published.loc["fine-tuned ConvNeXt", "published LB"] == "76.1% / 75.4%"
    assert (published["accuracy (95% interval)"] == "").all()  # published scores never pose as this bundle's
    assert shown.set_index("approach").loc["uniform random guess", "accuracy (95% interval)"] == "25.0%"
    table = tables.headline_table(opened.manifest)
    assert table.loc[table["approach"] == "linear probe on ViT-H-14 features", ["public_lb", "private_lb"]].values.tolist() \
        == [[0.720, 0.726]]
    text = shown_text(app)
    # records without training-part estimates: the ladder's order names the most trained approach, and says so
    assert "Best here by a rule fixed before scoring: **fine-tuned convnext_tiny**" in text
    assert records.HEADLINE_FALLBACK_RULE in text
    assert "benchmarks/large_bundle.py" in text  # the banner names what made the fake bundle


def test_autopsy_reads_every_figure(full_bundle):
    app = open_page(full_bundle, "views/autopsy.py", autopsy_model="ViT-H-14:laion2b_s32b_b79k")
    text = shown_text(app)
    autopsy = bundle.open_bundle(full_bundle).diagnostics("autopsy:ViT-H-14:laion2b_s32b_b79k")
    assert explain.read_prompt_ladder(autopsy, None).split(" — ")[0].split(";")[0] in text
    opened = bundle.open_bundle(full_bundle)
    evidence = ladder_panels.separation_evidence(opened.approaches, opened.manifest["reference"]["majority_rate"],
                                                 "ViT-H-14:laion2b_s32b_b79k")
    assert explain.read_similarity(autopsy["text_similarity"], autopsy["image_centroid_similarity"],
                                   ["pure", "broken", "discolored", "silkcut"], evidence) in text
    for title in ("Prompt ladder", "Modality gap", "Calibration", "What trivial image statistics already predict"):
        assert any(t.startswith(title) for t in figure_titles(app)), title
    assert "zero-shot ViT-H-14 (laion2b_s32b_b79k) · simple" in text
    # the figures keep their own template (Streamlit's theme would replace it): the report's look
    assert {chart.proto.theme for chart in charts(app)} == {""}
    assert {json.loads(chart.proto.spec)["layout"]["template"]["layout"]["plot_bgcolor"] for chart in charts(app)} \
        == {pio.templates[figures.TEMPLATE].layout.plot_bgcolor}


def test_probe_and_convnext_pages(full_bundle):
    probe = bundle.open_bundle(full_bundle).diagnostics("probe:ViT-H-14:laion2b_s32b_b79k")
    text = shown_text(open_page(full_bundle, "views/probe.py"))
    assert f"effective shots: {tables.shots_text(probe['effective_shots'])} per class" in text
    assert tables.shots_text(11.1579) == "11.2" and tables.shots_text(4.0) == "4"
    assert explain.read_kshot(probe) in text
    text = shown_text(open_page(full_bundle, "views/convnext.py"))
    assert "ImageNet weights, fine-tuned" in text and "Best validation accuracy" in text


def test_a_malformed_diagnostics_file_costs_one_panel_only(full_bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(full_bundle, copy)
    probe = bundle.open_bundle(copy).diagnostics("probe:ViT-H-14:laion2b_s32b_b79k")
    probe["kshot"] = {"shots": [1, 2], "score": [0.3, 0.4]}  # another version's names
    bundle.save_diagnostics(copy, "probe:ViT-H-14:laion2b_s32b_b79k", probe)
    app = open_page(copy, "views/probe.py")
    warnings = [w.value for w in app.warning if "unexpected shape" in w.value]
    assert len(warnings) == 1 and "k-shot curve" in warnings[0] and "'k'" in warnings[0]
    assert "Regularisation sweep" in figure_titles(app) and "Confusion matrix" in figure_titles(app)


def test_a_code_bug_in_a_panel_is_not_blamed_on_the_bundle():
    from dashboard import components

    @components.guarded("thing")
    def buggy_panel() -> None:
        return {}["a typo"]

    with pytest.raises(KeyError, match="a typo"):  # fails its test instead of telling the user to rebuild
        buggy_panel()


def test_compare_disagreements_and_agreement(full_bundle):
    first, second = "finetune:convnext_tiny", "zeroshot:ViT-B-32-quickgelu:laion400m_e32:simple"
    app = open_page(full_bundle, "views/compare.py", compare_first=first, compare_second=second)
    opened = bundle.open_bundle(full_bundle)
    scored = tables.scored_images(opened.images(), {r["id"]: opened.predictions(r["id"]) for r in opened.approaches},
                                  opened.classes)
    rows = tables.disagreements(scored, first, second)
    assert f"They disagree on {len(rows)} images" in shown_text(app)
    chosen = [record["id"] for record in tables.representative_approaches(opened.approaches)]
    agreement = approach_agreement.agreement_of(scored, chosen)  # the agreement of the approaches chosen on the page
    assert len(app.dataframe[0].value) == len(agreement["patterns"])
    assert app.dataframe[0].value["images"].sum() == len(scored)
    assert len(card_ids(app)) == min(len(rows), 16) + min(len(agreement["all_wrong"]), 12)  # + the all-wrong expander
    assert f"The {len(agreement['all_wrong'])} images every chosen approach gets wrong" in [e.label for e in app.expander]
    problems = opened.diagnostics("label_problems")["rows"]
    assert f"**{len(problems)} possible label problems**" in shown_text(app)


def test_gallery_filters_and_paging(full_bundle):
    opened = bundle.open_bundle(full_bundle)
    scored = tables.scored_images(opened.images(), {r["id"]: opened.predictions(r["id"]) for r in opened.approaches},
                                  opened.classes)
    approach = "zeroshot:ViT-B-32-quickgelu:laion400m_e32:simple"
    expected = tables.filter_gallery(scored, approach, ["pure"], ["silkcut"])
    assert len(expected) > 24  # enough for two pages
    app = open_page(full_bundle, "views/gallery.py", gallery_approach=approach, gallery_true=["pure"],
                    gallery_predicted=["silkcut"], gallery_per_page=24)
    assert app.subheader[0].value == f"{len(expected)} misclassified images matching the filters"
    first_page = card_ids(app)
    assert first_page == expected["image_id"].iloc[:24].tolist()  # most confident first
    assert len(card_thumbnails(app)) == 24
    app.session_state["gallery_page"] = 2
    app.run()
    second_page = card_ids(app)
    assert second_page[0] == expected["image_id"].iloc[24]
    app.session_state["gallery_confidence"] = (0.99, 1.0)
    app.run()
    narrowed = tables.filter_gallery(scored, approach, ["pure"], ["silkcut"], (0.99, 1.0))
    assert app.subheader[0].value.startswith(f"{len(narrowed)} misclassified")


def test_a_count_in_the_gallery_matrix_shows_its_images(full_bundle):
    """A click on a count of the confusion matrix filters the gallery to exactly that cell, marks it
    chosen, and the right answers of a class (the diagonal) show with "Only misclassified" off."""
    opened = bundle.open_bundle(full_bundle)
    shown = records.default_approach(opened.approaches)
    matrix = np.asarray(shown["metrics"]["confusion_matrix"])
    off = matrix - np.diag(np.diag(matrix))
    true, predicted = np.unravel_index(off.argmax(), off.shape)  # the most frequent mistake
    app = open_page(full_bundle, "views/gallery.py")
    assert app.button(key=f"gallery_cell_{true}_{predicted}").proto.type == "secondary"
    app.button(key=f"gallery_cell_{true}_{predicted}").click().run()
    assert not app.exception
    assert app.session_state["gallery_true"] == [opened.classes[true]]
    assert app.session_state["gallery_predicted"] == [opened.classes[predicted]]
    assert app.subheader[0].value == f"{off.max()} misclassified images matching the filters"
    assert app.button(key=f"gallery_cell_{true}_{predicted}").proto.type == "primary"  # the cell shown
    app.button(key=f"gallery_cell_{true}_{true}").click().run()
    assert app.session_state["gallery_only_wrong"] is False
    assert app.subheader[0].value == f"{matrix[true, true]} held-out images matching the filters"
    app.session_state["gallery_only_wrong"] = True  # the right answers hidden again: that cell is not shown
    app.run()
    assert app.button(key=f"gallery_cell_{true}_{true}").proto.type == "secondary"
    for (i, j), count in np.ndenumerate(matrix):  # nothing to show: the count cannot be clicked
        assert app.button(key=f"gallery_cell_{i}_{j}").disabled == (count == 0)


def confusion_grid_script(n_classes: int) -> None:
    """A confusion grid of ``n_classes`` (row i holds 10 right answers and i mistakes taken for class 0)."""
    import streamlit as st

    from analysis.present import confusion_cells
    from dashboard import confusion_grid

    classes = [f"class *{i}*" for i in range(n_classes)]
    matrix = [[10 * (i == j) + i * (j == 0 and i > 0) for j in range(n_classes)] for i in range(n_classes)]
    cells = confusion_cells.confusion_cells(matrix, classes)
    st.session_state.setdefault("picked", None)
    confusion_grid.confusion_grid(cells, classes, "cell", lambda true, predicted: st.session_state.update(
        picked=[true, predicted]), lambda cell: [cell.true, cell.predicted] == st.session_state["picked"])


@pytest.mark.parametrize("n_classes", [4, 30])
def test_the_confusion_grid_stays_small_with_many_classes(n_classes):
    """Up to GRID_CLASSES classes every cell is a count to click; past it (a grid of 900 cells would be
    unreadable and slow), the most frequent mistakes only: at most GRID_CLASSES buttons, the largest first."""
    from dashboard import confusion_grid

    app = AppTest.from_function(confusion_grid_script, args=(n_classes,), default_timeout=60).run()
    assert not app.exception
    keys = [button.key for button in app.button]
    if n_classes <= confusion_grid.GRID_CLASSES:
        assert len(keys) == n_classes ** 2
    else:
        assert keys == [f"cell_{i}_0" for i in range(n_classes - 1, n_classes - 1 - confusion_grid.GRID_CLASSES, -1)]
        assert app.button[0].label == "class \\*29\\* → class \\*0\\*: **29** (74%)"  # names as text
    key = keys[0] if n_classes > confusion_grid.GRID_CLASSES else "cell_3_0"
    app.button(key=key).click().run()
    true = int(key.split("_")[1])
    assert app.session_state["picked"] == [f"class *{true}*", "class *0*"]
    assert app.button(key=key).proto.type == "primary"


def test_full_size_image_falls_back_to_the_thumbnail(full_bundle, demo_bundle):
    app = open_page(full_bundle, "views/gallery.py")
    open_card(app, card_ids(app)[0])
    assert "thumbnail, enlarged" in [image.proto.imgs[0].caption for image in app.image]
    app = open_page(demo_bundle, "views/gallery.py")
    image_id = card_ids(app)[0]
    open_card(app, image_id)
    root = bundle.open_bundle(demo_bundle).manifest["dataset"]["root"]
    assert str(Path(root) / image_id) in [image.proto.imgs[0].caption for image in app.image]


def test_embedding_map_colourings(full_bundle):
    for colouring in ("true label", "prediction", "correctness", "view"):
        app = open_page(full_bundle, "views/embedding_map.py", map_colour=colouring)
        names = {group["name"] for group in map_canvases(app)[0]["groups"]}
        expected = {"true label": {"pure", "silkcut", "unlabelled"}, "prediction": {"pure", "not scored"},
                    "correctness": {"correct", "wrong", "not scored"}, "view": {"top", "bottom"}}[colouring]
        assert expected <= names, (colouring, names)
    assert "Draw a box or a lasso" in shown_text(app)


# --- broken and absent bundles --------------------------------------------------------------------

def test_broken_bundle_gives_a_message_not_a_traceback(demo_bundle, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(demo_bundle, broken)
    (broken / "manifest.json").write_text("{ not json")
    for page in ("views/home.py", "views/gallery.py"):
        app = open_page(broken, page)
        assert "cannot be opened" in app.error[0].value and "manifest.json" in app.error[0].value
    newer = tmp_path / "newer"
    shutil.copytree(demo_bundle, newer)
    manifest = json.loads((newer / "manifest.json").read_text()) | {"schema_version": bundle.SCHEMA_VERSION + 1}
    (newer / "manifest.json").write_text(json.dumps(manifest))
    assert "newer than this CornLens" in open_page(newer).error[0].value


def test_no_bundle_builds_the_demo_in_a_child_process(demo_bundle, empty_results, monkeypatch):
    from analysis.core import background

    commands = []

    def fake_command(out):  # the real build takes minutes; a child that copies the test's bundle stands in
        commands.append(Path(out))
        return [sys.executable, "-c", "import shutil, sys, time; print('INFO copying', flush=True); "
                f"time.sleep(1); shutil.copytree({str(demo_bundle)!r}, sys.argv[1]); print('INFO done')", str(out)]

    monkeypatch.setattr(background, "demo_command", fake_command)
    app = open_page(None)
    assert "No results bundle was found" in shown_text(app)
    app.button(key="home_build_demo").click().run()
    assert not app.exception
    assert commands == [empty_results / "demo"]
    assert app.status[0].label.startswith("Building the demo bundle") and "the other pages stay usable" in shown_text(app)
    app.switch_page("views/gallery.py").run()  # usable meanwhile: another page opens at once
    assert app.title[0].value == "Misclassified gallery" and not app.exception
    job = next(iter(loaders.background_runs().values()))
    assert job.process.wait(timeout=60) == 0 and "INFO done" in job.progress_lines()
    app.switch_page("views/home.py").run()  # the progress sees the finished child; the new bundle is open
    assert app.table and "synthetic images" in shown_text(app)
    assert loaders.background_runs() == {} and "Building" not in shown_text(app)


def test_a_failed_demo_build_shows_its_output(empty_results, monkeypatch):
    from analysis.core import background

    monkeypatch.setattr(background, "demo_command", lambda out: [
        sys.executable, "-c", "import sys; print('error: no space left on device', file=sys.stderr); sys.exit(1)"])
    app = open_page(None)
    app.button(key="home_build_demo").click().run()
    next(iter(loaders.background_runs().values())).process.wait(timeout=60)
    app.run()
    assert "could not be built" in app.error[0].value and "no space left on device" in app.error[0].value
    assert app.button(key="home_build_demo")  # and it can be tried again
    loaders.background_runs().clear()


def test_bundle_picker_lists_results_newest_first(demo_bundle, full_bundle, empty_results):
    older, newer = empty_results / "older", empty_results / "newer"
    shutil.copytree(full_bundle, older)
    shutil.copytree(demo_bundle, newer)
    (newer / "manifest.json").touch()
    app = open_page(None)
    picker = app.selectbox(key="bundle_choice")
    assert picker.options[0].startswith("newer") and picker.options[1].startswith("older")
    assert str(newer.resolve()) in shown_text(app)
    app.text_input(key="bundle_typed").input(str(older)).run()
    assert str(older.resolve()) in shown_text(app)


# --- shared figures, readings and tables ----------------------------------------------------------

CLASSES = ["pure", "broken", "discolored", "silkcut"]


def test_class_colours_are_the_same_in_every_figure():
    colours = figures.class_colours(CLASSES)
    distribution = figures.distribution_figure({"pure": 4, "silkcut": 1}, {"simple": {"silkcut": 5}}, CLASSES)
    recall = figures.per_class_recall_figure(pd.DataFrame({"approach": ["a"] * 4, "class": CLASSES,
                                                           "recall": [0.1] * 4, "support": [1] * 4}), CLASSES)
    gap = figures.modality_gap_figure({"overall": 1.0, "per_class": {name: 1.0 for name in CLASSES}}, CLASSES)
    for figure in (distribution, recall):
        assert {trace.name: trace.marker.color for trace in figure.data} == {name: colours[name] for name in CLASSES}
    assert list(gap.data[0].marker.color) == [colours[name] for name in CLASSES]
    assert colours["silkcut"] == "#CC79A7" and len(set(colours.values())) == len(colours)
    assert figures.class_colours(["cat", "dog"])["cat"] != figures.class_colours(["cat", "dog"])["dog"]


def test_axes_name_their_units():
    figure = figures.kshot_figure({"k": [1, 2, 4], "mean": [0.2, 0.3, 0.4], "std": [0.1, 0.1, 0.1], "draws": 5},
                                  zeroshot_accuracy=0.25, majority_rate=0.41, uniform_rate=0.25, effective_shots=2)
    assert "per class" in figure.layout.xaxis.title.text and figure.layout.yaxis.tickformat == ".0%"
    curves = figures.training_curves_figure([{"epoch": 1, "train_loss": 1.0, "val_loss": 1.1, "train_accuracy": 0.5,
                                              "val_accuracy": 0.4}], best_epoch=1)
    assert curves.layout.yaxis.title.text == "cross-entropy loss (nats)"
    assert "log scale" in figures.c_sweep_figure([{"C": 1.0, "cv_accuracy_mean": 0.5}]).layout.xaxis.title.text


def test_confusion_matrix_figure_and_cells_share_counts_and_shares():
    matrix, classes = [[5, 1, 0], [2, 3, 0], [0, 0, 0]], ["pure", "broken", "silkcut"]
    heatmap = figures.confusion_matrix_figure(matrix, classes).data[0]
    cells = confusion_cells.confusion_cells(matrix, classes)
    assert heatmap.zmax == 1 and np.allclose(heatmap.z, [[c.share for c in row] for row in cells])
    assert np.array_equal(heatmap.customdata, [[c.count for c in row] for row in cells])
    assert [(c.true, c.predicted) for c in cells[1]] == [("broken", "pure"), ("broken", "broken"), ("broken", "silkcut")]
    assert [c.share for c in cells[1]] == [0.4, 0.6, 0.0] and [c.share for c in cells[2]] == [0.0] * 3  # an empty row
    assert [(i, j, c.count) for i, j, c in confusion_cells.top_confusions(cells, 5)] == [(1, 0, 2), (0, 1, 1)]


def test_confusion_cells_say_what_they_hold_as_text():
    cells = confusion_cells.confusion_cells([[5, 1, 0], [2, 3, 0], [1, 0, 0]], ["pure", "broken", "[x](http://e.vil)"])
    assert cells[1][0].label() == ":red[**2**]"  # a main confusion (at least 20% of its true class)
    assert cells[0][1].label() == "**1**" and cells[0][0].label() == ":green[**5**]"  # 1 of 6: 17%, not a main one
    assert cells[1][0].label(plain=True) == "**2**"  # the chosen cell: plain on the primary colour
    assert confusion_cells.Cell("a", "b", 12345, 0.5).label() == ":red[**12,345**]"
    assert cells[1][0].help() == "true broken, taken for pure: 2 images (40% of broken)"
    assert cells[2][0].help().startswith("true \\[x\\](http:\u2060//e.vil)")  # a class name from the bundle stays text


def test_similarity_reading_names_the_closest_prompts():
    text = [[1, 0.9, 0.5], [0.9, 1, 0.6], [0.5, 0.6, 1]]
    image = [[1, 0.3, 0.4], [0.3, 1, 0.2], [0.4, 0.2, 1]]
    reading = explain.read_similarity(text, image, ["pure", "broken", "silkcut"])
    assert reading.startswith("The prompts for *pure* and *broken* are closer to each other (cosine 0.90) than any two "
                              "image classes are (at most 0.40); so are 2 other prompt pair(s).")
    assert "almost indistinguishable" in explain.read_similarity(text, np.full((3, 3), 0.99), ["a", "b", "c"])


def test_readings_compare_with_the_majority_class():
    approaches = [
        {"id": "zeroshot:M:p:simple", "kind": "zeroshot", "model": "M", "pretrained": "p", "model_key": "M:p",
         "prompt_set": "simple", "train_accuracy": 0.5, "metrics": {"accuracy": 0.2, "accuracy_ci": [0.15, 0.25]}},
        {"id": "zeroshot:M:p:oracle", "kind": "zeroshot", "model": "M", "pretrained": "p", "model_key": "M:p",
         "prompt_set": "oracle", "train_accuracy": 0.3, "metrics": {"accuracy": 0.45}},  # held-out winner only
        {"id": "probe:M:p", "kind": "probe", "model": "M", "pretrained": "p", "model_key": "M:p",
         "train_estimate": 0.66, "metrics": {"accuracy": 0.7}}]
    table = tables.headline_table({"approaches": approaches,
                                   "reference": {"majority_class": "pure", "majority_rate": 0.41, "uniform_rate": 0.25}})
    reading = explain.read_headline(table, {"majority_class": "pure", "majority_rate": 0.41}, approaches)
    assert "**linear probe M (p)** with 70% held-out accuracy" in reading  # CV 66% beats zero-shot's train 50%
    assert records.HEADLINE_RULE in reading
    assert "zero-shot run chosen on the training images reaches 20%, clearly below the 41%" in reading  # its interval; not the 45% oracle
    assert "45%" not in reading
    assert table["approach"].tolist()[3] == "always answer “pure” (majority class)"
    assert explain.read_margins({"correct": [0.5, 0.6], "wrong": [0.1, 0.2]}).startswith("Wrong answers have smaller")


def test_headline_rule_reads_the_training_part_never_the_held_out_score():
    def record(approach_id, kind, held_out, **extra):
        return {"id": approach_id, "kind": kind, "model": "M", "pretrained": "p", "model_key": "M:p",
                "metrics": {"accuracy": held_out}, **extra}

    approaches = [record("zeroshot:M:p:simple", "zeroshot", 0.40, prompt_set="simple", train_accuracy=0.42),
                  record("knn:M:p", "knn", 0.55, train_accuracy=0.50),
                  record("centroid:M:p", "centroid", 0.90, train_accuracy=0.99),  # in-sample: never a candidate
                  record("probe:M:p", "probe", 0.60, train_estimate=0.58),
                  record("finetune:c", "finetune", 0.80, train_estimate=0.57)]  # held-out winner, lower on train
    chosen, rule = records.headline_approach(approaches)
    assert chosen["id"] == "probe:M:p" and rule == records.HEADLINE_RULE
    # a candidate without its estimate (an older bundle): the ladder's order, never the held-out score
    chosen, rule = records.headline_approach([*approaches[:4], record("finetune:c", "finetune", 0.3)])
    assert chosen["id"] == "finetune:c" and rule == records.HEADLINE_FALLBACK_RULE
    # a tie goes to the simpler approach
    tied = [record("zeroshot:M:p:a", "zeroshot", 0.2, prompt_set="a", train_accuracy=0.5),
            record("probe:M:p", "probe", 0.9, train_estimate=0.5)]
    assert records.headline_approach(tied)[0]["id"] == "zeroshot:M:p:a"
    assert records.headline_approach([]) == (None, records.HEADLINE_FALLBACK_RULE)


def test_scored_images_and_disagreements():
    images = pd.DataFrame({"image_id": ["a", "b", "c", "d"], "path": list("abcd"), "label": ["pure", "broken", "pure", None],
                           "view": ["top"] * 4, "split": ["eval", "eval", "train", "kaggle_test"]})
    proba_one = np.array([[0.9, 0.1], [0.8, 0.2], [0.5, 0.5]])
    proba_two = np.array([[0.3, 0.7], [0.1, 0.9]])
    scored = tables.scored_images(images, {"one": bundle.predictions_frame(["a", "b", "d"], proba_one, ["pure", "broken"]),
                                           "two": bundle.predictions_frame(["a", "b"], proba_two, ["pure", "broken"])},
                                  ["pure", "broken"])
    assert scored["image_id"].tolist() == ["a", "b"]  # held-out, labelled images only
    assert scored["ptrue:one"].tolist() == [0.9, 0.2] and scored["conf:two"].tolist() == [0.7, 0.9]
    rows = tables.disagreements(scored, "one", "two")
    assert dict(zip(rows["image_id"], rows["right"])) == {"a": "one", "b": "two"}
    assert tables.filter_gallery(scored, "one")["image_id"].tolist() == ["b"]
    assert tables.filter_gallery(scored, "one", only_wrong=False)["image_id"].tolist() == ["a", "b"]  # by confidence


def test_label_problems_table_reads_rows_in_either_form():
    rows = [{"kind": "conflicting_labels", "image_ids": ["a", "b"], "labels": ["pure", "broken"]}]
    for stored in (rows, {"rows": rows}, {"table": rows, "note": "x"}):
        frame = tables.label_problems_table(stored)
        assert frame.to_dict(orient="records") == [{"kind": "conflicting_labels", "image_ids": "a, b",
                                                    "labels": "pure, broken"}]
    assert tables.label_problems_table(None).empty


def test_representative_approaches_keep_the_best_prompt_set():
    approaches = [
        {"id": "baseline:majority", "kind": "baseline", "model_key": "majority", "metrics": {"accuracy": 0.4}},
        {"id": "zeroshot:M:p:a", "kind": "zeroshot", "model_key": "M:p", "prompt_set": "a", "train_accuracy": 0.25,
         "metrics": {"accuracy": 0.35}},  # the held-out winner is not what is shown
        {"id": "zeroshot:M:p:b", "kind": "zeroshot", "model_key": "M:p", "prompt_set": "b", "train_accuracy": 0.3,
         "metrics": {"accuracy": 0.3}},
        {"id": "zeroshot:N:q:a", "kind": "zeroshot", "model_key": "N:q", "prompt_set": "a", "metrics": {"accuracy": 0.1}},
        {"id": "probe:M:p", "kind": "probe", "model_key": "M:p", "metrics": {"accuracy": 0.7}},
        {"id": "knn:M:p", "kind": "knn", "model_key": "M:p", "metrics": {"accuracy": 0.6}}]
    assert [r["id"] for r in tables.representative_approaches(approaches)] == [
        "baseline:majority", "zeroshot:M:p:b", "zeroshot:N:q:a", "probe:M:p"]  # each model's set chosen on training
    approaches[2]["train_accuracy"], approaches[1]["train_accuracy"] = 0.1, 0.5  # chosen on the training images
    assert [r["id"] for r in tables.representative_approaches(approaches)][1] == "zeroshot:M:p:a"


def test_confounder_profiles_in_class_order_with_short_units():
    stats = {"mean": 1.0, "std": 0.1, "quantiles": [0.8, 0.9, 1.0, 1.1, 1.2]}
    confounders = {"per_class": {"silkcut": {"width": stats, "saturation": stats}, "pure": {"width": stats},
                                 "broken": "not a profile"},
                   "units": {"width": "px", "saturation": "mean HSV saturation of the image, 0-255"}}
    profiles = tables.confounder_profiles(confounders, CLASSES)
    assert [(p["feature"], list(p["per_class"]), p["unit"]) for p in profiles] == [
        ("width", ["pure", "silkcut"], "px"), ("saturation", ["silkcut"], "0-255")]
    assert profiles[0]["quantile_levels"] == records.QUANTILE_LEVELS
    assert len(figures.feature_by_class_figure(classes=CLASSES, **profiles[0]).data) == 2  # one box per class
