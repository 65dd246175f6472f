"""The cluster bootstrap: equal to the image bootstrap when groups are single images, √(group size)
wider when every group holds identical copies."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.ladder import verdict
from analysis.stats import bootstrap, metrics


def image_level_interval(values: np.ndarray, n_resamples: int, seed: int, level: float = 0.95) -> tuple[float, float]:
    """The image-level percentile bootstrap as CornLens computed it before groups (one call per 250 draws)."""
    rng = np.random.default_rng(seed)
    means = np.concatenate([values[rng.integers(0, len(values), size=(min(250, n_resamples - start), len(values)))]
                            .mean(axis=1) for start in range(0, n_resamples, 250)])
    tail = (1 - level) / 2 * 100
    return tuple(np.percentile(means, [tail, 100 - tail]))


def test_single_image_groups_give_the_image_level_interval():
    rng = np.random.default_rng(3)
    correct = (rng.random(700) < 0.55).astype(float)
    expected = image_level_interval(correct, 1000, seed=4)
    assert np.allclose(bootstrap.interval(correct, seed=4), expected)
    labels = [f"seed-{i}" for i in rng.permutation(700)]  # any labels, one image each: the same draws
    assert np.allclose(bootstrap.interval(correct, np.asarray(labels), seed=4), expected)
    other = (rng.random(700) < 0.5).astype(float)
    paired = verdict.paired_difference(correct, other, seed=2)
    assert np.allclose(paired["ci"], image_level_interval(correct - other, verdict.N_RESAMPLES, seed=2))


def test_groups_of_five_identical_images_widen_the_interval_by_about_root_five():
    rng = np.random.default_rng(8)
    per_object = (rng.random(400) < 0.6).astype(float)
    correct = np.repeat(per_object, 5)         # five identical photos of each object: one answer each
    groups = np.repeat(np.arange(400), 5)
    alone = bootstrap.interval(correct, n_resamples=4000, seed=1)
    grouped = bootstrap.interval(correct, groups, n_resamples=4000, seed=1)
    ratio = (grouped[1] - grouped[0]) / (alone[1] - alone[0])
    assert ratio == pytest.approx(np.sqrt(5), rel=0.12)
    # and the grouped interval is the interval of the 400 objects counted once
    once = bootstrap.interval(per_object, n_resamples=4000, seed=1)
    assert (grouped[1] - grouped[0]) == pytest.approx(once[1] - once[0], rel=0.1)


def test_paired_difference_resamples_groups():
    rng = np.random.default_rng(9)
    a = np.repeat((rng.random(300) < 0.6).astype(float), 5)
    b = np.repeat((rng.random(300) < 0.5).astype(float), 5)
    groups = np.repeat(np.arange(300), 5)
    alone, grouped = verdict.paired_difference(a, b, seed=0), verdict.paired_difference(a, b, seed=0, groups=groups)
    assert grouped["difference"] == alone["difference"]
    width = lambda found: found["ci"][1] - found["ci"][0]  # noqa: E731
    assert width(grouped) / width(alone) == pytest.approx(np.sqrt(5), rel=0.12)
    assert grouped["level"] == 0.95


def test_unequal_groups_weigh_images_not_groups():
    values = np.array([1.0] * 9 + [0.0])  # one group of nine right answers, one wrong image alone
    groups = np.array([0] * 9 + [1])
    means = bootstrap.resampled_means(values, groups, n_resamples=2000, seed=0)
    assert set(np.round(means, 6)) <= {0.0, 0.9, 1.0}  # both, only the wrong one, only the nine
    assert np.mean(means == 0.9) == pytest.approx(0.5, abs=0.05)


def test_group_codes_and_levels():
    assert bootstrap.group_codes(np.array(["b", "a", "b", "c"]), 4).tolist() == [0, 1, 0, 2]
    assert bootstrap.group_codes(None, 3).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="one entry per image"):
        bootstrap.group_codes(np.array([1, 2]), 3)
    assert bootstrap.simultaneous_level(0.95, 4) == pytest.approx(0.9875)
    assert bootstrap.interval(np.array([]))[0] != bootstrap.interval(np.array([]))[0]  # NaN


def test_a_bundles_identical_images_widen_its_intervals_by_about_root_five():
    """The images table as a bundle stores it: groups from the split's ``group`` column, or, in a bundle
    written without one, from equal ``content_hash`` (five byte-identical copies of each of 300 photos)."""
    import pandas as pd

    from analysis.data import split

    rng = np.random.default_rng(11)
    right = np.repeat(rng.random(300) < 0.6, 5)
    copies = pd.DataFrame({"image_id": [f"i{n}" for n in range(1500)], "seed_id": [f"s{n}" for n in range(1500)],
                           "content_hash": [f"h{n // 5}" for n in range(1500)], "split": "eval",
                           "label": "pure"})
    distinct = copies.assign(content_hash=[f"u{n}" for n in range(1500)])
    proba = np.where(right[:, None], [[1.0, 0.0]], [[0.0, 1.0]])

    def width(images: pd.DataFrame) -> float:
        found = metrics.evaluate(images["label"].to_numpy(), proba, ["pure", "broken"], groups=split.interval_groups(images))
        return found["accuracy_ci"][1] - found["accuracy_ci"][0]

    assert width(copies) / width(distinct) == pytest.approx(np.sqrt(5), rel=0.15)
    stored = copies.assign(group=[n // 5 for n in range(1500)], content_hash=distinct["content_hash"])
    assert width(stored) == width(copies)  # the split's group column, when the bundle has it
    assert metrics.evaluate(copies["label"].to_numpy(), proba, ["pure", "broken"],
                            groups=split.interval_groups(copies))["accuracy_ci_groups"] == 300
