"""Nearest training images of any image, and images ranked by a text: exact cosine over cached embeddings.

"What does this image look like to the model?" is answered in the model's own embedding space: a
CLIP image space (``kind`` = ``clip_image``, L2-normalised) or a fine-tuned ConvNeXt's features
(``kind`` = ``convnext``). The search is exact — one float32 matrix product over unit rows — which
at 17,800 × 512 is a few milliseconds, so no approximate index is needed. Neighbours are only ever
*training* images: they are what an approach learned from (the probe, ConvNeXt) and what a person
relabels from, and a held-out image must never vote for another held-out image.

No I/O and no UI: the dashboard and the report pass bundle data in and show what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.core import tables
from analysis.core.escape import markdown_text

SPACE_KINDS = ("clip_image", "convnext")  # embeddings that mean "what the model sees" (not clip_features)
TRAIN_SPLIT = "train"
DEFAULT_K = 10


def spaces(manifest: dict) -> list[str]:
    """Embedding names of the bundle in which neighbours can be searched: CLIP image spaces first."""
    entries = manifest.get("embeddings", {})
    return sorted((name for name, entry in entries.items() if entry.get("kind") in SPACE_KINDS),
                  key=lambda name: (SPACE_KINDS.index(entries[name]["kind"]), name))


def text_spaces(manifest: dict) -> list[str]:
    """Embedding names a text can be compared with: CLIP image spaces (a text tower shares them)."""
    return [name for name in spaces(manifest) if manifest["embeddings"][name].get("kind") == "clip_image"]


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """float32 copy of ``embeddings`` with every row scaled to unit L2 norm (zero rows stay zero)."""
    # numpy, not sklearn.preprocessing.normalize: importing scikit-learn costs the dashboard's first visit ~0.7 s
    rows = np.array(embeddings, dtype=np.float32, copy=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    np.divide(rows, norms, out=rows, where=norms > 0)
    return rows


@dataclass(frozen=True)
class NeighbourIndex:
    """Every image of one embedding space, with the training images marked as candidates.

    ``vectors``: ndarray of shape (n_images, dim), float32, unit rows in ``images.parquet`` order;
    ``image_ids``, ``labels``, ``splits``: one per row; ``candidates``: bool (n_images,), True for
    the labelled training images (the only ones a neighbour can be); ``rows``: image id → row.
    """

    space: str
    vectors: np.ndarray
    image_ids: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    candidates: np.ndarray
    rows: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def row_of(self, image_id: str) -> int:
        """Row of ``image_id``; KeyError when it is not in the bundle."""
        row = self.rows.get(image_id) if self.rows else next(iter(np.flatnonzero(self.image_ids == image_id)), None)
        if row is None:
            raise KeyError(f"image {image_id!r} is not in the {self.space} embeddings")
        return int(row)


def build_index(space: str, embeddings: np.ndarray, images: pd.DataFrame) -> NeighbourIndex:
    """The index of one space.

    Args:
        embeddings: ndarray of shape (n_images, dim), rows in ``images`` order (``Bundle.embeddings``).
        images: ``images.parquet`` (``image_id``, ``label``, ``split``).

    Raises:
        ValueError: the embeddings do not have one row per image.
    """
    if len(embeddings) != len(images):
        raise ValueError(f"embeddings {space!r} have {len(embeddings)} rows but the bundle has {len(images)} images")
    image_ids = images["image_id"].astype(str).to_numpy(dtype=object)
    splits = images["split"].astype(str).to_numpy(dtype=object)
    labels = images["label"].to_numpy(dtype=object)
    candidates = (splits == TRAIN_SPLIT) & pd.notna(labels)
    return NeighbourIndex(space, unit_rows(embeddings), image_ids, labels, splits, candidates,
                          {image_id: row for row, image_id in enumerate(image_ids)})


def top_k(similarities: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, largest first (ties: lower position first)."""
    k = min(k, len(similarities))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-similarities, k - 1)[:k] if k < len(similarities) else np.arange(len(similarities))
    return part[np.lexsort((part, -similarities[part]))]


