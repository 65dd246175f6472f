"""Honest baselines and the confounder report: what trivial image statistics already predict.

Two approaches, scored like every other one on the same held-out images:

- ``baseline:majority`` — always the most frequent training class (its probabilities are the
  training class shares, so calibration figures stay meaningful);
- ``baseline:image-stats`` — a gradient-boosting model on per-image size, view and colour
  moments (:mod:`analysis.data.imagestats`), trained on the ``train`` split only.

The ``confounders`` diagnostics say which shortcut carries the signal: per-class distributions
of size, view and colour, and the accuracy of the same model restricted to size, view or colour.
Per-view accuracy of every approach is in each approach's ``metrics.accuracy_by_view``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance

from analysis.data import engine, imagestats, split
from analysis.stats import metrics
from analysis.core import records
from analysis.stages.context import RunContext, Stage, data_inputs

log = logging.getLogger(__name__)

MAJORITY_NAME, IMAGE_STATS_NAME = "majority", "image-stats"  # the baselines' model keys
MAJORITY = records.approach_id(records.BASELINE, MAJORITY_NAME)
IMAGE_STATS = records.approach_id(records.BASELINE, IMAGE_STATS_NAME)
CONFOUNDERS = "confounders"
VIEW = "view"
# Which shortcut carries the signal: the image-stats model restricted to one group of features.
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "size": imagestats.SIZE_FEATURES,
    "view": (VIEW,),
    "colour": imagestats.COLOUR_FEATURES,
    "all": imagestats.STAT_COLUMNS + (VIEW,),
}
# Shallow trees: a dozen features and (for user data) a few hundred images. On the real sample's
# training part, 5-fold CV gave 0.545 against 0.532 for scikit-learn's defaults.
HYPERPARAMETERS = {"max_iter": 100, "learning_rate": 0.05, "max_depth": 3, "min_samples_leaf": 20}
HISTOGRAM_BINS = 20
# Report name → image-stats column; brightness is the mean HSV value of the image.
DISTRIBUTIONS = {"width": "width", "height": "height", "aspect": "aspect",
                 "saturation": "saturation_mean", "brightness": "value_mean"}


# --- models ---------------------------------------------------------------------------------------

def feature_frame(table: pd.DataFrame, features: Sequence[str], views: Sequence[str]) -> pd.DataFrame:
    """The model input: the chosen columns of ``table``, ``view`` as a categorical column.

    Args:
        table: image statistics plus a ``view`` column.
        features: column names (a value of ``FEATURE_GROUPS``).
        views: every view name of the dataset, so train and eval code views alike.
    """
    frame = table[list(features)].copy()
    if VIEW in frame:
        frame[VIEW] = pd.Categorical(frame[VIEW].astype(str), categories=sorted(views))
    return frame


def fit_image_stats_model(frame: pd.DataFrame, labels: np.ndarray,
                          seed: int = 0) -> HistGradientBoostingClassifier:
    """A ``HistGradientBoostingClassifier`` on a :func:`feature_frame` (categorical view from its dtype)."""
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed,
                                           **HYPERPARAMETERS)
    return model.fit(frame, labels)


def majority_proba(train_labels: np.ndarray, classes: Sequence[str], n_rows: int) -> np.ndarray:
    """The training class shares for every row, ndarray of shape (n_rows, n_classes).

    Its top class is the one :func:`analysis.stats.metrics.reference_rates` calls the majority class
    (ties are broken its way), so the baseline's accuracy equals the manifest's ``majority_rate``.
    """
    train_labels = np.asarray(train_labels)
    shares = np.array([np.mean(train_labels == name) for name in classes])
    majority = metrics.reference_rates(train_labels, train_labels, list(classes))["majority_class"]
    shares[list(classes).index(majority)] += 1e-9  # break a tie towards the reference's choice
    return np.tile(shares / shares.sum(), (n_rows, 1))


# --- the confounder report ------------------------------------------------------------------------

def _summary(values: pd.Series) -> dict:
    values = values.astype(float)
    return {"mean": float(values.mean()) if len(values) else None,
            "std": float(values.std(ddof=0)) if len(values) else None,
            "quantiles": [float(q) for q in values.quantile(records.QUANTILE_LEVELS)] if len(values) else []}


def _group_profile(rows: pd.DataFrame, views: Sequence[str]) -> dict:
    """Size, colour and view profile of a set of images (one class, or the unlabelled test set)."""
    shares = rows[VIEW].astype(str).value_counts(normalize=True)
    return {"n": len(rows),
            **{name: _summary(rows[column]) for name, column in DISTRIBUTIONS.items()},
            "view_shares": {view: float(shares.get(view, 0.0)) for view in views}}


def _histograms(labelled: pd.DataFrame, classes: Sequence[str]) -> dict:
    """Per-class counts on shared bin edges, one entry per distribution: ready to plot."""
    result = {}
    for name, column in DISTRIBUTIONS.items():
        edges = np.histogram_bin_edges(labelled[column].astype(float), bins=HISTOGRAM_BINS)
        result[name] = {"edges": edges.tolist(), "counts": {
            label: np.histogram(labelled.loc[labelled["label"] == label, column].astype(float), edges)[0].tolist()
            for label in classes}}
    return result


def shortcut_scores(table: pd.DataFrame, classes: Sequence[str], seed: int = 0,
                    fitted: dict[str, HistGradientBoostingClassifier] | None = None) -> dict[str, dict]:
    """Accuracy on the ``eval`` images of the image-stats model restricted to each feature group.

    Args:
        table: one row per image with ``split``, ``label``, ``view`` and the image statistics.
        fitted: models already trained on ``train`` for some groups (reused, not refitted).

    Returns:
        {group: {``features``, ``accuracy``, ``accuracy_ci``, ``balanced_accuracy``, ``macro_f1``}}
        for every group of ``FEATURE_GROUPS``.
    """
    views = sorted(table[VIEW].astype(str).unique())
    train, held_out = table[table["split"] == split.TRAIN], table[table["split"] == split.EVAL]
    scores = {}
    for group, features in FEATURE_GROUPS.items():
        model = (fitted or {}).get(group) or fit_image_stats_model(
            feature_frame(train, features, views), train["label"].to_numpy(), seed)
        proba = metrics.class_proba(model, feature_frame(held_out, features, views), classes)
        evaluated = metrics.evaluate(held_out["label"].to_numpy(), proba, list(classes), seed=seed,
                                     groups=split.interval_groups(held_out))
        scores[group] = {"features": list(features),
                         **{key: evaluated[key] for key in ("accuracy", "accuracy_ci", "balanced_accuracy",
                                                             "macro_f1")}}
    return scores


def confounder_report(table: pd.DataFrame, classes: Sequence[str], model: HistGradientBoostingClassifier,
                      seed: int = 0) -> dict:
    """The ``confounders`` diagnostics (layout in docs/bundle.md).

    Args:
        table: one row per image with ``split``, ``label``, ``view`` and the image statistics.
        classes: ordered class names.
        model: the ``all``-features image-stats model, trained on ``train``.
    """
    views = sorted(table[VIEW].astype(str).unique())
    labelled = table[table["split"].isin([split.TRAIN, split.EVAL])]
    unlabelled = table[table["split"] == split.KAGGLE_TEST]
    train, held_out = labelled[labelled["split"] == split.TRAIN], labelled[labelled["split"] == split.EVAL]
    shortcuts = shortcut_scores(table, classes, seed, fitted={"all": model})
    importance = permutation_importance(
        model, feature_frame(held_out, FEATURE_GROUPS["all"], views), held_out["label"].to_numpy(),
        scoring="accuracy", n_repeats=5, random_state=seed)
    return {
        "classes": list(classes),
        "views": views,
        "units": {"width": "px", "height": "px", "aspect": "width / height",
                  "saturation": "mean HSV saturation of the image, 0-255",
                  "brightness": "mean HSV value (max of R, G, B) of the image, 0-255"},
        "images": "train and eval (labelled) images; kaggle_test separately",
        "quantile_levels": list(records.QUANTILE_LEVELS),
        "per_class": {label: _group_profile(labelled[labelled["label"] == label], views) for label in classes},
        "kaggle_test": _group_profile(unlabelled, views) if len(unlabelled) else None,
        "by_view": {str(view): {"n": len(rows), "saturation": float(rows["saturation_mean"].mean()),
                                "brightness": float(rows["value_mean"].mean())}
                    for view, rows in labelled.groupby(labelled[VIEW].astype(str))},
        "histograms": _histograms(labelled, classes),
        "n_train": len(train),
        "n_eval": len(held_out),
        "majority_rate": metrics.reference_rates(train["label"].to_numpy(), held_out["label"].to_numpy(),
                                                 list(classes))["majority_rate"],
        "shortcut_accuracy": {group: score["accuracy"] for group, score in shortcuts.items()},
        "shortcuts": shortcuts,
        "permutation_importance": sorted(
            ({"feature": name, "mean": float(mean), "std": float(std)} for name, mean, std in
             zip(FEATURE_GROUPS["all"], importance.importances_mean, importance.importances_std)),
            key=lambda entry: -entry["mean"]),
        "accuracy_by_view": "per approach: manifest approaches[].metrics.accuracy_by_view",
    }


# --- the pipeline stage ---------------------------------------------------------------------------

def statistics_table(context: RunContext) -> pd.DataFrame:
    """The bundle's images with their image statistics (cached in the bundle), in images order."""
    options = context.options
    stats, changed = imagestats.refreshed_table(imagestats.read_cached(context.file_path(imagestats.TABLE_FILE)),
                                                context.images, context.dataset.root, options.workers,
                                                options.show_progress,
                                                engine.from_options(options.ray, options.ray_actors, options.ray_gpus))
    if changed or imagestats.TABLE_NAME not in context.bundle().manifest.get("features", {}):
        context.save_features(imagestats.TABLE_NAME, stats, columns=list(imagestats.STAT_COLUMNS),
                              n_images=len(stats))
    kept = ["image_id", "split", "label", VIEW] + [key for key in ("group", "seed_id", "content_hash")
                                                   if key in context.images.columns]  # for the intervals
    table = context.images[kept].reset_index(drop=True)
    return pd.concat([table, stats[list(imagestats.STAT_COLUMNS)]], axis=1)


