"""The ladder of rungs between zero-shot CLIP and a trained head: pure computations, no I/O.

Every rung makes its choices on the training part only (prompt set, offsets and temperature,
wordings, k, C) and predicts any rows; the stage scores them all on the same held-out images.
The rungs, in the order the ladder reads them:

- ``zeroshot`` — the prompt set with the highest accuracy on the *training* images (zero-shot
  needs no labels to predict, so its training-part accuracy is a fair way to choose);
- ``zeroshot-calibrated`` — the same logits ``z`` as ``softmax(a · z + b)``: one temperature
  ``1/a`` and one offset ``b_c`` per class, fitted on the training part by cross-entropy. What it
  wins back is decision bias (a class answered too often), not a bad ranking;
- ``zeroshot-worded`` — one wording per class, chosen among candidates by training accuracy
  (coordinate ascent from the chosen prompt set), with that set's templates;
- ``zeroshot-worded-calibrated`` — both fixes at once: one wording per class chosen as above but
  deciding through a calibration, which is then refitted on those words (two rounds), so that
  :mod:`analysis.ladder.attribution` can credit each fix once (Shapley values need every
  combination of the fixes). The search runs from two starts and keeps the better on the training
  part: the prompt set's words with their calibration (finds words that only help once the bias is
  corrected), and the worded rung's words with a calibration fitted on them (a calibration fitted
  on a word that points nowhere gives that class an offset under which no better word gains, so a
  search from it alone can stay on the old word: both fixes would then score as bias alone);
- ``centroid`` — the nearest class mean of the L2-normalised training embeddings (each mean
  renormalised; cosine): the best *one vector per class* can do in this space, with no text;
- ``knn`` — k nearest training neighbours by cosine, k chosen by cross-validation over the
  grouped ``fold`` column of the training part.

The linear probe and the fine-tuned ConvNeXt are the rungs above; they are their own stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.metrics import roc_auc_score

from analysis.stats import knn


RUNGS = ("zeroshot", "zeroshot-calibrated", "zeroshot-worded", "zeroshot-worded-calibrated", "centroid", "knn",
         "probe", "finetune")
# The rungs this module computes (the probe and ConvNeXt are stages of their own).
COMPUTED_RUNGS = ("zeroshot-calibrated", "zeroshot-worded", "zeroshot-worded-calibrated", "centroid", "knn")
K_GRID: tuple[int, ...] = (1, 3, 5, 9, 15, 25, 49, 99)
WORDING_PASSES = 2
# The rungs' recipe, part of the ladder stage's inputs: raise it whenever a rung is computed
# differently, so that a plain `run` recomputes the rungs of existing bundles.
# 2: the worded-and-calibrated rung also searches from the worded rung's words (2026-12-04).
METHOD_VERSION = 2


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1)


def accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels) == np.asarray(predicted))) if len(labels) else float("nan")


def label_indices(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Class index of every label, ndarray of shape (n,), ``classes`` order.

    Raises:
        ValueError: a label is not one of ``classes``.
    """
    lookup = {name: index for index, name in enumerate(classes)}
    try:
        return np.asarray([lookup[label] for label in labels], dtype=np.int64)
    except KeyError as error:
        raise ValueError(f"label {error.args[0]!r} is not one of the classes {list(classes)}") from error


@dataclass
class Rung:
    """One fitted rung: what was chosen on the training part, and a way to predict any rows."""

    name: str
    choice: dict                 # everything chosen on the training part (JSON-ready)
    train_accuracy: float        # on the training part (in-sample, or cross-validated where it says so)
    details: dict = field(default_factory=dict)  # search tables (candidates, k grid, …)


# --- zero-shot: the prompt set chosen on the training part ----------------------------------------

def zeroshot_logits(unit_images: np.ndarray, class_embeddings: np.ndarray, scale: float) -> np.ndarray:
    """CLIP logits, ndarray of shape (n, n_classes): ``scale`` × cosine(image, class embedding)."""
    return float(scale) * normalize(unit_images) @ normalize(class_embeddings).T


