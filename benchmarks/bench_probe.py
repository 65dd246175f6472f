"""Time the linear probe on competition-size cached features: the C sweep (grouped 5-fold CV over
the whole grid, then the refit) and, separately, the k-shot curve.

Target: the sweep and refit on 14,000 × 1,024 features in under 60 s on 2 CPU cores. The features
are random but structured like CLIP features of four imbalanced classes: a low-rank class signal
(32 directions) under isotropic noise, so lbfgs needs a realistic number of iterations.

    OMP_NUM_THREADS=2 python benchmarks/bench_probe.py [--images 14000] [--dim 1024] [--kshot]
    taskset -c 0,1 python benchmarks/bench_probe.py      # two cores on a bigger machine
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from analysis.stages import probe  # noqa: E402

CLASSES = np.array(["pure", "broken", "discolored", "silkcut"])
SHARES = (0.41, 0.32, 0.17, 0.10)
TARGET_S = 60.0


def structured_features(n_images: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (n_images, dim) float32, class names, and a fold 0–4 per image."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(CLASSES), size=n_images, p=SHARES)
    basis = rng.normal(size=(32, dim)) / np.sqrt(32)
    means = rng.normal(size=(len(CLASSES), 32)) * 0.3
    signal = (means[labels] + rng.normal(size=(n_images, 32))) @ basis
    features = (signal + rng.normal(size=(n_images, dim)) * 0.7).astype(np.float32)
    return features, CLASSES[labels], rng.integers(0, 5, size=n_images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=14_000)
    parser.add_argument("--dim", type=int, default=1_024)
    parser.add_argument("--kshot", action="store_true", help="also time the k-shot curve (5 draws per k)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    features, labels, folds = structured_features(args.images, args.dim)
    held_out = folds == 4  # the k-shot curve needs held-out images; the sweep uses all five folds
    print(f"{args.images} × {args.dim} features, {len(probe.C_GRID)} C values × 5 folds + refit, "
          f"{cores} usable core(s), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    started = time.perf_counter()
    _, sweep, best_c = probe.sweep_c(features, labels, folds)
    seconds = time.perf_counter() - started
    best = max(sweep, key=lambda row: row["cv_accuracy_mean"])
    print(f"C sweep + refit: {seconds:.1f} s (target < {TARGET_S:.0f} s: {'met' if seconds < TARGET_S else 'MISSED'}); "
          f"best C = {best_c:g}, CV accuracy {best['cv_accuracy_mean']:.3f}")
    for row in sweep:
        print(f"  C = {row['C']:<10.4g} {row['cv_accuracy_mean']:.3f} ± {row['cv_accuracy_std']:.3f}")
    if args.kshot:
        started = time.perf_counter()
        curve = probe.kshot_curve(features[~held_out], labels[~held_out], features[held_out], labels[held_out],
                                  best_c)
        print(f"k-shot curve ({len(curve)} sizes): {time.perf_counter() - started:.1f} s")
        for point in curve:
            print(f"  k = {point['k']:<5} {point['mean']:.3f} ± {point['std']:.3f} ({point['draws']} draws)")


if __name__ == "__main__":
    main()
