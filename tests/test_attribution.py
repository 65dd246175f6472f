"""The attribution of zero-shot's failure: exact Shapley arithmetic, the rules that keep the reading
true, and planted causes it must name (and nothing else). benchmarks/bench_attribution.py runs the
planted scenarios at more sizes and seeds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from analysis.ladder import attribution, attribution_text, verdict
from tests.planted import BALANCED, CORN, PLANTED, planted

SHORT_GRID = (1e-3, 1e-2, 1e-1, 1.0)  # the probe's C chosen by cross-validation among a few, to keep CI fast


@pytest.fixture(autouse=True)
def one_thread():
    """Small matrices: one BLAS thread is several times faster than many fighting for 2 cores."""
    with threadpool_limits(limits=1):
        yield


def brute_shapley(players, value):
    """Shapley values by averaging marginal contributions over every order of the players."""
    totals = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        joined = frozenset()
        for player in order:
            totals[player] += value(joined | {player}) - value(joined)
            joined = joined | {player}
    return {player: total / len(orders) for player, total in totals.items()}


@pytest.mark.parametrize("players", [("a", "b"), ("a", "b", "c"), ("a", "b", "c", "d")])
def test_shapley_weights_match_every_order_and_add_up(players):
    rng = np.random.default_rng(len(players))
    game = {frozenset(subset): rng.normal() for size in range(len(players) + 1)
            for subset in itertools.combinations(players, size)}
    weights = attribution.shapley_weights(players)
    values = {player: sum(weight * game[coalition] for coalition, weight in table.items())
              for player, table in weights.items()}
    expected = brute_shapley(players, game.__getitem__)
    assert values == pytest.approx(expected)
    assert sum(values.values()) == pytest.approx(game[frozenset(players)] - game[frozenset()])


def answers_for(truth, correct_share, rng, wrong=None):
    """Answers right on the first ``correct_share`` of images (same images for every caller), else
    ``wrong`` (a class index) or the next class."""
    answers = (truth + 1) % 4 if wrong is None else np.full_like(truth, wrong)
    right = np.arange(len(truth)) < int(correct_share * len(truth))
    return np.where(right, truth, answers)


def test_a_calibrated_rung_that_only_answers_the_majority_earns_nothing():
    rng = np.random.default_rng(0)
    truth = rng.choice(4, size=1000, p=CORN)
    majority = np.zeros_like(truth)  # class 0 is the majority
    answers = {"zeroshot": np.full_like(truth, 3), "zeroshot-calibrated": majority,
               "centroid": np.where(rng.random(1000) < 0.9, truth, majority)}
    found = attribution.attribute(answers, truth, ["pure", "broken", "discolored", "silkcut"], 0,
                                  {"zeroshot": 0.1, "zeroshot-calibrated": 0.41, "centroid": 0.9})
    parts = {part["cause"]: part for part in found["parts"]}
    assert parts["bias"]["points"] == 0.0 and [c["cause"] for c in found["causes"]] == ["alignment"]
    assert found["from"] == "majority" and "only learnt to answer *pure*" in found["text"]
    assert found["gap"] == pytest.approx(100 * (np.mean(answers["centroid"] == truth) - np.mean(truth == 0)))


@pytest.mark.parametrize("centroid_share, named", [(0.92, ["bias"]), (0.96, ["bias", "alignment"])])
def test_a_part_clearly_above_0_is_a_cause_only_from_a_share_of_the_gap(centroid_share, named):
    rng = np.random.default_rng(1)
    truth = rng.choice(4, size=2000, p=CORN)
    answers = {"zeroshot": answers_for(truth, 0.5, rng), "zeroshot-calibrated": answers_for(truth, 0.9, rng),
               "centroid": answers_for(truth, centroid_share, rng)}  # right on a superset: a paired gain
    found = attribution.attribute(answers, truth, ["pure", "broken", "discolored", "silkcut"], 0,
                                  {"zeroshot": 0.5, "zeroshot-calibrated": 0.9, "centroid": centroid_share},
                                  n_resamples=1000)
    parts = {part["cause"]: part for part in found["parts"]}
    alignment = 100 * (int(centroid_share * 2000) - 1800) / 2000  # images only the centroid gets right
    gap = 100 * (int(centroid_share * 2000) - 1000) / 2000
    assert parts["alignment"]["points"] == pytest.approx(alignment) and found["gap"] == pytest.approx(gap)
    assert parts["alignment"]["ci"][0] > 0  # clearly above 0 either way
    assert sum(part["points"] for part in found["parts"]) == pytest.approx(found["gap"])
    assert [cause["cause"] for cause in found["causes"]] == named
    small = alignment < attribution.MIN_SHARE * gap  # 2.0 of 42.0 points is under 5%; 6.0 of 46.0 is not
    assert parts["alignment"]["small"] is small
    assert ("A small part, clearly above 0 but under 5% of the gap (or of the positive parts' sum, when larger), "
            "so not a cause: image prototypes +2.0 points" in found["text"]) is small


def test_two_cures_for_one_cause_are_counted_once_as_the_cause_that_ranks():
    truth = np.repeat([0, 1, 2, 3], [410, 320, 170, 100])
    base = np.where(truth == 3, 0, truth)  # zero-shot never answers silkcut
    both = truth.copy()
    answers = {"zeroshot": base, "zeroshot-calibrated": both, "zeroshot-worded": both,
               "zeroshot-worded-calibrated": both, "centroid": both}
    train = {"zeroshot": 0.9, "zeroshot-calibrated": 1.0, "zeroshot-worded": 1.0, "zeroshot-worded-calibrated": 1.0,
             "centroid": 1.0}
    words_rank = {"zeroshot": [0.9, 0.9, 0.9, 0.5], "zeroshot-worded": [0.9, 0.9, 0.9, 0.95]}
    found = attribution.attribute(answers, truth, ["pure", "broken", "discolored", "silkcut"], 0, train, words_rank)
    assert [(c["cause"], round(c["points"], 6)) for c in found["causes"]] == [("wording", 10.0)]
    assert {p["cause"]: p["shapley"]["points"] for p in found["parts"] if "shapley" in p} == \
        pytest.approx({"bias": 5.0, "wording": 5.0})
    assert "recover the same 10.0 points" in found["text"] and "one cause, two cures" in found["text"]
    prompts_rank = {"zeroshot": [0.9, 0.9, 0.9, 0.9], "zeroshot-worded": [0.9, 0.9, 0.9, 0.92]}
    found = attribution.attribute(answers, truth, ["pure", "broken", "discolored", "silkcut"], 0, train, prompts_rank)
    assert [c["cause"] for c in found["causes"]] == ["bias"]


def run(scenario, shares, seed, n=900):
    case = planted(scenario, n=n, shares=shares, seed=seed)
    found = attribution.attribute_failure(case.images, case.labels, case.is_train, case.is_eval, case.folds,
                                          case.classes, case.prompt_sets, case.scale, case.wordings,
                                          image_stats=case.image_stats, c_grid=SHORT_GRID, seed=seed)
    return case, found


# The one run of the 70 where the gap itself is within noise at 1,000 images (+3.7 points, 95% paired
# interval −0.3 to +7.6): the look-alike word on corn's 10 silkcut kernels, seed 4.
NO_CLEAR_GAP = {("wording-lookalike", "corn", 4)}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shares", [CORN, BALANCED], ids=["corn", "balanced"])
@pytest.mark.parametrize("scenario", list(PLANTED))
def test_planted_causes_are_named_and_the_parts_add_up(scenario, shares, seed):
    """The bench's 1,000-image rows, as benchmarks/bench_attribution.py runs them (5 seeds)."""
    case, found = run(scenario, shares, seed=seed, n=1000)
    if (scenario, "corn" if shares is CORN else "balanced", seed) in NO_CLEAR_GAP:
        # zero-shot does not clearly trail (the gap's interval reaches 0): nothing to attribute, nothing named
        assert found["trails"] is False and found["gap_ci"][0] <= 0 and found["causes"] == [], found["text"]
    else:
        assert {cause["cause"] for cause in found["causes"]} == case.causes, found["text"]
    assert sum(part["points"] for part in found["parts"]) == pytest.approx(found["gap"], abs=1e-9)
    for cause in found["causes"]:
        if cause["cause"] != "features" or cause.get("why") == "shortcut":
            assert cause["ci"][0] > 0, cause
    assert found["text"]


