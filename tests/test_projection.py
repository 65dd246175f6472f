"""2-D maps: seeded, generic over any embedding, extra points placed among their nearest images."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.models import projection
from analysis.stats import knn


def two_clusters(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.zeros((2, 16))
    centres[0, 0], centres[1, 1] = 1, 1
    return np.concatenate([centres[0] + rng.normal(0, 0.05, (30, 16)), centres[1] + rng.normal(0, 0.05, (30, 16))])


def test_map_is_seeded_and_places_extra_points_near_their_images():
    points = two_clusters()
    extra = points[[3, 45]] + 0.01
    first = projection.project(points, extra, seed=1)
    assert first.shape == (62, 2) and first.dtype == np.float32 and np.isfinite(first).all()
    np.testing.assert_array_equal(first, projection.project(points, extra, seed=1))
    centre_a, centre_b = first[:30].mean(axis=0), first[30:60].mean(axis=0)
    assert np.linalg.norm(first[60] - centre_a) < np.linalg.norm(first[60] - centre_b)
    assert np.linalg.norm(first[61] - centre_b) < np.linalg.norm(first[61] - centre_a)
    # Extra points never move the images' map.
    np.testing.assert_allclose(projection.project(points, seed=1), first[:60], atol=1e-5)


def test_few_images_fall_back_to_a_plane():
    points = two_clusters()[:5]
    assert projection.project(points, points[:2], seed=0).shape == (7, 2)
    assert projection.project(points[:1]).shape == (1, 2)


def test_frame_layout():
    frame = projection.projection_frame(np.arange(10, dtype=float).reshape(5, 2), ["a", "b", "c"],
                                        ["pure", None, "broken"], extra_labels=["pure", "broken"],
                                        prompt_set=["p", "p"])
    assert list(frame.columns) == [*projection.COLUMNS, "prompt_set"]
    assert frame["kind"].tolist() == ["image"] * 3 + ["text"] * 2
    assert frame["image_id"].isna().tolist() == [False, False, False, True, True]
    assert frame["label"].tolist()[3:] == ["pure", "broken"] and frame["label"].isna().tolist()[1]
    assert frame["prompt_set"].isna().tolist() == [True, True, True, False, False]
    with pytest.raises(ValueError, match="6 coordinates for 3 images and 2 extra points"):
        projection.projection_frame(np.zeros((6, 2)), ["a", "b", "c"], [None] * 3, extra_labels=["x", "y"])


def test_a_map_of_few_images_is_recorded_and_drawn_as_pca():
    from analysis.present import figures
    from analysis.core import tables

    assert projection.method(9) == "pca" and projection.method(10) == "umap"
    points = projection.projection_frame(projection.project(two_clusters()[:9]), [f"i{i}" for i in range(9)],
                                         ["a"] * 9)
    manifest = {"projections": {"small": {"file": "projections/small.parquet", "method": projection.method(9)}}}
    method = tables.projection_method(manifest, "small")
    figure = figures.projection_figure(points.assign(view="top", split="eval", prediction="a", correctness="correct"),
                                       "label", ["a"], method=method)
    assert method == "pca" and figure.layout.xaxis.title.text.startswith("PCA 1")
    assert tables.projection_method({"projections": {"old": {"file": "x"}}}, "old") == "umap"  # older bundles


def test_a_map_over_exact_neighbours_is_seeded_and_places_its_extra_points():
    points = two_clusters()
    extra = points[[3, 45]] + 0.01
    search = knn.search_for("cpu", len(points))
    first = projection.project(points, extra, seed=1, search=search)
    np.testing.assert_array_equal(first, projection.project(points, extra, seed=1, search=search))
    centre_a, centre_b = first[:30].mean(axis=0), first[30:60].mean(axis=0)
    assert np.linalg.norm(first[60] - centre_a) < np.linalg.norm(first[60] - centre_b)
    assert np.linalg.norm(first[61] - centre_b) < np.linalg.norm(first[61] - centre_a)
    np.testing.assert_allclose(projection.project(points, seed=1, search=search), first[:60], atol=1e-5)
    assert knn.search_for("cpu", knn.EXACT_ON_CPU + 1) is None  # UMAP's own search there


def test_the_maps_search_index_gives_scikit_learns_neighbours():
    from sklearn.neighbors import NearestNeighbors

    points = two_clusters()
    found, distances = projection.SearchIndex(points, knn.search_for("cpu", 60)).query(points[:7] + 0.05, 5)
    expected_distances, expected = NearestNeighbors(n_neighbors=5, metric="cosine").fit(points).kneighbors(points[:7] + 0.05)
    assert np.array_equal(found, expected) and np.allclose(distances, expected_distances, atol=1e-5)
