"""Honest choices and honest uncertainty for the figures beside the ladder (pure, no I/O).

- the probe's C: the strongest regularisation within one standard error of the best
  cross-validated score, so a difference smaller than the folds' own spread does not decide;
- the zero-shot/probe blend weight is chosen on the training part (out-of-fold probe
  probabilities), never on the held-out images;
- effective shots come as a range: the k-shot points whose uncertainty keeps them level with
  zero-shot are not a crossing;
- single-template accuracies that only equal one class's share are a collapse onto that class,
  not a measure of how well the wording separates the classes;
- the k-shot axis says what each point is (images per class, capped by the smallest class; the
  last point is every training image).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

Z_95 = 1.96


# --- the probe's C ---------------------------------------------------------------------------------

def one_standard_error(sweep: Sequence[dict]) -> tuple[dict, float]:
    """The sweep's row with the best mean CV accuracy, and the standard error of that mean (sample
    std of its folds / √folds; 0 with one fold)."""
    best = max(sweep, key=lambda row: row["cv_accuracy_mean"])
    folds = np.asarray(best["cv_accuracy_folds"], dtype=float)
    return best, float(folds.std(ddof=1) / np.sqrt(len(folds))) if len(folds) > 1 else 0.0


def one_standard_error_c(sweep: Sequence[dict]) -> float:
    """The smallest C whose mean CV accuracy is within one standard error of the best mean.

    The one-standard-error rule (Hastie, Tibshirani & Friedman, *The Elements of Statistical
    Learning*, 7.10): C values whose scores differ by less than the folds' own spread are a tie,
    and a tie goes to the stronger regularisation. Taking the bare maximum let a difference of
    0.0001 in mean accuracy pick the C, so that features differing only in rounding (bf16 against
    fp32) chose different C values and moved the held-out score by 2 points on the demo.

    Args:
        sweep: rows with ``C``, ``cv_accuracy_mean`` and ``cv_accuracy_folds`` (:func:`analysis.stages.probe.sweep_c`).
    """
    best, standard_error = one_standard_error(sweep)
    return min(float(row["C"]) for row in sweep if row["cv_accuracy_mean"] >= best["cv_accuracy_mean"] - standard_error)


# --- the blend weight -----------------------------------------------------------------------------

def blend_accuracy(zeroshot_proba: np.ndarray, probe_proba: np.ndarray, labels: Sequence[str],
                   classes: Sequence[str], alpha: float) -> float:
    """Accuracy of ``alpha · zero-shot + (1 − alpha) · probe`` probabilities."""
    mixed = alpha * np.asarray(zeroshot_proba) + (1 - alpha) * np.asarray(probe_proba)
    return float(np.mean(np.asarray(classes)[mixed.argmax(axis=1)] == np.asarray(labels)))


def choose_blend_alpha(zeroshot_train: np.ndarray, probe_out_of_fold: np.ndarray, train_labels: Sequence[str],
                       classes: Sequence[str], alphas: Sequence[float]) -> tuple[float, list[float]]:
    """The blend weight with the best accuracy on the training part (smallest alpha on a tie).

    Args:
        zeroshot_train: ndarray of shape (n_train, n_classes), zero-shot probabilities.
        probe_out_of_fold: ndarray of shape (n_train, n_classes), each row predicted by a probe
            that did not see its fold.

    Returns:
        The chosen alpha and the training accuracy of every alpha.
    """
    scores = [blend_accuracy(zeroshot_train, probe_out_of_fold, train_labels, classes, alpha) for alpha in alphas]
    return float(alphas[int(np.argmax(scores))]), scores


# --- effective shots with their uncertainty -------------------------------------------------------

def kshot_half_width(point: dict, target: float, n_eval: int) -> float:
    """95% half-width of a k-shot point against the zero-shot line: the spread of its random
    draws plus the sampling noise of ``n_eval`` held-out images at the zero-shot rate."""
    draws = max(int(point.get("draws") or 1), 1)
    spread = float(point.get("std") or 0.0) ** 2 / draws
    sampling = target * (1 - target) / max(n_eval, 1)
    return Z_95 * float(np.sqrt(spread + sampling))


def shots_range(curve: Sequence[dict], target: float, n_eval: int) -> dict:
    """Where the k-shot curve clearly passes ``target`` (zero-shot's accuracy).

    A point is *clearly above* when its mean minus its half-width (:func:`kshot_half_width`)
    exceeds the target, *clearly below* when its mean plus the half-width stays under it.

    Returns:
        dict with ``how`` — ``between`` (``low``: the last k clearly below before ``high``, the
        first k clearly above), ``at_most`` (the first k is already clearly above: ``high``),
        ``never_clearly`` (no k is clearly above) — and ``low``, ``high``, ``high_is_all``
        (the crossing needs every training image), ``n_train_high``.
    """
    points = sorted(curve, key=lambda point: point["k"])
    above = [point["mean"] - kshot_half_width(point, target, n_eval) > target for point in points]
    below = [point["mean"] + kshot_half_width(point, target, n_eval) < target for point in points]
    if not any(above):
        return {"how": "never_clearly", "low": None, "high": None, "high_is_all": False, "n_train_high": None}
    first = above.index(True)
    high = points[first]
    result = {"high": int(high["k"]), "high_is_all": bool(high.get("all")), "n_train_high": high.get("n_train")}
    lows = [point["k"] for point, is_below in zip(points[:first], below[:first]) if is_below]
    if first == 0 or not lows:
        return {"how": "at_most", "low": None, **result}
    return {"how": "between", "low": int(lows[-1]), **result}


def shots_phrase(found: dict) -> str:
    """``between 16 and 32``, ``at most 2``, ``never clearly`` — a :func:`shots_range` as words."""
    if found["how"] == "never_clearly":
        return "never clearly"
    high = f"all {found['n_train_high']} training images" if found.get("high_is_all") and found.get(
        "n_train_high") else str(found["high"])
    if found["how"] == "at_most":
        return f"at most {high}" if not found.get("high_is_all") else f"only with {high}"
    return f"between {found['low']} and {high}"


# --- single templates that collapse onto one class ------------------------------------------------

def collapsed_templates(templates: Sequence[dict], true_distribution: dict[str, int]) -> list[dict]:
    """The single templates whose accuracy equals one class's share of the held-out images, to
    within one image: what a template scores when it answers that class for every image.

    Returns:
        The collapsed rows, each with an added ``onto`` (the class whose share it equals).
    """
    total = sum(true_distribution.values())
    if not total:
        return []
    found = []
    for row in templates:
        value = row.get("accuracy")
        if value is None:
            continue
        for name, count in true_distribution.items():
            if count and abs(value * total - count) < 0.5:
                found.append({**row, "onto": name})
                break
    return found


# --- the k-shot axis ------------------------------------------------------------------------------

def kshot_axis(curve: Sequence[dict], class_counts: dict[str, int] | None = None) -> dict:
    """Tick values and labels of the k-shot axis, and its title.

    Every k but the last is "k images per class (a class with fewer gives all it has)"; the last
    point, when it is the whole training part, is labelled "all (N)" instead of its k.
    """
    points = sorted(curve, key=lambda point: point["k"])
    values = [int(point["k"]) for point in points]
    labels = [f"all ({point.get('n_train')})" if point.get("all") else str(int(point["k"])) for point in points]
    if len(points) > 1 and points[-1].get("all") and points[-1]["k"] < 1.6 * points[-2]["k"]:
        labels[-2] = ""  # too close to "all" on a log axis to be read; its hover still says it
    smallest = min(class_counts.values()) if class_counts else None
    title = "labelled training images per class (log scale)"
    if smallest:
        title += f"; classes with fewer than k give all they have (smallest: {smallest})"
    return {"tickvals": values, "ticktext": labels, "title": title}
