"""Kaggle submissions: the sample's exact ids, order and columns, for every approach; clear errors."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from analysis.core import bundle
from analysis.cli import commands
from analysis.stages import submission


def sample_of(opened: bundle.Bundle) -> pd.DataFrame:
    root = opened.manifest["dataset"]["root"]
    return pd.read_csv(f"{root}/sample_submission.csv", dtype=str, keep_default_na=False)


def test_run_writes_one_submission_per_approach_in_the_sample_format(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    sample = sample_of(opened)
    images = opened.images()
    tests = images[images["split"] == "kaggle_test"]
    # the competition's quirk: test.csv ids are zero-padded, the sample's are plain integers
    assert tests["seed_id"].str.startswith("0").any() and not sample["seed_id"].str.startswith("0").any()
    written = opened.manifest["submissions"]
    assert set(written) == {record["id"] for record in opened.approaches}  # baselines included
    for approach, entry in written.items():
        text = (demo_bundle / entry["file"]).read_text()
        frame = pd.read_csv(demo_bundle / entry["file"], dtype=str, keep_default_na=False)
        assert list(frame.columns) == list(sample.columns)
        assert frame["seed_id"].tolist() == sample["seed_id"].tolist()  # same ids, same order, same text
        assert text.splitlines()[0] == "seed_id,label" and entry["filled"] == 0
        predicted = opened.predictions(approach).merge(tests[["image_id", "seed_id"]], on="image_id")
        expected = dict(zip(predicted["seed_id"].astype(int), predicted["pred_label"]))
        assert frame["label"].tolist() == [expected[int(seed_id)] for seed_id in frame["seed_id"]]


def test_submit_command_and_its_errors(demo_bundle, tmp_path, capsys):
    approach = next(record["id"] for record in bundle.open_bundle(demo_bundle).approaches if record["kind"] == "probe")
    out = tmp_path / "probe.csv"
    assert commands.main(["submit", str(demo_bundle), "--approach", approach, "--out", str(out), "-q"]) == 0
    assert out.read_text() == (demo_bundle / bundle.open_bundle(demo_bundle).manifest["submissions"][approach]["file"]
                               ).read_text()
    assert commands.main(["submit", str(demo_bundle), "--approach", "probe:nothing", "--out", str(out), "-q"]) == 1
    assert "no approach 'probe:nothing'" in capsys.readouterr().err


def test_ids_without_a_test_image_get_the_majority_class(demo_bundle, tmp_path):
    opened = bundle.open_bundle(demo_bundle)
    sample = sample_of(opened)
    extended = pd.concat([sample, pd.DataFrame({"seed_id": ["999999"], "label": ["pure"]})], ignore_index=True)
    extended.to_csv(tmp_path / "sample.csv", index=False)
    approach = opened.approaches[-1]["id"]
    info = submission.write_submission(opened, approach, tmp_path / "out.csv", sample=tmp_path / "sample.csv")
    assert info["filled"] == 1 and info["filled_ids"] == ["999999"]
    frame = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert frame["label"].iloc[-1] == opened.manifest["reference"]["majority_class"]
    assert len(frame) == len(sample) + 1

    pd.DataFrame({"seed_id": ["1", "2"], "label": ["pure", "pure"]}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(submission.SubmissionError, match="none of its seed_id values matches"):
        submission.submission_frame(opened, approach, tmp_path / "other.csv")
    with pytest.raises(submission.SubmissionError, match="sample submission not found"):
        submission.submission_frame(opened, approach, tmp_path / "nowhere.csv")


def test_no_test_set_means_no_submission(demo_bundle, tmp_path):
    copy = tmp_path / "b"
    shutil.copytree(demo_bundle, copy)
    images = pd.read_parquet(copy / "images.parquet")
    bundle.write_parquet(copy / "images.parquet", images[images["split"] != "kaggle_test"])
    opened = bundle.open_bundle(copy)
    with pytest.raises(submission.SubmissionError, match="no competition test images"):
        submission.submission_frame(opened, opened.approaches[0]["id"])
