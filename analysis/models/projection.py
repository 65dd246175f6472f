"""2-D maps of embeddings (UMAP), shared by every model: CLIP image embeddings, ConvNeXt features.

The map is fitted on the images alone; extra points (the class text embeddings of zero-shot) are
then placed with the fitted map's ``transform``, so they never bend the image map. A placed point
lands among the images it is most similar to: it shows *which* images a prompt is closest to, not
how far away it is — the modality gap is measured in the zero-shot diagnostics, not read off the map.

UMAP runs on one core when seeded (its parallel layout is not repeatable), and its nearest-neighbour
descent (first compiled for about a minute) was most of a map's time. Given a ``search`` (the stages
pass :func:`analysis.stats.knn.search_for`: exact, as torch matrix products on every core or on the
GPU), the neighbour graph comes from it and is handed to UMAP (``precomputed_knn``) with a search
index that places the extra points the same way; the layout stays UMAP's own, seeded, so the same
input and search give the same map.
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd

# Below this many images UMAP has too few neighbours to mean anything: a PCA plane instead.
MIN_IMAGES_FOR_UMAP = 10
COLUMNS = ("image_id", "kind", "label", "x", "y")


def method(n_images: int) -> str:
    """The method :func:`project` uses for ``n_images`` images: ``umap``, or ``pca`` below
    :data:`MIN_IMAGES_FOR_UMAP`. Stored with every map so that it is drawn under its true name."""
    return "pca" if n_images < MIN_IMAGES_FOR_UMAP else "umap"


# (queries, candidates, k) → (indices, cosine distances), each (n_queries, k), nearest first
Search = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


class SearchIndex:
    """UMAP's search index for ``transform`` (it calls ``query``): ``search`` among the fitted images."""

    _angular_trees = True  # read by UMAP's transform to choose its search slack; an exact search needs none

    def __init__(self, images: np.ndarray, search: Search):
        self.images, self.search = images, search

    def query(self, queries: np.ndarray, k: int, epsilon: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(indices, cosine distances), each of shape (n_queries, k), nearest first."""
        return self.search(np.asarray(queries, dtype=np.float32), self.images, k)


def project(image_embeddings: np.ndarray, extra_points: np.ndarray | None = None, seed: int = 0,
            n_neighbors: int = 15, metric: str = "cosine", search: Search | None = None) -> np.ndarray:
    """A seeded 2-D map of the images, with optional extra points placed in it.

    Args:
        image_embeddings: ndarray of shape (n_images, dim).
        extra_points: ndarray of shape (n_extra, dim) in the same space (e.g. class text
            embeddings), or None.
        seed: UMAP's random state: same input and seed, same map.
        n_neighbors: UMAP neighbourhood size (capped at n_images - 1).
        metric: distance between embeddings; cosine suits CLIP-like features.
        search: the cosine neighbours of the images and of the extra points (``metric`` cosine
            only; :func:`analysis.stats.knn.search_for`); None: UMAP's own search.

    Returns:
        ndarray of shape (n_images + n_extra, 2), float32: the images first, then the extra points.
    """
    images = np.asarray(image_embeddings, dtype=np.float32)
    extra = np.zeros((0, images.shape[1]), np.float32) if extra_points is None else \
        np.asarray(extra_points, dtype=np.float32).reshape(-1, images.shape[1])
    if method(len(images)) == "pca":
        from sklearn.decomposition import PCA

        if len(images) < 2:
            return np.zeros((len(images) + len(extra), 2), np.float32)
        pca = PCA(n_components=min(2, len(images), images.shape[1]), random_state=seed).fit(images)
        planes = [pca.transform(part) for part in (images, extra) if len(part)]
        flat = np.concatenate(planes)
        return np.pad(flat, ((0, 0), (0, 2 - flat.shape[1]))).astype(np.float32)
    import umap

    with warnings.catch_warnings():
        # "n_jobs overridden to 1 by setting random_state": determinism is the point here.
        warnings.filterwarnings("ignore", message=".*n_jobs.*", category=UserWarning)
        # "knn_search_index is not an NNDescent object": SearchIndex is one, for transform's purpose.
        warnings.filterwarnings("ignore", message=".*knn_search_index.*", category=UserWarning)
        k = min(n_neighbors, len(images) - 1)
        graph = {}
        if search is not None and metric == "cosine":  # each image's k nearest, itself among them, as UMAP's own
            indices, distances = search(images, images, k)
            graph = dict(precomputed_knn=(indices, distances, SearchIndex(images, search)))
        reducer = umap.UMAP(n_components=2, n_neighbors=k, metric=metric, random_state=seed, transform_seed=seed,
                            **graph)
        coordinates = reducer.fit_transform(images)
        if len(extra):
            coordinates = np.concatenate([coordinates, reducer.transform(extra)])
    return np.asarray(coordinates, dtype=np.float32)


def projection_frame(coordinates: np.ndarray, image_ids: Sequence[str], image_labels: Sequence[str | None],
                     extra_labels: Sequence[str] = (), **extra_columns: Sequence) -> pd.DataFrame:
    """The bundle's projection table from :func:`project`'s coordinates.

    Args:
        coordinates: ndarray of shape (n_images + n_extra, 2), images first.
        image_ids, image_labels: per image (label None for unlabelled images).
        extra_labels: the class of each extra (text) point.
        extra_columns: further columns, given for the extra points only (e.g. ``prompt_set``);
            null for the images.

    Returns:
        DataFrame with ``image_id`` (null for text points), ``kind`` (image | text), ``label``,
        ``x``, ``y`` and the extra columns.
    """
    n_images, n_extra = len(image_ids), len(extra_labels)
    if len(coordinates) != n_images + n_extra:
        raise ValueError(f"{len(coordinates)} coordinates for {n_images} images and {n_extra} extra points")
    frame = pd.DataFrame({
        "image_id": pd.array(list(image_ids) + [None] * n_extra, dtype="string"),
        "kind": ["image"] * n_images + ["text"] * n_extra,
        "label": pd.array([None if pd.isna(label) else str(label) for label in image_labels]
                          + list(extra_labels), dtype="string"),
        "x": np.asarray(coordinates)[:, 0].astype(np.float32),
        "y": np.asarray(coordinates)[:, 1].astype(np.float32),
    })
    for name, values in extra_columns.items():
        frame[name] = pd.array([None] * n_images + list(values), dtype="string")
    return frame
