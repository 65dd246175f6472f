"""Honest choices: blend weight on train, effective shots as a range, collapsed templates, k-shot axis."""

from __future__ import annotations

import numpy as np

from analysis import choices

CLASSES = ["pure", "broken"]


def test_blend_alpha_is_chosen_on_training_rows_not_held_out():
    # on train, zero-shot is useless and the probe right: alpha 0 wins; on held-out images the
    # opposite holds, which must not move the choice
    train_labels = np.array(["pure", "broken"] * 50)
    probe_right = np.where(train_labels[:, None] == np.array(CLASSES), 0.8, 0.2)
    zeroshot_wrong = 1 - probe_right
    alpha, scores = choices.choose_blend_alpha(zeroshot_wrong, probe_right, train_labels, CLASSES,
                                               (0.0, 0.25, 0.5, 0.75, 1.0))
    assert alpha == 0.0 and scores[0] == 1.0 and scores[-1] == 0.0
    assert choices.blend_accuracy(1 - zeroshot_wrong, 1 - probe_right, train_labels, CLASSES, 1.0) == 1.0


def flat_curve():
    """The full archive's shape: the curve runs along zero-shot (40.52%) at k = 16 and 32."""
    means = {1: 0.30, 2: 0.33, 4: 0.36, 8: 0.38, 16: 0.4054, 32: 0.4050, 64: 0.45, 128: 0.50}
    curve = [{"k": k, "mean": m, "std": 0.01, "draws": 5, "n_train": 4 * k, "all": False} for k, m in means.items()]
    curve.append({"k": 4669, "mean": 0.554, "std": 0.0, "draws": 1, "n_train": 14240, "all": True})
    return curve


def test_effective_shots_is_a_range_where_the_curve_runs_flat_along_zero_shot():
    found = choices.shots_range(flat_curve(), 0.4052, n_eval=3560)
    assert found["how"] == "between"
    assert (found["low"], found["high"]) == (8, 64)  # 16 and 32 are level with zero-shot, not a crossing
    assert choices.shots_phrase(found) == "between 8 and 64"


def test_effective_shots_never_clearly_when_no_point_is_clearly_above():
    curve = [point for point in flat_curve() if point["k"] <= 32]
    found = choices.shots_range(curve, 0.4052, n_eval=3560)
    assert found["how"] == "never_clearly" and choices.shots_phrase(found) == "never clearly"


def test_effective_shots_needing_every_training_image_says_so():
    curve = [point for point in flat_curve() if point["k"] <= 32 or point["all"]]
    found = choices.shots_range(curve, 0.4052, n_eval=3560)
    assert found["high_is_all"] and choices.shots_phrase(found) == "between 8 and all 14240 training images"


def test_collapsed_templates_are_the_ones_equal_to_a_class_share():
    true = {"pure": 41, "broken": 32, "discolored": 17, "silkcut": 10}
    templates = [{"template": "a {}", "accuracy": 0.41}, {"template": "b {}", "accuracy": 0.10},
                 {"template": "c {}", "accuracy": 0.37}, {"template": "d {}", "accuracy": None}]
    found = choices.collapsed_templates(templates, true)
    assert [(row["template"], row["onto"]) for row in found] == [("a {}", "pure"), ("b {}", "silkcut")]


def test_kshot_axis_labels_the_last_point_as_all_training_images():
    axis = choices.kshot_axis(flat_curve(), {"pure": 5800, "silkcut": 1400})
    assert axis["ticktext"][-1] == "all (14240)" and axis["ticktext"][0] == "1"
    assert "smallest: 1400" in axis["title"] and "per class" in axis["title"]
