"""Scores of one approach on the held-out images: a plain dict, the same for every approach."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support)

from analysis.stats import bootstrap


def reliability(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> dict:
    """Reliability curve of top-1 confidence and the expected calibration error (ECE).

    Returns:
        dict with ``bin_confidence``, ``bin_accuracy``, ``bin_count`` (lists of length n_bins,
        None for empty bins) and ``ece``.
    """
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(bins, weights=correct.astype(float), minlength=n_bins)
    filled = count > 0
    ece = float(np.abs(acc_sum - conf_sum)[filled].sum() / max(count.sum(), 1))
    return {
        "bin_confidence": [float(c / n) if n else None for c, n in zip(conf_sum, count)],
        "bin_accuracy": [float(a / n) if n else None for a, n in zip(acc_sum, count)],
        "bin_count": count.tolist(),
        "ece": ece,
    }


def evaluate(y_true: np.ndarray, proba: np.ndarray, classes: list[str], seed: int = 0,
             groups: np.ndarray | None = None) -> dict:
    """Every metric of DESIGN.md for one approach.

    Args:
        y_true: ndarray of shape (n_images,), true class names.
        proba: ndarray of shape (n_images, n_classes), class probabilities in ``classes`` order.
        classes: the ordered class names.
        groups: ndarray of shape (n_images,), the split's group of each image (the interval
            resamples whole groups); None: every image alone.

    Returns:
        dict with ``n``, ``accuracy``, ``accuracy_ci`` ([low, high], 95% bootstrap by group),
        ``accuracy_ci_groups`` (the groups it resampled; ``n`` when every image is alone),
        ``balanced_accuracy``, ``macro_f1``, ``per_class`` ({class: precision, recall, f1,
        support}), ``confusion_matrix`` (rows true, columns predicted, ``classes`` order), ``ece``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(classes)[np.argmax(proba, axis=1)]
    correct = (y_pred == y_true).astype(float)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "accuracy_ci": list(bootstrap.interval(correct, groups, seed=seed)),
        "accuracy_ci_groups": int(len(set(np.asarray(groups).tolist())) if groups is not None else len(y_true)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        "ece": reliability(proba.max(axis=1), correct)["ece"],
    }


def class_proba(model, features, classes: list[str]) -> np.ndarray:
    """A fitted scikit-learn classifier's probabilities in ``classes`` order, ndarray of shape
    (n_rows, n_classes); a class the model never saw in training (a small k-shot draw, say) gets 0."""
    predicted = model.predict_proba(features)
    proba = np.zeros((len(predicted), len(classes)))
    for column, name in enumerate(model.classes_):
        proba[:, list(classes).index(name)] = predicted[:, column]
    return proba


def reference_rates(train_labels: np.ndarray, eval_labels: np.ndarray, classes: list[str]) -> dict:
    """The two rates every figure is read against: always answering the majority training class,
    and guessing uniformly at random."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    majority = str(values[np.argmax(counts)])
    return {
        "majority_class": majority,
        "majority_rate": float(np.mean(np.asarray(eval_labels) == majority)),
        "uniform_rate": 1.0 / len(classes),
    }
