"""CLIP image-embedding throughput: the pipeline against the model alone and a naive loop.

512 synthetic 224-px kernel images, a real architecture with random weights
(``ViT-B-32-quickgelu:random``), CPU. Three figures, in images per second:

- **pipeline** — ``ClipModel.image_embeddings``: PNG decoding and preprocessing in DataLoader
  workers overlapped with the model, batches, cache chunks written to disk (an empty cache);
- **model alone** — the same batches of pre-made tensors straight through the model: the upper bound;
- **naive loop** — open, preprocess and encode one image at a time.

Targets: pipeline ≥ 85% of model alone, ≥ 2× the naive loop. The model is loaded (and warmed)
before any clock starts. Each figure is the best of ``--repeats`` runs, since the machine may be
shared.

    python benchmarks/bench_extraction.py [--images 512] [--batch-size 64] [--workers 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import numpy as np  # noqa: E402
import torch  # noqa: E402

from analysis import clip_weights, embed, synthetic  # noqa: E402
from analysis.data import load_rgb  # noqa: E402

MODEL = "ViT-B-32-quickgelu:random"
SIDE = 224


def write_images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` synthetic kernels, resized to SIDE × SIDE PNGs."""
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        label = synthetic.CLASSES[index % len(synthetic.CLASSES)]
        image = synthetic.draw_kernel(label, synthetic.VIEWS[index % 2], rng).resize((SIDE, SIDE))
        path = folder / f"{index:05d}.png"
        image.save(path)
        paths.append(path)
    return paths


def best_of(repeats: int, run) -> float:
    """Best wall time of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the pipeline (default 2)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; "
          f"{MODEL}, {args.images} images of {SIDE} px, batch {args.batch_size}")
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as temporary:
        folder = Path(temporary)
        (folder / "images").mkdir()
        paths = write_images(folder / "images", args.images)
        clip = embed.ClipModel(clip_weights.parse_spec(MODEL), torch.device("cpu"), cache_dir=folder / "cache")
        model, _ = clip.model()
        transform = clip_weights.image_transform(clip.spec)
        tensors = [torch.stack([transform(load_rgb(path)) for path in paths[start:start + args.batch_size]])
                   for start in range(0, len(paths), args.batch_size)]
        with torch.inference_mode():
            embed.encode_batch(model, tensors[0])  # warm-up: allocator, kernels

        def model_alone() -> None:
            with torch.inference_mode():
                for batch in tensors:
                    embed.encode_batch(model, batch)

        runs = iter(range(10**6))

        def pipeline() -> None:
            # A fresh cache each time: everything is computed (and written) again.
            clip.cache_dir = folder / f"cache-{next(runs)}"
            result = clip.image_embeddings(paths, batch_size=args.batch_size, workers=args.workers,
                                           show_progress=False)
            assert result.n_computed == len(paths)

        def naive() -> None:
            with torch.inference_mode():
                for path in paths:
                    model.encode_image(transform(load_rgb(path)).unsqueeze(0))

        figures = {}
        for name, run in (("model alone", model_alone), ("pipeline", pipeline), ("naive loop", naive)):
            figures[name] = args.images / best_of(args.repeats, run)
            print(f"{name:<12} {figures[name]:7.1f} img/s")
    share = figures["pipeline"] / figures["model alone"]
    speedup = figures["pipeline"] / figures["naive loop"]
    print(f"pipeline = {share:.0%} of model alone [{'ok' if share >= 0.85 else 'BELOW'} target 85%], "
          f"{speedup:.2f}× the naive loop [{'ok' if speedup >= 2 else 'BELOW'} target 2×]")


if __name__ == "__main__":
    main()
