"""The linear probe: logistic regression on cached CLIP image features, no model call.

For one CLIP model key the probe reads the features the CLIP stage stored in the bundle (the
pooled features before the projection when present, else the image embeddings), chooses the
regularisation ``C`` by cross-validation over the grouped ``fold`` column of the training part,
and is scored on the held-out images like every other approach. Its diagnostics answer "how many
labels is zero-shot worth?":

- ``c_sweep``: cross-validated accuracy along the ``C`` grid (the walk stops once it declines);
- ``kshot``: accuracy on the held-out images with k = 1, 2, 4, … labelled images per class
  (several random draws each), and the *effective shots* — the k at which the probe matches
  zero-shot, interpolated on log k as in the CLIP paper (Radford et al. 2021, Fig. 7);
- ``blend``: WiSE-style mixtures ``alpha · zero-shot + (1 − alpha) · probe`` of the two heads'
  probabilities.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from analysis.core import bundle, records
from analysis.models import devices
from analysis.stats import choices, metrics
from analysis.data import split
from analysis.stages.context import RunContext, Stage, data_inputs

log = logging.getLogger(__name__)

# Half-decades from strong to weak regularisation. On standardised CLIP features the optimum sits
# around 1e-3 – 1e-1; C above 10 only overfits and costs the most iterations.
C_GRID: tuple[float, ...] = tuple(float(c) for c in np.logspace(-4, 1, 11))
# scikit-learn's default. The well-regularised fits converge well within it; the weakly regularised
# end of the grid may stop short, which moved no score of the demo's sweep by more than 0.005 while
# tripling to decupling the sweep's time at 300.
MAX_ITER = 100
KSHOT_DRAWS = 5
BLEND_ALPHAS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
FEATURE_KINDS = ("clip_features", "clip_image")  # preferred first
# The C walk stops after this many grid values in a row below the best mean CV accuracy.
SWEEP_PATIENCE = 3


# --- models ---------------------------------------------------------------------------------------

def logistic_regression(C: float = 1.0, seed: int = 0, max_iter: int = MAX_ITER, warm_start: bool = False,
                        device: str = "cpu"):
    """Multinomial logistic regression (lbfgs): scikit-learn's on the CPU (the default); on ``cuda``
    the same objective fitted in torch (:class:`analysis.models.linear.TorchLogisticRegression`)."""
    if device == "cuda":
        from analysis.models.linear import TorchLogisticRegression

        return TorchLogisticRegression(C=C, max_iter=max_iter, warm_start=warm_start, device=device,
                                       random_state=seed)
    return LogisticRegression(C=C, max_iter=max_iter, warm_start=warm_start, random_state=seed)


def make_probe(C: float = 1.0, seed: int = 0, max_iter: int = MAX_ITER, device: str = "cpu") -> Pipeline:
    """Standardised features → multinomial logistic regression (lbfgs; see :func:`logistic_regression`)."""
    return make_pipeline(StandardScaler(), logistic_regression(C, seed, max_iter, device=device))


class _FoldPath:
    """One fold's regularisation path: the scaler fitted on the fold's training rows only, and a
    model warm-started from its previous C (the path of ``LogisticRegressionCV``)."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, held_out: np.ndarray, seed: int,
                 device: str = "cpu"):
        scaler = StandardScaler().fit(features[~held_out])
        self.fit_rows, self.test_rows = scaler.transform(features[~held_out]), scaler.transform(features[held_out])
        self.fit_labels, self.test_labels = labels[~held_out], labels[held_out]
        self.model = logistic_regression(seed=seed, warm_start=True, device=device)

    def score(self, c: float) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.set_params(C=c).fit(self.fit_rows, self.fit_labels)
        return float(np.mean(self.model.predict(self.test_rows) == self.test_labels))


