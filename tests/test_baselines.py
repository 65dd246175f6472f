"""Baselines and the confounder report: scored on the same images, honest, and they find a planted shortcut."""

from __future__ import annotations

import shutil
import socket

import numpy as np
import pandas as pd
import pytest

from analysis.stages import baselines, runner
from analysis.core import bundle
from analysis.cli import commands, demo
from analysis.stats import metrics
from analysis.data import split, synthetic


def run_baselines(data, out, **options) -> bundle.Bundle:
    run_options = runner.RunOptions(data=data, out=out, show_progress=False, **options)
    return runner.run(run_options, stages=[baselines.STAGE])


def test_size_shortcut_beats_majority(tmp_path, monkeypatch):
    # Plant one shortcut: broken kernels (a third of the images) photographed much larger.
    monkeypatch.setitem(synthetic.MEAN_SIDE, "broken", 200)
    data = synthetic.write_dataset(tmp_path / "data", 200, 0, seed=1, show_progress=False)
    opened = run_baselines(data, tmp_path / "bundle")
    report = opened.diagnostics(baselines.CONFOUNDERS)
    majority = opened.approach(baselines.MAJORITY)["metrics"]["accuracy"]
    assert report["majority_rate"] == pytest.approx(majority)
    assert report["shortcut_accuracy"]["size"] > majority + 0.1  # 0.575 against 0.425 when written
    assert report["per_class"]["broken"]["width"]["mean"] > report["per_class"]["pure"]["width"]["mean"] + 40
    assert set(report["shortcut_accuracy"]) == {"size", "view", "colour", "all"}
    assert report["shortcuts"]["size"]["features"] == ["width", "height", "aspect"]


