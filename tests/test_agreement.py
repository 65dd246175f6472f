"""The agreement table and the label-problems table, on hand-made predictions and on the demo bundle."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd

from analysis.stages import agreement, runner
from analysis.core import bundle, records, tables

CLASSES = ["pure", "broken"]
LABELS = ["pure", "pure", "broken", "broken", "pure"]


def hand_made(path):
    """Five held-out images and approaches whose right/wrong pattern is known."""
    ids = [f"e{i}" for i in range(5)] + ["t0", "t1"]
    images = pd.DataFrame({"image_id": ids, "path": ids, "seed_id": [str(i) for i in range(7)], "view": "top",
                           "label": LABELS + [None, "pure"], "split": ["eval"] * 5 + ["kaggle_test", "train"],
                           "fold": [-1] * 6 + [0], "group": range(7),
                           "content_hash": ["h0", "h1", "h2", "h3", "h4", "h4", "h6"]})
    bundle.create_bundle(path, {"classes": CLASSES, "dataset": {"root": str(path), "fingerprint": "f"}}, images)
    context = runner.RunContext(runner.RunOptions(data=path, out=path, show_progress=False),
                                  types.SimpleNamespace(classes=CLASSES), images, path)
    answers = [  # (kind, model key, prompt set, answer per eval image); the kaggle_test image gets "pure"
        ("baseline", "majority", None, "ppppp"),
        ("zeroshot", "M", "a", "pbbpb"),      # best zero-shot of M (3/5): compared
        ("zeroshot", "M", "b", "bbbbb"),      # a worse prompt set: left out
        ("probe", "M", None, "ppbpb"),        # 4/5... wrong on e3 and e4
        ("finetune", "convnext_atto", None, "pbbbb"),
    ]
    for kind, key, prompt_set, letters in answers:
        predicted = [CLASSES[0] if letter == "p" else CLASSES[1] for letter in letters] + ["pure"]
        proba = np.array([[0.8, 0.2] if label == "pure" else [0.3, 0.7] for label in predicted])
        context.save_approach(kind, ids[:6], proba, model_key=key, prompt_set=prompt_set)
    bundle.save_diagnostics(path, "data", {"problems": [], "duplicates": [
        {"content_hash": "h4", "image_ids": ["e4", "t0"], "labels": ["pure"], "conflicting": False, "leak": True},
        {"content_hash": "hx", "image_ids": ["e0", "e1"], "labels": ["pure", "broken"], "conflicting": True,
         "leak": False}]})
    return context


def test_patterns_and_all_wrong_on_known_predictions(tmp_path):
    context = hand_made(tmp_path / "b")
    runner.run_stage(agreement.STAGE, context)
    opened = bundle.open_bundle(tmp_path / "b")
    found = opened.diagnostics("agreement")
    assert found["approaches"] == ["zeroshot:M:a", "probe:M", "finetune:convnext_atto"]
    assert {entry["id"] for entry in found["left_out"]} == {"baseline:majority", "zeroshot:M:b"}
    # right/wrong per image (zs, probe, finetune): e0 TTT, e1 FTF, e2 TTT, e3 FFT, e4 FFF
    counts = {tuple(p["correct"].values()): p["count"] for p in found["patterns"]}
    assert counts == {(True, True, True): 2, (False, True, False): 1, (False, False, True): 1,
                      (False, False, False): 1}
    assert found["patterns"][0]["count"] == 2 and sorted(found["patterns"][0]["image_ids"]) == ["e0", "e2"]
    assert found["all_wrong"] == ["e4"] and found["n_images"] == 5
    table = tables.agreement_table(found)
    assert table["images"].sum() == 5

    problems = opened.diagnostics("label_problems")
    kinds = [row["problem"] for row in problems["rows"]]
    assert kinds == ["conflicting_labels", "train_test_leak", "all_wrong"]
    assert problems["counts"] == {"conflicting_labels": 1, "train_test_leak": 1, "duplicate": 0, "all_wrong": 1}
    wrong = problems["rows"][-1]
    assert wrong["image_ids"] == ["e4"] and wrong["labels"] == ["pure"]
    assert wrong["true_class_probability"] == 0.3 and "answer otherwise (broken from 3)" in wrong["detail"]
    leak = problems["rows"][1]
    assert leak["labels"] == ["pure", "(unlabelled)"] and leak["splits"] == ["eval", "kaggle_test"]
    assert len(tables.label_problems_table(problems)) == 3


def test_only_baselines_are_compared_when_nothing_else(tmp_path):
    approaches = [{"id": "baseline:majority", "kind": "baseline", "model_key": "majority", "metrics": {"accuracy": 0.4}},
                  {"id": "baseline:image-stats", "kind": "baseline", "model_key": "image-stats",
                   "metrics": {"accuracy": 0.6}}]
    ids, left_out = agreement.compared_approaches(approaches)
    assert ids == ["baseline:image-stats"]  # it looks at the image; always answering the majority class does not
    assert [entry["id"] for entry in left_out] == ["baseline:majority"]
    blind = [{"id": "baseline:majority", "kind": "baseline", "model_key": "majority", "metrics": {"accuracy": 0.4}}]
    assert agreement.compared_approaches(blind)[0] == ["baseline:majority"]  # nothing else: compare what there is


def test_demo_bundle_agreement_covers_every_held_out_image(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    found = opened.diagnostics("agreement")
    n_eval = int((opened.images()["split"] == "eval").sum())
    assert sum(pattern["count"] for pattern in found["patterns"]) == n_eval == found["n_images"]
    kinds = {opened.approach(approach)["kind"] for approach in found["approaches"]}
    assert kinds == {"baseline", "zeroshot", "probe", "finetune", *records.RUNG_KINDS}  # image statistics too
    assert "baseline:image-stats" in found["approaches"] and "baseline:majority" not in found["approaches"]
    problems = opened.diagnostics("label_problems")
    assert problems["counts"]["all_wrong"] == len(found["all_wrong"])
    thumbnails = set(opened.thumbnail_ids())
    assert all(set(row["image_ids"]) <= thumbnails for row in problems["rows"])