def choose_prompt_set(train_accuracy: dict[str, float], eval_accuracy: dict[str, float] | None = None) -> dict:
    """The prompt set with the highest training-part accuracy (first listed on a tie).

    Returns:
        dict with ``prompt_set`` (the choice), ``train_accuracy`` (per set) and, when
        ``eval_accuracy`` is given, ``oracle_prompt_set`` — the held-out winner, shown only as an
        oracle figure (choosing it would be selection on the test images).
    """
    if not train_accuracy:
        raise ValueError("no prompt set to choose from")
    names = list(train_accuracy)
    chosen = names[int(np.argmax([train_accuracy[name] for name in names]))]
    result = {"prompt_set": chosen, "train_accuracy": dict(train_accuracy)}
    if eval_accuracy:
        oracle = max(eval_accuracy, key=lambda name: eval_accuracy[name])
        result.update(oracle_prompt_set=oracle, oracle_accuracy=float(eval_accuracy[oracle]),
                      chosen_eval_accuracy=float(eval_accuracy.get(chosen, float("nan"))))
    return result


# --- zero-shot calibrated: one temperature and one offset per class -------------------------------

def _calibration_loss(params: np.ndarray, logits: np.ndarray, onehot: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(a · logits + b) and its gradient in (a, b)."""
    slope, offsets = params[0], params[1:]
    scores = slope * logits + offsets
    log_proba = log_softmax(scores, axis=1)
    residual = np.exp(log_proba) - onehot  # d loss / d scores, per row
    n = len(logits)
    gradient = np.concatenate([[np.sum(residual * logits) / n], residual.sum(axis=0) / n])
    return float(-np.sum(onehot * log_proba) / n), gradient


def fit_calibration(logits: np.ndarray, label_index: np.ndarray, n_classes: int, offsets: bool = True) -> dict:
    """Temperature (and per-class offsets) of ``softmax(logits / T + b)`` by cross-entropy.

    Args:
        logits: ndarray of shape (n, n_classes), the training part's zero-shot logits.
        label_index: ndarray of shape (n,), each row's class index.
        offsets: False fits the temperature alone (``b`` = 0).

    Returns:
        dict with ``temperature`` (T), ``offsets`` (b, one per class, mean 0) and ``loss``.
    """
    logits = np.asarray(logits, dtype=np.float64)
    onehot = np.eye(n_classes)[label_index]
    spread = float(np.std(logits)) or 1.0
    start = np.concatenate([[1.0 / spread], np.zeros(n_classes)])  # logits of unit spread to begin with
    bounds = [(1e-6, None)] + [(None, None) if offsets else (0.0, 0.0)] * n_classes
    result = minimize(_calibration_loss, start, args=(logits, onehot), jac=True, method="L-BFGS-B", bounds=bounds)
    slope, shift = float(result.x[0]), result.x[1:] - result.x[1:].mean()
    return {"temperature": 1.0 / slope, "offsets": shift.tolist(), "loss": float(result.fun)}


def apply_calibration(logits: np.ndarray, calibration: dict) -> np.ndarray:
    """Calibrated probabilities, ndarray of shape (n, n_classes)."""
    scores = np.asarray(logits, dtype=np.float64) / calibration["temperature"] + np.asarray(calibration["offsets"])
    return softmax(scores, axis=1)


# --- zero-shot worded: one wording per class chosen on the training part --------------------------

@dataclass
class Wording:
    """A candidate wording of one class and its class embedding (unit vector)."""

    text: str
    source: str          # "prompt set <name>", "class name", "description", "wordings file"
    embedding: np.ndarray


def choose_wordings(unit_images: np.ndarray, label_index: np.ndarray, candidates: Sequence[Sequence[Wording]],
                    scale: float, passes: int = WORDING_PASSES, calibration: dict | None = None,
                    start: Sequence[int] | None = None) -> tuple[list[int], list[dict]]:
    """One wording per class by coordinate ascent on training accuracy.

    Starts from each class's first candidate (the chosen prompt set's own wording; ``start``
    gives other candidate indices to start from) and, class by
    class, switches to the candidate that raises training accuracy most, for ``passes`` rounds; a
    switch needs a strict gain, so the start is kept on a tie.

    Args:
        unit_images: ndarray of shape (n_train, dim), L2-normalised training embeddings.
        label_index: ndarray of shape (n_train,).
        candidates: per class, its candidate wordings (at least one).
        calibration: a temperature and offsets (:func:`fit_calibration`) to decide through, so that
            words are chosen for a calibrated rung; None decides on the bare cosines.

    Returns:
        The chosen candidate index per class, and the search table (one row per class and
        candidate: ``class_index``, ``text``, ``source``, ``train_accuracy`` with the others fixed
        as in the last pass, ``chosen``).
    """
    cosines = [np.stack([c.embedding for c in options]) @ normalize(unit_images).T for options in candidates]
    if calibration is not None:  # the calibrated score of each candidate: scale · cosine / T + b_c
        cosines = [scale * rows / calibration["temperature"] + offset
                   for rows, offset in zip(cosines, calibration["offsets"])]
    chosen = list(start) if start is not None else [0] * len(candidates)  # cosines[c]: (n_candidates, n_train)

    def scores_with(class_index: int, option: int) -> np.ndarray:
        rows = [cosines[c][option if c == class_index else chosen[c]] for c in range(len(candidates))]
        return np.stack(rows, axis=1)

    table: dict[tuple[int, int], float] = {}
    for _ in range(passes):
        changed = False
        for class_index, options in enumerate(candidates):
            gains = [accuracy(label_index, scores_with(class_index, option).argmax(axis=1))
                     for option in range(len(options))]
            for option, value in enumerate(gains):
                table[(class_index, option)] = value
            best = int(np.argmax(gains))
            if gains[best] > gains[chosen[class_index]] + 1e-12:
                chosen[class_index], changed = best, True
        if not changed:
            break
    rows = [{"class_index": class_index, "text": option.text, "source": option.source,
             "train_accuracy": table.get((class_index, index)), "chosen": index == chosen[class_index]}
            for class_index, options in enumerate(candidates) for index, option in enumerate(options)]
    return chosen, rows


def worded_calibration(unit_images: np.ndarray, label_index: np.ndarray, candidates: Sequence[Sequence[Wording]],
                       scale: float, n_classes: int,
                       starts: Sequence[tuple[Sequence[int], dict | None]]) -> tuple[list[int], dict]:
    """Both text fixes at once: from each start (candidate index per class, and a calibration or
    None to fit one on those words), words chosen through the calibration, the calibration refitted
    on those words, ``WORDING_PASSES`` rounds; the start whose result is most accurate on the
    training part wins (the first on a tie).

    Returns:
        The chosen candidate index per class and its calibration (:func:`fit_calibration`).

    Raises:
        ValueError: no start.
    """
    if not starts:
        raise ValueError("worded_calibration needs at least one start (candidate index per class, and a "
                         "calibration or None)")
    best: tuple[float, list[int], dict] | None = None
    for words, both in starts:
        picked = list(words)
        if both is None:
            both = fit_calibration(zeroshot_logits(unit_images, worded_embeddings(candidates, picked), scale),
                                   label_index, n_classes)
        for _ in range(WORDING_PASSES):
            picked, _ = choose_wordings(unit_images, label_index, candidates, scale, calibration=both, start=picked)
            both = fit_calibration(zeroshot_logits(unit_images, worded_embeddings(candidates, picked), scale),
                                   label_index, n_classes)
        score = accuracy(label_index, apply_calibration(
            zeroshot_logits(unit_images, worded_embeddings(candidates, picked), scale), both).argmax(axis=1))
        if best is None or score > best[0] + 1e-12:
            best = (score, picked, both)
    return best[1], best[2]


def worded_embeddings(candidates: Sequence[Sequence[Wording]], chosen: Sequence[int]) -> np.ndarray:
    """The class embeddings of the chosen wordings, ndarray of shape (n_classes, dim)."""
    return np.stack([options[index].embedding for options, index in zip(candidates, chosen)])


# --- centroid: one image prototype per class ------------------------------------------------------

def class_centroids(unit_images: np.ndarray, label_index: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean of each class's L2-normalised embeddings, renormalised, ndarray of shape (n_classes, dim).

    Raises:
        ValueError: a class has no training image.
    """
    unit = normalize(unit_images)
    missing = [c for c in range(n_classes) if not np.any(label_index == c)]
    if missing:
        raise ValueError(f"class index {missing} has no training image, so it has no centroid")
    return normalize(np.stack([unit[label_index == c].mean(axis=0) for c in range(n_classes)]))


