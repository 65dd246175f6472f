"""Deterministic synthetic corn kernels in the Kaggle "It's Corn" layout, for the demo and tests.

Shaped like the real data: one kernel on a light background, four visually different classes
(whole; a chunk missing; dark blotches; a thin cut line), imbalanced like the competition, one
image per ``seed_id`` with a top/bottom ``view``, sides between 84 and 228 px. Like the real data
it carries mild shortcuts on purpose: silkcut images are a little larger, top views are more
saturated, pure kernels a little more saturated and broken ones a little paler — enough that
trivial image statistics beat the majority class (about 0.59 against 0.41 in 5-fold CV on 800
images, as on the real archive) without coming near the visual signal. Same seed, byte-identical files.
"""

from __future__ import annotations

import colorsys
import contextlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from analysis.core.progress import progress

CLASSES = ("pure", "broken", "discolored", "silkcut")
CLASS_SHARES = (0.41, 0.32, 0.17, 0.10)
VIEWS = ("top", "bottom")
PARALLEL_FROM = 1000  # images per drawing process at least: below, one process draws them all
MIN_SIDE, MAX_SIDE = 84, 228
# Mean image side per class: silkcut a little larger, as in the real archive (about 160 vs 140 px).
MEAN_SIDE = {"pure": 138, "broken": 134, "discolored": 140, "silkcut": 156}
SIDE_STD = 18  # per-class spread of the image side on the real sample: 17-25 px
# Added to the kernel's HSV saturation (0..1): on the real sample pure kernels are more saturated
# than broken ones (mean 49 vs 42 on the 0-255 scale), which trivial colour statistics pick up.
SATURATION_SHIFT = {"pure": 0.04, "broken": -0.03, "discolored": 0.0, "silkcut": 0.03}


def _kernel_colour(label: str, view: str, rng: np.random.Generator) -> np.ndarray:
    """Base RGB colour (0..1): yellow-orange, more saturated on top views (and per ``SATURATION_SHIFT``)."""
    hue = rng.normal(0.11, 0.015)
    saturation = rng.normal((0.62 if view == "top" else 0.40) + SATURATION_SHIFT[label], 0.07)
    value = rng.normal(0.88, 0.05)
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, np.clip(saturation, 0.1, 0.95), np.clip(value, 0.5, 1.0)))


def draw_kernel(label: str, view: str, rng: np.random.Generator) -> Image.Image:
    """One synthetic kernel image of class ``label`` photographed from ``view``."""
    side = rng.normal(MEAN_SIDE[label], SIDE_STD)
    width = int(np.clip(side * rng.uniform(0.92, 1.08), MIN_SIDE, MAX_SIDE))
    height = int(np.clip(side * rng.uniform(0.92, 1.08), MIN_SIDE, MAX_SIDE))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    # Pose: centre, rotation, length and width of a teardrop-shaped kernel.
    cx = width / 2 + rng.normal(0, width * 0.04)
    cy = height / 2 + rng.normal(0, height * 0.04)
    angle = rng.uniform(0, 2 * np.pi)
    length = min(width, height) * rng.uniform(0.30, 0.40)
    breadth = length * rng.uniform(0.62, 0.80)
    u = ((xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle)) / length
    v = (-(xs - cx) * np.sin(angle) + (ys - cy) * np.cos(angle)) / breadth
    taper = 0.65 + 0.35 * np.clip((u + 1) / 2, 0, 1)  # narrow tip at u = -1
    radius = np.sqrt(u ** 2 + (v / taper) ** 2)
    mask = radius <= 1.0

    colour = _kernel_colour(label, view, rng)
    shading = np.clip(0.72 + 0.28 * np.sqrt(np.clip(1 - radius ** 2, 0, 1)), 0, 1)
    kernel = colour[None, None, :] * shading[..., None]
    if view == "bottom":  # the germ: a paler patch near the broad end
        germ = np.exp(-(((u - 0.35) / 0.35) ** 2 + (v / 0.3) ** 2))
        kernel = kernel * (1 - 0.45 * germ[..., None]) + 0.45 * germ[..., None] * np.array([0.95, 0.92, 0.80])
    kernel = kernel + rng.normal(0, 0.02, size=kernel.shape)  # surface texture

    if label == "broken":  # a chunk missing, the broken face showing pale starch
        cut_angle = rng.uniform(0, 2 * np.pi)
        depth = rng.uniform(0.25, 0.55)
        along = u * np.cos(cut_angle) + v * np.sin(cut_angle)
        missing = along > 1 - depth
        face = (along > 1 - depth - 0.12) & ~missing
        kernel[face] = kernel[face] * 0.4 + 0.6 * np.array([0.96, 0.93, 0.84])
        mask = mask & ~missing
    elif label == "discolored":  # dark brown blotches
        for _ in range(rng.integers(1, 4)):
            bu, bv = rng.uniform(-0.6, 0.6, size=2)
            size = rng.uniform(0.18, 0.40)
            blotch = np.exp(-(((u - bu) ** 2 + (v - bv) ** 2) / size ** 2))
            strength = rng.uniform(0.6, 0.9)
            kernel = kernel * (1 - strength * blotch[..., None]) + strength * blotch[..., None] * np.array(
                [0.35, 0.20, 0.08])
    elif label == "silkcut":  # a thin line cut across the kernel
        line_angle = rng.uniform(0, np.pi)
        offset = rng.uniform(-0.4, 0.4)
        distance = np.abs(u * np.cos(line_angle) + v * np.sin(line_angle) - offset) * length
        line = distance < rng.uniform(0.8, 1.8)
        kernel[line] = kernel[line] * 0.35 + 0.65 * np.array([0.40, 0.28, 0.15])

    lighting = rng.uniform(0.88, 1.06)
    background = np.array([0.93, 0.92, 0.89]) * rng.uniform(0.94, 1.02)
    canvas = np.broadcast_to(background, (height, width, 3)) + rng.normal(0, 0.012, size=(height, width, 3))
    canvas = np.where(mask[..., None], kernel * lighting, canvas)
    shadow = (~mask) & (radius < 1.12)  # a soft rim where the kernel meets the background
    canvas[shadow] *= 0.9
    return Image.fromarray((np.clip(canvas, 0, 1) * 255).round().astype(np.uint8), "RGB")


