"""The demo's tiny CLIP: its shipped weights, the script that makes them, and the story the demo tells."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from analysis.core import weights
from analysis.models import clip_weights, demo_clip


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads(demo_clip.RECORD.read_text())


def test_shipped_weights_are_small_say_what_they_are_and_match_their_record(record):
    data = demo_clip.WEIGHTS.read_bytes()
    assert len(data) <= 8 * 1024 * 1024
    assert hashlib.sha256(data).hexdigest() == record["sha256"]
    spec = clip_weights.parse_spec(demo_clip.SPEC)  # the path a user's local checkpoint takes
    assert spec.checkpoint == demo_clip.WEIGHTS and spec.key == demo_clip.MODEL_KEY
    assert clip_weights.weights_kind(spec) == clip_weights.SYNTHETIC_CAPTIONS
    assert weights.weights_kind({"weights": clip_weights.weights_kind(spec)}) == weights.SYNTHETIC  # one vocabulary


def test_weights_kind_of_other_weights(tmp_path):
    assert clip_weights.weights_kind(clip_weights.ClipSpec("CornLens-Tiny", "random")) == "random"
    plain = tmp_path / "mine.safetensors"
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(plain))
    assert clip_weights.weights_kind(clip_weights.ClipSpec("CornLens-Tiny", str(plain))) == "checkpoint"
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    assert clip_weights.weights_kind(clip_weights.ClipSpec("CornLens-Tiny", str(broken))) == "checkpoint"


def test_captions_plant_what_the_demo_says():
    labels = np.resize(np.array(["pure", "broken", "discolored", "silkcut"]), 4000)
    texts = np.array(demo_clip.captions(list(labels), np.random.default_rng(0)))
    own = {name: demo_clip.CAPTION_WORDS[name] + tuple(sentence.rstrip(".") for sentence in demo_clip.CAPTION_SENTENCES[name])
           for name in demo_clip.CAPTION_WORDS}
    says = {name: np.array([any(word in text for word in own[name]) for text in texts]) for name in own}
    for name in own:  # every kernel is captioned as its class, in its own words only
        assert says[name][labels == name].all() and not says[name][labels != name].any()
    broken = labels == "broken"
    misworded = np.array([any(text.endswith(f", {phrase}.") for phrase in demo_clip.MISWORDS) for text in texts])
    assert not misworded[~broken].any()
    assert abs(misworded[broken].mean() - demo_clip.MISWORDED_SHARE) < 0.045  # 1,000 broken kernels: ±3 SE
    assert not any("discolo" in text for text in texts[labels == "discolored"])  # the prompts' words: broken's only
    assert not any("discolo" in text for text in texts[~misworded])


def test_the_script_makes_the_shipped_weights(record):
    """The first steps of the same training give the losses recorded when the shipped weights were made."""
    _, made = demo_clip.train(seed=record["seed"], n_images=record["n_images"], steps=record["steps"],
                              stop_after=5)
    assert made["first_losses"] == pytest.approx(record["first_losses"][:5], abs=1e-3)


def test_the_weights_load_as_a_local_checkpoint():
    spec = clip_weights.parse_spec(demo_clip.SPEC)
    model, tokenizer = clip_weights.load_model(spec, torch.device("cpu"))
    with torch.no_grad():
        text = model.encode_text(tokenizer(["a photo of a scratched corn kernel."]), normalize=True)
    assert text.shape == (1, 64) and torch.isfinite(text).all()


@pytest.fixture(scope="module")
def trained_demo(tmp_path_factory):
    """The demo as `python -m analysis demo` builds it, without ConvNeXt (the verdict's causes do not use it)."""
    from analysis.cli import demo

    return demo.build_demo(tmp_path_factory.mktemp("trained-demo") / "bundle", show_progress=False, convnext=[])


@pytest.mark.slow
def test_the_demo_says_what_its_weights_are_and_what_the_verdict_found(trained_demo):
    from analysis.present import demo_story
    from analysis.present.report.findings import diagnostics

    manifest = trained_demo.manifest
    assert [cause["cause"] for cause in manifest["demo_planted_causes"]] == ["wording"]
    records = [record for record in trained_demo.approaches if record.get("model_key") == demo_clip.MODEL_KEY]
    assert records and all(weights.weights_kind(record) == weights.SYNTHETIC for record in records)
    verdict = trained_demo.diagnostics("verdict")
    assert verdict["model_key"] == demo_clip.MODEL_KEY
    # the verdict's own sentence names the cause too (a ConvNeXt from scratch beside the CLIP changes nothing)
    assert "its words (worded rung)" in verdict["rows"][0]["diagnosis"], verdict["rows"][0]["diagnosis"]
    assert any("synthetic kernels and their captions" in warning for warning in verdict["warnings"])
    named = demo_story.named_causes(verdict, trained_demo.diagnostics(f"ladder:{demo_clip.MODEL_KEY}"))
    _, *lines = demo_story.bundle_lines(manifest, lambda name: diagnostics(trained_demo, name))
    assert len(lines) >= len(manifest["demo_planted_causes"])  # one line per planted cause at least
    for cause, line in zip(manifest["demo_planted_causes"], lines):  # the banner says what the verdict names
        assert line.endswith("the verdict finds it." if cause["cause"] in named else "the verdict does not find it.")
    assert "not a real CLIP" in weights.banner(manifest)


@pytest.mark.slow
def test_the_verdict_finds_every_planted_cause_and_nothing_else(trained_demo):
    from analysis.present import demo_story

    verdict = trained_demo.diagnostics("verdict")
    ladder = trained_demo.diagnostics(f"ladder:{demo_clip.MODEL_KEY}")
    found = demo_story.attribution_of(verdict, ladder)
    assert found is not None, "no attribution in the verdict"
    told = demo_story.story(trained_demo.manifest, verdict, ladder)
    assert all(cause["found"] for cause in told.planted) and told.unplanted == []
    # each point counted once: the parts add up to the gap, and the named cause is clearly above 0
    assert sum(part["points"] for part in found["parts"]) == pytest.approx(found["gap"])
    assert all(cause["ci"][0] > 0 for cause in found["causes"])
