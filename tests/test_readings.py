"""Every sentence true for its bundle: readings that know what the models are, and comparative
words that come from the interval the page shows (issue 24)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from analysis.core import tables, weights
from analysis.core.bundle import open_bundle
from analysis.ladder import summary, verdict
from analysis.present import explain, ladder_panels, panels
from analysis.stats import neighbours, wording

# Sentences that name a cause about CLIP's text side, its tokenizer or language.
CAUSES = re.compile(r"tokenizer cuts|never as one token|text side|point to the wrong place|barely tells the classes|"
                    r"better wording|wording alone", re.I)
# One planted comparison per direction: [low, high] of a paired difference.
PLANTED = {"above": [0.02, 0.09], "below": [-0.071, -0.037], "level": [-0.03, 0.04]}
WORD = {"above": "clearly better", "below": "clearly worse", "level": "not clearly different"}


def comparison(direction: str) -> dict:
    low, high = PLANTED[direction]
    return {"difference": (low + high) / 2, "ci": [low, high], "n": 400, "a": 0.5, "b": 0.5 - (low + high) / 2}


def manifest_with(clip: str, convnext: str, demo: bool = False) -> dict:
    return {"demo": demo, "embeddings": {
        f"ViT-B-32:{clip}": {"kind": "clip_image", "model_key": f"ViT-B-32:{clip}", "model": "ViT-B-32",
                             "pretrained": clip},
        "convnext_tiny": {"kind": "convnext", "model_key": "convnext_tiny", "pretrained": convnext,
                          "weights": convnext}},
        "approaches": [{"id": "baseline:majority", "kind": "baseline", "model_key": "majority"}]}


# --- what the models are ------------------------------------------------------------------------------

@pytest.mark.parametrize("clip, convnext, learnt, said", [
    ("random", "scratch", False, ["has random weights", "trained from scratch"]),
    ("synthetic-captions", "imagenet", True, ["synthetic kernels and their captions"]),
    ("laion400m_e32", "scratch", True, ["trained from scratch"]),
    ("laion400m_e32", "imagenet", True, []),
])
def test_weights_kind_and_banner(clip, convnext, learnt, said):
    manifest = manifest_with(clip, convnext)
    assert weights.learnt(manifest, f"ViT-B-32:{clip}") is learnt
    banner = weights.banner(manifest)
    for phrase in said:
        assert phrase in banner
    assert bool(banner) is bool(said)  # said for every bundle with such a model, demo or not
    assert (not weights.untrained(manifest)) is (not said)
    assert "Demo bundle" in weights.banner({**manifest, "demo": True})


def test_readings_under_random_weights_describe_mechanics():
    rows = [{"class": "pure", "wording": "pure", "cosine": {"pure": 0.011, "broken": 0.04}, "own_cosine": 0.011,
             "own_rank": 2, "closest_class": "broken", "tokens": [["dis", "col", "ored"]], "flags": []}]
    assert "tokenizer cuts" in ladder_panels.read_alignment(rows)  # pretrained: the cause may be named
    text = ladder_panels.read_alignment(rows, learnt=False)
    assert not CAUSES.search(text) and "nearly orthogonal" in text and "0.01 to 0.04" in text
    gap = {"overall": 1.35, "per_class": {"pure": 1.3}, "image_text_cosine": {"pure": 0.01, "broken": 0.04}}
    assert "random weights" in explain.read_modality_gap(gap, learnt=False)
    similar = explain.read_similarity([[1, 0.99], [0.99, 1]], [[1, 0.5], [0.5, 1]], ["pure", "broken"], learnt=False)
    assert not CAUSES.search(similar) and "random" in similar
    assert CAUSES.search(explain.read_similarity([[1, 0.99], [0.99, 1]], [[1, 0.5], [0.5, 1]], ["pure", "broken"]))
    templates = [{"prompt_set": "a", "template": "x", "accuracy": 0.3}, {"prompt_set": "a", "template": "y",
                                                                       "accuracy": 0.4}]
    assert not CAUSES.search(explain.read_templates(templates, {"pure": 5, "broken": 5}, learnt=False))
    assert "text side" not in summary.probe_diagnosis(comparison("above"), None, learnt=False)


def test_text_search_reading_under_random_weights():
    ranked = pd.DataFrame({"label": ["pure", "broken"] * 30, "similarity": [0.04 - i * 1e-3 for i in range(60)]})
    table = neighbours.similarity_by_class(ranked, ["pure", "broken"], 50)
    assert "× chance" in neighbours.read_similarity_by_class(table, "silkcut", 50, True, ranked["similarity"])
    text = neighbours.read_similarity_by_class(table, "silkcut", 50, False, ranked["similarity"])
    assert "random direction" in text and "× chance" not in text
    flat = neighbours.read_similarity_by_class(table, "silkcut", 50, True, [1.0] * 60)
    assert "equally similar" in flat


def test_neighbours_that_do_not_separate_give_no_vote():
    found = pd.DataFrame({"label": ["broken"] * 7 + ["pure"] * 3, "similarity": [1.0] * 10})
    result = neighbours.vote(found, ["pure", "broken"])
    assert result.flat and result.winner is None and not result.agrees_with("broken")
    assert "all 10 nearest training images are equally similar" in result.sentence()
    assert "no neighbourhood" in result.sentence()
    spread = neighbours.vote(found.assign(similarity=[1.0 - i / 100 for i in range(10)]), ["pure", "broken"])
    assert spread.winner == "broken"


# --- words that match the numbers ---------------------------------------------------------------------

@pytest.mark.parametrize("direction", list(PLANTED))
def test_every_comparative_word_comes_from_its_interval(direction):
    planted = comparison(direction)
    assert wording.direction(planted["ci"]) == verdict.clearly(planted) == direction
    said = {
        "probe vs image statistics": summary.probe_diagnosis(comparison("above"), planted),
        "probe vs zero-shot": summary.probe_diagnosis(planted, None),
        "probe vs zero-shot, random": summary.probe_diagnosis(planted, None, learnt=False),
        "ConvNeXt from scratch": summary.finetune_diagnosis(planted, finetuned=False),
        "ConvNeXt fine-tuned": summary.finetune_diagnosis(planted, finetuned=True),
    }
    ladder = {"rungs": [{"rung": "zeroshot", "accuracy": 0.4}, {"rung": "centroid", "accuracy": 0.4},
                        {"rung": "probe", "accuracy": 0.5}, {"rung": "finetune", "accuracy": 0.5,
                                                              "label": summary.SCRATCH_RUNG}],
              "steps": [{"step": "alignment", **planted}, {"step": "features", **planted}], "majority_rate": 0.41}
    sentences = re.split(r"(?<=\.) ", ladder_panels.read_ladder(ladder))
    said["ladder: prototypes"] = next(s for s in sentences if "prototype" in s)
    if direction != "level":
        said["ladder: features"] = next(s for s in sentences if summary.SCRATCH_RUNG in s)
    for name, text in said.items():
        if name == "probe vs image statistics" and direction == "above":
            assert text.count("trivial image statistics") == 0, name  # a clear gain needs no sentence
            continue
        if direction == "above" and name in ("ladder: prototypes",):
            assert "recover" in text and "not clearly" not in text, (name, text)
            continue
        if name == "probe vs zero-shot, random" and direction == "above":
            assert "measures the tool" in text, text
            continue
        if name in ("probe vs zero-shot",) and direction == "above":
            assert "hold what zero-shot misses" in text, text
            continue
        if name == "ConvNeXt fine-tuned" and direction == "above":
            assert "gains beyond" in text, text
            continue
        assert WORD[direction] in text, (name, direction, text)
        for other in set(WORD.values()) - {WORD[direction]}:
            assert other not in text, (name, direction, text)


@pytest.mark.parametrize("interval, word", [([0.30, 0.36], "clearly below"), ([0.45, 0.5], "clearly above"),
                                            ([0.38, 0.44], "level with")])
def test_versus_the_majority_rate_takes_the_interval_shown(interval, word):
    assert explain.versus(0.41, 0.41, interval).startswith(word)


def test_finetuned_only_for_pretrained_weights():
    assert "fine-tun" not in summary.finetune_diagnosis(comparison("below"), finetuned=False).lower()
    assert summary.rung_label("finetune", {"pretrained": "scratch"}) == summary.SCRATCH_RUNG
    assert summary.rung_label("finetune", {"pretrained": "imagenet"}) == "fine-tuned ConvNeXt"
    assert "fine-tuned" not in explain.read_weights({"weights": "scratch"})


def test_superlatives_list_ties():
    matrix = [[5, 0, 0], [3, 0, 0], [3, 0, 0]]  # broken and discolored both at recall 0, both 3 times as pure
    text = explain.read_confusion(matrix, ["pure", "broken", "discolored"])
    assert "*broken* and *discolored*" in text and "hardest classes" in text
    assert "*broken* taken for *pure*, *discolored* taken for *pure*" in text


# --- a whole bundle with random weights ---------------------------------------------------------------

def test_no_page_of_a_random_weights_bundle_names_a_cause(demo_bundle, tmp_path):
    """The demo bundle, also marked as real data (random weights on real images must say so too):
    every panel's reading and the verdict describe the mechanics, and every page says the weights are random."""
    import shutil

    folder = tmp_path / "bundle"
    shutil.copytree(demo_bundle, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "demo": False}))
    opened = open_bundle(folder)
    assert "has random weights" in weights.banner(opened.manifest)
    source = panels.BundleSource(opened)
    from analysis.core import records
    texts = []
    for key in records.best_per_model(opened.approaches, records.ZEROSHOT):
        texts += [panel.reading for panel in panels.build_all(panels.AUTOPSY_PANELS, panels.autopsy_data(source, key))]
    found = summary.verdict_of(opened)
    texts += [row["diagnosis"] for row in found["rows"]] + found["warnings"]
    for text in texts:
        assert not CAUSES.search(text), text
    for row in found["rows"]:
        if row["available"]:
            assert "fine-tuned" not in row["text"], row["text"]  # the demo's ConvNeXt is trained from scratch
            if row["direction"] == "below":
                assert "not clearly" not in row["diagnosis"], row