def centroid_scores(unit_images: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of every image with every class centroid, ndarray of shape (n, n_classes)."""
    return normalize(unit_images) @ centroids.T


def centroid_cv_accuracy(unit_images: np.ndarray, label_index: np.ndarray, folds: np.ndarray,
                         n_classes: int) -> float:
    """Mean accuracy of the class centroids over the grouped cross-validation folds (the same folds
    that choose k and C, so the text-free rungs are compared on the training part alike)."""
    unit, folds = normalize(unit_images), np.asarray(folds)
    scores = []
    for fold in np.unique(folds):
        held_out = folds == fold
        if len(np.unique(label_index[~held_out])) < n_classes:
            continue  # a class missing from the other folds has no centroid there
        centroids = class_centroids(unit[~held_out], label_index[~held_out], n_classes)
        scores.append(accuracy(label_index[held_out], centroid_scores(unit[held_out], centroids).argmax(axis=1)))
    return float(np.mean(scores)) if scores else float("nan")


def class_ranking(scores: np.ndarray, label_index: np.ndarray) -> list[float | None]:
    """How well each class's score column ranks that class's images above the others: the
    one-vs-rest ROC AUC per class (None where a class has no image, or every image is of it).

    A per-class offset and a temperature never change these numbers; a new wording does. That is
    how :mod:`analysis.ladder.attribution` tells a bias (ranks well, decides badly) from words that
    point nowhere.
    """
    found = []
    for column in range(scores.shape[1]):
        positive = label_index == column
        found.append(float(roc_auc_score(positive, scores[:, column])) if 0 < positive.sum() < len(positive)
                     else None)
    return found


# --- kNN: many image prototypes per class ---------------------------------------------------------

def knn_votes(neighbour_labels: np.ndarray, k: int, n_classes: int) -> np.ndarray:
    """Vote shares of the first ``k`` neighbours, ndarray of shape (n, n_classes)."""
    counts = np.zeros((len(neighbour_labels), n_classes))
    for column in range(k):
        counts[np.arange(len(neighbour_labels)), neighbour_labels[:, column]] += 1
    return counts / k


def choose_k(unit_images: np.ndarray, label_index: np.ndarray, folds: np.ndarray, n_classes: int,
             grid: Sequence[int] = K_GRID, device: str = "cpu") -> tuple[int, list[dict]]:
    """k with the best mean accuracy over the grouped cross-validation folds (smallest on a tie).

    The neighbours of each fold's rows are found once, for the largest k, among the other folds
    (:func:`analysis.stats.knn.kneighbors` on ``device``); every k of the grid is then a vote over
    the first k of them (ties go to the lower class index, as in scikit-learn).

    Returns:
        The chosen k and the search (list of ``k``, ``cv_accuracy_mean``, ``cv_accuracy_folds``).
    """
    folds = np.asarray(folds)
    fold_ids = np.unique(folds)
    if len(fold_ids) < 2:
        raise ValueError("choosing k needs at least two cross-validation folds in the training part")
    per_fold = []
    for fold in fold_ids:
        held_out = folds == fold
        usable = [k for k in grid if k <= int((~held_out).sum())]
        found, _ = knn.kneighbors(unit_images[held_out], unit_images[~held_out], max(usable), device)
        neighbours = label_index[~held_out][found]
        per_fold.append([accuracy(label_index[held_out], knn_votes(neighbours, k, n_classes).argmax(axis=1))
                         if k in usable else float("nan") for k in grid])
    scores = np.asarray(per_fold)
    means = np.nanmean(scores, axis=0)
    table = [{"k": int(k), "cv_accuracy_mean": float(means[i]), "cv_accuracy_folds": scores[:, i].tolist()}
             for i, k in enumerate(grid)]
    return int(grid[int(np.nanargmax(means))]), table


def knn_proba(train_images: np.ndarray, train_label_index: np.ndarray, images: np.ndarray, k: int, n_classes: int,
              device: str = "cpu") -> np.ndarray:
    """Vote shares of the ``k`` nearest training images (cosine, uniform votes), ndarray of shape
    (n, n_classes) in class-index order: scikit-learn's ``KNeighborsClassifier(metric="cosine")``."""
    found, _ = knn.kneighbors(images, train_images, k, device)
    return knn_votes(train_label_index[found], k, n_classes)


# --- the whole climb ------------------------------------------------------------------------------

@dataclass
class Climb:
    """Every computed rung of one CLIP model: choices, search tables and probabilities."""

    prompt_choice: dict                 # see :func:`choose_prompt_set`
    rungs: dict[str, Rung]              # rung name → what it chose
    proba: dict[str, np.ndarray]        # rung name → ndarray (n_predicted, n_classes)
    # "zeroshot" / "zeroshot-worded" / "zeroshot-worded-calibrated" → per class, the one-vs-rest AUC
    # of its score on the training part (a calibration does not change it; words do)
    ranking: dict[str, list[float | None]] = field(default_factory=dict)


def climb(unit_images: np.ndarray, labels: Sequence[str | None], is_train: np.ndarray, folds: np.ndarray,
          classes: Sequence[str], set_embeddings: dict[str, np.ndarray], scale: float,
          wording_candidates, predict_rows: np.ndarray, is_eval: np.ndarray | None = None,
          k_grid: Sequence[int] = K_GRID, device: str = "cpu") -> Climb:
    """Fit every rung of this module on the training part and predict ``predict_rows``.

    Args:
        unit_images: ndarray of shape (n_images, dim), L2-normalised image embeddings.
        labels: per image its class name (None or anything for unlabelled rows).
        is_train, predict_rows: boolean masks of shape (n_images,): the rows every choice is made
            on, and the rows to predict (the held-out and competition-test images).
        folds: per image its cross-validation fold (used on the training rows only).
        set_embeddings: prompt set name → its class embeddings, ndarray (n_classes, dim).
        scale: the model's logit scale.
        wording_candidates: a function of the chosen prompt set's name that gives, per class, its
            candidate :class:`Wording` list, the set's own wording first.
        is_eval: the held-out rows; only to report the oracle prompt set beside the fair choice.
        device: where the kNN rung's neighbours are found (``cpu``, ``cuda``…).

    Returns:
        A :class:`Climb`; ``proba`` rows follow ``predict_rows``.
    """
    unit = normalize(unit_images)
    n_classes = len(classes)
    train_unit = unit[is_train]
    train_index = label_indices(np.asarray(labels, dtype=object)[is_train], classes)
    predict_unit = unit[predict_rows]

    def set_accuracy(rows: np.ndarray) -> dict[str, float]:
        truth = label_indices(np.asarray(labels, dtype=object)[rows], classes)
        return {name: accuracy(truth, zeroshot_logits(unit[rows], embeddings, scale).argmax(axis=1))
                for name, embeddings in set_embeddings.items()}

    choice = choose_prompt_set(set_accuracy(is_train),
                               set_accuracy(is_eval) if is_eval is not None and is_eval.any() else None)
    chosen = set_embeddings[choice["prompt_set"]]
    rungs: dict[str, Rung] = {}
    proba: dict[str, np.ndarray] = {}

    calibration = fit_calibration(zeroshot_logits(train_unit, chosen, scale), train_index, n_classes)
    calibrated_train = apply_calibration(zeroshot_logits(train_unit, chosen, scale), calibration)
    rungs["zeroshot-calibrated"] = Rung("zeroshot-calibrated", {"prompt_set": choice["prompt_set"], **calibration},
                                        accuracy(train_index, calibrated_train.argmax(axis=1)))
    proba["zeroshot-calibrated"] = apply_calibration(zeroshot_logits(predict_unit, chosen, scale), calibration)

    candidates = wording_candidates(choice["prompt_set"])
    picked, search = choose_wordings(train_unit, train_index, candidates, scale)
    worded = worded_embeddings(candidates, picked)
    rungs["zeroshot-worded"] = Rung(
        "zeroshot-worded",
        {"prompt_set": choice["prompt_set"],
         "wordings": {name: {"text": candidates[c][picked[c]].text, "source": candidates[c][picked[c]].source}
                      for c, name in enumerate(classes)}},
        accuracy(train_index, zeroshot_logits(train_unit, worded, scale).argmax(axis=1)),
        {"candidates": [{**row, "class": classes[row.pop("class_index")]} for row in search]})
    proba["zeroshot-worded"] = softmax(zeroshot_logits(predict_unit, worded, scale).astype(np.float64), axis=1)

    picked_both, both = worded_calibration(train_unit, train_index, candidates, scale, n_classes,
                                           [([0] * n_classes, calibration), (picked, None)])
    worded_both = worded_embeddings(candidates, picked_both)
    rungs["zeroshot-worded-calibrated"] = Rung(
        "zeroshot-worded-calibrated",
        {"prompt_set": choice["prompt_set"], **both,
         "wordings": {name: {"text": candidates[c][picked_both[c]].text, "source": candidates[c][picked_both[c]].source}
                      for c, name in enumerate(classes)}},
        accuracy(train_index, apply_calibration(zeroshot_logits(train_unit, worded_both, scale), both).argmax(axis=1)))
    proba["zeroshot-worded-calibrated"] = apply_calibration(zeroshot_logits(predict_unit, worded_both, scale), both)
    ranking = {name: class_ranking(zeroshot_logits(train_unit, embeddings, scale), train_index)
               for name, embeddings in (("zeroshot", chosen), ("zeroshot-worded", worded),
                                        ("zeroshot-worded-calibrated", worded_both))}

    centroids = class_centroids(train_unit, train_index, n_classes)
    temperature = fit_calibration(centroid_scores(train_unit, centroids), train_index, n_classes, offsets=False)
    rungs["centroid"] = Rung("centroid", {"temperature": temperature["temperature"]},
                             accuracy(train_index, centroid_scores(train_unit, centroids).argmax(axis=1)),
                             {"centroid_similarity": np.round(centroids @ centroids.T, 6).tolist(),
                              "cv_accuracy": centroid_cv_accuracy(train_unit, train_index,
                                                                  np.asarray(folds)[is_train], n_classes)})
    proba["centroid"] = apply_calibration(centroid_scores(predict_unit, centroids),
                                          {**temperature, "offsets": np.zeros(n_classes)})

    k, k_search = choose_k(train_unit, train_index, np.asarray(folds)[is_train], n_classes, k_grid, device)
    rungs["knn"] = Rung("knn", {"k": k, "metric": "cosine", "weights": "uniform"},
                        max(row["cv_accuracy_mean"] for row in k_search), {"k_search": k_search})
    proba["knn"] = knn_proba(train_unit, train_index, predict_unit, k, n_classes, device)
    return Climb(choice, rungs, proba, ranking)