def sweep_c(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, grid: Sequence[float] = C_GRID,
            seed: int = 0, patience: int | None = SWEEP_PATIENCE, device: str = "cpu"
            ) -> tuple[Pipeline, list[dict], float]:
    """Choose ``C`` by cross-validated accuracy over predefined folds, then refit on all of them.

    Every fold walks the grid from strong to weak regularisation, warm-starting each fit from the
    previous solution, in float32 and with the scaler fitted inside the fold.
    ``LogisticRegressionCV`` itself casts to float64, which doubles the memory traffic that bounds
    these fits: 14,000 × 1,024 features take about twice as long there. The walk stops once the
    mean accuracy has stayed below its best for ``patience`` grid values in a row (None: the whole
    grid): weaker regularisation past a decline only overfits, and those fits are the slowest.

    Args:
        features: ndarray of shape (n_train, dim).
        labels: ndarray of shape (n_train,), class names.
        folds: ndarray of shape (n_train,), the cross-validation fold of each row (``fold`` column
            of images.parquet: grouped by seed_id and content, stratified by label).
        grid: the C values to try.
        device: ``cuda`` fits in torch on the GPU (:func:`logistic_regression`), else scikit-learn.

    Returns:
        The probe refitted on every row with the best C, the sweep (list of ``C``,
        ``cv_accuracy_mean``, ``cv_accuracy_std``, ``cv_accuracy_folds``; the C values walked, in
        ascending order), and the chosen C (:func:`analysis.stats.choices.one_standard_error_c`).
    """
    grid = sorted(float(c) for c in grid)
    features, labels, folds = np.asarray(features, dtype=np.float32), np.asarray(labels), np.asarray(folds)
    fold_ids = np.unique(folds)
    if len(fold_ids) < 2:
        raise ValueError("the C sweep needs at least two cross-validation folds in the training part")
    paths = [_FoldPath(features, labels, folds == fold, seed, device) for fold in fold_ids]
    sweep: list[dict] = []
    best, since_best = -1.0, 0
    for c in grid:
        scores = np.asarray([path.score(c) for path in paths])
        sweep.append({"C": c, "cv_accuracy_mean": float(scores.mean()), "cv_accuracy_std": float(scores.std()),
                      "cv_accuracy_folds": scores.tolist()})
        best, since_best = (float(scores.mean()), 0) if scores.mean() > best else (best, since_best + 1)
        if patience is not None and since_best >= patience:
            break
    best_c = choices.one_standard_error_c(sweep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe = make_probe(best_c, seed, device=device).fit(features, labels)
    return probe, sweep, best_c


# --- k-shot curve ---------------------------------------------------------------------------------

def kshot_sizes(class_counts: Sequence[int]) -> list[int]:
    """1, 2, 4, … below the largest class, then that largest class size ("all")."""
    largest = int(max(class_counts))
    sizes = [1]
    while sizes[-1] * 2 < largest:
        sizes.append(sizes[-1] * 2)
    return sizes + [largest] if largest > sizes[-1] else sizes


def kshot_sample(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of up to ``k`` random rows per class (all rows of a class with fewer)."""
    chosen = [rng.choice(rows, size=min(k, len(rows)), replace=False)
              for rows in (np.flatnonzero(labels == name) for name in np.unique(labels))]
    return np.sort(np.concatenate(chosen))


def kshot_curve(train_features: np.ndarray, train_labels: np.ndarray, eval_features: np.ndarray,
                eval_labels: np.ndarray, C: float, draws: int = KSHOT_DRAWS, seed: int = 0,
                sizes: Sequence[int] | None = None, device: str = "cpu") -> list[dict]:
    """Held-out accuracy of probes trained on k labelled images per class.

    Args:
        train_features, train_labels: the training part, ndarray of shape (n_train, dim) and (n_train,).
        eval_features, eval_labels: the held-out part.
        C: the regularisation of every probe (the sweep's choice on the full training part).
        draws: random draws per k; the last k (every training image) needs only one.
        sizes: the k values (default :func:`kshot_sizes`).

    Returns:
        list of ``k``, ``mean``, ``std`` (sample std of the draws, ddof=1; 0 for one draw),
        ``draws`` (count), ``accuracies`` (per draw),
        ``n_train`` (images used), ``all`` (True for the whole training part).
    """
    train_labels, eval_labels = np.asarray(train_labels), np.asarray(eval_labels)
    counts = pd.Series(train_labels).value_counts()
    sizes = list(sizes) if sizes is not None else kshot_sizes(counts.tolist())
    rng = np.random.default_rng(seed)
    curve = []
    for k in sizes:
        is_all = k >= counts.max()
        accuracies, n_used = [], 0
        for _ in range(1 if is_all else draws):
            rows = np.arange(len(train_labels)) if is_all else kshot_sample(train_labels, k, rng)
            n_used = len(rows)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = make_probe(C, seed, device=device).fit(train_features[rows], train_labels[rows])
            accuracies.append(float(np.mean(model.predict(eval_features) == eval_labels)))
        spread = float(np.std(accuracies, ddof=1)) if len(accuracies) > 1 else 0.0  # sample std of the draws
        curve.append({"k": int(k), "mean": float(np.mean(accuracies)), "std": spread,
                      "draws": len(accuracies), "accuracies": accuracies, "n_train": int(n_used),
                      "all": bool(is_all)})
    return curve


def effective_shots(ks: Sequence[float], accuracies: Sequence[float], target: float) -> tuple[float | None, str]:
    """The k at which a k-shot curve first reaches ``target``, interpolated linearly on log2 k.

    Returns:
        ``(k, how)``: ``how`` is ``interpolated`` (between two measured k), ``at_most`` (already
        reached at the smallest k, which is then returned) or ``never`` (k is None).
    """
    ks, accuracies = np.asarray(ks, dtype=float), np.asarray(accuracies, dtype=float)
    order = np.argsort(ks)
    ks, accuracies = ks[order], accuracies[order]
    reached = np.flatnonzero(accuracies >= target)
    if len(reached) == 0:
        return None, "never"
    first = reached[0]
    if first == 0:
        return float(ks[0]), "at_most"
    low, high = np.log2(ks[first - 1]), np.log2(ks[first])
    a_low, a_high = accuracies[first - 1], accuracies[first]
    fraction = (target - a_low) / (a_high - a_low)
    return float(2 ** (low + fraction * (high - low))), "interpolated"


def out_of_fold_proba(features: np.ndarray, labels: np.ndarray, folds: np.ndarray, C: float,
                      classes: Sequence[str], seed: int = 0, device: str = "cpu") -> np.ndarray:
    """Probabilities of every training row from a probe (``C``) fitted on the other folds,
    ndarray of shape (n_train, n_classes), ``classes`` order."""
    proba = np.zeros((len(labels), len(classes)))
    for fold in np.unique(folds):
        held_out = folds == fold
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make_probe(C, seed, device=device).fit(features[~held_out], labels[~held_out])
        proba[held_out] = metrics.class_proba(model, features[held_out], list(classes))
    return proba


def blend_curve(zeroshot_proba: np.ndarray, probe_proba: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                alphas: Sequence[float] = BLEND_ALPHAS) -> list[dict]:
    """Accuracy of ``alpha · zero-shot + (1 − alpha) · probe`` probabilities (alpha 0 = probe only).

    Args:
        zeroshot_proba, probe_proba: ndarray of shape (n_images, n_classes), ``classes`` order.
        labels: ndarray of shape (n_images,), true class names.
    """
    names = np.asarray(classes)
    return [{"alpha": float(alpha),
             "accuracy": float(np.mean(names[np.argmax(alpha * zeroshot_proba + (1 - alpha) * probe_proba, axis=1)]
                                       == np.asarray(labels)))} for alpha in alphas]


# --- reading the bundle ---------------------------------------------------------------------------

def feature_sources(manifest: dict) -> dict[str, str]:
    """Model key → the embeddings name the probe reads (``clip_features`` preferred over ``clip_image``)."""
    chosen: dict[str, tuple[int, str]] = {}
    for name, entry in manifest.get("embeddings", {}).items():
        kind = entry.get("kind")
        if kind not in FEATURE_KINDS:
            continue
        key = entry.get("model_key", name)
        rank = FEATURE_KINDS.index(kind)
        if key not in chosen or rank < chosen[key][0]:
            chosen[key] = (rank, name)
    return {key: name for key, (_, name) in sorted(chosen.items())}


def zeroshot_proba(opened: bundle.Bundle, approach: str, image_ids: Sequence[str]) -> np.ndarray:
    """A zero-shot approach's probabilities for ``image_ids`` (rows in that order)."""
    frame = opened.predictions(approach).set_index("image_id")
    missing = [image_id for image_id in image_ids if image_id not in frame.index]
    if missing:
        raise bundle.BundleError(f"{opened.path}: zero-shot approach {approach!r} has no prediction for "
                                 f"{len(missing)} image(s) such as {missing[:3]}; rerun it with --force.")
    return frame.loc[list(image_ids), [f"prob_{name}" for name in opened.classes]].to_numpy(dtype=float)


# --- the pipeline stage ---------------------------------------------------------------------------

def fit_probe(opened: bundle.Bundle, model_key: str, features_name: str, seed: int = 0,
              grid: Sequence[float] = C_GRID, draws: int = KSHOT_DRAWS, device: str = "cpu"
              ) -> tuple[list[str], np.ndarray, dict, dict]:
    """Everything the probe of one model key computes, from the bundle alone (``device``: ``cuda``
    fits every logistic regression in torch on the GPU, anything else with scikit-learn on the CPU).

    Returns:
        ``(image_ids, proba, params, diagnostics)``: probabilities for the eval and kaggle_test
        images (ndarray of shape (n, n_classes)), the hyper-parameters, the ``probe:`` diagnostics.
    """
    images, classes = opened.images(), opened.classes
    features = np.asarray(opened.embeddings(features_name), dtype=np.float32)
    if len(features) != len(images):
        raise bundle.BundleError(f"{opened.path}: embeddings {features_name!r} have {len(features)} rows but "
                                 f"images.parquet has {len(images)}; rerun the CLIP stage with --force.")
    is_train = (images["split"] == split.TRAIN).to_numpy()
    is_eval = (images["split"] == split.EVAL).to_numpy()
    predicted = images["split"].isin([split.EVAL, split.KAGGLE_TEST]).to_numpy()
    train_labels = images.loc[is_train, "label"].to_numpy(dtype=str)
    eval_labels = images.loc[is_eval, "label"].to_numpy(dtype=str)

    started = time.perf_counter()
    model, sweep, best_c = sweep_c(features[is_train], train_labels, images.loc[is_train, "fold"].to_numpy(),
                                   grid, seed, device=device)
    sweep_seconds = time.perf_counter() - started
    proba = metrics.class_proba(model, np.asarray(features[predicted], dtype=np.float32), classes)
    eval_proba = proba[is_eval[predicted]]  # the eval rows among the predicted ones

    started = time.perf_counter()
    curve = kshot_curve(features[is_train], train_labels, features[is_eval], eval_labels, best_c, draws, seed,
                        device=device)
    kshot_seconds = time.perf_counter() - started

    reference = opened.manifest.get("reference", {})
    diagnostics: dict = {
        "model_key": model_key, "features": features_name,
        "feature_kind": opened.manifest["embeddings"][features_name].get("kind"),
        "n_train": int(is_train.sum()), "n_eval": int(is_eval.sum()), "dim": int(features.shape[1]),
        "c_sweep": sweep, "best_C": best_c, "kshot": curve,
        "train_class_counts": {name: int((train_labels == name).sum()) for name in classes},
        "majority_rate": reference.get("majority_rate"), "uniform_rate": reference.get("uniform_rate"),
        "zeroshot_approach": None, "zeroshot_accuracy": None,
        "effective_shots": None, "effective_shots_bound": None, "blend": [],
        "seconds": {"c_sweep": round(sweep_seconds, 2), "kshot": round(kshot_seconds, 2)},
    }
    zeroshot = records.best_per_model(opened.approaches, records.ZEROSHOT).get(model_key)
    if zeroshot is not None:
        eval_ids = images.loc[is_eval, "image_id"].tolist()
        target = float(zeroshot["metrics"]["accuracy"])
        shots, how = effective_shots([p["k"] for p in curve], [p["mean"] for p in curve], target)
        blend = blend_curve(zeroshot_proba(opened, zeroshot["id"], eval_ids), eval_proba, eval_labels, classes)
        # the weight is chosen on the training part: out-of-fold probe probabilities against zero-shot's
        train_ids = images.loc[is_train, "image_id"].tolist()
        alpha, train_scores = choices.choose_blend_alpha(
            zeroshot_proba(opened, zeroshot["id"], train_ids),
            out_of_fold_proba(features[is_train], train_labels, images.loc[is_train, "fold"].to_numpy(), best_c,
                              classes, seed, device),
            train_labels, classes, [row["alpha"] for row in blend])
        for row, score in zip(blend, train_scores):
            row["train_accuracy"] = score
        diagnostics.update(
            zeroshot_approach=zeroshot["id"], zeroshot_accuracy=target, effective_shots=shots,
            effective_shots_bound=how, effective_shots_range=choices.shots_range(curve, target, int(is_eval.sum())),
            blend=blend, blend_alpha=alpha,
            blend_accuracy=next(row["accuracy"] for row in blend if row["alpha"] == alpha))
    params = {"features": features_name, "C": best_c, "C_grid": list(map(float, sorted(grid))),
              "cv": f"{len(sweep[0]['cv_accuracy_folds'])} grouped folds of the training part",
              "standardized": True, "solver": "lbfgs" if device != "cuda" else "lbfgs (torch, cuda)",
              "max_iter": MAX_ITER, "trained_on": split.TRAIN,
              "n_train": int(is_train.sum())}
    return images.loc[predicted, "image_id"].tolist(), proba, params, diagnostics


@dataclass(frozen=True)
class ProbeOptions:
    seed: int
    device: str


def units(context: RunContext, options: ProbeOptions) -> list[str]:
    """The model keys with CLIP features in the bundle (written by the zero-shot stage)."""
    return list(feature_sources(context.bundle().manifest))


def is_done(context: RunContext, options: ProbeOptions, model_key: str) -> bool:
    return context.has_approach(records.approach_id(records.PROBE, model_key))


def inputs(context: RunContext, options: ProbeOptions, model_key: str) -> dict:
    """The images, the split, the features (their manifest entry), the zero-shot approaches it blends
    with and chooses among (what they were made from: the prompt sets) and the seed."""
    opened = context.bundle()
    zeroshot = {record["id"]: record.get("inputs", {}).get("prompt sets")
                for record in opened.approaches_of_kind(records.ZEROSHOT) if record.get("model_key") == model_key}
    features = {key: value for key, value in opened.manifest["embeddings"][feature_sources(opened.manifest)[model_key]].items()
                if key != "shape"}
    return {**data_inputs(context), "model": features, "prompt sets": zeroshot, "options": {"seed": options.seed}}


def run_stage(context: RunContext, options: ProbeOptions, model_key: str) -> None:
    """A probe on the features of one CLIP model key."""
    started = time.perf_counter()
    opened = context.bundle()
    features_name = feature_sources(opened.manifest)[model_key]
    device = devices.resolve_device(options.device).type  # cuda: the fits run in torch there
    image_ids, proba, params, diagnostics = fit_probe(opened, model_key, features_name, options.seed, device=device)
    entry = opened.manifest["embeddings"][features_name]
    log.info("probe:%s: C = %g chosen by %s; effective shots %s (%s)", model_key, params["C"], params["cv"],
             f"{diagnostics['effective_shots']:.3g}" if diagnostics["effective_shots"] else "none",
             diagnostics["effective_shots_bound"])
    context.save_approach(records.PROBE, image_ids, proba, model_key=model_key, model=entry.get("model"),
                          pretrained=entry.get("pretrained"), weights=entry.get("weights"),
                          precision=entry.get("precision"), params=params, diagnostics=diagnostics, device=device,
                          train_estimate=cv_accuracy(diagnostics),
                          wall_time_s=round(time.perf_counter() - started, 3))


def cv_accuracy(diagnostics: dict) -> float:
    """The probe's grouped cross-validated accuracy at its chosen C: its training-part estimate
    (:func:`analysis.core.records.training_estimate`)."""
    return next(float(row["cv_accuracy_mean"]) for row in diagnostics["c_sweep"] if row["C"] == diagnostics["best_C"])


STAGE = Stage("probe", "every CLIP model with features in the bundle: C sweep, k-shot curve, blend",
              ProbeOptions, run_stage, units=units, done=is_done, inputs=inputs)
