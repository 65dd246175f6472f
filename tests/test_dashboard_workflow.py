"""Dashboard parts of issue 16 under AppTest: "made with" on Home, other bundles on Compare,
the raw Markdown on Report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import bundle, cli, runfile
from tests.apptest import open_page
from tests.test_csvlayout import csv_split_bundle

pytestmark = pytest.mark.usefixtures("empty_results")


def recorded_copy(demo_bundle: Path, folder: Path) -> Path:
    """A copy of the demo bundle that records a `run` command, as `python -m analysis run` leaves it."""
    target = folder / "recorded"
    shutil.copytree(demo_bundle, target)
    parser = cli.build_parser()
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
