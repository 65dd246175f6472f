"""Honest choices and honest uncertainty for the figures beside the ladder (pure, no I/O).

- the probe's C: the strongest regularisation within one standard error of the best
  cross-validated score, so a difference smaller than the folds' own spread does not decide;
- the zero-shot/probe blend weight is chosen on the training part (out-of-fold probe
  probabilities), never on the held-out images;
- effective shots come as a range: the k-shot points whose uncertainty keeps them level with
  zero-shot are not a crossing;
- single templates that give (almost) one answer to every image are a collapse onto that class,
  read from their stored answers, not a measure of how well the wording separates the classes;
- the k-shot axis says what each point is (images per class, capped by the smallest class; the
  last point is every training image).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


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

def kshot_half_width(point: dict, target: float, n_eval: int, level: float = 0.95) -> float:
    """Half-width of a k-shot point's interval against the zero-shot line (``target``).

    Two sources of uncertainty, added in quadrature:

    - *which images were drawn*: the spread of the point's draws — their sample standard deviation
      (``ddof=1``, from ``accuracies`` where stored, else ``std``) over √draws, scaled by Student's
      t with draws − 1 degrees of freedom (2.78 for 5 draws, not 1.96: five draws say little about
      their own spread). A point of one draw (every training image) has no draw to vary.
    - *which images were held out*: every draw is scored on the same ``n_eval`` images, so averaging
      draws does not shrink this part. The point and the zero-shot line are both measured on those
      images; without per-image answers per draw they cannot be paired, so both binomial variances
      count (conservative).
    """
    from scipy.stats import norm as normal, t as student_t  # here: the dashboard pages never load scipy

    accuracies = [float(value) for value in point.get("accuracies") or []]
    draws = len(accuracies) or max(int(point.get("draws") or 1), 1)
    spread = float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else float(point.get("std") or 0.0)
    tail = 1 - (1 - level) / 2
    drawn = float(student_t.ppf(tail, draws - 1)) * spread / np.sqrt(draws) if draws > 1 else 0.0
    mean = float(point["mean"])
    held_out = float(normal.ppf(tail)) * np.sqrt((mean * (1 - mean) + target * (1 - target)) / max(n_eval, 1))
    return float(np.hypot(drawn, held_out))


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

COLLAPSE_SHARE = 0.9  # a template that gives one answer to at least this share of the images has collapsed


def collapsed_templates(templates: Sequence[dict], true_distribution: dict[str, int]) -> list[dict]:
    """The single templates that give (almost) one answer to every held-out image.

    From the answers stored with each template (``predicted``: class → images answered so, written
    by the zero-shot autopsy): a template whose most frequent answer covers at least
    :data:`COLLAPSE_SHARE` of the images. Rows without stored answers (bundles written before them)
    fall back to a sign, not a measurement: an accuracy equal to one class's share, to within one
    image, which is what a template scores when it answers that class for every image.

    Returns:
        The collapsed rows, each with an added ``onto`` (the class it answers) and ``onto_share``
        (the share of the images answered so; None where it was inferred from the accuracy).
    """
    total = sum(true_distribution.values())
    found = []
    for row in templates:
        counts = row.get("predicted")
        if counts:
            answered = sum(counts.values())
            onto = max(counts, key=counts.get)
            if answered and counts[onto] >= COLLAPSE_SHARE * answered:
                found.append({**row, "onto": onto, "onto_share": counts[onto] / answered})
            continue
        value = row.get("accuracy")
        if value is None or not total:
            continue
        for name, count in true_distribution.items():
            if count and abs(value * total - count) < 0.5:
                found.append({**row, "onto": name, "onto_share": None})
                break
    return found


def collapse_phrase(collapsed: Sequence[dict]) -> str:
    """What :func:`collapsed_templates` found, in words: ``give (almost) one answer to every image:
    2 answer *pure* for 97–100% of the images``; for rows inferred from their accuracy only, ``score
    exactly one class's share (*pure*), as …``."""
    if any(row["onto_share"] is None for row in collapsed):  # no stored answers: only a sign of the collapse
        onto = ", ".join(f"*{name}*" for name in sorted({row["onto"] for row in collapsed}))
        return f"score exactly one class's share ({onto}), as a template answering that class for every image would"
    shares = {name: [row["onto_share"] for row in collapsed if row["onto"] == name]
              for name in sorted({row["onto"] for row in collapsed})}
    return "give (almost) one answer to every image: " + "; ".join(
        f"{len(values)} answer{'s' * (len(values) == 1)} *{name}* for "
        f"{'–'.join(dict.fromkeys(f'{value:.0%}' for value in (min(values), max(values))))} of the images"
        for name, values in shares.items())


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