def test_random_directions_claim_no_cause_on_the_text_side():
    case = planted("features", n=600, shares=CORN, seed=3)
    rng = np.random.default_rng(3)
    prompts = {"random": rng.normal(size=(4, case.images.shape[1]))}
    found = attribution.attribute_failure(case.images, case.labels, case.is_train, case.is_eval, case.folds,
                                          case.classes, prompts, 100.0, [[] for _ in case.classes], c_grid=SHORT_GRID,
                                          n_resamples=500)
    assert [cause["cause"] for cause in found["causes"]] == ["features"]
    assert "do not separate the classes" in found["text"]


def test_the_probe_is_fitted_on_the_probe_stages_grid():
    from analysis.stages import probe

    assert attribution.C_GRID == probe.C_GRID and attribution.PROBE_MAX_ITER == probe.MAX_ITER


def first(truth, share):
    """Answers right on the first ``share`` of the images, the next class elsewhere (nested: paired gains)."""
    return np.where(np.arange(len(truth)) < round(share * len(truth)), truth, (truth + 1) % 4)


CLASSES = ["pure", "broken", "discolored", "silkcut"]


def test_no_cause_is_named_when_zero_shot_does_not_trail():
    """Gap −5 (the centroid, chosen on the training part, does worse held out) while calibration gains
    +1 clearly above 0: the numbers deny a failure, so neither the reading nor the verdict names a cause."""
    truth = np.random.default_rng(2).choice(4, size=2000, p=CORN)
    answers = {"zeroshot": first(truth, 0.70), "zeroshot-calibrated": first(truth, 0.71),
               "centroid": first(truth, 0.65)}
    found = attribution.attribute(answers, truth, CLASSES, 0,
                                  {"zeroshot": 0.5, "zeroshot-calibrated": 0.6, "centroid": 0.7}, n_resamples=1000)
    parts = {part["cause"]: part for part in found["parts"]}
    assert found["gap"] == pytest.approx(-5.0) and parts["bias"]["points"] == pytest.approx(1.0)
    assert parts["bias"]["ci"][0] > 0  # clearly above 0, yet no cause: there is no failure
    assert found["trails"] is False and found["causes"] == []
    assert not any(part["small"] for part in found["parts"])
    assert "does not clearly trail the class centroid" in found["text"] and "points come from" not in found["text"]
    said = verdict.zeroshot_diagnosis(None, found)
    assert "does not clearly trail" in said and "no failure to attribute" in said and "Why" not in said
    assert attribution_text.diagnosis(found) == said


