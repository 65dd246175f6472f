"""The linear probe: beats the majority class on separable features, a sane k-shot curve, effective
shots as in the CLIP paper, the zero-shot blend, and the pipeline stage on a hand-made bundle."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle
from analysis.stats import choices
from analysis.stages import runner, probe

CLASSES = ["pure", "broken", "discolored", "silkcut"]
SHARES = [0.41, 0.32, 0.17, 0.10]
KEY = "Tiny:random"


def separable(n: int, dim: int = 32, spread: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Imbalanced classes around distinct means in ``dim`` dimensions, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(CLASSES, size=n, p=SHARES)
    means = rng.normal(size=(len(CLASSES), dim)) * spread
    features = means[[CLASSES.index(label) for label in labels]] + rng.normal(size=(n, dim))
    return features.astype(np.float32), labels


def hand_made_bundle(path, n: int = 320, n_test: int = 40, spread: float = 1.0, zeroshot_quality: float = 0.3,
                     eval_label: str | None = None, zeroshot_right: np.ndarray | None = None):
    """A bundle with images, CLIP-like embeddings of two kinds and two zero-shot approaches.

    ``eval_label``: every held-out image is labelled so (its features stay those of its own class).
    ``zeroshot_right``: which images the zero-shot head answers right (bool per image); the others
    it answers with the next class, always wrong (default: right with ``zeroshot_quality``, else random).
    """
    features, labels = separable(n + n_test, spread=spread)
    rng = np.random.default_rng(1)
    splits = np.array(["train"] * int(n * 0.75) + ["eval"] * (n - int(n * 0.75)) + ["kaggle_test"] * n_test)
    if eval_label is not None:
        labels = np.where(splits == "eval", eval_label, labels)
    image_ids = [f"img{i:04d}.png" for i in range(n + n_test)]
    folds = np.where(splits == "train", rng.integers(0, 4, size=len(splits)), -1)
    images = pd.DataFrame({"image_id": image_ids, "path": image_ids, "seed_id": [f"{i:05d}" for i in range(n + n_test)],
                           "view": rng.choice(["top", "bottom"], size=n + n_test),
                           "label": [None if s == "kaggle_test" else label for s, label in zip(splits, labels)],
                           "split": splits, "fold": folds, "group": np.arange(n + n_test),
                           "content_hash": [f"h{i}" for i in range(n + n_test)]})
    train_labels = images.loc[images["split"] == "train", "label"]
    eval_labels = images.loc[images["split"] == "eval", "label"]
    from analysis.stats import metrics
    manifest = {"classes": CLASSES, "dataset": {"root": str(path), "fingerprint": "f"}, "split": {"seed": 0},
                "reference": metrics.reference_rates(train_labels.to_numpy(), eval_labels.to_numpy(), CLASSES)}
    bundle.create_bundle(path, manifest, images)
    # kind clip_image: pure noise, so a probe that read it instead of the features would fail
    bundle.save_embeddings(path, KEY, rng.normal(size=(n + n_test, 8)).astype(np.float32), kind="clip_image",
                           model_key=KEY, model="Tiny", pretrained="random")
    bundle.save_embeddings(path, f"{KEY}:features", features, kind="clip_features", model_key=KEY,
                           model="Tiny", pretrained="random")
    context = runner.RunContext(runner.RunOptions(data=path, out=path, show_progress=False),
                                  types.SimpleNamespace(classes=CLASSES), images, path)
    # a weak zero-shot head: the true class with probability ``zeroshot_quality``, else random
    right = rng.random(n + n_test) < zeroshot_quality
    true = np.asarray([CLASSES.index(label) if isinstance(label, str) else 0 for label in images["label"]])
    wrong = rng.integers(0, 4, size=n + n_test)
    if zeroshot_right is not None:
        right, wrong = zeroshot_right, (true + 1) % 4
    guess = np.where(right, true, wrong)
    proba = np.full((n + n_test, 4), 0.1)
    proba[np.arange(n + n_test), guess] = 0.7
    context.save_approach("zeroshot", image_ids, proba, model_key=KEY, prompt_set="classname")
    context.save_approach("zeroshot", image_ids, np.roll(proba, 1, axis=1), model_key=KEY, prompt_set="worse")
    return context


def test_probe_clearly_beats_majority_on_separable_features(tmp_path):
    context = hand_made_bundle(tmp_path / "b")
    runner.run_stage(probe.STAGE, context)
    opened = bundle.open_bundle(tmp_path / "b")
    record = opened.approach(f"probe:{KEY}")
    majority = opened.manifest["reference"]["majority_rate"]
    assert record["metrics"]["accuracy"] > majority + 0.3
    assert record["params"]["features"] == f"{KEY}:features"  # clip_features preferred over clip_image
    predictions = opened.predictions(f"probe:{KEY}")
    wanted = set(context.images.loc[context.images["split"].isin(["eval", "kaggle_test"]), "image_id"])
    assert set(predictions["image_id"]) == wanted
    found = opened.diagnostics(f"probe:{KEY}")
    walked = [row["C"] for row in found["c_sweep"]]
    assert walked == sorted(probe.C_GRID)[:len(walked)] and len(walked) >= probe.SWEEP_PATIENCE
    assert found["best_C"] == pytest.approx(choices.one_standard_error_c(found["c_sweep"]))
    assert all(len(row["cv_accuracy_folds"]) == 4 for row in found["c_sweep"])
    # blend reads the best zero-shot approach of the same model key; alpha 0 is the probe alone
    assert found["zeroshot_approach"] == f"zeroshot:{KEY}:classname"
    by_alpha = {row["alpha"]: row["accuracy"] for row in found["blend"]}
    assert by_alpha[0.0] == pytest.approx(record["metrics"]["accuracy"])
    assert by_alpha[1.0] == pytest.approx(found["zeroshot_accuracy"])
    assert found["effective_shots_bound"] in ("interpolated", "at_most")
    # the blend weight is chosen on the training folds: the training accuracy of every row decides it
    by_train = {row["alpha"]: row["train_accuracy"] for row in found["blend"]}
    assert found["blend_alpha"] == min(a for a, value in by_train.items() if value == max(by_train.values()))
    assert found["blend_accuracy"] == by_alpha[found["blend_alpha"]]
    assert found["effective_shots_range"]["how"] in ("between", "at_most", "never_clearly")
    assert sum(found["train_class_counts"].values()) == found["n_train"]


def test_stage_skips_a_finished_probe_unless_forced(tmp_path, monkeypatch):
    context = hand_made_bundle(tmp_path / "b", n=160, n_test=0)
    runner.run_stage(probe.STAGE, context)
    calls = []
    monkeypatch.setattr(probe, "fit_probe", lambda *args, **kwargs: calls.append(args) or (_ for _ in ()).throw(
        AssertionError("refitted")))
    runner.run_stage(probe.STAGE, context)
    assert calls == []
    context.options.force = True
    with pytest.raises(AssertionError, match="refitted"):
        runner.run_stage(probe.STAGE, context)


def test_kshot_curve_rises_in_expectation():
    features, labels = separable(900, spread=0.35, seed=4)
    train, held_out = slice(0, 600), slice(600, None)
    curve = probe.kshot_curve(features[train], labels[train], features[held_out], labels[held_out], C=0.1,
                              draws=6, seed=0)
    ks = [point["k"] for point in curve]
    assert ks[:4] == [1, 2, 4, 8] and curve[-1]["all"] and curve[-1]["n_train"] == 600
    assert all(point["draws"] == 6 for point in curve[:-1]) and curve[-1]["draws"] == 1
    means = [point["mean"] for point in curve]
    # monotone up to the noise of a few draws, and clearly better at the end than with 1 shot
    assert all(later >= earlier - 0.03 for earlier, later in zip(means, means[1:])), means
    assert means[-1] > means[0] + 0.2


def test_kshot_sizes_double_up_to_the_largest_class():
    competition = [5837, 4554, 2504, 1427]  # the full training set's class counts
    assert probe.kshot_sizes(competition) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 5837]
    assert probe.kshot_sizes([4, 3]) == [1, 2, 4]
    rng = np.random.default_rng(0)
    labels = np.array(["a"] * 10 + ["b"] * 3)
    rows = probe.kshot_sample(labels, 4, rng)
    assert sorted(labels[rows].tolist()) == ["a"] * 4 + ["b"] * 3  # a small class gives all it has


def test_effective_shots_on_a_hand_made_curve():
    ks, accuracies = [1, 2, 4, 8, 16], [0.30, 0.40, 0.50, 0.60, 0.70]
    shots, how = probe.effective_shots(ks, accuracies, 0.45)  # halfway between k=2 and k=4 on log2 k
    assert how == "interpolated" and shots == pytest.approx(2 ** 1.5)
    assert probe.effective_shots(ks, accuracies, 0.60) == (pytest.approx(8.0), "interpolated")
    assert probe.effective_shots(ks, accuracies, 0.25) == (1.0, "at_most")
    assert probe.effective_shots(ks, accuracies, 0.75) == (None, "never")
    # a dip after the crossing does not move it: the first crossing counts
    shots, _ = probe.effective_shots([1, 2, 4, 8], [0.2, 0.6, 0.5, 0.7], 0.4)
    assert shots == pytest.approx(2 ** 0.5)


def test_blend_curve_ends_are_the_two_heads():
    # each head is right on one image, confidently, and wrong on the other, hesitantly
    labels = np.array(["pure", "broken"])
    zeroshot = np.array([[0.9, 0.1, 0, 0], [0.55, 0.45, 0, 0]])
    probe_proba = np.array([[0.45, 0.55, 0, 0], [0.1, 0.9, 0, 0]])
    curve = {row["alpha"]: row["accuracy"] for row in probe.blend_curve(zeroshot, probe_proba, labels, CLASSES)}
    assert curve[0.0] == pytest.approx(0.5) and curve[1.0] == pytest.approx(0.5)
    assert curve[0.5] == pytest.approx(1.0)


def test_one_standard_error_rule_breaks_near_ties_towards_stronger_regularisation():
    sweep = [{"C": 0.01, "cv_accuracy_mean": 0.50, "cv_accuracy_folds": [0.50, 0.50, 0.50, 0.50]},
             {"C": 0.1, "cv_accuracy_mean": 0.5599, "cv_accuracy_folds": [0.52, 0.54, 0.58, 0.5996]},
             {"C": 1.0, "cv_accuracy_mean": 0.5600, "cv_accuracy_folds": [0.52, 0.54, 0.58, 0.60]}]
    assert choices.one_standard_error_c(sweep) == 0.1  # 0.0001 below the peak, far inside one standard error
    sweep[1]["cv_accuracy_mean"] = 0.54  # now more than one standard error (0.018) below
    assert choices.one_standard_error_c(sweep) == 1.0
    flat = [{**row, "cv_accuracy_folds": [row["cv_accuracy_mean"]] * 4} for row in sweep]
    assert choices.one_standard_error_c(flat) == 1.0  # no spread: only the peak itself


def test_the_c_sweep_figure_draws_the_line_the_choice_is_read_from():
    from analysis.present import figures

    sweep = [{"C": 0.1, "cv_accuracy_mean": 0.55, "cv_accuracy_std": 0.02, "cv_accuracy_folds": [0.52, 0.54, 0.56, 0.58]},
             {"C": 1.0, "cv_accuracy_mean": 0.56, "cv_accuracy_std": 0.02, "cv_accuracy_folds": [0.53, 0.55, 0.57, 0.59]}]
    best, standard_error = choices.one_standard_error(sweep)
    figure = figures.c_sweep_figure(sweep, choices.one_standard_error_c(sweep))
    lines = [shape.y0 for shape in figure.layout.shapes if shape.y0 == shape.y1 and shape.yref == "y"]
    assert lines == [pytest.approx(0.56 - standard_error)] and choices.one_standard_error_c(sweep) == 0.1


def test_best_c_and_blend_alpha_match_scikit_learn_run_directly(tmp_path):
    """C (one-standard-error rule) and the blend weight recomputed from scratch with scikit-learn's own
    cross-validation (fresh, fully converged fits in float64), not from the stage's output."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import PredefinedSplit, cross_val_predict, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    context = hand_made_bundle(tmp_path / "b", n=320, n_test=0, spread=0.25)
    runner.run_stage(probe.STAGE, context)
    opened = bundle.open_bundle(tmp_path / "b")
    found = opened.diagnostics(f"probe:{KEY}")
    images = opened.images()
    train = (images["split"] == "train").to_numpy()
    features = np.asarray(opened.embeddings(f"{KEY}:features"), dtype=np.float64)[train]
    labels, folds = images.loc[train, "label"].to_numpy(dtype=str), images.loc[train, "fold"].to_numpy()
    cv = PredefinedSplit(folds)

    def model(c):
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=10_000))

    walked = [row["C"] for row in found["c_sweep"]]
    scores = {c: cross_val_score(model(c), features, labels, cv=cv) for c in walked}
    best = max(walked, key=lambda c: scores[c].mean())  # the first (strongest regularisation) on a tie
    standard_error = scores[best].std(ddof=1) / np.sqrt(len(scores[best]))
    expected_c = min(c for c in walked if scores[c].mean() >= scores[best].mean() - standard_error)
    assert found["best_C"] == expected_c
    assert len({row["C"] for row in found["c_sweep"]}) > 2  # a real choice among several values

    out_of_fold = cross_val_predict(model(expected_c), features, labels, cv=cv, method="predict_proba")
    out_of_fold = out_of_fold[:, [sorted(CLASSES).index(name) for name in CLASSES]]  # scikit-learn sorts classes
    zeroshot = opened.predictions(found["zeroshot_approach"]).set_index("image_id")
    zeroshot = zeroshot.loc[images.loc[train, "image_id"], [f"prob_{name}" for name in CLASSES]].to_numpy()
    alphas = [row["alpha"] for row in found["blend"]]
    train_accuracy = [np.mean(np.asarray(CLASSES)[(a * zeroshot + (1 - a) * out_of_fold).argmax(1)] == labels)
                      for a in alphas]
    assert found["blend_alpha"] == alphas[int(np.argmax(train_accuracy))]  # the smallest alpha on a tie
    assert [row["train_accuracy"] for row in found["blend"]] == pytest.approx(train_accuracy, abs=0.02)


