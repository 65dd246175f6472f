"""The ladder's rungs on constructed embeddings: each rung wins back what was planted for it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score, PredefinedSplit
from sklearn.neighbors import KNeighborsClassifier

from analysis.stats import alignment
from analysis.ladder import rungs, verdict

CLASSES = ["pure", "broken", "discolored", "silkcut"]
SHARES = (0.4, 0.3, 0.2, 0.1)


def clusters(n: int = 800, dim: int = 32, noise: float = 0.9, common: float = 3.0, seed: int = 0):
    """Images around one centre per class plus a large shared direction (as CLIP images share one)."""
    rng = np.random.default_rng(seed)
    centres = rungs.normalize(rng.normal(size=(len(CLASSES), dim)))
    shared = rungs.normalize(rng.normal(size=dim))
    label_index = rng.choice(len(CLASSES), size=n, p=SHARES)
    images = rungs.normalize(common * shared + centres[label_index] + noise * rng.normal(size=(n, dim)) / np.sqrt(dim) * 4)
    is_train = np.arange(n) < int(0.75 * n)
    folds = np.where(is_train, np.arange(n) % 4, -1)
    labels = np.asarray(CLASSES, dtype=object)[label_index]
    return images, labels, label_index, is_train, folds, centres, shared


def wordings_of(embeddings: np.ndarray):
    """Candidates that are just each class's set wording."""
    return lambda prompt_set: [[rungs.Wording(name, "prompt set", row)] for name, row in zip(CLASSES, embeddings)]


def test_planted_class_bias_is_mostly_recovered_by_calibration():
    images, labels, index, is_train, folds, centres, shared = clusters()
    biased = centres.copy()
    biased[3] = rungs.normalize(centres[3] + 1.5 * shared)  # silkcut's prompt leans on what every image shares
    held_out = ~is_train
    fair = rungs.accuracy(index[held_out], rungs.zeroshot_logits(images[held_out], centres, 100).argmax(1))
    climbed = rungs.climb(images, labels, is_train, folds, CLASSES, {"biased": biased}, 100.0,
                           wordings_of(biased), held_out)
    zeroshot = rungs.accuracy(index[held_out], rungs.zeroshot_logits(images[held_out], biased, 100).argmax(1))
    calibrated = rungs.accuracy(index[held_out], climbed.proba["zeroshot-calibrated"].argmax(1))
    assert zeroshot < fair - 0.3, "the planted bias must cost accuracy for the test to mean anything"
    assert calibrated - zeroshot >= 0.8 * (fair - zeroshot)
    offsets = climbed.rungs["zeroshot-calibrated"].choice["offsets"]
    assert int(np.argmin(offsets)) == 3  # the over-answered class is pushed down


def test_calibration_recovers_a_known_temperature_and_offsets():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=3, size=(20000, 4))
    truth = np.array([0.8, -0.3, 0.1, -0.6])
    proba = rungs.apply_calibration(logits, {"temperature": 2.0, "offsets": truth})
    labels = (proba.cumsum(1) > rng.random((len(logits), 1))).argmax(1)
    fitted = rungs.fit_calibration(logits, labels, 4)
    assert fitted["temperature"] == pytest.approx(2.0, rel=0.08)
    assert np.allclose(fitted["offsets"], truth - truth.mean(), atol=0.08)


def test_planted_bad_wording_is_replaced_by_the_good_one():
    images, labels, index, is_train, folds, centres, _ = clusters(seed=2)
    bad = rungs.Wording("cracked", "prompt set corn", centres[2])   # broken's set wording points at discolored
    good = rungs.Wording("broken", "wordings file", centres[1])
    other = rungs.Wording("chipped", "wordings file", rungs.normalize(centres[1] + 3 * centres[0]))
    set_embeddings = centres.copy()
    set_embeddings[1] = centres[2]

    def candidates(prompt_set):
        per_class = [[rungs.Wording(name, "prompt set", row)] for name, row in zip(CLASSES, set_embeddings)]
        per_class[1] = [bad, other, good]
        return per_class

    climbed = rungs.climb(images, labels, is_train, folds, CLASSES, {"corn": set_embeddings}, 100.0, candidates,
                           ~is_train)
    worded = climbed.rungs["zeroshot-worded"]
    assert worded.choice["wordings"]["broken"] == {"text": "broken", "source": "wordings file"}
    assert worded.choice["wordings"]["pure"]["text"] == "pure"
    chosen = [row for row in worded.details["candidates"] if row["chosen"]]
    assert [row["class"] for row in chosen] == CLASSES
    held_out = ~is_train
    assert rungs.accuracy(index[held_out], climbed.proba["zeroshot-worded"].argmax(1)) > \
        rungs.accuracy(index[held_out], rungs.zeroshot_logits(images[held_out], set_embeddings, 100).argmax(1)) + 0.1


def test_the_training_best_prompt_set_is_reported_not_the_held_out_best():
    choice = rungs.choose_prompt_set({"a-photo-of": 0.61, "corn": 0.55}, {"a-photo-of": 0.40, "corn": 0.47})
    assert choice["prompt_set"] == "a-photo-of"
    assert choice["oracle_prompt_set"] == "corn" and choice["oracle_accuracy"] == 0.47
    assert choice["chosen_eval_accuracy"] == 0.40


