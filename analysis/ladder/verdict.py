"""The verdict: four paired comparisons on the same held-out images, and plain warnings.

Rows: zero-shot against always answering the majority class; the linear probe against zero-shot
and against the image-statistics baseline; the fine-tuned ConvNeXt against the probe. Each is a
difference of accuracies with a *paired* bootstrap interval: the same resampled groups of images
score both approaches, so what they get right together does not widen the interval.

Many comparisons, one promise: the rows of the verdict (and the steps of a ladder) are a family,
and their intervals are *simultaneous* — each at 1 − 5%/m for m comparisons (Bonferroni) — so the
chance that any "clearly" of the family is wrong stays under 5% (:func:`multiplicity_text`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from analysis.core import weights
from analysis.ladder import attribution_text
from analysis.stats import bootstrap, wording
from analysis.core import numbers

N_RESAMPLES = 2000


def paired_difference(correct_a: np.ndarray, correct_b: np.ndarray, n_resamples: int = N_RESAMPLES,
                      level: float = 0.95, seed: int = 0, groups: np.ndarray | None = None) -> dict:
    """Accuracy of A minus accuracy of B on the same images, with a paired percentile bootstrap
    that resamples whole groups of images (:mod:`analysis.stats.bootstrap`).

    Args:
        correct_a, correct_b: ndarray of shape (n_images,), 1 where the approach is right; the
            same images in the same order.
        level: the interval's level (a verdict row uses its family's simultaneous level).
        groups: ndarray of shape (n_images,), the split's group of each image; None: every image
            alone.

    Returns:
        dict with ``difference``, ``ci`` ([low, high]), ``level``, ``n``, ``a`` and ``b`` (the accuracies).

    Raises:
        ValueError: the two vectors differ in length.
    """
    a, b = np.asarray(correct_a, dtype=np.float64), np.asarray(correct_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs the same images: {a.shape} vs {b.shape}")
    if len(a) == 0:
        return {"difference": None, "ci": [None, None], "level": level, "n": 0, "a": None, "b": None}
    low, high = bootstrap.interval(a - b, groups, n_resamples, level, seed)
    return {"difference": float((a - b).mean()), "ci": [low, high], "level": level, "n": int(len(a)),
            "a": float(a.mean()), "b": float(b.mean())}


def clearly(comparison: dict) -> str:
    """``above``, ``below`` or ``level`` (the interval straddles 0): :func:`analysis.stats.wording.direction`."""
    return wording.direction(comparison["ci"])


def level_text(level: float) -> str:
    """An interval's level as people write it: ``95%``, ``98.75%``."""
    return f"{level * 100:.4g}%"


def describe(comparison: dict, first: str, second: str) -> str:
    """'**probe** 55.4% vs *zero-shot* 40.5%: +14.9 points (95% paired interval +13.1 to +16.8).'"""
    low, high = comparison["ci"]
    signed = numbers.signed_points
    return (f"{first} {comparison['a']:.1%} vs {second} {comparison['b']:.1%}: {signed(comparison['difference'])} "
            f"points ({level_text(comparison.get('level', 0.95))} paired interval {signed(low)} to {signed(high)})")


def multiplicity_text(level: float, compared: Sequence[dict]) -> str:
    """The one line that says how "clearly" is decided over a family of ``compared`` rows."""
    if len(compared) < 2:
        return "\"Clearly\" means the 95% paired interval, resampled by group of images, leaves out 0."
    return (f"\"Clearly\" means the interval leaves out 0; the {len(compared)} intervals are simultaneous "
            f"({level_text(level)} each, Bonferroni), so the chance that any of them says \"clearly\" wrongly stays "
            "under 5%; images are resampled by group.")


def weight_warnings(approaches: Sequence[dict]) -> list[str]:
    """A plain sentence for every network with random weights or trained from scratch (one per model)."""
    warnings = []
    for record in approaches:
        kind = weights.weights_kind(record)
        name = record.get("model_key") or record.get("model") or record["id"]
        if record.get("kind") == "finetune" and kind == weights.SCRATCH:
            warnings.append(f"{name} was trained from scratch (no ImageNet weights): its accuracy says little "
                            "about what fine-tuning a pretrained network would give.")
        elif kind == weights.RANDOM:
            warnings.append(f"{name} has random weights: every approach on it tests the tool, not CLIP.")
        elif kind == weights.SYNTHETIC:
            warnings.append(f"{name} was trained on synthetic kernels and their captions only: what it finds is "
                            "what those captions planted, not what CLIP knows.")
    return list(dict.fromkeys(warnings))


def verdict_row(name: str, comparison: dict | None, first: str, second: str, diagnosis: str) -> dict:
    """One verdict row; ``comparison`` None means one side is missing from the bundle."""
    if comparison is None or comparison.get("difference") is None:
        return {"row": name, "available": False, "comparison": None, "text": f"{first} vs {second}: not in this bundle.",
                "diagnosis": diagnosis, "direction": None}
    return {"row": name, "available": True, "comparison": comparison, "direction": clearly(comparison),
            "text": describe(comparison, first, second), "diagnosis": diagnosis}


def zeroshot_diagnosis(comparison: dict | None, found: dict | None, random_weights: bool = False) -> str:
    """Why zero-shot fails, from :func:`analysis.ladder.attribution.attribute` (``found``): the causes
    clearly above 0 and at least a minimum share of the gap, each point counted once; with random
    weights, said to be about this network."""
    if found is None:
        if comparison is not None and clearly(comparison) == "below":
            return "No ladder in this bundle says why."
        return ""
    if random_weights:
        return "With random weights the attribution describes this random network, not CLIP: no cause is named."
    return attribution_text.diagnosis(found)
