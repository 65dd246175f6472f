"""Readings of the ladder, the alignment table and the verdict agree with the numbers they read."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.present import explain, ladder_panels
from analysis.core import bundle
from analysis.ladder import attribution, attribution_text, verdict

CLASSES = ["pure", "broken", "discolored", "silkcut"]


def step(name, first, second, difference, low, high, measures="x"):
    return {"step": name, "from": first, "to": second, "measures": measures, "difference": difference,
            "ci": [low, high], "n": 1000, "a": 0.5, "b": 0.5}


def rung(name, accuracy, versus_low):
    return {"rung": name, "label": name, "approach_id": f"{name}:M", "accuracy": accuracy,
            "accuracy_ci": [accuracy - 0.02, accuracy + 0.02], "choice": "",
            "versus_majority": {"difference": accuracy - 0.41, "ci": [versus_low, versus_low + 0.04], "n": 1000,
                                "a": accuracy, "b": 0.41}}


def ladder(**overrides):
    found = {"majority_rate": 0.41, "uniform_rate": 0.25, "prompt_choice": {"prompt_set": "corn"},
             "rungs": [rung("zeroshot", 0.40, -0.03), rung("zeroshot-calibrated", 0.49, 0.06),
                       rung("zeroshot-worded", 0.41, -0.02), rung("centroid", 0.52, 0.09), rung("probe", 0.55, 0.12)],
             "steps": [step("bias", "zeroshot", "zeroshot-calibrated", 0.09, 0.07, 0.11),
                       step("wording", "zeroshot", "zeroshot-worded", 0.01, -0.01, 0.03),
                       step("alignment", "zeroshot", "centroid", 0.12, 0.10, 0.14),
                       step("directions", "centroid", "probe", 0.03, 0.01, 0.05)],
             "separable_by": ["centroid", "probe"]}
    return found | overrides


def test_ladder_reading_states_the_points_of_each_cause():
    text = ladder_panels.read_ladder(ladder())
    assert text.startswith("Measured each from zero-shot (steps may recover the same images), 9 points come back "
                           "by correcting the class bias alone (calibrated rung) and better words stay within noise "
                           "(+1.0 points, worded rung).")  # the wording step's interval straddles 0: no gain claimed
    assert "Image prototypes recover 12 points (centroid rung)" in text
    assert "linear probe reaches 55.0% against 41.0%" in text  # the claim about features cites its rung


def test_ladder_reading_claims_a_gain_only_where_the_verdict_calls_it_clear():
    noisy = ladder(steps=[step("bias", "zeroshot", "zeroshot-calibrated", 0.04, -0.01, 0.09),
                          step("wording", "zeroshot", "zeroshot-worded", 0.03, 0.01, 0.05)])
    text = ladder_panels.read_ladder(noisy)
    assert verdict.clearly(noisy["steps"][0]) == "level" and verdict.clearly(noisy["steps"][1]) == "above"
    assert "come back by correcting" not in text
    assert "correcting the class bias alone stays within noise (+4.0 points, calibrated rung)" in text
    assert "and 3 points by better words (worded rung)." in text
    worse = ladder(steps=[step("bias", "zeroshot", "zeroshot-calibrated", -0.05, -0.08, -0.02)])
    assert "correcting the class bias alone loses 5 points (calibrated rung)." in ladder_panels.read_ladder(worse)


def test_ladder_reading_says_prompts_point_wrong_only_when_prototypes_dominate():
    assert "point to the wrong place" not in ladder_panels.read_ladder(ladder())  # bias 9 ≥ half of 12
    weak_bias = ladder(steps=[step("bias", "zeroshot", "zeroshot-calibrated", 0.02, 0.0, 0.04),
                              step("alignment", "zeroshot", "centroid", 0.12, 0.10, 0.14)])
    assert "the prompts point to the wrong place" in ladder_panels.read_ladder(weak_bias)


def test_inseparable_is_said_only_when_no_feature_rung_beats_majority():
    nothing = ladder(separable_by=[], rungs=[rung("zeroshot", 0.40, -0.03), rung("probe", 0.42, -0.01)])
    assert "do not separate the classes" in ladder_panels.read_ladder(nothing)
    assert "do not separate" not in ladder_panels.read_ladder(ladder())


def test_near_one_centroid_similarity_with_a_strong_probe_is_not_called_inseparable():
    text_similarity = [[1, 0.80, 0.80, 0.80], [0.80, 1, 0.80, 0.80], [0.80, 0.80, 1, 0.80], [0.80, 0.80, 0.80, 1]]
    image_similarity = [[1, 0.99, 0.98, 0.98], [0.99, 1, 0.98, 0.98], [0.98, 0.98, 1, 0.98], [0.98, 0.98, 0.98, 1]]
    approaches = [{"id": "probe:M", "kind": "probe", "model_key": "M",
                   "metrics": {"accuracy": 0.554, "accuracy_ci": [0.538, 0.570]}},
                  {"id": "centroid:M", "kind": "centroid", "model_key": "M",
                   "metrics": {"accuracy": 0.43, "accuracy_ci": [0.40, 0.46]}}]
    evidence = ladder_panels.separation_evidence(approaches, 0.408, "M")
    assert evidence["approach_id"] == "probe:M"
    text = explain.read_similarity(text_similarity, image_similarity, CLASSES, evidence)
    assert "does not separate" not in text and "no wording of the prompts can" not in text
    assert "linear probe" in text and "55.4%" in text
    # without any evidence beyond the majority rate the old conclusion stands
    assert "does not separate the classes" in explain.read_similarity(text_similarity, image_similarity, CLASSES,
                                                                      None)


def test_alignment_reading_names_misdirected_prompts_and_split_names():
    rows = [{"class": "pure", "own_rank": 1, "own_cosine": 0.3, "closest_class": "pure", "tokens": [["pure"]]},
            {"class": "silkcut", "own_rank": 3, "own_cosine": 0.2, "closest_class": "broken",
             "tokens": [["silk", "cut"]]}]
    text = ladder_panels.read_alignment(rows)
    assert text.startswith("1 of 2 class prompts are closest to their own class's images.")
    assert "*silkcut* points closer to the *broken* images (its own rank 3)" in text
    assert "*silkcut* into silk + cut" in text


def test_verdict_markdown_puts_warnings_first_and_skips_missing_rows():
    comparison = verdict.paired_difference([1, 1, 0, 1], [0, 1, 0, 0])
    found = {"warnings": ["X has random weights"],
             "rows": [verdict.verdict_row("zero-shot vs majority", comparison, "**zero-shot**", "always *pure*", "Bias."),
                      verdict.verdict_row("ConvNeXt vs probe", None, "ConvNeXt", "probe", "")]}
    text = ladder_panels.verdict_markdown(found)
    assert text.splitlines()[0] == "> ⚠ X has random weights"
    assert "**zero-shot** 75.0% vs always *pure* 25.0%: +50.0 points" in text and "Bias." in text
    assert text.splitlines()[-1] == "- Not in this bundle: ConvNeXt vs probe."


def test_waterfall_draws_every_step_and_the_oracle():
    found = ladder(prompt_choice={"prompt_set": "corn", "oracle_prompt_set": "a-photo-of", "oracle_accuracy": 0.43})
    figure = ladder_panels.waterfall_figure(found)
    bars = [trace for trace in figure.data if trace.type == "bar" and trace.base is not None]
    assert len(bars) == 4
    assert [a.text.split("<br>")[0] for a in figure.layout.annotations if "pts" in a.text] == [
        "<b>+9.0 pts</b>", "<b>+1.0 pts</b>", "<b>+12.0 pts</b>", "<b>+3.0 pts</b>"]
    starts = [a.text.split("<br>")[-1] for a in figure.layout.annotations if "pts" in a.text]
    assert starts == ["<i>from zeroshot</i>"] * 3 + ["<i>from centroid</i>"]  # steps that share a start say so
    assert bars[0].base[0] == 0.40 and bars[0].y[0] == 0.09
    assert any("oracle" in (trace.name or "") and "not a fair score" in trace.name for trace in figure.data)


def two_cures():
    """Calibration alone and new words alone recover the same 10 points (silkcut, never answered)."""
    truth = np.repeat([0, 1, 2, 3], [410, 320, 170, 100])
    base = np.where(truth == 3, 0, truth)
    answers = {"zeroshot": base, "zeroshot-calibrated": truth, "zeroshot-worded": truth,
               "zeroshot-worded-calibrated": truth, "centroid": truth}
    train = dict.fromkeys(answers, 1.0) | {"zeroshot": 0.9}
    ranking = {"zeroshot": [0.9, 0.9, 0.9, 0.5], "zeroshot-worded": [0.9, 0.9, 0.9, 0.95]}
    return attribution.attribute(answers, truth, CLASSES, 0, train, ranking, n_resamples=500)


def test_autopsy_reading_counts_each_point_once_and_names_the_method():
    found = two_cures()
    text = ladder_panels.read_ladder(ladder(attribution=found))
    assert text.startswith(found["text"]) and "Shapley 1953" in ladder_panels.read_attribution(found)
    assert "come back by correcting the class bias" not in text  # the steps, each from zero-shot, are not summed
    assert "+10.0 points come from better words" in text and "one cause, two cures" in text
    assert "+10.0 points come from correcting" not in text


def test_verdict_names_the_attributed_causes_and_says_when_weights_are_random():
    found = two_cures()
    line = verdict.zeroshot_diagnosis(None, found)
    assert line.startswith("Why, each point counted once: its words (worded rung) +10.0 points")
    assert "bias" not in line
    assert verdict.zeroshot_diagnosis(None, found, random_weights=True).startswith("With random weights")
    assert "no cause is named" in verdict.zeroshot_diagnosis(None, found, random_weights=True)
    assert "none is read as a cause" in ladder_panels.read_ladder(ladder(attribution=found), learnt=False)
    nothing = dict(found, causes=[{"cause": "features", "points": 0.1, "ci": [-1.0, 1.2], "why": "no separation"}])
    assert "do not separate the classes" in verdict.zeroshot_diagnosis(None, nothing)


def test_attribution_chart_draws_every_part_and_the_gap():
    found = two_cures()
    figure = ladder_panels.attribution_figure(found)
    bars = figure.data[0]
    assert list(bars.x) == pytest.approx([part["points"] for part in found["parts"]] + [found["gap"]])
    assert sum(bars.x[:-1]) == pytest.approx(bars.x[-1])


def test_a_small_part_is_drawn_and_said_as_small_never_as_a_cause():
    """Prototypes right on 2% more images than calibration: clearly above 0, but 2.0 of a 42.0-point gap."""
    truth = np.resize(np.repeat([0, 1, 2, 3], [410, 320, 170, 100]), 2000)
    right = {share: np.arange(2000) < int(share * 2000) for share in (0.5, 0.9, 0.92)}
    answers = {name: np.where(right[share], truth, (truth + 1) % 4)
               for name, share in (("zeroshot", 0.5), ("zeroshot-calibrated", 0.9), ("centroid", 0.92))}
    found = attribution.attribute(answers, truth, CLASSES, 0, {"zeroshot": 0.5, "zeroshot-calibrated": 0.9,
                                                               "centroid": 0.92}, n_resamples=500)
    assert [cause["cause"] for cause in found["causes"]] == ["bias"]
    figure = ladder_panels.attribution_figure(found)
    small = list(figure.data[0].y).index("image prototypes (small)")
    assert figure.data[0].marker.color[small] == ladder_panels.SMALL_COLOUR
    assert figure.data[0].x[small] == pytest.approx(2.0)
    assert ("pale green bars are parts above 0 that are not causes (under 5% of it, or no failure to attribute)"
            in ladder_panels.read_attribution(found))
    assert "so not a cause: image prototypes +2.0 points" in found["text"]
    line = verdict.zeroshot_diagnosis(None, found)
    assert "its class bias" in line and "prompts that point to the wrong place" not in line
    assert verdict.zeroshot_diagnosis(None, dict(found, causes=[])).startswith("No cause stands out")
    older = {key: value for key, value in found.items() if key != "min_share"}  # a bundle from before the rule
    assert "pale green" not in ladder_panels.read_attribution(older)


def test_bundle_words_in_the_attribution_are_inert_and_the_reading_is_rebuilt_from_numbers():
    hostile = "<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1))"
    found = dict(two_cures(), method=hostile, text=hostile)
    found["majority_class"] = found["classes"][0] = "<b>pure</b>"
    said = ladder_panels.read_attribution(found)
    assert "<img" not in said and "&#60;img" in said and "\\*\\*bold\\*\\*" in said
    assert "\\[link\\](" in said  # brackets escaped: no link
    text = ladder_panels.read_ladder(ladder(attribution=found))
    assert hostile not in text and "<b>" not in text  # the stored sentence is not shown: rebuilt, names escaped
    assert text == attribution_text.reading(found) and "+10.0 points come from better words" in text


def test_a_min_share_that_is_not_a_number_is_a_bundle_error(tmp_path):
    from tests.test_bundle import small_bundle
    small_bundle(tmp_path / "b")
    bundle.save_diagnostics(tmp_path / "b", "ladder:ViT/B", {"attribution": {"min_share": "5%", "method": "m"}})
    found = bundle.open_bundle(tmp_path / "b").diagnostics("ladder:ViT/B")
    with pytest.raises(bundle.BundleError, match=r"'attribution'.min_share: expected a number, found text"):
        ladder_panels.read_attribution(found["attribution"])


def test_an_older_bundle_whose_gap_is_within_noise_names_no_cause_anywhere():
    """A bundle written before ``trails``: its attribution still lists calibration as a cause beside a gap
    whose interval reaches 0. The chart, the reading, the verdict and the demo banner all name none."""
    from analysis.present import demo_story

    found = two_cures()
    older = {key: value for key, value in found.items() if key != "trails"} | {"gap": 1.0, "gap_ci": [-1.0, 3.0]}
    assert older["causes"] and not attribution_text.trails(older) and attribution_text.named(older) == []
    figure = ladder_panels.attribution_figure(older)
    green = ladder_panels.STEP_COLOURS["above"]
    assert green not in list(figure.data[0].marker.color)  # no bar drawn as a cause
    assert "no bar is a cause" in ladder_panels.read_attribution(older)
    assert demo_story.named_causes({"attribution": older}) == []
    comparison = verdict.paired_difference([1, 1, 0, 1], [0, 1, 0, 0])
    stored = {"attribution": older, "rows": [verdict.verdict_row(ladder_panels.ZEROSHOT_ROW, comparison, "**zero-shot**",
                                                                  "always *pure*", "Why, each point counted once: x")]}
    text = ladder_panels.verdict_markdown(stored)
    assert "there is no failure to attribute" in text and "Why, each point counted once" not in text
    assert green in list(ladder_panels.attribution_figure(found).data[0].marker.color)  # it trails: its causes green

