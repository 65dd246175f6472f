"""The demo banner: planted causes against the causes the verdict names (no model, no bundle on disk)."""

from __future__ import annotations

from pathlib import Path

from analysis.core.bundle import Bundle
from analysis.present import demo_story
from analysis.present.report import document

PLANTED = [{"cause": "bias", "class": "silkcut", "planted": "how bias was planted"},
           {"cause": "wording", "class": "discolored", "planted": "how wording was planted"}]


def attribution(*causes: str) -> dict:
    return {"attribution": {"causes": [{"cause": cause, "points": 5.0, "ci": [1.0, 9.0]} for cause in causes]}}


def test_every_planted_cause_found_and_nothing_else():
    manifest = {"demo": True, demo_story.PLANTED_KEY: PLANTED}
    lead, *lines = demo_story.lines(manifest, attribution("wording", "bias"))
    assert "plant known causes" in lead  # two planted: plural
    assert lines == ["planted class bias (silkcut): how bias was planted — the verdict finds it.",
                     "planted wording (discolored): how wording was planted — the verdict finds it.",
                     "The verdict names every planted cause and nothing else."]


def test_a_missed_cause_and_an_unplanted_one_are_said():
    told = demo_story.story({"demo": True, demo_story.PLANTED_KEY: PLANTED}, attribution("bias", "alignment"))
    assert [cause["found"] for cause in told.planted] == [True, False] and told.unplanted == ["alignment"]
    _, *lines = demo_story.lines({"demo": True, demo_story.PLANTED_KEY: PLANTED}, attribution("bias", "alignment"))
    assert "the verdict does not find it" in lines[1]
    assert lines[2] == "The verdict also names alignment, which was not planted."


def test_without_attribution_the_ladder_steps_clearly_above_zero_are_the_named_causes():
    ladder = {"steps": [{"step": "bias", "ci": [0.02, 0.1]}, {"step": "wording", "ci": [-0.01, 0.05]},
                        {"step": "alignment", "ci": [0.01, 0.2]}, {"step": "directions", "ci": [0.1, 0.2]}]}
    assert demo_story.named_causes({"rows": []}, ladder) == ["bias", "alignment"]
    assert demo_story.named_causes(None, ladder) is None


def test_no_verdict_yet_and_nothing_planted():
    _, *lines = demo_story.lines({"demo": True, demo_story.PLANTED_KEY: PLANTED}, None)
    assert all(line.endswith("no verdict yet.") for line in lines)
    assert demo_story.lines({"demo": True}, attribution("bias")) == []  # random weights: nothing planted
    assert demo_story.lines({"demo": False, demo_story.PLANTED_KEY: PLANTED}, None) == []


def test_the_report_banner_says_what_the_model_is_and_escapes_the_bundle_text(tmp_path: Path):
    planted = [{"cause": "bias", "class": "<b>x</b>", "planted": "<script>alert(1)</script>"}]
    manifest = {"demo": True, demo_story.PLANTED_KEY: planted, "embeddings": {"CornLens-Tiny:demo": {
        "kind": "clip_image", "model_key": "CornLens-Tiny:demo", "pretrained": "/x/demo.safetensors",
        "weights": "synthetic-captions"}}}
    html = str(document.demo_banner(Bundle(tmp_path, manifest)))
    assert "<script>" not in html and "&lt;script&gt;" in html and "Demo bundle" in html
    assert "trained on synthetic kernels and their captions only" in html and "not a real CLIP" in html


def test_the_attribution_may_be_stored_with_the_ladder():
    assert demo_story.named_causes({"rows": []}, attribution("wording")) == ["wording"]
