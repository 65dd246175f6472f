"""The synthetic generator: the real data's shape and quirks, byte-identical for a seed."""

from __future__ import annotations

import hashlib

import pandas as pd

from analysis.data import loading, synthetic


def digest(folder) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_same_seed_same_bytes(tmp_path):
    first = synthetic.write_dataset(tmp_path / "a", 40, 10, seed=5, show_progress=False)
    second = synthetic.write_dataset(tmp_path / "b", 40, 10, seed=5, show_progress=False)
    other = synthetic.write_dataset(tmp_path / "c", 40, 10, seed=6, show_progress=False)
    assert digest(first) == digest(second)
    assert digest(first) != digest(other)


def test_layout_and_quirks_match_the_competition(synthetic_data):
    train = pd.read_csv(synthetic_data / "train.csv", dtype=str)
    test = pd.read_csv(synthetic_data / "test.csv", dtype=str)
    sample = pd.read_csv(synthetic_data / "sample_submission.csv")
    assert list(train.columns) == ["seed_id", "view", "image", "label"]
    assert list(test.columns) == ["seed_id", "view", "image"]
    assert list(sample.columns) == ["seed_id", "label"]
    assert train["seed_id"].str.fullmatch(r"\d{5}").all()
    assert (train["image"] == "train/" + train["seed_id"] + ".png").all()
    assert sample["seed_id"].dtype.kind == "i"
    assert sorted(sample["seed_id"]) == sorted(test["seed_id"].astype(int))
    assert list(sample["seed_id"]) != sorted(sample["seed_id"])  # its own order
    shares = train["label"].value_counts(normalize=True)
    assert list(shares.index) == list(synthetic.CLASSES)
    assert abs(shares["pure"] - 0.41) < 0.02 and abs(shares["silkcut"] - 0.10) < 0.02
    assert set(train["view"]) == {"top", "bottom"}


def test_images_look_like_the_real_data(synthetic_data):
    dataset = loading.load_dataset(synthetic_data, show_progress=False)
    assert dataset.problems == []
    sizes = dataset.images[["width", "height"]]
    assert sizes.min().min() >= synthetic.MIN_SIDE and sizes.max().max() <= synthetic.MAX_SIDE
    image = loading.load_rgb(synthetic_data / dataset.images["path"].iloc[0])
    corner = image.getpixel((0, 0))
    assert min(corner) > 200  # light background


def test_drawing_in_several_processes_writes_the_same_bytes(tmp_path, monkeypatch):
    serial = synthetic.write_dataset(tmp_path / "serial", 24, 6, seed=4, show_progress=False)
    monkeypatch.setattr(synthetic, "PARALLEL_FROM", 10)  # 24 train images: two processes
    parallel = synthetic.write_dataset(tmp_path / "parallel", 24, 6, seed=4, show_progress=False)
    files = sorted(path.relative_to(serial) for path in serial.rglob("*") if path.is_file())
    assert files == sorted(path.relative_to(parallel) for path in parallel.rglob("*") if path.is_file())
    assert all((serial / name).read_bytes() == (parallel / name).read_bytes() for name in files)
