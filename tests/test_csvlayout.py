"""CSV datasets (`--data labels.csv`): rows checked like the other layouts, groups kept together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.cli import commands
from analysis.data import loading, split


def write_images(root: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` small distinct images under ``root/img/``; their paths relative to ``root``."""
    generator = np.random.default_rng(seed)
    (root / "img").mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(n):
        pixels = generator.integers(0, 255, size=(12, 12, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "img" / f"{index:03d}.png")
        paths.append(f"img/{index:03d}.png")
    return paths


def grouped_csv(root: Path, n_groups: int = 24, per_group: int = 3, **columns) -> Path:
    """labels.csv of ``n_groups`` groups of ``per_group`` images, two classes, a view column."""
    paths = write_images(root, n_groups * per_group)
    frame = pd.DataFrame({"path": paths,
                          "label": [("pure", "broken")[(i // per_group) % 2] for i in range(len(paths))],
                          "group": [f"kernel-{i // per_group}" for i in range(len(paths))],
                          "view": ["top", "bottom", "top"] * (len(paths) // 3)} | columns)
    frame.to_csv(root / "labels.csv", index=False)
    return root / "labels.csv"


def test_csv_dataset_with_groups_keeps_each_group_on_one_side(tmp_path):
    dataset = loading.load_dataset(grouped_csv(tmp_path), show_progress=False)
    assert dataset.layout == "csv" and dataset.root == tmp_path.resolve() and not dataset.problems
    assert set(dataset.images["view"]) == {"top", "bottom"}
    table = split.assign_split(dataset.images, eval_fraction=0.25, n_folds=3, seed=1)
    sides = table.groupby("seed_id")["split"].nunique()
    assert len(sides) == 24 and sides.max() == 1          # no group on both sides …
    assert set(table["split"]) == {"train", "eval"}       # … and both sides are used
    assert table.loc[table["split"] == "train"].groupby("seed_id")["fold"].nunique().max() == 1


def test_csv_split_column_is_the_held_out_part(tmp_path):
    sides = ["test" if group % 4 == 0 else "train" for group in range(24) for _ in range(3)]
    dataset = loading.load_dataset(grouped_csv(tmp_path, split=sides), show_progress=False)
    table = split.assign_split(dataset.images, eval_fraction=0.2, n_folds=3, seed=0)
    assert (table["split"] == np.where(np.array(sides) == "test", "eval", "train")).all()
    assert "given_split" not in table.columns


def test_csv_split_with_a_group_on_both_sides_is_refused(tmp_path):
    sides = ["test"] + ["train"] * 71
    with pytest.raises(loading.DatasetError, match="column 'group' value 'kernel-0' has images in both train and test"):
        loading.load_dataset(grouped_csv(tmp_path, split=sides), show_progress=False)


def test_csv_rows_are_checked_with_named_problems(tmp_path, capsys):
    paths = write_images(tmp_path, 12)
    rows = [{"path": path, "label": ("pure", "broken")[i % 2]} for i, path in enumerate(paths)]
    rows += [{"path": "../outside.png", "label": "pure"}, {"path": "img/000.png", "label": "pure"},
             {"path": "img/missing.png", "label": "pure"}, {"path": "img/001.png", "label": ""}]
    (tmp_path / "img" / "002.png").write_bytes(b"")
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    assert commands.main(["validate", "--data", str(tmp_path / "labels.csv"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "(csv layout)" in out
    for expected in ("bad_path: 1", "labels.csv row 14", "duplicate_row: 1", "labels.csv row 15",
                     "missing_file: 1", "labels.csv row 16", "zero_byte: 1", "empty_label: 1"):
        assert expected in out, expected


def test_csv_missing_column_and_bad_split_value(tmp_path, capsys):
    paths = write_images(tmp_path, 8)
    pd.DataFrame({"file": paths, "label": "pure"}).to_csv(tmp_path / "labels.csv", index=False)
    assert commands.main(["validate", "--data", str(tmp_path / "labels.csv"), "-q"]) == 1
    assert "missing required column(s) path" in capsys.readouterr().err
    pd.DataFrame({"path": paths, "label": ["pure", "broken"] * 4,
                  "split": ["train", "test", "validation", "train"] * 2}).to_csv(tmp_path / "labels.csv", index=False)
    dataset = loading.load_dataset(tmp_path / "labels.csv", show_progress=False)
    assert [problem.kind for problem in dataset.problems] == ["bad_split", "bad_split"]
    assert "column 'split' value 'validation'" in str(dataset.problems[0])


def csv_split_bundle(folder: Path) -> Path:
    """The data part of a bundle (no approaches) from a CSV whose split column holds out 8 of 24 groups."""
    from analysis.stages import runner

    sides = ["test" if group % 3 == 0 else "train" for group in range(24) for _ in range(3)]
    options = runner.RunOptions(data=grouped_csv(folder / "data", split=sides), out=folder / "bundle",
                                  eval_fraction=0.5, folds=3, show_progress=False)
    return runner.prepare(options).path


def test_the_manifest_says_the_csv_split_column_decided(tmp_path):
    from analysis.core import bundle
    from analysis.present import reproduce

    recorded = bundle.open_bundle(csv_split_bundle(tmp_path)).manifest["split"]
    assert recorded["method"] == split.CSV_COLUMN and recorded["counts"] == {"train": 48, "eval": 24}
    assert recorded["eval_fraction"] == pytest.approx(1 / 3)  # the CSV's share, not the 0.5 asked for
    assert "eval_fraction_requested" not in recorded
    assert recorded["grouped_by"] == ["seed_id"]  # the CSV's groups; identical images it may split
    facts = dict(reproduce.reproduction(bundle.open_bundle(tmp_path / "bundle").manifest).facts)
    assert "24 held-out images (chosen by the CSV's split column: 33.3% of the labelled images; " \
           "--eval-fraction not used)" in facts["split"]


def test_without_a_split_column_the_manifest_says_cornlens_split(tmp_path):
    from analysis.core import bundle
    from analysis.stages import runner
    from analysis.present import reproduce

    options = runner.RunOptions(data=grouped_csv(tmp_path / "data"), out=tmp_path / "bundle", eval_fraction=0.25,
                                  folds=3, show_progress=False)
    recorded = bundle.open_bundle(runner.prepare(options).path).manifest["split"]
    assert recorded["method"] == split.GROUPED_FOLD and recorded["eval_fraction"] == 0.25
    assert recorded["eval_fraction_requested"] == 0.25 and recorded["grouped_by"] == ["seed_id", "content_hash"]
    counts = recorded["counts"]
    held_out = counts["eval"] / (counts["train"] + counts["eval"])  # what the fold really holds out
    assert f"one grouped, stratified fold: {held_out:.1%} of the labelled images" in \
        dict(reproduce.reproduction({"split": recorded}).facts)["split"]


def test_an_older_bundle_without_a_split_method_says_it_is_not_recorded():
    text = split.method_text({"eval_fraction": 0.5, "counts": {"train": 48, "eval": 24}})
    assert text == "33.3% of the labelled images held out (how they were chosen is not recorded)"


def test_the_command_that_adds_a_part_names_the_csv_file_it_was_run_on():
    from analysis.present import explain

    manifest = {"dataset": {"root": "/data/corn", "layout": "csv"},
                "runs": [{"name": "run", "command": "python -m analysis run …",
                          "config": {"data": "/data/corn/labels.csv", "out": "/b"}}]}
    assert explain.run_command(manifest, "/b", "--clip X").startswith(
        "python -m analysis run --data /data/corn/labels.csv --out /b --clip X")
    assert explain.run_command({"dataset": {"root": "/data/corn"}}, "/b").startswith(
        "python -m analysis run --data /data/corn --out /b")  # not recorded: the dataset folder


def test_identical_images_the_csv_puts_on_both_sides_are_counted(tmp_path):
    import pandas as pd

    from analysis.stages import runner

    images = pd.DataFrame({"split": ["train", "eval", "train", "eval"], "fold": [0, -1, 1, -1],
                           "group": [7, 7, 8, 9]})  # group 7: one image's copies on both sides
    options = runner.RunOptions(data=tmp_path, out=tmp_path / "bundle", show_progress=False)
    recorded = runner.split_facts(images, options, given=True)
    assert recorded["identical_images_across_split"] == 1 and recorded["grouped_by"] == ["seed_id"]
    assert "identical_images_across_split" not in runner.split_facts(images.assign(group=[1, 2, 3, 4]), options,
                                                                      given=True)
