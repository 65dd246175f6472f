"""Nearest-neighbour and text-query time at competition size (target: well under a second each).

17,800 images × 512 dims (ViT-B-32's embedding width; 80% train, the rest held-out or unlabelled),
random unit vectors: exact cosine search costs the same whatever the numbers are. The text query
loads the real ViT-B-32 text tower architecture through ``analysis.models.texttower`` with random weights
(no weights can be downloaded here; the cost of a forward pass does not depend on them) and times
encoding one phrase plus ranking every image and the per-class summary.

    python benchmarks/bench_neighbours.py [--images 17800] [--dim 512] [--queries 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.stats import neighbours  # noqa: E402

CLASSES = ["pure", "broken", "discolored", "silkcut"]


def fake_space(n_images: int, dim: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    splits = rng.choice(["train", "eval", "kaggle_test"], size=n_images, p=[0.64, 0.16, 0.2])
    labels = np.where(splits == "kaggle_test", None, rng.choice(CLASSES, size=n_images, p=[0.41, 0.32, 0.17, 0.1]))
    images = pd.DataFrame({"image_id": [f"{i:05d}.png" for i in range(n_images)], "label": labels, "split": splits})
    return rng.normal(size=(n_images, dim)).astype(np.float32), images


def timed(function, repeats: int) -> float:
    """Median seconds of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=17_800)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--model", default="ViT-B-32", help="open_clip architecture of the text tower")
    args = parser.parse_args(argv)
    embeddings, images = fake_space(args.images, args.dim)
    started = time.perf_counter()
    index = neighbours.build_index("bench", embeddings, images)
    print(f"{args.images} images × {args.dim}: index built in {time.perf_counter() - started:.3f} s "
          "(once per bundle and space, cached by the dashboard)")
    ids = iter(np.random.default_rng(1).choice(images["image_id"], size=args.queries * 2))
    query = timed(lambda: neighbours.vote(neighbours.neighbours_of(index, next(ids), 10), CLASSES), args.queries)
    print(f"neighbours query (k=10, with the vote): median {query * 1000:.1f} ms over {args.queries} images")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from analysis.models import texttower

    started = time.perf_counter()
    tower = texttower.load_text_tower(texttower.TowerSource("bench", args.model, "random", 0))
    print(f"text tower {args.model} (random weights) loaded in {time.perf_counter() - started:.2f} s "
          "(once per server process)")
    phrases = iter(["a broken corn kernel", "silk cut", "a discoloured kernel", "a pure yellow kernel"] * args.queries)

    def text_query() -> None:
        vector = tower.encode([next(phrases)])[0]
        ranked = neighbours.rank_by_vector(index, vector)
        neighbours.similarity_by_class(ranked, CLASSES)

    encode = timed(lambda: tower.encode([next(phrases)]), 10)
    total = timed(text_query, 10)
    print(f"text query: encode {encode * 1000:.1f} ms, encode + rank {args.images} images + per-class summary "
          f"{total * 1000:.1f} ms (median of 10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
