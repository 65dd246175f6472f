"""Trivial per-image statistics (size and colour moments) and their cached table in the bundle.

These numbers know nothing about corn, which is the point: whatever they predict is a shortcut
(image size, camera side, lighting) that any model can also pick up. They feed the
``baseline:image-stats`` approach and the ``confounders`` report (``analysis.stages.baselines``).

Units: pixels for width and height; the 0–255 scale of 8-bit RGB for every colour statistic,
including HSV saturation and value (as PIL's and OpenCV's HSV), so "top views are more saturated"
reads 59 vs 36 on the real sample, as in the data's SOURCE.md. Standard deviations are
population ones (``ddof=0``). Statistics cover the whole image, background included.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from PIL import Image

from analysis.data.engine import RayEngine
from analysis.data.loading import load_rgb
from analysis.core.progress import progress

log = logging.getLogger(__name__)

SIZE_FEATURES = ("width", "height", "aspect")
COLOUR_FEATURES = ("red_mean", "green_mean", "blue_mean", "red_std", "green_std", "blue_std",
                   "saturation_mean", "saturation_std", "value_mean", "value_std")
STAT_COLUMNS = SIZE_FEATURES + COLOUR_FEATURES
TABLE_NAME = "image_stats"
TABLE_FILE = f"features/{TABLE_NAME}.parquet"  # as bundle.save_features names it
# Images per thread task: large enough that pool overhead vanishes, small enough for a smooth bar.
CHUNK = 64
LEVELS = np.arange(256, dtype=np.float64)


def image_statistics(image: Image.Image | np.ndarray) -> dict[str, float]:
    """The statistics of one image, computed exactly from 8-bit histograms (fast: two C passes).

    Args:
        image: an 8-bit RGB PIL image, or an ndarray of shape (height, width, 3), dtype uint8.

    Returns:
        dict with every name of ``STAT_COLUMNS``: ``width``, ``height`` (px), ``aspect``
        (width / height), and the mean and standard deviation of R, G, B, of HSV saturation and
        of HSV value, as PIL's 8-bit HSV defines them: value = max(R, G, B), saturation =
        floor(255 · (max − min) / max), 0 for black pixels.
    """
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError("expected a uint8 array of shape (height, width, 3), "
                             f"got {image.dtype} {image.shape}")
        image = Image.fromarray(image, "RGB")
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image, got mode {image.mode}; read files with analysis.data.loading.load_rgb")
    width, height = image.size
    # Rows: R, G, B, saturation, value; columns: pixel counts of the levels 0..255.
    counts = np.asarray(image.histogram() + image.convert("HSV").histogram()[256:], dtype=np.float64)
    counts = counts.reshape(5, 256)
    mean = counts @ LEVELS / (width * height)
    std = np.sqrt(np.einsum("bl,bl->b", counts, (LEVELS[None, :] - mean[:, None]) ** 2) / (width * height))
    return {
        "width": float(width), "height": float(height), "aspect": width / height,
        "red_mean": mean[0], "green_mean": mean[1], "blue_mean": mean[2],
        "red_std": std[0], "green_std": std[1], "blue_std": std[2],
        "saturation_mean": mean[3], "saturation_std": std[3],
        "value_mean": mean[4], "value_std": std[4],
    }


def _file_statistics(path: Path) -> list[float]:
    try:
        stats = image_statistics(load_rgb(path))
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot compute image statistics ({error}); the file changed since the "
                         "dataset was checked — run `python -m analysis validate` on the folder.") from error
    return [float(stats[name]) for name in STAT_COLUMNS]


def _chunk_statistics(paths: Sequence[Path]) -> list[list[float]]:
    return [_file_statistics(path) for path in paths]


def _chunk_arrays(paths: list[str]) -> dict[str, np.ndarray]:
    return {"stats": np.array(_chunk_statistics([Path(path) for path in paths]), dtype=np.float64)}


def compute_table(paths: Sequence[str | Path], workers: int = 4, show_progress: bool = True,
                  engine: RayEngine | None = None) -> pd.DataFrame:
    """The statistics of many image files, read in a thread pool (decoding and numpy release the GIL)
    or, with ``engine``, in tasks on a Ray cluster.

    Args:
        paths: image files.
        workers: threads.
        show_progress: draw a progress bar on stderr.
        engine: the Ray cluster of ``run --ray``, or None.

    Returns:
        DataFrame of shape (n_paths, len(STAT_COLUMNS)), float64, rows in ``paths`` order.
    """
    paths = [Path(path) for path in paths]
    chunks = [paths[start:start + CHUNK] for start in range(0, len(paths), CHUNK)]
    if engine is not None:
        done = dict(engine.map_batches(chunks, _chunk_arrays, desc="image statistics", show_progress=show_progress))
        rows = [row for number in range(len(chunks)) for row in done[number]["stats"].tolist()]
    else:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            per_image = (row for chunk_rows in pool.map(_chunk_statistics, chunks) for row in chunk_rows)
            rows = list(progress(per_image, total=len(paths), desc="image statistics", unit="img",
                                 disable=not show_progress))
    return pd.DataFrame(np.array(rows, dtype=np.float64).reshape(len(paths), len(STAT_COLUMNS)),
                        columns=list(STAT_COLUMNS))


def read_cached(path: str | Path) -> pd.DataFrame | None:
    """The statistics table stored at ``path`` (``features/image_stats.parquet`` of a bundle), or None
    when it is absent, unreadable or lacks a column: a damaged cache only costs a recomputation."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        cached = pd.read_parquet(path)
    except (OSError, ValueError) as error:
        log.warning("%s: unreadable (%s); recomputing the image statistics", path, error)
        return None
    return None if {"image_id", "content_hash", *STAT_COLUMNS} - set(cached.columns) else cached


def refreshed_table(cached: pd.DataFrame | None, images: pd.DataFrame, root: str | Path, workers: int = 4,
                    show_progress: bool = True, engine: RayEngine | None = None) -> tuple[pd.DataFrame, bool]:
    """The statistics of every image of ``images``, reusing the rows of ``cached``.

    A cached row is reused when its ``image_id`` and ``content_hash`` both match, so changed
    files are recomputed and removed ones dropped. Writing the table back is the caller's
    (the baselines stage stores it through its run context).

    Args:
        cached: an earlier table (:func:`read_cached`), or None.
        images: the bundle's images table (``image_id``, ``path``, ``content_hash``).
        root: the dataset folder that ``path`` is relative to.

    Returns:
        (DataFrame with ``image_id``, ``content_hash`` and ``STAT_COLUMNS``, rows in ``images`` order;
        whether it differs from ``cached``).
    """
    keys = images[["image_id", "content_hash"]].reset_index(drop=True)
    if cached is None:
        cached = pd.DataFrame(columns=["image_id", "content_hash", *STAT_COLUMNS])
    table = keys.merge(cached[["image_id", "content_hash", *STAT_COLUMNS]], on=["image_id", "content_hash"],
                       how="left")
    todo = table[STAT_COLUMNS[0]].isna().to_numpy()
    if todo.any():
        log.info("image statistics: %d of %d images to compute (%d cached)", todo.sum(), len(table),
                 len(table) - todo.sum())
        paths = [Path(root) / relative for relative in images["path"].to_numpy()[todo]]
        table.loc[todo, list(STAT_COLUMNS)] = compute_table(paths, workers, show_progress, engine).to_numpy()
    table[list(STAT_COLUMNS)] = table[list(STAT_COLUMNS)].astype(np.float64)
    return table, bool(todo.any() or len(cached) != len(table))