def nearest(index: NeighbourIndex, query: np.ndarray, k: int = DEFAULT_K,
            exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The ``k`` training images most similar (cosine) to ``query``.

    Args:
        query: ndarray of shape (dim,), any norm.
        exclude: image ids that may not be neighbours (the query image itself).

    Returns:
        DataFrame with ``rank`` (1 = most similar), ``image_id``, ``label``, ``split``, ``similarity``.
    """
    unit = unit_rows(np.asarray(query, dtype=np.float32)[None, :])[0]
    similarities = np.where(index.candidates, index.vectors @ unit, -np.inf)  # one matrix-vector product
    for image_id in exclude:
        if image_id in index.rows:
            similarities[index.rows[image_id]] = -np.inf
    best = top_k(similarities, min(k, int(np.isfinite(similarities).sum())))
    return pd.DataFrame({"rank": np.arange(1, len(best) + 1), "image_id": index.image_ids[best],
                         "label": index.labels[best], "split": index.splits[best],
                         "similarity": similarities[best].astype(np.float64)})


def neighbours_of(index: NeighbourIndex, image_id: str, k: int = DEFAULT_K) -> pd.DataFrame:
    """The ``k`` training images nearest to the image ``image_id`` (never the image itself).

    Byte-identical copies of a training image stay in: a copy with another label is exactly what a
    person should see. Raises KeyError when the image is not in the bundle.
    """
    row = index.row_of(image_id)
    return nearest(index, index.vectors[row], k, exclude=[image_id])


# Similarities shown with 3 decimals: neighbours whose similarities all print the same are not
# nearer to the image than one another, so their labels are no vote.
SIMILARITY_PRECISION = 5e-4


def separates(similarities: Sequence[float], precision: float = SIMILARITY_PRECISION) -> bool:
    """Whether ``similarities`` differ at the precision they are shown with (False: all alike)."""
    values = np.asarray(similarities, dtype=np.float64)
    values = values[np.isfinite(values)]
    return len(values) < 2 or float(np.ptp(values)) >= precision


@dataclass(frozen=True)
class Vote:
    """What the nearest training images say: ``counts`` per class (class order), the winning class.

    ``flat``: the neighbours are all equally similar (:func:`separates` is false): the space holds
    no neighbourhood around the image, so there is no vote, only labels; ``similarity`` is then
    their common similarity.
    """

    counts: dict[str, int]
    k: int
    flat: bool = False
    similarity: float | None = None

    @property
    def winner(self) -> str | None:
        """The most frequent label (ties: the first in class order); None without neighbours or
        when the neighbours are all equally similar (no vote)."""
        return max(self.counts, key=lambda name: self.counts[name]) if self.k and not self.flat else None

    def sentence(self) -> str:
        """``7 of its 10 nearest training images are *pure*`` (Markdown)."""
        if not self.k:
            return "it has no training images to compare with"
        if self.flat:
            said = f" ({self.similarity:.3f})" if self.similarity is not None else ""
            return (f"all {self.k} nearest training images are equally similar{said}: the space carries no "
                    "neighbourhood here, so their labels are no vote")
        top = self.counts[self.winner]
        return f"{top} of its {self.k} nearest training images are *{markdown_text(self.winner)}*"

    def agrees_with(self, answer: str | None) -> bool:
        return answer is not None and self.winner == answer


def vote(neighbours: pd.DataFrame, classes: Sequence[str]) -> Vote:
    """The neighbours' labels counted per class (``classes`` order); no vote when their
    similarities do not separate (:func:`separates`)."""
    counts = {name: int((neighbours["label"] == name).sum()) for name in classes}
    similarities = neighbours["similarity"] if "similarity" in neighbours else pd.Series(dtype=float)
    flat = len(neighbours) > 1 and not separates(similarities)
    return Vote(counts, int(len(neighbours)), flat, float(similarities.mean()) if flat else None)


def training_shares(index: NeighbourIndex, classes: Sequence[str]) -> dict[str, float]:
    """Each class's share of the candidate training images: what a vote of random neighbours gives."""
    labels = index.labels[index.candidates]
    return {name: float((labels == name).mean()) if len(labels) else float("nan") for name in classes}


def vote_lines(vote_: Vote, answers: Mapping[str, str | None], true_label: str | None) -> pd.DataFrame:
    """Each approach's answer beside the neighbours' vote.

    Args:
        answers: approach label → its predicted class (None: no prediction for this image).

    Returns:
        DataFrame with ``approach``, ``answer``, ``correct`` (None when the label is unknown),
        ``neighbours_agree`` (the vote's winner equals the answer).
    """
    rows = [{"approach": approach, "answer": answer,
             "correct": None if true_label is None or answer is None else answer == true_label,
             "neighbours_agree": vote_.agrees_with(answer)}
            for approach, answer in answers.items()]
    return pd.DataFrame(rows, columns=["approach", "answer", "correct", "neighbours_agree"])


# --- text → image -----------------------------------------------------------------------------------

def rank_by_vector(index: NeighbourIndex, query: np.ndarray, top: int | None = None,
                   splits: Sequence[str] | None = None) -> pd.DataFrame:
    """Every image (or those of ``splits``) ranked by cosine similarity to ``query`` (a text embedding).

    Returns:
        DataFrame with ``rank``, ``image_id``, ``label``, ``split``, ``similarity``; the ``top`` first
        rows when ``top`` is given.
    """
    rows = np.arange(len(index.image_ids)) if splits is None else np.flatnonzero(np.isin(index.splits, list(splits)))
    unit = unit_rows(np.asarray(query, dtype=np.float32)[None, :])[0]
    similarities = index.vectors[rows] @ unit
    order = top_k(similarities, len(rows) if top is None else top)
    chosen = rows[order]
    return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "image_id": index.image_ids[chosen],
                         "label": index.labels[chosen], "split": index.splits[chosen],
                         "similarity": similarities[order].astype(np.float64)})


