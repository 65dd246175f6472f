"""Honest choices: blend weight on train, effective shots as a range, collapsed templates, k-shot axis."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats import choices

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
    # 16 and 32 are level with zero-shot, not a crossing; so is 8 (38.0% + 2.6 points reaches 40.52%)
    assert (found["low"], found["high"]) == (4, 64)
    assert choices.shots_phrase(found) == "between 4 and 64"


def test_kshot_half_width_uses_the_sample_spread_of_the_draws_and_counts_the_held_out_images_once():
    point = {"k": 8, "mean": 0.38, "accuracies": [0.37, 0.39, 0.38, 0.36, 0.40], "draws": 5}
    sample_std = np.sqrt(sum((a - 0.38) ** 2 for a in point["accuracies"]) / 4)  # ddof=1, by hand: 0.01581
    drawn = 2.7764451 * sample_std / np.sqrt(5)  # Student's t, 4 degrees of freedom
    held_out = 1.9599640 * np.sqrt((0.38 * 0.62 + 0.4052 * 0.5948) / 3560)
    assert choices.kshot_half_width(point, 0.4052, 3560) == pytest.approx(np.hypot(drawn, held_out), rel=1e-6)
    # one draw (every training image): nothing was drawn, only the held-out images count
    whole = {"k": 4669, "mean": 0.554, "std": 0.0, "draws": 1, "accuracies": [0.554]}
    assert choices.kshot_half_width(whole, 0.4052, 3560) == pytest.approx(
        1.9599640 * np.sqrt((0.554 * 0.446 + 0.4052 * 0.5948) / 3560), rel=1e-6)


def test_effective_shots_never_clearly_when_no_point_is_clearly_above():
    curve = [point for point in flat_curve() if point["k"] <= 32]
    found = choices.shots_range(curve, 0.4052, n_eval=3560)
    assert found["how"] == "never_clearly" and choices.shots_phrase(found) == "never clearly"


def test_effective_shots_needing_every_training_image_says_so():
    curve = [point for point in flat_curve() if point["k"] <= 32 or point["all"]]
    found = choices.shots_range(curve, 0.4052, n_eval=3560)
    assert found["high_is_all"] and choices.shots_phrase(found) == "between 4 and all 14240 training images"


def test_collapsed_templates_are_the_ones_equal_to_a_class_share():
    true = {"pure": 41, "broken": 32, "discolored": 17, "silkcut": 10}
    templates = [{"template": "a {}", "accuracy": 0.41}, {"template": "b {}", "accuracy": 0.10},
                 {"template": "c {}", "accuracy": 0.37}, {"template": "d {}", "accuracy": None}]
    found = choices.collapsed_templates(templates, true)
    assert [(row["template"], row["onto"]) for row in found] == [("a {}", "pure"), ("b {}", "silkcut")]


def test_collapsed_templates_read_their_stored_answers():
    true = {"pure": 41, "broken": 32, "discolored": 17, "silkcut": 10}
    templates = [{"template": "a {}", "accuracy": 0.40, "predicted": {"pure": 97, "broken": 3}},   # planted
                 {"template": "b {}", "accuracy": 0.41, "predicted": {"pure": 60, "broken": 40}},  # share, no collapse
                 {"template": "c {}", "accuracy": 0.32, "predicted": {"broken": 100}},
                 {"template": "d {}", "accuracy": 0.55, "predicted": {"pure": 50, "silkcut": 50}}]
    found = choices.collapsed_templates(templates, true)
    shares = {row["template"]: (row["onto"], row["onto_share"]) for row in found}
    assert shares == {"a {}": ("pure", 0.97), "c {}": ("broken", 1.0)}  # 97/100 and 100/100, counted by hand
    from analysis.present import explain

    reading = explain.read_templates(templates, true)
    assert ("but 2 of 4 give (almost) one answer to every image: 1 answers *broken* for 100% of the images; "
            "1 answers *pure* for 97% of the images") in reading
    assert "The other templates range from 41% to 55%." in reading


def test_kshot_axis_labels_the_last_point_as_all_training_images():
    axis = choices.kshot_axis(flat_curve(), {"pure": 5800, "silkcut": 1400})
    assert axis["ticktext"][-1] == "all (14240)" and axis["ticktext"][0] == "1"
    assert "smallest: 1400" in axis["title"] and "per class" in axis["title"]


# --- the readings that use them ----------------------------------------------------------------------

def test_kshot_reading_gives_a_range_not_a_number_when_the_curve_runs_along_zero_shot():
    from analysis.present import explain

    probe = {"kshot": flat_curve(), "zeroshot_accuracy": 0.4052, "effective_shots": 15.9,
             "effective_shots_range": choices.shots_range(flat_curve(), 0.4052, 3560)}
    text = explain.read_kshot(probe)
    assert "15.9" not in text and "16" not in text.replace("between 4 and 64", "")
    assert "With all 14240 training images the probe reaches 55%" in text
    assert "between 4 and 64 labelled images per class" in text
    flat = [point for point in flat_curve() if point["k"] <= 32]
    never = explain.read_kshot({"kshot": flat, "zeroshot_accuracy": 0.4052, "effective_shots": 15.9,
                                "effective_shots_range": choices.shots_range(flat, 0.4052, 3560)})
    assert "never clearly overtakes zero-shot" in never


def test_template_reading_says_when_templates_only_collapse_onto_different_classes():
    from analysis.present import explain

    true = {"pure": 41, "broken": 32, "discolored": 17, "silkcut": 10}
    templates = [{"prompt_set": "s", "template": f"t{i}", "accuracy": value}
                 for i, value in enumerate([0.41, 0.10, 0.32, 0.41, 0.36, 0.38])]
    autopsy = {"prompt_sets": [{"name": "s", "accuracy": 0.38}], "templates": templates, "true_distribution": true}
    text = explain.read_prompt_ladder(autopsy, 0.41)
    assert "moves accuracy by" not in text
    assert "4 of 6 score exactly one class's share" in text and "collapsing onto different classes" in text
    assert "The other templates range from 36% to 38%." in text
    honest = [{"prompt_set": "s", "template": "a", "accuracy": 0.36}, {"prompt_set": "s", "template": "b",
                                                                         "accuracy": 0.38}]
    assert "moves accuracy by 2 points" in explain.read_prompt_ladder({**autopsy, "templates": honest}, 0.41)


def test_blend_reading_uses_the_weight_chosen_on_training_folds():
    from analysis.present import explain, figures

    blend = [{"alpha": 0.0, "accuracy": 0.50, "train_accuracy": 0.60},
             {"alpha": 0.5, "accuracy": 0.56, "train_accuracy": 0.58},
             {"alpha": 1.0, "accuracy": 0.40, "train_accuracy": 0.40}]
    text = explain.read_blend(blend, alpha=0.0)
    assert text.startswith("On the training folds mixing in zero-shot does not help (α = 0 chosen)")
    assert "best α on the held-out images (0.50, 56%) is an oracle" in text
    marked = figures.blend_figure(blend, alpha=0.0).data[1]
    assert marked.x[0] == 0.0 and "chosen on train" in marked.text[0]


def test_joint_map_caption_never_claims_prompts_among_images_and_a_gap_at_once():
    import pandas as pd

    from analysis.present import explain

    images = pd.DataFrame({"kind": "image", "label": ["pure", "pure", "broken", "broken"],
                           "x": [0.0, 0.1, 5.0, 5.1], "y": [0.0, 0.1, 5.0, 5.1]})
    among = pd.concat([images, pd.DataFrame({"kind": "text", "label": ["pure"], "x": [0.05], "y": [0.05]})])
    text = explain.read_projection(among)
    assert "sit among" not in text and "beside the images most similar to them" in text
    away = pd.concat([images, pd.DataFrame({"kind": "text", "label": ["pure"], "x": [20.0], "y": [-20.0]})])
    assert "modality gap seen" not in explain.read_projection(away)


def test_kshot_figure_labels_the_last_tick_as_all_training_images():
    from analysis.present import figures

    figure = figures.kshot_figure(flat_curve(), 0.4052, shots_range=choices.shots_range(flat_curve(), 0.4052, 3560),
                                  class_counts={"pure": 5800, "silkcut": 1400})
    assert figure.layout.xaxis.ticktext[-1] == "all (14240)"
    assert "smallest: 1400" in figure.layout.xaxis.title.text


# --- the training choice, not the held-out winner, is what readings and reports name -----------------

def test_prompt_reading_names_the_set_chosen_on_training_and_the_held_out_winner_only_as_oracle():
    from analysis.present import explain

    autopsy = {"best_prompt_set": "plain", "oracle_prompt_set": "lucky",
               "prompt_sets": [{"name": "plain", "accuracy": 0.38, "train_accuracy": 0.45},
                               {"name": "lucky", "accuracy": 0.44, "train_accuracy": 0.30},
                               {"name": "bad", "accuracy": 0.20, "train_accuracy": 0.25}]}
    text = explain.read_prompt_ladder(autopsy, 0.41)
    assert text.startswith("The prompt set chosen on the training images, *plain*, reaches 38% — below the 41%")
    assert "the held-out oracle, *lucky*, 44%" in text and "the worst, *bad*, 20%" in text
    assert "The best prompt set" not in text
    same = explain.read_prompt_ladder({**autopsy, "best_prompt_set": "lucky"}, 0.41)
    assert "*lucky*, reaches 44%" in same and "oracle" not in same


def test_report_picks_each_kind_by_its_training_choice_not_held_out():
    from types import SimpleNamespace

    from analysis.present.report.findings import chosen_of_kind

    def zeroshot(name, train, held_out):
        return {"id": f"zeroshot:M:{name}", "kind": "zeroshot", "model_key": "M", "prompt_set": name,
                "train_accuracy": train, "metrics": {"accuracy": held_out}}

    approaches = [zeroshot("lucky", 0.30, 0.50), zeroshot("plain", 0.45, 0.35)]
    opened = SimpleNamespace(approaches=approaches)
    assert chosen_of_kind(opened, "zeroshot")["id"] == "zeroshot:M:plain"  # held-out best is "lucky"
    assert chosen_of_kind(opened, "probe") is None


def test_dashboard_defaults_show_the_training_choice_not_the_held_out_winner():
    from analysis.present import map_views
    from analysis.core import records

    lucky = {"id": "zeroshot:M:lucky", "kind": "zeroshot", "model_key": "M", "prompt_set": "lucky",
             "train_accuracy": 0.30, "metrics": {"accuracy": 0.60}}
    plain = {"id": "zeroshot:M:plain", "kind": "zeroshot", "model_key": "M", "prompt_set": "plain",
             "train_accuracy": 0.45, "metrics": {"accuracy": 0.35}}
    assert map_views.best_approach_for("M", [lucky, plain]) == "zeroshot:M:plain"
    probe = {"id": "probe:M", "kind": "probe", "model_key": "M", "metrics": {"accuracy": 0.50}}
    assert records.default_approach([lucky, plain, probe])["id"] == "probe:M"  # the most trained kind
    assert records.default_approach([]) is None


def test_records_without_training_accuracy_take_the_first_listed_never_the_held_out_winner():
    from analysis.core import records

    first = {"id": "zeroshot:M:first", "kind": "zeroshot", "model_key": "M", "metrics": {"accuracy": 0.30}}
    lucky = {"id": "zeroshot:M:lucky", "kind": "zeroshot", "model_key": "M", "metrics": {"accuracy": 0.60}}
    assert records.best_per_model([first, lucky], records.ZEROSHOT)["M"] is first
    scored = {**lucky, "train_accuracy": 0.2}
    assert records.best_per_model([first, scored], records.ZEROSHOT)["M"] is scored  # a training score beats none
