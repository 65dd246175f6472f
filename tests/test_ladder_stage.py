"""The ladder stage in the demo bundle: every rung an approach, the ladder and the verdict written."""

from __future__ import annotations

import json

import pytest

from analysis.core import bundle
from analysis.ladder import rungs
from analysis.stages import ladder
from analysis.present import report

KEY = "CornLens-Tiny:random"


def test_every_rung_is_an_approach_with_a_submission(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    assert (opened.images()["split"] == "kaggle_test").sum() == 60  # the demo has a test set: submissions are due
    ids = {record["id"] for record in opened.approaches}
    submissions = opened.manifest["submissions"]
    for name in rungs.COMPUTED_RUNGS:
        record = opened.approach(f"{name}:{KEY}")
        assert record["kind"] == name and record["model_key"] == KEY
        assert record["params"]["trained_on"] == "train"
        assert submissions[f"{name}:{KEY}"]["rows"] > 0
        assert (demo_bundle / submissions[f"{name}:{KEY}"]["file"]).is_file()
    assert {f"{name}:{KEY}" for name in rungs.COMPUTED_RUNGS} <= ids
    agreement = opened.diagnostics("agreement")
    assert {f"{name}:{KEY}" for name in rungs.COMPUTED_RUNGS} <= set(agreement["approaches"])


def test_ladder_reports_the_prompt_set_chosen_on_training_images(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    found = opened.diagnostics(f"ladder:{KEY}")
    zeroshot = [record for record in opened.approaches_of_kind("zeroshot")]
    by_train = max(zeroshot, key=lambda record: record["train_accuracy"])
    assert found["rungs"][0]["rung"] == "zeroshot" and found["rungs"][0]["approach_id"] == by_train["id"]
    assert found["prompt_choice"]["oracle_prompt_set"] == max(zeroshot, key=lambda r: r["metrics"]["accuracy"])[
        "prompt_set"]
    assert opened.diagnostics(f"autopsy:{KEY}")["best_prompt_set"] == by_train["prompt_set"]
    assert [row["rung"] for row in found["rungs"]] == ["zeroshot", "zeroshot-calibrated", "zeroshot-worded",
                                                       "zeroshot-worded-calibrated", "centroid", "knn", "probe",
                                                       "finetune"]
    assert {step["step"] for step in found["steps"]} == {"bias", "wording", "alignment", "neighbours", "directions",
                                                         "features"}
    assert [row["class"] for row in found["alignment"]] == opened.classes
    silkcut = next(row for row in found["alignment"] if row["class"] == "silkcut")
    assert silkcut["tokens"] == [["silk", "cut"]]


def test_verdict_warns_about_random_weights_and_scratch_training(demo_bundle):
    found = bundle.open_bundle(demo_bundle).diagnostics("verdict")
    assert [row["row"] for row in found["rows"]] == ["zero-shot vs majority", "probe vs zero-shot",
                                                     "probe vs image statistics", "ConvNeXt vs probe"]
    assert all(row["available"] for row in found["rows"])
    assert any("random weights" in warning for warning in found["warnings"])
    assert any("from scratch" in warning for warning in found["warnings"])
    markdown = report.render_markdown(bundle.open_bundle(demo_bundle))
    assert markdown.index("**Verdict**") < markdown.index("| approach | accuracy |")
    assert "**Where the points go (CornLens-Tiny:random)**" in markdown and "| zero-shot, calibrated |" in markdown


def test_the_attribution_resamples_the_held_out_groups(demo_bundle, monkeypatch):
    """The ladder's attribution uses the same cluster bootstrap as every other interval (issue 21)."""
    import numpy as np

    from analysis.data import split
    from analysis.ladder import attribution, summary

    opened = bundle.open_bundle(demo_bundle)
    images = opened.images()
    held_out = images[images["split"] == split.EVAL]
    given = {}
    real = attribution.attribute
    monkeypatch.setattr(attribution, "attribute", lambda *args, **kwargs: given.update(kwargs) or real(*args, **kwargs))
    found = summary.summary(opened, KEY)["attribution"]
    expected = split.interval_groups(held_out)
    assert expected is not None and len(expected) == len(held_out)
    assert np.array_equal(given["groups"], expected)
    stored = opened.diagnostics(f"ladder:{KEY}")["attribution"]  # what the stage stored: the same intervals
    assert [part["ci"] for part in found["parts"]] == [pytest.approx(part["ci"]) for part in stored["parts"]]


def test_wordings_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "words.json"
    bad.write_text(json.dumps({"broken": "cracked"}))
    with pytest.raises(ladder.WordingsError, match="words.json"):
        ladder.read_wordings(bad)
    with pytest.raises(ladder.WordingsError, match="not found"):
        ladder.read_wordings(tmp_path / "missing.json")


def test_the_shipped_corn_wordings_are_candidates_for_the_corn_classes():
    found = ladder.wordings([], ["pure", "broken", "discolored", "silkcut"])
    assert ("cracked", "wordings corn") in found["broken"] and ("mouldy", "wordings corn") in found["discolored"]
    assert ladder.wordings([], ["cat", "dog"]) == {"cat": [], "dog": []}


def test_rungs_from_an_older_recipe_are_recomputed_by_a_plain_run(demo_bundle):
    """The rungs' recipe is one of the ladder stage's inputs: a bundle that recorded none (or an older
    one) has its rungs recomputed without --force; the same recipe skips them."""
    from analysis.core import jsonfile
    from analysis.stages import runner

    recorded = bundle.open_bundle(demo_bundle).manifest["inputs"]["ladder"]
    units = {unit: parts for unit, parts in recorded.items() if "model" in parts}
    assert units  # every CLIP model's rungs record their inputs
    for parts in units.values():
        assert parts["method"] == jsonfile.digest({"rungs": rungs.METHOD_VERSION})
        older = {part: digest for part, digest in parts.items() if part != "method"}
        assert runner.why_run(older, parts, force=False) == "the method changed"
        assert runner.why_run(parts, parts, force=False) is None