def test_baselines_share_the_held_out_images(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    images = opened.images()
    held_out = set(images.loc[images["split"] == split.EVAL, "image_id"])
    predicted = set(images.loc[images["split"].isin([split.EVAL, split.KAGGLE_TEST]), "image_id"])
    assert {record["id"] for record in opened.approaches_of_kind("baseline")} == {
        baselines.MAJORITY, baselines.IMAGE_STATS}
    for record in opened.approaches:  # every approach, baselines included, on the same eval images
        predictions = opened.predictions(record["id"])
        eval_ids = set(predictions["image_id"]) & set(images.loc[images["split"] == split.EVAL, "image_id"])
        assert eval_ids == held_out, record["id"]
        assert record["metrics"]["n"] == len(held_out)
    for approach in (baselines.MAJORITY, baselines.IMAGE_STATS):
        predictions = opened.predictions(approach)
        assert set(predictions["image_id"]) == predicted  # kaggle_test too: submissions work
        proba = predictions[[f"prob_{name}" for name in opened.classes]].to_numpy()
        assert np.allclose(proba.sum(axis=1), 1)
        assert set(opened.approach(approach)["metrics"]["accuracy_by_view"]) == {"top", "bottom"}
    majority = opened.approach(baselines.MAJORITY)
    assert majority["metrics"]["accuracy"] == pytest.approx(opened.manifest["reference"]["majority_rate"])
    reference = opened.manifest["reference"]
    assert set(opened.predictions(baselines.MAJORITY)["pred_label"]) == {reference["majority_class"]}
    stats = pd.read_parquet(demo_bundle / opened.manifest["features"]["image_stats"]["file"])
    assert stats["image_id"].tolist() == images["image_id"].tolist()


def test_confounder_report_layout(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    report = opened.diagnostics(baselines.CONFOUNDERS)
    images = opened.images()
    labelled = images[images["split"] != split.KAGGLE_TEST]
    assert list(report["per_class"]) == opened.classes
    for name in opened.classes:
        profile = report["per_class"][name]
        assert profile["n"] == int((labelled["label"] == name).sum())
        assert len(profile["width"]["quantiles"]) == len(report["quantile_levels"])
        assert profile["width"]["quantiles"] == sorted(profile["width"]["quantiles"])
        assert sum(profile["view_shares"].values()) == pytest.approx(1)
        assert sum(report["histograms"]["height"]["counts"][name]) == profile["n"]
    assert report["kaggle_test"]["n"] == int((images["split"] == split.KAGGLE_TEST).sum())
    assert report["by_view"]["top"]["saturation"] > report["by_view"]["bottom"]["saturation"]
    assert report["shortcut_accuracy"]["all"] == pytest.approx(
        opened.approach(baselines.IMAGE_STATS)["metrics"]["accuracy"])
    assert {entry["feature"] for entry in report["permutation_importance"]} == set(baselines.FEATURE_GROUPS["all"])


def test_finished_baselines_are_skipped_unless_forced(demo_bundle, tmp_path, monkeypatch):
    out = tmp_path / "bundle"
    shutil.copytree(demo_bundle, out)
    fits: list = []
    real_fit = baselines.fit_image_stats_model
    monkeypatch.setattr(baselines, "fit_image_stats_model", lambda *args, **kwargs: fits.append(1) or real_fit(
        *args, **kwargs))
    data = demo.demo_data_folder(demo_bundle)
    used = bundle.read_manifest(demo_bundle)["split"]  # the same split keeps the finished approaches
    options = {"eval_fraction": used["eval_fraction"], "folds": used["n_folds"], "seed": used["seed"], "demo": True}
    opened = run_baselines(data, out, **options)
    assert fits == [] and "image_stats" in opened.manifest["features"]
    run_baselines(data, out, force=True, **options)
    assert len(fits) == len(baselines.FEATURE_GROUPS)  # the all-features model is fitted once, reused
    (out / bundle.DIAGNOSTICS / "confounders.json").unlink()
    run_baselines(data, out, **options)
    assert (out / bundle.DIAGNOSTICS / "confounders.json").is_file()


def test_no_baselines_option(synthetic_data, tmp_path):
    opened = run_baselines(synthetic_data, tmp_path / "bundle", baselines=False)
    assert opened.approaches == []


def test_majority_ties_follow_the_reference():
    labels = np.array(["b", "a", "a", "b", "c"])
    proba = baselines.majority_proba(labels, ["b", "a", "c"], 3)
    assert proba.shape == (3, 3) and np.allclose(proba.sum(axis=1), 1)
    assert np.allclose(proba[0], [0.4, 0.4, 0.2])
    reference = metrics.reference_rates(labels, labels, ["b", "a", "c"])["majority_class"]
    assert ["b", "a", "c"][int(np.argmax(proba[0]))] == reference == "a"


def test_class_never_seen_in_training_gets_zero():
    table = pd.DataFrame({"width": [10.0, 11, 30, 31] * 10, "view": ["top"] * 40,
                          "label": ["pure", "pure", "broken", "broken"] * 10})
    frame = baselines.feature_frame(table, ["width", "view"], ["top", "bottom"])
    model = baselines.fit_image_stats_model(frame, table["label"].to_numpy())
    proba = metrics.class_proba(model, frame.head(4), ["broken", "silkcut", "pure"])
    assert np.allclose(proba[:, 1], 0) and np.allclose(proba.sum(axis=1), 1)
    assert proba[0, 2] > 0.5 and proba[2, 0] > 0.5


def test_real_sample_without_network(real_sample, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline run")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert commands.main(["run", "--data", str(real_sample), "--out", str(tmp_path / "b"), "-q"]) == 0
    opened = bundle.open_bundle(tmp_path / "b")
    majority = opened.approach(baselines.MAJORITY)["metrics"]["accuracy"]
    image_stats = opened.approach(baselines.IMAGE_STATS)["metrics"]["accuracy"]
    assert majority == pytest.approx(0.25)  # the sample is balanced
    assert image_stats > 0.35  # trivial statistics already predict the class (0.53 when written)
    report = opened.diagnostics(baselines.CONFOUNDERS)
    assert report["per_class"]["silkcut"]["width"]["mean"] > report["per_class"]["broken"]["width"]["mean"] + 10
    assert report["by_view"]["top"]["saturation"] > report["by_view"]["bottom"]["saturation"] + 15
