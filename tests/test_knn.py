"""Exact cosine neighbours as torch matrix products (analysis.models.knn) give scikit-learn's answer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from analysis.ladder import rungs
from analysis.stats import knn


def points(n: int, dim: int = 24, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32) * 3  # any norm


def test_neighbours_equal_scikit_learns_nearest_neighbors(monkeypatch):
    queries, candidates = points(300, seed=1), points(700, seed=2)
    monkeypatch.setattr(knn, "BLOCK_BYTES", 4 * 700 * 64)  # several blocks of queries
    found, distances = knn.kneighbors(queries, candidates, 9)
    expected_distances, expected = NearestNeighbors(n_neighbors=9, metric="cosine", algorithm="brute").fit(
        candidates).kneighbors(queries)
    assert found.dtype == np.int64 and found.shape == (300, 9)
    assert np.array_equal(found, expected)
    assert np.allclose(distances, expected_distances, atol=1e-5)


def test_neighbours_of_a_set_in_itself_skip_the_row_itself():
    rows = points(400, seed=3)
    found, distances = knn.kneighbors(rows, rows, 5, skip_self=True)
    _, expected = NearestNeighbors(n_neighbors=6, metric="cosine", algorithm="brute").fit(rows).kneighbors(rows)
    assert np.array_equal(found, expected[:, 1:])  # scikit-learn's first neighbour is the row itself
    assert not (found == np.arange(400)[:, None]).any()
    assert np.all(np.diff(distances, axis=1) >= 0)


def test_equal_similarities_keep_the_lower_row_first_and_k_is_capped():
    candidates = np.array([[1.0, 0], [2.0, 0], [0, 1.0], [3.0, 0]], np.float32)  # rows 0, 1, 3: one direction
    found, distances = knn.kneighbors(np.array([[5.0, 0]], np.float32), candidates, 10)
    assert found.tolist() == [[0, 1, 3, 2]] and np.allclose(distances, [[0, 0, 0, 1]], atol=1e-6)
    assert knn.kneighbors(np.zeros((0, 2), np.float32), candidates, 3)[0].shape == (0, 3)


def test_the_knn_rungs_votes_equal_scikit_learns_classifier():
    train, queries = points(500, seed=4), points(200, seed=5)
    labels = np.random.default_rng(6).integers(0, 4, 500)
    for k in (1, 7):
        expected = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute").fit(train, labels)
        assert np.allclose(rungs.knn_proba(train, labels, queries, k, 4), expected.predict_proba(queries))


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no CUDA device")
def test_the_gpu_finds_the_same_neighbours():
    queries, candidates = points(300, seed=7), points(2000, seed=8)
    cpu, cpu_distances = knn.kneighbors(queries, candidates, 10)
    gpu, gpu_distances = knn.kneighbors(queries, candidates, 10, device="cuda")
    assert (gpu == cpu).mean() > 0.999 and np.allclose(gpu_distances, cpu_distances, atol=1e-5)