def similarity_by_class(ranked: pd.DataFrame, classes: Sequence[str], top: int = 50) -> pd.DataFrame:
    """Does a phrase find the class it names? Per true class, over the labelled images of ``ranked``.

    Args:
        ranked: ``rank_by_vector`` of the phrase's embedding (most similar first).

    Returns:
        DataFrame, one row per class: ``label``, ``n``, ``mean``, ``median`` (cosine similarity),
        ``top_share`` (share of the ``top`` most similar labelled images with this label) and
        ``base_share`` (the class's share of all labelled images, what ``top_share`` would be by chance).
    """
    labelled = ranked[ranked["label"].notna()]
    best = labelled.head(top)
    rows = []
    for name in classes:
        values = labelled.loc[labelled["label"] == name, "similarity"]
        rows.append({"label": name, "n": int(len(values)),
                     "mean": float(values.mean()) if len(values) else float("nan"),
                     "median": float(values.median()) if len(values) else float("nan"),
                     "top_share": float((best["label"] == name).mean()) if len(best) else float("nan"),
                     "base_share": float(len(values) / len(labelled)) if len(labelled) else float("nan")})
    return pd.DataFrame(rows)


def read_similarity_by_class(table: pd.DataFrame, phrase: str, top: int = 50, learnt: bool = True,
                             similarities: Sequence[float] = ()) -> str:
    """One sentence on ``similarity_by_class``: which class the phrase favours, against chance.

    With random weights (``learnt`` false: :func:`analysis.core.weights.learnt`) the mechanics only:
    the phrase is a random direction and the shares are chance. ``similarities`` (every searched
    image's): when they do not separate (:func:`separates`), the ranking is said to be no ranking.
    """
    table = table[table["n"] > 0]
    if table.empty:
        return "No labelled images to compare with."
    values = np.asarray(similarities, dtype=np.float64)
    if len(values) and not separates(values):
        return (f"Every image is equally similar to “{phrase}” ({values.mean():.3f}): the space does not separate "
                "them for this phrase, so the order below is no ranking.")
    if not learnt:
        spread = f" (cosines {values.min():.2f} to {values.max():.2f})" if len(values) else ""
        return (f"With random weights the phrase “{phrase}” is a random direction in the image space{spread}: which "
                f"class fills the {top} most similar images is chance, not what the words mean.")
    best = table.sort_values("top_share", ascending=False).iloc[0]
    highest_mean = table.sort_values("mean", ascending=False).iloc[0]
    lift = best["top_share"] / best["base_share"] if best["base_share"] else float("nan")
    sentence = (f"Of the {min(top, int(table['n'].sum()))} labelled images most similar to “{markdown_text(phrase)}”, "
                f"{best['top_share']:.0%} are *{markdown_text(best['label'])}* (its share of all labelled images: "
                f"{best['base_share']:.0%}, so {lift:.1f}× chance)")
    if highest_mean["label"] != best["label"]:
        sentence += f"; by mean similarity over all images, *{markdown_text(highest_mean['label'])}* ranks first"
    return sentence + "."


# --- the report ---------------------------------------------------------------------------------------

def space_for(manifest: dict, model_key: str | None) -> str | None:
    """The space an approach sees: its own model's embeddings when the bundle has them, else the first space."""
    names = spaces(manifest)
    return model_key if model_key in names else (names[0] if names else None)


def confident_mistakes(scored: pd.DataFrame, approach_id: str, index: NeighbourIndex, classes: Sequence[str],
                       n: int = 6, k: int = 5) -> list[dict]:
    """The ``n`` held-out images ``approach_id`` gets wrong most confidently, each with its neighbours.

    Args:
        scored: ``tables.scored_images`` (``pred:<id>`` and ``conf:<id>`` columns).

    Returns:
        One dict per image: ``image_id``, ``label``, ``prediction``, ``confidence``, ``neighbours``
        (``neighbours_of`` as a DataFrame) and ``vote`` (:class:`Vote`).
    """
    wrong = tables.filter_gallery(scored, approach_id).head(n)  # wrong answers, most confident first
    found = []
    for image_id, label, prediction, confidence in zip(wrong["image_id"], wrong["label"],
                                                       wrong[tables.prediction_column(approach_id)],
                                                       wrong[tables.confidence_column(approach_id)]):
        near = neighbours_of(index, str(image_id), k)
        found.append({"image_id": str(image_id), "label": label, "prediction": prediction,
                      "confidence": float(confidence), "neighbours": near, "vote": vote(near, classes)})
    return found
