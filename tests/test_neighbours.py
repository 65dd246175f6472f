"""Nearest training images and text ranking against a brute-force numpy computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle
from analysis.stats import neighbours

CLASSES = ["pure", "broken", "discolored", "silkcut"]


def images_table(n: int, rng: np.random.Generator) -> pd.DataFrame:
    splits = rng.choice(["train", "eval", "kaggle_test"], size=n, p=[0.6, 0.3, 0.1])
    labels = [None if split == "kaggle_test" else CLASSES[i % 4] for i, split in enumerate(splits)]
    return pd.DataFrame({"image_id": [f"img{i:04d}" for i in range(n)], "label": labels, "split": splits})


@pytest.fixture
def space():
    rng = np.random.default_rng(7)
    images = images_table(400, rng)
    raw = rng.normal(size=(400, 32)).astype(np.float32) * rng.uniform(0.5, 3, size=(400, 1)).astype(np.float32)
    return images, raw, neighbours.build_index("clip", raw, images)


def brute_force(raw: np.ndarray, images: pd.DataFrame, query: np.ndarray, k: int, exclude: set[str]) -> list[str]:
    """Cosine similarity the long way, in float64, over the training images only."""
    candidates = [i for i in range(len(images)) if images["split"].iloc[i] == "train"
                  and images["image_id"].iloc[i] not in exclude]
    scores = [float(np.dot(raw[i], query) / (np.linalg.norm(raw[i]) * np.linalg.norm(query))) for i in candidates]
    order = sorted(range(len(candidates)), key=lambda j: -scores[j])[:k]
    return [images["image_id"].iloc[candidates[j]] for j in order]


@pytest.mark.parametrize("row", [0, 5, 17, 200])
def test_neighbours_match_brute_force(space, row):
    images, raw, index = space
    image_id = images["image_id"].iloc[row]
    found = neighbours.neighbours_of(index, image_id, k=10)
    assert found["image_id"].tolist() == brute_force(raw, images, raw[row], 10, {image_id})
    expected = [float(np.dot(raw[row], raw[images.index[images["image_id"] == i][0]])
                      / np.linalg.norm(raw[row]) / np.linalg.norm(raw[images.index[images["image_id"] == i][0]]))
                for i in found["image_id"]]
    np.testing.assert_allclose(found["similarity"], expected, atol=1e-5)
    assert found["rank"].tolist() == list(range(1, 11))
    assert found["similarity"].is_monotonic_decreasing


def test_neighbours_exclude_the_image_itself_and_held_out_images(space):
    images, raw, index = space
    for split in ("train", "eval", "kaggle_test"):
        image_id = images.loc[images["split"] == split, "image_id"].iloc[0]
        found = neighbours.neighbours_of(index, image_id, k=50)
        assert image_id not in set(found["image_id"])
        assert set(found["split"]) == {"train"}
        assert set(found["image_id"]) <= set(images.loc[images["split"] == "train", "image_id"])
    # A training image's exact twin (same embedding) is its first neighbour, not the image itself.
    twin_raw = raw.copy()
    train_rows = np.flatnonzero(images["split"] == "train")
    twin_raw[train_rows[1]] = twin_raw[train_rows[0]] * 2
    twin_index = neighbours.build_index("clip", twin_raw, images)
    first = neighbours.neighbours_of(twin_index, images["image_id"].iloc[train_rows[0]], k=3)
    assert first["image_id"].iloc[0] == images["image_id"].iloc[train_rows[1]]
    assert first["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-6)


def test_vote_counts_the_neighbours_labels(space):
    images, raw, index = space
    found = neighbours.neighbours_of(index, images["image_id"].iloc[3], k=10)
    result = neighbours.vote(found, CLASSES)
    assert sum(result.counts.values()) == 10
    assert result.counts[result.winner] == found["label"].value_counts().max()
    assert result.sentence() == f"{result.counts[result.winner]} of its 10 nearest training images are *{result.winner}*"
    lines = neighbours.vote_lines(result, {"probe": result.winner, "zero-shot": "none-of-these"}, result.winner)
    assert lines["neighbours_agree"].tolist() == [True, False]
    assert lines["correct"].tolist() == [True, False]
    assert neighbours.vote(found.head(0), CLASSES).sentence() == "it has no training images to compare with"
    shares = neighbours.training_shares(index, CLASSES)
    train = images[images["split"] == "train"]["label"]
    assert shares == pytest.approx({name: (train == name).mean() for name in CLASSES})


def test_text_search_ranks_a_planted_image_first(space):
    images, raw, index = space
    planted = 123
    text = raw[planted] / np.linalg.norm(raw[planted])  # a text whose embedding equals the image's own
    ranked = neighbours.rank_by_vector(index, text * 5, top=20)
    assert ranked["image_id"].iloc[0] == images["image_id"].iloc[planted]
    assert ranked["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-6)
    full = neighbours.rank_by_vector(index, text)
    assert len(full) == len(images)  # every split, held-out and unlabelled images too
    brute = np.array([np.dot(raw[i], text) / np.linalg.norm(raw[i]) for i in range(len(images))])
    assert full["image_id"].tolist()[:30] == images["image_id"].iloc[np.argsort(-brute)[:30]].tolist()
    only_eval = neighbours.rank_by_vector(index, text, splits=["eval"])
    assert set(only_eval["split"]) == {"eval"}


def test_similarity_by_class_finds_the_class_a_text_names():
    rng = np.random.default_rng(0)
    images = images_table(300, rng)
    centres = {name: rng.normal(size=16) for name in CLASSES}
    raw = np.stack([centres[label] if isinstance(label, str) else rng.normal(size=16) for label in images["label"]])
    raw = raw + rng.normal(scale=0.3, size=raw.shape)
    index = neighbours.build_index("clip", raw, images)
    table = neighbours.similarity_by_class(neighbours.rank_by_vector(index, centres["broken"]), CLASSES, top=20)
    assert table.set_index("label")["top_share"]["broken"] == 1.0
    assert table.set_index("label")["mean"].idxmax() == "broken"
    assert table["base_share"].sum() == pytest.approx(1.0)
    sentence = neighbours.read_similarity_by_class(table, "broken kernel", top=20)
    assert "100% are *broken*" in sentence


def test_index_rejects_embeddings_of_another_image_list(space):
    images, raw, _ = space
    with pytest.raises(ValueError, match="400 images"):
        neighbours.build_index("clip", raw[:10], images)
    with pytest.raises(KeyError, match="nope"):
        neighbours.neighbours_of(neighbours.build_index("clip", raw, images), "nope")


def test_spaces_of_the_demo_bundle(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    names = neighbours.spaces(opened.manifest)
    assert names[0] == "CornLens-Tiny:random" and "convnext_atto" in names
    assert not any(name.endswith(":features") for name in names)
    assert neighbours.text_spaces(opened.manifest) == ["CornLens-Tiny:random"]
    for name in names:
        index = neighbours.build_index(name, opened.embeddings(name), opened.images())
        image_id = opened.images().query("split == 'eval'")["image_id"].iloc[0]
        found = neighbours.neighbours_of(index, image_id, k=5)
        assert len(found) == 5 and set(found["split"]) == {"train"}


def test_confident_mistakes_come_with_their_neighbours(demo_bundle):
    from analysis.core import tables

    opened = bundle.open_bundle(demo_bundle)
    scored = tables.scored_images(opened.images(), {r["id"]: opened.predictions(r["id"]) for r in opened.approaches},
                                  opened.classes)
    approach = "probe:CornLens-Tiny:random"
    space = neighbours.space_for(opened.manifest, "CornLens-Tiny:random")
    index = neighbours.build_index(space, opened.embeddings(space), opened.images())
    found = neighbours.confident_mistakes(scored, approach, index, opened.classes, n=4, k=5)
    expected = tables.filter_gallery(scored, approach).head(4)
    assert [item["image_id"] for item in found] == expected["image_id"].tolist()
    for item in found:
        assert item["prediction"] != item["label"]
        assert item["neighbours"]["image_id"].tolist() == neighbours.neighbours_of(index, item["image_id"], 5)[
            "image_id"].tolist()
        assert sum(item["vote"].counts.values()) == 5
    assert neighbours.space_for(opened.manifest, "no-such-model") == neighbours.spaces(opened.manifest)[0]