def sample_labels(n_images: int, rng: np.random.Generator) -> list[str]:
    """Labels in the competition's proportions, exactly rounded, in random order."""
    counts = np.floor(np.array(CLASS_SHARES) * n_images).astype(int)
    for index in np.argsort(-(np.array(CLASS_SHARES) * n_images - counts))[: n_images - counts.sum()]:
        counts[index] += 1
    labels = np.repeat(np.array(CLASSES), counts)
    return list(rng.permutation(labels))


def _draw_file(job: tuple[Path, str, str, int]) -> None:
    """Draw one kernel (``path``, ``label``, ``view``, ``seed``) and save it as PNG."""
    path, label, view, seed = job
    draw_kernel(label, view, np.random.default_rng(seed)).save(path, format="PNG")


def write_dataset(out: str | Path, n_train: int = 800, n_test: int = 200, seed: int = 0,
                  show_progress: bool = True) -> Path:
    """Write a synthetic dataset folder in the Kaggle layout.

    Writes ``train.csv`` (``seed_id,view,image,label``), ``test.csv`` (``seed_id,view,image``),
    ``sample_submission.csv`` (integer ``seed_id`` in its own order, ``label``) and the PNGs under
    ``train/`` and ``test/``. Ids are zero-padded to 5 digits like the real files.

    Returns:
        The dataset folder.
    """
    if n_train < 8:
        raise ValueError("n_train must be at least 8 so that every class has images")
    out = Path(out)
    rng = np.random.default_rng(seed)
    ids = rng.permutation(n_train + n_test)
    train_ids, test_ids = np.sort(ids[:n_train]), np.sort(ids[n_train:])
    labels = dict(zip(train_ids, sample_labels(n_train, rng)))
    views = dict(zip(ids, rng.choice(VIEWS, size=len(ids))))
    image_seeds = dict(zip(ids, rng.integers(0, 2 ** 32, size=len(ids))))
    tables = {"train": [], "test": []}
    for source, source_ids in (("train", train_ids), ("test", test_ids)):
        (out / source).mkdir(parents=True, exist_ok=True)
        jobs = []
        for image_id in source_ids:
            seed_id = f"{image_id:05d}"
            label = labels.get(image_id) or str(np.random.default_rng(image_seeds[image_id]).choice(
                CLASSES, p=CLASS_SHARES))
            jobs.append((out / source / f"{seed_id}.png", label, str(views[image_id]), int(image_seeds[image_id])))
            row = {"seed_id": seed_id, "view": str(views[image_id]), "image": f"{source}/{seed_id}.png"}
            tables[source].append(row | ({"label": label} if source == "train" else {}))
        # every image has its own seed, so drawing them in parallel writes the same bytes
        workers = min(os.cpu_count() or 1, max(1, len(jobs) // PARALLEL_FROM))
        with contextlib.ExitStack() as stack:
            drawn = (stack.enter_context(ProcessPoolExecutor(workers)).map(_draw_file, jobs, chunksize=64)
                     if workers > 1 else map(_draw_file, jobs))
            for _ in progress(drawn, total=len(jobs), desc=f"drawing {source} kernels", unit="img",
                              disable=not show_progress):
                pass
    pd.DataFrame(tables["train"]).to_csv(out / "train.csv", index=False)
    pd.DataFrame(tables["test"], columns=["seed_id", "view", "image"]).to_csv(out / "test.csv", index=False)
    sample = pd.DataFrame({"seed_id": rng.permutation(test_ids).astype(int), "label": CLASSES[0]})
    sample.to_csv(out / "sample_submission.csv", index=False)
    return out
