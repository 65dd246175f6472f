"""Bundles side by side: the same images and split are required; approaches keep their bundle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.core import bundle, side_by_side, tables
from analysis.cli import commands
from analysis.present import report


def copy_bundle(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def with_other_split(source: Path, target: Path) -> Path:
    """A copy whose split holds out other images (as another --seed would)."""
    copy_bundle(source, target)
    images = bundle.open_bundle(target).images().copy()
    held_out = images.index[images["split"] == "eval"][:5]
    trained = images.index[images["split"] == "train"][:5]
    images.loc[held_out, "split"], images.loc[trained, "split"] = "train", "eval"
    bundle.write_parquet(target / bundle.IMAGES, images)
    return target


def test_two_bundles_with_different_splits_are_refused(demo_bundle, tmp_path, capsys):
    other = with_other_split(demo_bundle, tmp_path / "seed-1")
    with pytest.raises(bundle.BundleError, match="different split \\(10 images are held out in one bundle and not "
                                                 "in the other"):
        side_by_side.side_by_side(demo_bundle, other)
    assert commands.main(["compare", str(demo_bundle), str(other)]) == 1
    error = capsys.readouterr().err
    assert "cannot be compared" in error and "different split" in error and "Traceback" not in error


def test_different_images_or_the_same_bundle_are_refused(demo_bundle, tmp_path):
    other = copy_bundle(demo_bundle, tmp_path / "fewer")
    images = bundle.open_bundle(other).images()
    bundle.write_parquet(other / bundle.IMAGES, images.iloc[3:])
    with pytest.raises(bundle.BundleError, match="different images \\(3 only in the first"):
        side_by_side.side_by_side(demo_bundle, other)
    with pytest.raises(bundle.BundleError, match="the same bundle"):
        side_by_side.side_by_side(demo_bundle, demo_bundle)


def test_side_by_side_adds_the_other_approaches_labelled_with_their_bundle(demo_bundle, tmp_path, capsys):
    other = copy_bundle(demo_bundle, tmp_path / "prompts-b")
    first = bundle.open_bundle(demo_bundle)
    both = side_by_side.side_by_side(demo_bundle, other)
    assert len(both.approaches) == 2 * len(first.approaches)
    added = both.approaches[len(first.approaches):]
    assert all(record["bundle"] == "prompts-b" and record["id"].endswith(" @ prompts-b") for record in added)
    some = first.approaches[-1]["id"]
    assert both.predictions(f"{some} @ prompts-b").equals(first.predictions(some))
    labels = tables.approach_labels(both.approaches)
    assert labels[f"{some} @ prompts-b"] == labels[some] + " [prompts-b]"
    assert commands.main(["compare", str(demo_bundle), str(other)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("[prompts-b]") == len(first.approaches) and "accuracy (95% interval)" in printed
    assert "baseline: majority [prompts-b]" in printed  # a baseline's name, not its id with the suffix
    markdown = report.render_markdown(both)  # brackets are escaped in Markdown
    assert markdown.count("\\[prompts-b\\]") >= len(first.approaches)
    assert commands.main(["report", str(demo_bundle), str(other), "--format", "md", "--out", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text() == markdown