def test_climb_chooses_the_prompt_set_on_the_training_rows_only():
    images, labels, index, is_train, folds, centres, _ = clusters(seed=3)
    held_out = ~is_train
    # "flip" swaps two classes' prompts on the held-out rows' favourite … by being right only on train rows:
    # score both sets on train and eval and check the choice follows train.
    noisy = rungs.normalize(centres + 0.8 * np.random.default_rng(4).normal(size=centres.shape))
    sets = {"clean": centres, "noisy": noisy}
    climbed = rungs.climb(images, labels, is_train, folds, CLASSES, sets, 100.0, wordings_of(centres), held_out,
                           is_eval=held_out)
    train_scores = climbed.prompt_choice["train_accuracy"]
    assert climbed.prompt_choice["prompt_set"] == max(train_scores, key=train_scores.get)
    assert set(train_scores) == {"clean", "noisy"}
    assert "oracle_prompt_set" in climbed.prompt_choice


def test_centroid_rung_equals_a_hand_computation():
    train = np.array([[3.0, 0, 0], [0, 4, 0], [1, 1, 0], [0, 0, 2]])
    label_index = np.array([0, 0, 1, 1])
    centroids = rungs.class_centroids(train, label_index, 2)
    # class 0: mean of (1,0,0) and (0,1,0) = (.5,.5,0) → (1,1,0)/√2; class 1: mean of (1,1,0)/√2 and (0,0,1)
    half = 1 / np.sqrt(2)
    expected_1 = np.array([half / 2, half / 2, 0.5]) / np.linalg.norm([half / 2, half / 2, 0.5])
    assert np.allclose(centroids, [[half, half, 0], expected_1], atol=1e-6)
    query = np.array([[0.0, 0, 5]])
    assert np.allclose(rungs.centroid_scores(query, centroids), [[0, expected_1[2]]], atol=1e-6)


def test_knn_k_search_matches_scikit_learn_per_fold():
    images, labels, index, is_train, folds, *_ = clusters(n=400, seed=5)
    grid = (1, 5, 15)
    k, table = rungs.choose_k(images[is_train], index[is_train], folds[is_train], 4, grid)
    for row in table:
        model = KNeighborsClassifier(n_neighbors=row["k"], metric="cosine", algorithm="brute")
        expected = cross_val_score(model, images[is_train], index[is_train], cv=PredefinedSplit(folds[is_train]))
        assert np.allclose(row["cv_accuracy_folds"], expected)
    assert k == max(table, key=lambda row: row["cv_accuracy_mean"])["k"]


def test_verdict_paired_interval():
    rng = np.random.default_rng(6)
    a = (rng.random(2000) < 0.6).astype(float)
    b = a.copy()
    flip = rng.choice(2000, size=100, replace=False)
    b[flip] = 0  # b is a minus 100 right answers: a paired difference of at most +5 points
    paired = verdict.paired_difference(a, b, seed=1)
    assert paired["difference"] == pytest.approx((a.sum() - b.sum()) / 2000)
    low, high = paired["ci"]
    assert 0 < low <= paired["difference"] <= high
    # the unpaired interval of two 60% accuracies on 2000 images is about ±3 points; paired is far narrower
    assert high - low < 0.03
    assert verdict.clearly(paired) == "above"
    same = verdict.paired_difference(a, a)
    assert same["ci"] == [0.0, 0.0] and verdict.clearly(same) == "level"
    with pytest.raises(ValueError, match="same images"):
        verdict.paired_difference(a, a[:10])


def test_weight_warnings_name_random_and_scratch_networks():
    records = [{"id": "zeroshot:CornLens-Tiny:random:classname", "kind": "zeroshot", "model": "CornLens-Tiny",
                "pretrained": "random"},
               {"id": "finetune:convnext_atto", "kind": "finetune", "model": "convnext_atto", "pretrained": "scratch",
                "weights": "scratch"},
               {"id": "probe:ViT-B-32:openai", "kind": "probe", "model": "ViT-B-32", "pretrained": "openai"}]
    warnings = verdict.weight_warnings(records)
    assert len(warnings) == 2
    assert "random weights" in warnings[0] and "from scratch" in warnings[1]


def test_alignment_table_flags_split_names_and_misdirected_prompts():
    centres = np.eye(4)
    text = centres[[0, 2, 2, 3]] + 0.1  # broken's prompt points at the discolored images
    rows = alignment.alignment_table(text, centres, CLASSES)
    by_class = {row["class"]: row for row in rows}
    assert by_class["silkcut"]["tokens"] == [["silk", "cut"]]
    assert any("split into 2 pieces" in flag for flag in by_class["silkcut"]["flags"])
    assert by_class["pure"]["tokens"] == [["pure"]] and by_class["pure"]["own_rank"] == 1
    assert by_class["broken"]["own_rank"] > 1 and by_class["broken"]["closest_class"] == "discolored"
    assert "closer to the *discolored* images" in by_class["broken"]["flags"][0]


def test_a_class_without_training_images_is_named():
    with pytest.raises(ValueError, match="class index \\[1\\] has no training image"):
        rungs.class_centroids(np.eye(3), np.array([0, 0, 2]), 3)
    with pytest.raises(ValueError, match="two cross-validation folds"):
        rungs.choose_k(np.eye(3), np.array([0, 1, 1]), np.zeros(3), 2)