def test_a_share_is_measured_against_the_positive_parts_when_parts_cancel():
    """Bias +30, alignment −20, directions +1 (all clearly not 0): a gap of +11. Against the gap, +1 would be
    9% and a cause; against the +31 the positive parts recover it is 3.2%: a small part."""
    truth = np.random.default_rng(3).choice(4, size=2000, p=CORN)
    answers = {"zeroshot": first(truth, 0.50), "zeroshot-calibrated": first(truth, 0.80),
               "zeroshot-worded": np.where(np.arange(2000) < 10, (truth + 1) % 4,
                                           np.where(np.arange(2000) < 1010, truth, (truth + 1) % 4)),
               "centroid": first(truth, 0.60), "probe": first(truth, 0.61)}
    train = {"zeroshot": 0.5, "zeroshot-worded": 0.55, "zeroshot-calibrated": 0.6, "centroid": 0.7, "probe": 0.8}
    found = attribution.attribute(answers, truth, CLASSES, 0, train, n_resamples=1000)
    parts = {part["cause"]: part for part in found["parts"]}
    assert found["gap"] == pytest.approx(11.0) and found["trails"] is True
    assert {name: parts[name]["points"] for name in ("bias", "alignment", "directions")} == \
        pytest.approx({"bias": 30.0, "alignment": -20.0, "directions": 1.0})
    assert attribution.share_base(found["gap"], found["parts"]) == pytest.approx(31.0)
    assert parts["directions"]["ci"][0] > 0 and parts["directions"]["small"] is True
    assert [cause["cause"] for cause in found["causes"]] == ["bias"]
    # plural subjects take plural verbs
    assert "Better words stay within noise" in found["text"]
    assert "Image prototypes cost −20.0 points" in found["text"]


def test_the_share_is_written_by_one_helper():
    assert attribution_text.min_share({"min_share": 0.05}) == "5%"
    assert attribution_text.min_share({"min_share": 0.025}) == "2.5%"
    assert attribution_text.min_share({}) == "0%"