def test_zero_shot_against_the_majority_takes_the_verdicts_word_on_every_page():
    """Home, the autopsy and the report say what the verdict says about zero-shot against the majority
    class (its paired test at the verdict's level), not a word from another interval."""
    found = {"approaches": {"zeroshot": "zeroshot:M:a"},
               "rows": [{"row": "zero-shot vs majority", "available": True, "direction": "level"}]}
    below = [0.30, 0.40]  # its own 95% interval lies below the 41% majority rate
    assert wording.versus_majority("zeroshot:M:a", 0.35, 0.41, below, found) == "level with (within its interval)"
    assert wording.versus_majority("zeroshot:M:b", 0.35, 0.41, below, found) == "clearly below"  # another run
    assert wording.versus_majority("zeroshot:M:a", 0.35, 0.41, below, None) == "clearly below"
    table = pd.DataFrame({"id": ["zeroshot:M:a"], "approach": ["zero-shot a"], "source": [tables.SOURCE_BUNDLE],
                          "accuracy": [0.35], "ci_low": below[:1], "ci_high": below[1:]})
    records = [{"id": "zeroshot:M:a", "kind": "zeroshot", "model_key": "M", "prompt_set": "a", "train_accuracy": 0.3,
                "metrics": {"accuracy": 0.35, "accuracy_ci": below}}]
    said = explain.read_headline(table, {"majority_rate": 0.41, "majority_class": "pure"}, records, found)
    assert "level with (within its interval) the 41%" in said, said
    autopsy = {"best_prompt_set": "a", "prompt_sets": [{"name": "a", "approach_id": "zeroshot:M:a", "accuracy": 0.35,
                                                        "accuracy_ci": below}]}
    assert "level with (within its interval) the 41%" in explain.read_prompt_ladder(autopsy, 0.41, True, found)
