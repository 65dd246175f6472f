"""Per-image statistics: exact on hand-made images, in file order, cached by content in the bundle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.core import bundle
from analysis.data import imagestats
from analysis.data.loading import load_rgb

# A 4 × 2 image, both rows: red, white, a brown (100, 80, 60), black.
ROW = [(255, 0, 0), (255, 255, 255), (100, 80, 60), (0, 0, 0)]


def hand_made() -> np.ndarray:
    return np.array([ROW, ROW], dtype=np.uint8)


def test_statistics_of_a_hand_made_image():
    stats = imagestats.image_statistics(Image.fromarray(hand_made(), "RGB"))
    # Worked by hand: means over the four colours; population variances around them.
    # Saturation per pixel: red 255, white 0, brown 255·40/100 = 102, black 0 (by convention).
    expected = {
        "width": 4, "height": 2, "aspect": 2.0,
        "red_mean": 152.5, "green_mean": 83.75, "blue_mean": 78.75,
        "red_std": math.sqrt(11756.25), "green_std": math.sqrt(10842.1875), "blue_std": math.sqrt(10954.6875),
        "saturation_mean": 89.25, "saturation_std": math.sqrt(10891.6875),
        "value_mean": 152.5, "value_std": math.sqrt(11756.25),
    }
    assert set(stats) == set(imagestats.STAT_COLUMNS)
    for name, value in expected.items():
        assert stats[name] == pytest.approx(value, abs=1e-9), name


def test_saturation_follows_pil_8bit_hsv():
    # 255·85/170 = 127.5: PIL's 8-bit HSV floors it to 127; value is max(R, G, B).
    stats = imagestats.image_statistics(np.full((3, 5, 3), (170, 85, 85), dtype=np.uint8))
    assert (stats["saturation_mean"], stats["saturation_std"]) == (127.0, 0.0)
    assert (stats["value_mean"], stats["red_std"], stats["aspect"]) == (170.0, 0.0, 5 / 3)


def test_array_and_image_agree_and_bad_input_is_named():
    assert imagestats.image_statistics(hand_made()) == imagestats.image_statistics(Image.fromarray(hand_made()))
    with pytest.raises(ValueError, match="shape"):
        imagestats.image_statistics(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="mode L"):
        imagestats.image_statistics(Image.new("L", (4, 4)))


def write_images(folder) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (size, colour) in enumerate([((30, 20), (200, 180, 90)), ((12, 40), (90, 60, 30)),
                                            ((25, 25), (240, 240, 235))]):
        path = folder / f"{index}.png"
        Image.new("RGB", size, colour).save(path)
        paths.append(path)
    gray = folder / "gray.png"
    Image.new("L", (8, 8), 128).save(gray)  # converted like every other reader does
    return paths + [gray]


def test_table_keeps_file_order(tmp_path):
    paths = write_images(tmp_path)
    table = imagestats.compute_table(paths, workers=2, show_progress=False)
    assert list(table.columns) == list(imagestats.STAT_COLUMNS)
    assert table["width"].tolist() == [30, 12, 25, 8] and table["height"].tolist() == [20, 40, 25, 8]
    assert table["red_mean"].tolist() == [200, 90, 240, 128]
    for row, path in zip(table.to_dict(orient="records"), paths):
        assert row == pytest.approx(imagestats.image_statistics(load_rgb(path)))


def test_unreadable_file_is_named(tmp_path):
    paths = write_images(tmp_path)
    paths[1].write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"1\.png: cannot compute image statistics"):
        imagestats.compute_table(paths, workers=1, show_progress=False)


def test_cache_reuses_unchanged_images(tmp_path, monkeypatch):
    root = tmp_path / "data"
    paths = write_images(root)
    images = pd.DataFrame({"image_id": [p.name for p in paths], "path": [p.name for p in paths],
                           "seed_id": ["1", "2", "3", "4"], "view": ["top"] * 4, "label": ["a", "b", "a", "b"],
                           "split": ["train"] * 4, "fold": [0] * 4, "content_hash": ["h0", "h1", "h2", "h3"]})
    out = tmp_path / "bundle"
    bundle.create_bundle(out, {"classes": ["a", "b"], "dataset": {"root": str(root)}}, images)
    assert imagestats.read_cached(out / imagestats.TABLE_FILE) is None
    first, changed = imagestats.refreshed_table(None, images, root, show_progress=False)
    assert changed and first["image_id"].tolist() == images["image_id"].tolist()
    bundle.save_features(out, imagestats.TABLE_NAME, first)
    assert bundle.read_manifest(out)["features"]["image_stats"]["file"] == imagestats.TABLE_FILE
    assert imagestats.refreshed_table(imagestats.read_cached(out / imagestats.TABLE_FILE), images, root)[1] is False

    computed: list = []
    real_compute = imagestats.compute_table

    def counting(paths, *args, **kwargs):
        computed.extend(paths)
        return real_compute(paths, *args, **kwargs)

    monkeypatch.setattr(imagestats, "compute_table", counting)
    Image.new("RGB", (7, 9), (10, 20, 30)).save(paths[2])
    changed = images.assign(content_hash=["h0", "h1", "changed", "h3"])
    second, _ = imagestats.refreshed_table(imagestats.read_cached(out / imagestats.TABLE_FILE), changed, root,
                                           show_progress=False)
    assert computed == [root / paths[2].name]
    assert second.loc[2, ["width", "height", "red_mean"]].tolist() == [7, 9, 10]
    stats = list(imagestats.STAT_COLUMNS)
    pd.testing.assert_frame_equal(second.drop(index=2)[stats], first.drop(index=2)[stats])
    assert second["content_hash"].tolist() == ["h0", "h1", "changed", "h3"]
    assert imagestats.refreshed_table(second.iloc[:2], changed, root)[1]  # rows removed or missing: changed
