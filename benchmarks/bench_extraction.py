"""CLIP image-embedding throughput at fp32 and bf16, side by side: pipeline, model alone, naive loop.

Synthetic 224-px kernel images, a real architecture with random weights
(``ViT-B-32-quickgelu:random``), CPU. Three figures per precision, in images per second:

- **pipeline** — ``ClipModel.image_embeddings``: PNG decoding and preprocessing in DataLoader
  workers overlapped with the model, batches, cache chunks written to disk (an empty cache);
- **model alone** — the same batches of pre-made tensors straight through the model: the upper bound;
- **naive loop** — open, preprocess and encode one image at a time.

Targets: pipeline ≥ 85% of model alone; on a CPU with native bfloat16, the bf16 pipeline ≥ 2× the
fp32 pipeline. The gain over the naive loop is printed with its ceiling (model alone over naive: on
a 2-core CPU the model is the bound, so batching and overlap cannot give more). ``bf16`` is
``--precision bf16`` (open_clip's own ``precision="bf16"`` weights, the residual stream in fp32;
see ``bench_precision.py`` for the alternatives). The model is loaded (and
warmed) before any clock starts. Each figure is the best of ``--repeats`` runs, since the machine
may be shared; the cosine of bf16 to fp32 embeddings (min, mean) is printed as well.

    python benchmarks/bench_extraction.py [--images 512] [--batch-size 64] [--workers 1] [--repeats 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import numpy as np  # noqa: E402
import torch  # noqa: E402

from analysis.models import clip_weights, devices, embed  # noqa: E402
from analysis.data import synthetic
from analysis.data.loading import load_rgb  # noqa: E402

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


def measure(clip: embed.ClipModel, paths: list[Path], folder: Path, args: argparse.Namespace) -> dict:
    """Images per second of model alone, pipeline and naive loop for one ClipModel, and its embeddings."""
    model, _ = clip.model()
    dtype = devices.weights_dtype(clip.precision)
    transform = clip_weights.image_transform(clip.spec)
    tensors = [torch.stack([transform(load_rgb(path)) for path in paths[start:start + args.batch_size]]).to(dtype)
               for start in range(0, len(paths), args.batch_size)]
    @contextlib.contextmanager
    def computing() -> Iterator[None]:
        """What ClipModel.image_embeddings runs the model under."""
        with torch.inference_mode(), devices.autocast(clip.device, clip.precision):
            yield

    with computing():
        embed.encode_batch(model, tensors[0])  # warm-up: allocator, kernels

    def model_alone() -> None:
        with computing():
            for batch in tensors:
                embed.encode_batch(model, batch)

    runs = iter(range(10**6))
    embeddings: list[np.ndarray] = []

    def pipeline() -> None:
        # A fresh cache each time: everything is computed (and written) again.
        clip.cache_dir = folder / f"cache-{clip.precision}-{next(runs)}"
        result = clip.image_embeddings(paths, batch_size=args.batch_size, workers=args.workers,
                                       show_progress=False)
        assert result.n_computed == len(paths)
        embeddings[:] = [result.embeddings]

    def naive() -> None:
        with computing():
            for path in paths[:args.naive_images]:
                model.encode_image(transform(load_rgb(path)).unsqueeze(0).to(dtype))

    figures = {"model alone": len(paths) / best_of(args.repeats, model_alone),
               "pipeline": len(paths) / best_of(args.repeats, pipeline),
               "naive loop": min(len(paths), args.naive_images) / best_of(1, naive)}
    return {"figures": figures, "embeddings": embeddings[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers of the pipeline (default 1)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--naive-images", type=int, default=64, help="images of the naive loop (default 64)")
    args = parser.parse_args()

    native = devices.cpu_computes_natively("bf16")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, native bfloat16: "
          f"{native}; {MODEL}, {args.images} images of {SIDE} px, batch {args.batch_size}, "
          f"{args.workers} DataLoader worker(s); load average {os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as temporary:
        folder = Path(temporary)
        (folder / "images").mkdir()
        paths = write_images(folder / "images", args.images)
        for precision in ("fp32", "bf16"):
            clip = embed.ClipModel(clip_weights.parse_spec(MODEL), torch.device("cpu"), requested_precision=precision)
            results[clip.precision] = measure(clip, paths, folder, args)
    print(f"{'img/s':<12} " + " ".join(f"{name:>8}" for name in results) + "   bf16/fp32")
    for name in ("model alone", "pipeline", "naive loop"):
        row = [results[precision]["figures"][name] for precision in results]
        ratio = f"   {row[1] / row[0]:.2f}×" if len(row) == 2 else ""
        print(f"{name:<12} " + " ".join(f"{value:8.1f}" for value in row) + ratio)
    for precision, result in results.items():
        figures = result["figures"]
        share, speedup = figures["pipeline"] / figures["model alone"], figures["pipeline"] / figures["naive loop"]
        bound = figures["model alone"] / figures["naive loop"]
        print(f"{precision}: pipeline = {share:.0%} of model alone [{'ok' if share >= 0.85 else 'BELOW'} target 85%], "
              f"{speedup:.2f}× the naive loop (batching alone allows at most {bound:.2f}× here)")
    if "bf16" in results:
        gain = results["bf16"]["figures"]["pipeline"] / results["fp32"]["figures"]["pipeline"]
        cosine = np.sum(embed.normalize(results["bf16"]["embeddings"]) * embed.normalize(results["fp32"]["embeddings"]),
                        axis=1)
        print(f"bf16 pipeline = {gain:.2f}× fp32 pipeline [{'ok' if gain >= 2 else 'BELOW'} target 2×]; "
              f"cosine of bf16 to fp32 embeddings: min {cosine.min():.6f}, mean {cosine.mean():.6f}")
    else:
        print("this CPU has no native bfloat16: --precision bf16 ran in fp32 (see the warning above)")


if __name__ == "__main__":
    main()