@dataclass(frozen=True)
class BaselineOptions:
    baselines: bool
    seed: int
    workers: int
    show_progress: bool


def units(context: RunContext, options: BaselineOptions) -> list[None]:
    return [None] if options.baselines else []  # --no-baselines


def is_done(context: RunContext, options: BaselineOptions, unit: None) -> bool:
    """Both baselines, the confounder report and the statistics table are in the bundle."""
    return (all(context.has_approach(approach) for approach in (MAJORITY, IMAGE_STATS))
            and context.bundle().has_diagnostics(CONFOUNDERS) and context.file_path(imagestats.TABLE_FILE).is_file())


def inputs(context: RunContext, options: BaselineOptions, unit: None) -> dict:
    """The images, the split and the seed."""
    return {**data_inputs(context), "options": {"seed": options.seed}}


def run_stage(context: RunContext, options: BaselineOptions, unit: None = None) -> None:
    """Pipeline stage: both baselines and the confounder report."""
    seed, classes = options.seed, context.classes
    started = time.perf_counter()
    table = statistics_table(context)
    stats_seconds = time.perf_counter() - started
    train = table[table["split"] == split.TRAIN]
    predicted = table[table["split"].isin([split.EVAL, split.KAGGLE_TEST])]
    train_labels = train["label"].to_numpy()

    started = time.perf_counter()
    proba = majority_proba(train_labels, classes, len(predicted))
    context.save_approach(records.BASELINE, predicted["image_id"], proba, model_key=MAJORITY_NAME,
                          model="majority class",
                          params={"trained_on": split.TRAIN, "n_train": len(train),
                                  "class_shares": {name: float(np.mean(train_labels == name))
                                                   for name in classes}},
                          wall_time_s=time.perf_counter() - started)

    started = time.perf_counter()
    views = sorted(table[VIEW].astype(str).unique())
    features = FEATURE_GROUPS["all"]
    model = fit_image_stats_model(feature_frame(train, features, views), train_labels, seed)
    proba = metrics.class_proba(model, feature_frame(predicted, features, views), classes)
    context.save_approach(records.BASELINE, predicted["image_id"], proba, model_key=IMAGE_STATS_NAME,
                          model="HistGradientBoostingClassifier on image statistics",
                          params={"features": list(features), "hyperparameters": HYPERPARAMETERS,
                                  "trained_on": split.TRAIN, "n_train": len(train),
                                  "n_iterations": int(model.n_iter_),
                                  "image_stats_seconds": round(stats_seconds, 2),
                                  "image_stats_table": imagestats.TABLE_FILE},
                          wall_time_s=time.perf_counter() - started)
    report = confounder_report(table, classes, model, seed)
    context.save_diagnostics(CONFOUNDERS, report)
    log.info("confounders: shortcut accuracy %s (majority %.3f)",
             ", ".join(f"{group} {value:.3f}" for group, value in report["shortcut_accuracy"].items()),
             report["majority_rate"])


STAGE = Stage("baselines", "majority and image-statistics baselines, confounder report (off: --no-baselines)",
              BaselineOptions, run_stage, units=units, done=is_done, inputs=inputs,
              describe=lambda unit: "baselines")
