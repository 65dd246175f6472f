"""Dashboard parts of issue 16 under AppTest: "made with" and the split on Home, other bundles on
Compare, the raw Markdown on Report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis.core import bundle, side_by_side, runfile, tables
from analysis.cli import commands
from tests.apptest import open_every_section, open_page
from tests.test_combine import copy_bundle, with_other_split
from tests.test_csvlayout import csv_split_bundle

pytestmark = pytest.mark.usefixtures("empty_results")


def recorded_copy(demo_bundle: Path, folder: Path) -> Path:
    """A copy of the demo bundle that records a `run` command, as `python -m analysis run` leaves it."""
    target = folder / "recorded"
    shutil.copytree(demo_bundle, target)
    parser = commands.build_parser()
    argv = ["run", "--data", "/data/corn", "--out", str(target), "--clip", "ViT-B-32:openai", "--seed", "3"]
    args = runfile.with_command_parser(parser, argv, parser.parse_args(argv))
    runfile.record_run(target, runfile.run_record("run", args.command_parser, args))
    return target


def test_home_shows_the_command_that_made_the_bundle(demo_bundle, tmp_path):
    app = open_page(recorded_copy(demo_bundle, tmp_path))
    codes = [element.value for element in app.code]
    assert any(code.startswith("python -m analysis run --data /data/corn") and "--seed 3" in code for code in codes)
    assert any('clip = ["ViT-B-32:openai"]' in code for code in codes)  # the run-file form
    assert any("Made with" in element.value for element in app.markdown)


def test_home_says_when_the_command_is_not_recorded(demo_bundle):
    app = open_page(demo_bundle)
    assert any("not recorded" in element.value for element in app.caption)
    assert bundle.open_bundle(demo_bundle).manifest.get("runs") is None


def test_home_says_the_csv_split_column_chose_the_held_out_images(tmp_path):
    app = open_page(csv_split_bundle(tmp_path))
    split_line = next(element.value for element in app.markdown if "**Split**" in element.value)
    assert "24 held-out images scored by every approach (chosen by the CSV's split column: 33.3% of the labelled " \
           "images; --eval-fraction not used)" in split_line


def test_report_page_shows_markdown_to_copy_and_the_reproduction_block(demo_bundle, tmp_path):
    app = open_page(recorded_copy(demo_bundle, tmp_path), "views/report.py")
    markdown = [element for element in app.code if element.language == "markdown"]
    assert len(markdown) == 1
    text = markdown[0].value
    assert text.startswith("## CornLens results") and "**Reproduce**" in text
    assert "python -m analysis run --data …/corn --out …/recorded" in text  # no author's folders in a shared text
    assert "random weights (not pretrained)" in text and str(tmp_path) not in text
    assert any("PNG" in element.value for element in app.caption)


# --- other bundles on Compare ---------------------------------------------------------------------

def test_compare_adds_the_approaches_of_a_comparable_bundle(demo_bundle, tmp_path):
    other = copy_bundle(demo_bundle, tmp_path / "prompts-b")
    app = open_page(demo_bundle, "views/compare.py")
    app.text_input(key="compare_bundle_typed").input(str(other)).run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert app.multiselect(key="compare_bundles").value == [str(other.resolve())]
    assert app.query_params["compare_bundles"] in ("prompts-b", ["prompts-b"])  # kept in the URL
    both = side_by_side.side_by_side(demo_bundle, other)
    labels = tables.approach_labels(both.approaches)
    added = [record["id"] for record in both.approaches if record.get("bundle") == "prompts-b"]
    picker = app.multiselect(key="compare_approaches")
    assert {labels[approach] for approach in added} <= set(picker.options)
    assert all(labels[approach].endswith(" [prompts-b]") for approach in added)
    expected = [record["id"] for record in side_by_side.representative_by_bundle(both.approaches)]
    assert picker.value == expected  # this bundle's representatives, then the added bundle's
    short = tables.approach_labels([both.approach(approach) for approach in expected], short=True)
    table = next(frame.value for frame in app.dataframe if "images" in frame.value.columns)
    assert [short[approach] for approach in expected] == list(table.columns[:len(expected)])
    assert any(name.endswith("[prompts-b]") for name in table.columns)
    scored = tables.scored_images(both.images(), {i: both.predictions(i) for i in expected}, both.classes)
    assert table["images"].sum() == len(scored)
    metrics_chart = next(chart.proto.spec for chart in app.get("plotly_chart") if "[prompts-b]" in chart.proto.spec)
    assert metrics_chart  # the COMPARE_PANELS figures carry the added approaches
    assert {labels[approach] for approach in added} <= set(app.selectbox(key="compare_first").options)


def test_compare_refuses_a_bundle_with_another_split_and_keeps_the_rest(demo_bundle, empty_results):
    other = with_other_split(demo_bundle, empty_results / "seed-1")  # listed under the results folder
    app = open_page(demo_bundle, "views/compare.py", query={"compare_bundles": ["seed-1", "elsewhere"]},
                    every_section=False)  # a shared link, said on the page's first run
    assert app.multiselect(key="compare_bundles").value == [str(other.resolve())]
    assert any("asks for **elsewhere**" in element.value for element in app.warning)  # not listed here: said, not dropped
    refusal = " ".join(element.value for element in app.error)
    assert "**seed-1** is not added" in refusal and "different split (10 images are held out" in refusal
    opened = bundle.open_bundle(demo_bundle)
    assert set(app.multiselect(key="compare_approaches").options) == set(tables.approach_labels(opened.approaches).values())
    app = open_every_section(app)
    assert any("images" in frame.value.columns for frame in app.dataframe)  # the agreement table is still there
    app.text_input(key="compare_bundle_typed").input("/etc").run()
    assert any("outside the folders this dashboard may open" in element.value for element in app.error)


def test_compare_sections_stay_open_when_the_chosen_approaches_change(demo_bundle):
    """Compare's sections are opened by the reader and stay open while the approaches change (their open
    state is named by the page, not by the choice its figures are cached under)."""
    app = open_page(demo_bundle, "views/compare.py")  # every section opened
    assert app.session_state["section:compare:Per-class recall"]
    picker = app.multiselect(key="compare_approaches")
    picker.set_value(picker.value[:2]).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state["section:compare:Per-class recall"]
    titles = [json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", "") for chart in app.get("plotly_chart")]
    assert any("recall" in title.lower() for title in titles), titles
