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


def crossed_winners(seed: int = 0):
    """Embeddings where every choice of the climb has one winner on the training rows and another on
    the held-out rows.

    Dimensions 0–23 place images in four regions (one per class) where k-NN lives; 24–27 are the
    directions of the "train" prompt set's classes, 28–31 those of the "held-out" set. Training images
    lean (weakly) on their label's "train" direction, held-out images on the "held-out" one, so each
    prompt set (and each wording made of it) is perfect on one side and at chance on the other. In each
    region 60% of the training images are of its class, the rest of the others, and training images come
    in tight twin pairs split across folds: in cross-validation the single nearest neighbour (the twin)
    is always right and a wide vote only 60%; held-out images, placed at random in their class's region,
    are found by a wide vote and missed 40% of the time by the nearest neighbour.
    """
    rng = np.random.default_rng(seed)
    dim, n_classes = 32, len(CLASSES)
    rows, labels, train = [], [], []

    def image(region: int, label: int, text_direction: int) -> np.ndarray:
        point = np.zeros(dim)
        point[region] = 3.0
        point[4:24] = rng.normal(size=20)
        point[text_direction] = 0.6
        return point

    for region in range(n_classes):
        pair_labels = [region] * 9 + [other for other in range(n_classes) if other != region] * 2
        for label in pair_labels:
            base = image(region, label, 24 + label)
            for _ in range(2):  # twins
                rows.append(base + rng.normal(scale=0.01, size=dim))
                labels.append(label)
                train.append(True)
        for _ in range(30):
            rows.append(image(region, region, 28 + region))
            labels.append(region)
            train.append(False)
    images, label_index, is_train = rungs.normalize(np.asarray(rows)), np.asarray(labels), np.asarray(train)
    pair = np.cumsum(is_train) // 2  # twins share a pair number
    folds = np.where(is_train, (pair + np.arange(len(rows))) % 4, -1)  # twins land in different folds
    sets = {"train": np.eye(dim)[24:28], "held-out": np.eye(dim)[28:32]}
    return images, np.asarray(CLASSES, dtype=object)[label_index], label_index, is_train, folds, sets


def test_climb_chooses_on_the_training_rows_where_the_held_out_winner_differs():
    images, labels, index, is_train, folds, sets = crossed_winners()
    held_out = ~is_train

    def candidates(prompt_set):
        return [[rungs.Wording(name, "prompt set", sets[prompt_set][c]),
                 rungs.Wording(f"{name} (other)", "wordings file", sets["held-out" if prompt_set == "train" else "train"][c])]
                for c, name in enumerate(CLASSES)]

    grid = (1, 3, 5, 9, 15, 25)
    climbed = rungs.climb(images, labels, is_train, folds, CLASSES, sets, 100.0, candidates, held_out,
                          is_eval=held_out, k_grid=grid)
    # the prompt set: perfect on training rows, at chance on held-out ones — and the other way round
    assert climbed.prompt_choice["train_accuracy"] == {"train": 1.0, "held-out": pytest.approx(0.25, abs=0.05)}
    assert climbed.prompt_choice["prompt_set"] == "train" and climbed.prompt_choice["oracle_prompt_set"] == "held-out"
    # the wording: the chosen set's own, though the other wins on the held-out rows
    worded = climbed.rungs["zeroshot-worded"].choice["wordings"]
    assert [worded[name]["text"] for name in CLASSES] == CLASSES
    own = rungs.accuracy(index[held_out], rungs.zeroshot_logits(images[held_out], sets["train"], 100).argmax(1))
    other = rungs.accuracy(index[held_out], rungs.zeroshot_logits(images[held_out], sets["held-out"], 100).argmax(1))
    assert other > own + 0.5
    # k: the twin (k = 1) wins the cross-validation on the training rows, a wide vote wins on held-out rows
    assert climbed.rungs["knn"].choice["k"] == 1
    held_out_accuracy = {k: KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")
                         .fit(images[is_train], index[is_train]).score(images[held_out], index[held_out])
                         for k in grid}
    assert max(held_out_accuracy, key=held_out_accuracy.get) > 1
    assert max(held_out_accuracy.values()) > held_out_accuracy[1] + 0.2


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


def test_both_fixes_find_the_words_a_calibration_fitted_on_the_old_words_hides():
    """Bias and an unknown word at once (tests/planted.py): a calibration fitted on the word that points
    nowhere gives silkcut an offset under which the good description gains nothing, so a search from it
    alone keeps the old word; the search from the worded rung's words finds it, and the rung keeps it."""
    from tests.planted import CORN, planted

    case = planted("bias+wording", n=1000, shares=CORN, seed=3)
    train, index = case.images[case.is_train], rungs.label_indices(case.labels[case.is_train], case.classes)
    candidates = [[rungs.Wording("own", "prompt set", case.prompt_sets["planted"][c])]
                  + [rungs.Wording(text, "candidate", vector) for text, vector in options]
                  for c, options in enumerate(case.wordings)]
    calibration = rungs.fit_calibration(rungs.zeroshot_logits(train, case.prompt_sets["planted"], 100.0), index, 4)
    worded, _ = rungs.choose_wordings(train, index, candidates, 100.0)
    description = len(candidates[3]) - 1
    assert worded[3] == description  # the worded rung alone finds the description
    stale, _ = rungs.worded_calibration(train, index, candidates, 100.0, 4, [([0] * 4, calibration)])
    assert stale[3] == 0
    both, fitted = rungs.worded_calibration(train, index, candidates, 100.0, 4,
                                            [([0] * 4, calibration), (worded, None)])
    assert both[3] == description

    def train_accuracy(chosen, calibrated):
        logits = rungs.zeroshot_logits(train, rungs.worded_embeddings(candidates, chosen), 100.0)
        return rungs.accuracy(index, rungs.apply_calibration(logits, calibrated).argmax(axis=1))

    stale_logits = rungs.zeroshot_logits(train, rungs.worded_embeddings(candidates, stale), 100.0)
    old = rungs.fit_calibration(stale_logits, index, 4)
    assert train_accuracy(both, fitted) > train_accuracy(stale, old) + 0.05
    climbed = rungs.climb(case.images, case.labels, case.is_train, case.folds, case.classes, case.prompt_sets, 100.0,
                          lambda _: candidates, case.is_eval)
    assert climbed.rungs["zeroshot-worded-calibrated"].choice["wordings"]["silkcut"]["text"] == \
        "a kernel with a thin cut on its side"


def test_worded_calibration_without_a_start_says_so():
    images = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="at least one start"):
        rungs.worded_calibration(images, np.arange(4), [[rungs.Wording("w", "c", images[c])] for c in range(4)],
                                 100.0, 4, [])