# --- crossed winners: the training part decides, though the held-out images would choose otherwise ----

def sklearn_probe(c: float):
    """A fresh, fully converged probe in float64: scikit-learn alone, none of the stage's code."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=10_000))


def sklearn_c(features: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> tuple[float, list[float]]:
    """The C the stage should choose, by hand on scikit-learn's grouped cross-validation: walk
    ``probe.C_GRID`` from strong to weak regularisation, stop after ``SWEEP_PATIENCE`` values in a row
    below the best mean, then take the smallest C within one standard error of the best mean.

    Returns:
        That C and the C values walked.
    """
    from sklearn.model_selection import PredefinedSplit, cross_val_score

    scores, best, since_best = {}, -1.0, 0
    for c in sorted(probe.C_GRID):
        scores[c] = cross_val_score(sklearn_probe(c), features, labels, cv=PredefinedSplit(folds))
        best, since_best = (scores[c].mean(), 0) if scores[c].mean() > best else (best, since_best + 1)
        if since_best >= probe.SWEEP_PATIENCE:
            break
    top = max(scores, key=lambda c: scores[c].mean())
    standard_error = scores[top].std(ddof=1) / np.sqrt(len(scores[top]))
    return min(c for c in scores if scores[c].mean() >= scores[top].mean() - standard_error), list(scores)


def train_and_held_out(opened: bundle.Bundle) -> tuple[np.ndarray, ...]:
    images = opened.images()
    features = np.asarray(opened.embeddings(f"{KEY}:features"), dtype=np.float64)
    train, held_out = (images["split"] == "train").to_numpy(), (images["split"] == "eval").to_numpy()
    labels = images["label"].to_numpy(dtype=str)
    return features, labels, train, held_out, images["fold"].to_numpy()


def test_c_is_chosen_on_the_training_folds_where_the_held_out_winner_differs(tmp_path):
    """Every held-out image is labelled with the majority class (its features stay those of its own
    class): there the most regularised probe, which answers the majority class for (nearly) every
    image, wins; grouped cross-validation on the training part prefers a weaker regularisation."""
    context = hand_made_bundle(tmp_path / "b", n=320, n_test=0, spread=0.25, eval_label="pure")
    runner.run_stage(probe.STAGE, context)
    opened = bundle.open_bundle(tmp_path / "b")
    found = opened.diagnostics(f"probe:{KEY}")
    features, labels, train, held_out, folds = train_and_held_out(opened)

    expected_c, walked = sklearn_c(features[train], labels[train], folds[train])
    held_out_accuracy = {c: sklearn_probe(c).fit(features[train], labels[train]).score(features[held_out],
                                                                                         labels[held_out])
                         for c in walked}
    held_out_winners = {c for c, value in held_out_accuracy.items() if value == max(held_out_accuracy.values())}
    assert found["best_C"] == expected_c
    assert expected_c not in held_out_winners and min(walked) in held_out_winners
    assert held_out_accuracy[min(walked)] > held_out_accuracy[expected_c] + 0.2  # a choice that matters
    assert opened.approach(f"probe:{KEY}")["metrics"]["accuracy"] == pytest.approx(
        held_out_accuracy[expected_c], abs=0.02)  # scored once, at the training part's C


def test_blend_alpha_is_chosen_on_the_training_part_where_the_held_out_winner_differs(tmp_path):
    """Zero-shot answers every training image wrong and every held-out image right: on the training
    part any weight on it can only lose (alpha 0, the probe alone), on the held-out images zero-shot
    alone wins (alpha 1)."""
    from sklearn.model_selection import PredefinedSplit, cross_val_predict

    n = 320
    context = hand_made_bundle(tmp_path / "b", n=n, n_test=0, spread=0.25,
                               zeroshot_right=np.arange(n) >= int(n * 0.75))  # the held-out rows
    runner.run_stage(probe.STAGE, context)
    opened = bundle.open_bundle(tmp_path / "b")
    found = opened.diagnostics(f"probe:{KEY}")
    assert found["zeroshot_approach"] == f"zeroshot:{KEY}:classname"
    features, labels, train, held_out, folds = train_and_held_out(opened)
    zeroshot = opened.predictions(found["zeroshot_approach"]).set_index("image_id")
    zeroshot = zeroshot.loc[opened.images()["image_id"], [f"prob_{name}" for name in CLASSES]].to_numpy()
    order = [sorted(CLASSES).index(name) for name in CLASSES]  # scikit-learn sorts the classes

    def blend_accuracy(alpha, zeroshot_rows, probe_rows, true):
        return np.mean(np.asarray(CLASSES)[(alpha * zeroshot_rows + (1 - alpha) * probe_rows).argmax(1)] == true)

    expected_c, _ = sklearn_c(features[train], labels[train], folds[train])
    out_of_fold = cross_val_predict(sklearn_probe(expected_c), features[train], labels[train],
                                    cv=PredefinedSplit(folds[train]), method="predict_proba")[:, order]
    train_accuracy = [blend_accuracy(a, zeroshot[train], out_of_fold, labels[train]) for a in probe.BLEND_ALPHAS]
    expected_alpha = probe.BLEND_ALPHAS[int(np.argmax(train_accuracy))]  # the smallest alpha on a tie
    assert expected_alpha == 0.0  # by hand: a wrong zero-shot answer can only pull the probe off the right one

    eval_proba = sklearn_probe(expected_c).fit(features[train], labels[train]).predict_proba(features[held_out])
    held_out_accuracy = {a: blend_accuracy(a, zeroshot[held_out], eval_proba[:, order], labels[held_out])
                         for a in probe.BLEND_ALPHAS}
    held_out_winners = {a for a, value in held_out_accuracy.items() if value == max(held_out_accuracy.values())}
    assert found["blend_alpha"] == expected_alpha
    assert expected_alpha not in held_out_winners and 1.0 in held_out_winners
    assert held_out_accuracy[1.0] > held_out_accuracy[expected_alpha] + 0.2  # a choice that matters
    assert found["blend_accuracy"] == pytest.approx(held_out_accuracy[expected_alpha], abs=0.02)
