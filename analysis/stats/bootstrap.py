"""The one bootstrap of CornLens: percentile intervals that resample *groups* of images.

The split keeps groups together (a ``seed_id``, byte-identical copies, a CSV's ``group``: several
photos of one object), and the held-out images of one group are not independent draws: five photos
of one kernel are one piece of evidence, not five. So every interval resamples whole groups (a
cluster bootstrap) and takes the accuracy of each resample as its right answers over its images.
When every group holds one image this is exactly the image-level bootstrap (the same random draws).

Every accuracy interval (:func:`analysis.stats.metrics.evaluate`) and every paired difference
(:func:`analysis.ladder.verdict.paired_difference`) comes from :func:`resampled_means` and
:func:`percentile_interval`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

CHUNK = 250  # resamples drawn at once: bounded memory for large held-out parts


def group_codes(groups: Sequence | np.ndarray | None, n: int) -> np.ndarray:
    """A group number per image, numbered in order of first appearance (0, 1, …); every image its
    own group when ``groups`` is None.

    Raises:
        ValueError: ``groups`` does not have one entry per image.
    """
    if groups is None:
        return np.arange(n)
    values = np.asarray(groups)
    if values.shape != (n,):
        raise ValueError(f"groups need one entry per image: {values.shape} for {n} images")
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # unique's sorted order → order of first appearance
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)]


def resampled_means(values: np.ndarray, groups: Sequence | np.ndarray | None = None, n_resamples: int = 1000,
                    seed: int = 0) -> np.ndarray:
    """The mean of ``values`` over ``n_resamples`` cluster-bootstrap resamples.

    Each resample draws as many groups as there are, with replacement, and takes the sum of the
    drawn groups' values over the number of their images.

    Args:
        values: ndarray of shape (n_images,), e.g. 1 where an approach is right (or a paired
            difference of two such vectors).
        groups: the group of each image (any hashable labels), or None: every image alone.

    Returns:
        ndarray of shape (n_resamples,).
    """
    values = np.asarray(values, dtype=np.float64)
    codes = group_codes(groups, len(values))
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    sums = np.bincount(codes, weights=values, minlength=n_groups)
    sizes = np.bincount(codes, minlength=n_groups).astype(np.float64)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, CHUNK):
        draws = rng.integers(0, n_groups, size=(min(CHUNK, n_resamples - start), n_groups))
        means[start:start + len(draws)] = sums[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    return means


def percentile_interval(means: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap means."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def interval(values: np.ndarray, groups: Sequence | np.ndarray | None = None, n_resamples: int = 1000,
             level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile cluster-bootstrap interval of the mean of ``values`` (NaNs when there are none)."""
    if len(values) == 0:
        return (float("nan"), float("nan"))
    return percentile_interval(resampled_means(values, groups, n_resamples, seed), level)


def simultaneous_level(level: float, family_size: int) -> float:
    """The level of each of ``family_size`` intervals so that all hold together with probability
    at least ``level`` (Bonferroni: 0.95 over 4 comparisons → 0.9875 each)."""
    return 1 - (1 - level) / max(int(family_size), 1)
