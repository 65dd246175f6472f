"""Loading and validation: every kind of bad input is named, counted and skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.data import loading


def make_kaggle(root: Path, rows: list[dict], images: dict[str, Image.Image | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in images.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.save(path)
    pd.DataFrame(rows).to_csv(root / "train.csv", index=False)
    return root


def kernel(colour: tuple[int, ...] = (200, 160, 40), mode: str = "RGB", size: int = 32) -> Image.Image:
    return Image.new(mode, (size, size), colour if mode != "L" else colour[0])


def good_rows(n: int = 8) -> tuple[list[dict], dict]:
    labels = ["pure", "broken"] * (n // 2)
    rows = [{"seed_id": f"{i:05d}", "view": "top", "image": f"train/{i:05d}.png", "label": labels[i]}
            for i in range(n)]
    images = {row["image"]: kernel((i * 20, 100, 50)) for i, row in enumerate(rows)}
    return rows, images


def test_kaggle_layout_keeps_zero_padded_ids(tmp_path):
    rows, images = good_rows()
    dataset = loading.load_dataset(make_kaggle(tmp_path / "d", rows, images), show_progress=False)
    assert dataset.layout == "kaggle"
    assert dataset.images["seed_id"].iloc[0] == "00000"
    assert dataset.classes == ["broken", "pure"]  # tie in counts: alphabetical
    assert dataset.problems == []


def test_each_bad_row_is_named_counted_and_skipped(tmp_path):
    rows, images = good_rows(8)
    rows += [
        {"seed_id": "00100", "view": "top", "image": "train/missing.png", "label": "pure"},
        {"seed_id": "00101", "view": "top", "image": "train/empty.png", "label": "pure"},
        {"seed_id": "00102", "view": "top", "image": "train/text.png", "label": "pure"},
        {"seed_id": "00103", "view": "top", "image": "train/truncated.png", "label": "pure"},
        {"seed_id": "00104", "view": "top", "image": "train/00000.png", "label": "pure"},   # duplicate row
        {"seed_id": "00105", "view": "top", "image": "../outside.png", "label": "pure"},
        {"seed_id": "00106", "view": "top", "image": "/etc/passwd", "label": "pure"},
        {"seed_id": "00107", "view": "top", "image": "train/00001.png", "label": ""},
        {"seed_id": "00108", "view": "top", "image": "train/x.png", "label": "rotten"},
    ]
    full = tmp_path / "full.png"
    kernel(size=200).save(full)
    images |= {"train/empty.png": b"", "train/text.png": b"this is not a png",
               "train/truncated.png": full.read_bytes()[:300]}
    root = make_kaggle(tmp_path / "d", rows, images)
    dataset = loading.load_dataset(root, classes=["pure", "broken"], show_progress=False)
    kinds = dataset.problem_counts()
    assert kinds == {"missing_file": 1, "zero_byte": 1, "not_an_image": 1, "truncated": 1,
                     "duplicate_row": 1, "bad_path": 2, "empty_label": 1, "unknown_label": 1}
    assert len(dataset.labelled) == 8
    where = {problem.kind: problem.where for problem in dataset.problems}
    assert "train/missing.png" in where["missing_file"] and "train.csv row 10" in where["missing_file"]
    assert where["unknown_label"] == "train.csv row 18"


def test_odd_image_modes_are_converted_not_rejected(tmp_path):
    rows, images = good_rows(8)
    images["train/00000.png"] = kernel(mode="L")
    images["train/00001.png"] = Image.new("RGBA", (20, 20), (10, 20, 30, 0))
    images["train/00002.png"] = Image.fromarray(np.full((20, 20), 40000, dtype=np.uint16))
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (20, 20), (0, 50, 200, 0)).save(cmyk)
    images["train/00003.png"] = cmyk.read_bytes()  # a JPEG named .png, CMYK
    root = make_kaggle(tmp_path / "d", rows, images)
    dataset = loading.load_dataset(root, show_progress=False)
    assert dataset.problems == []
    transparent = loading.load_rgb(root / "train/00001.png")
    assert transparent.mode == "RGB" and transparent.getpixel((0, 0)) == loading.BACKGROUND_RGB
    sixteen = loading.load_rgb(root / "train/00002.png")
    assert sixteen.mode == "RGB" and sixteen.getpixel((0, 0))[0] == round(40000 / 65535 * 255)


def test_missing_column_is_a_clear_error(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    pd.DataFrame({"seed_id": ["00000"], "image": ["train/00000.png"], "labels": ["pure"]}).to_csv(
        root / "train.csv", index=False)
    with pytest.raises(loading.DatasetError, match=r"train.csv: missing required column\(s\) view, label"):
        loading.load_dataset(root, show_progress=False)


def test_nothing_usable_is_a_clear_error(tmp_path):
    rows = [{"seed_id": "0", "view": "top", "image": "train/a.png", "label": "pure"}]
    with pytest.raises(loading.DatasetError, match="no usable labelled image"):
        loading.load_dataset(make_kaggle(tmp_path / "d", rows, {}), show_progress=False)


def test_expected_class_without_images_is_reported(tmp_path):
    rows, images = good_rows(8)
    dataset = loading.load_dataset(make_kaggle(tmp_path / "d", rows, images),
                                classes=["pure", "broken", "silkcut"], show_progress=False)
    assert dataset.problem_counts() == {"empty_class": 1}
    assert dataset.classes == ["pure", "broken"]


def test_imagefolder_layout(tmp_path):
    for name, count in (("cat", 3), ("dog", 2)):
        (tmp_path / name).mkdir()
        for i in range(count):
            kernel((i * 40, 0, 0)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "empty").mkdir()
    dataset = loading.load_dataset(tmp_path, show_progress=False)
    assert dataset.layout == "imagefolder"
    assert dataset.classes == ["cat", "dog"]
    assert dataset.problem_counts() == {"empty_class": 1}
    assert set(dataset.images["view"]) == {loading.UNKNOWN_VIEW}


def test_duplicate_groups_find_conflicts_and_leaks(tmp_path):
    rows, images = good_rows(8)
    images["train/00003.png"] = images["train/00000.png"]  # same bytes, labels pure/broken
    root = make_kaggle(tmp_path / "d", rows, images)
    (root / "test").mkdir()
    shutil.copy(root / "train/00001.png", root / "test/09999.png")
    pd.DataFrame([{"seed_id": "09999", "view": "top", "image": "test/09999.png"}]).to_csv(root / "test.csv",
                                                                                       index=False)
    groups = loading.duplicate_groups(loading.load_dataset(root, show_progress=False).images)
    assert len(groups) == 2
    assert groups["conflicting"].sum() == 1 and groups["leak"].sum() == 1


def test_real_sample_loads_with_sizes(real_sample):
    dataset = loading.load_dataset(real_sample, thumbnail_size=64, show_progress=False)
    assert len(dataset.labelled) == 600 and dataset.problems == []
    assert sorted(dataset.classes) == ["broken", "discolored", "pure", "silkcut"]
    assert dataset.images["width"].between(84, 224).all() and dataset.images["height"].between(86, 228).all()
    assert len(dataset.thumbnails) == 600
    assert "299" in loading.describe(dataset)  # top views in the sample
