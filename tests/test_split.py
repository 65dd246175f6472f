"""The split keeps seed_ids and byte-identical images together, stratified and deterministic."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.data import split


def frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = rng.choice(["pure", "broken", "discolored", "silkcut"], size=n, p=[0.41, 0.32, 0.17, 0.10])
    return pd.DataFrame({
        "image_id": [f"train/{i:05d}.png" for i in range(n)],
        "seed_id": [f"{i // 2:05d}" for i in range(n)],  # two photos per seed_id
        "content_hash": [f"h{i}" for i in range(n)],
        "label": labels, "source": "train",
    })


def test_groups_never_straddle_the_split():
    images = frame()
    # Plant byte-identical copies across different seed_ids, one with a conflicting label.
    images.loc[10, "content_hash"] = images.loc[301, "content_hash"] = "same-a"
    images.loc[50, "content_hash"] = images.loc[99, "content_hash"] = images.loc[250, "content_hash"] = "same-b"
    images.loc[99, "label"] = "silkcut"
    result = split.assign_split(images, eval_fraction=0.2, n_folds=5, seed=7)
    for key in ("seed_id", "content_hash", "group"):
        assert result.groupby(key)["split"].nunique().max() == 1, key
    assert result.loc[[10, 301], "group"].nunique() == 1
    assert result.loc[[50, 99, 250], "group"].nunique() == 1
    train = result[result["split"] == "train"]
    assert train.groupby("seed_id")["fold"].nunique().max() == 1
    assert set(train["fold"]) == {0, 1, 2, 3, 4}


def test_split_is_stratified_and_deterministic():
    images = frame(1000)
    first = split.assign_split(images, seed=1)
    assert first.equals(split.assign_split(images, seed=1))
    assert not first["split"].equals(split.assign_split(images, seed=2)["split"])
    held_out = first[first["split"] == "eval"]
    assert 0.17 < len(held_out) / len(first) < 0.23
    overall = first["label"].value_counts(normalize=True)
    assert (held_out["label"].value_counts(normalize=True) - overall).abs().max() < 0.03


def test_the_held_out_fold_is_scikit_learns_shuffled_fold_on_every_version():
    """The split shuffles the groups itself (scikit-learn before 1.8 shuffled the class counts apart
    from their groups, PR #32540): with 1.8 or later it is StratifiedGroupKFold(shuffle=True)'s first
    fold; on older versions the stratification test above checks the same split."""
    import sklearn
    from sklearn.model_selection import StratifiedGroupKFold

    if tuple(int(part) for part in sklearn.__version__.split(".")[:2]) < (1, 8):
        pytest.skip(f"scikit-learn {sklearn.__version__} shuffles the folds unstratified; nothing to compare with")
    images = frame(600, seed=3)
    images.loc[[4, 333], "content_hash"] = "same"
    for seed in (0, 5):
        held_out = split.assign_split(images, seed=seed)["split"].eq("eval").to_numpy()
        splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
        _, first_fold = next(splitter.split(images, images["label"], split.group_ids(images)))
        assert np.flatnonzero(held_out).tolist() == sorted(first_fold)


def test_competition_test_images_are_kept_apart():
    images = frame(100)
    images.loc[90:, "source"] = "test"
    images.loc[90:, "label"] = None
    result = split.assign_split(images)
    assert (result.loc[90:, "split"] == "kaggle_test").all() and (result.loc[90:, "fold"] == -1).all()
    assert set(result.loc[:89, "split"]) == {"train", "eval"}


def test_planted_duplicates_stay_together_end_to_end(synthetic_data, tmp_path):
    """Byte-identical copies under other seed_ids (one with a conflicting label) never straddle."""
    import shutil

    from analysis.data import loading
    from analysis.stages import runner

    root = tmp_path / "d"
    shutil.copytree(synthetic_data, root)
    rows = pd.read_csv(root / "train.csv", dtype=str)
    for source, target in ((0, 50), (1, 90), (2, 130), (3, 70)):
        shutil.copyfile(root / rows["image"][source], root / rows["image"][target])
    rows.loc[90, "label"] = "silkcut" if rows.loc[1, "label"] != "silkcut" else "pure"
    rows.to_csv(root / "train.csv", index=False)
    options = runner.RunOptions(data=root, out=tmp_path / "b", show_progress=False)
    for seed in range(3):
        table = runner.images_table(loading.load_dataset(root, show_progress=False),
                                      runner.RunOptions(data=root, out=tmp_path, seed=seed))
        assert table.groupby("content_hash")["split"].nunique().max() == 1
        assert table.groupby("seed_id")["split"].nunique().max() == 1
    context = runner.prepare(options)
    duplicates = context.path / "diagnostics" / "data.json"
    assert '"conflicting": true' in duplicates.read_text()


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.2, 0.8])
def test_an_unusable_eval_fraction_fails_before_any_image_is_read(fraction, tmp_path, monkeypatch, capsys):
    from analysis.cli import commands
    from analysis.data import loading
    from analysis.core import options

    monkeypatch.setattr(loading, "load_dataset", lambda *args, **kwargs: pytest.fail("images were read"))
    with pytest.raises(options.OptionsError, match=f"--eval-fraction {fraction}"):
        options.RunOptions(data=tmp_path, out=tmp_path / "b", eval_fraction=fraction)
    assert commands.main(["run", "--data", str(tmp_path), "--out", str(tmp_path / "b"),
                     "--eval-fraction", str(fraction)]) == 1
    assert "error: --eval-fraction" in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_the_manifest_records_the_eval_fraction_actually_used(synthetic_data, tmp_path, caplog):
    from analysis.stages import runner

    context = runner.prepare(runner.RunOptions(data=synthetic_data, out=tmp_path / "b", eval_fraction=0.4,
                                                   show_progress=False))
    recorded = json.loads((context.path / "manifest.json").read_text())["split"]
    assert recorded["eval_fraction"] == 0.5 and recorded["eval_fraction_requested"] == 0.4  # one of 2 folds
    held_out = recorded["counts"]["eval"] / (recorded["counts"]["eval"] + recorded["counts"]["train"])
    assert abs(held_out - 0.5) < 0.05
    assert "so a share of 0.5 is held out" in caplog.text
    assert split.used_eval_fraction(0.2) == 0.2 and split.used_eval_fraction(0.3) == pytest.approx(1 / 3)
