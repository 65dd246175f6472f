"""The on-disk embedding cache: ``.npz`` chunks keyed by image content, one folder per model identity.

The folder (``$CORNLENS_CACHE``, default ``~/.cache/cornlens``) is named by a digest of everything
the numbers depend on (model, weights, preprocessing, precision); rows inside are keyed by each
image's content hash, so chunks made on any machine for the same identity merge by copying.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from analysis.core import bundle
from analysis.core.jsonfile import digest

log = logging.getLogger(__name__)

CACHE_ENV = "CORNLENS_CACHE"
DEFAULT_CACHE = Path("~/.cache/cornlens")
CACHE_FORMAT = 1  # bump when the meaning of cached arrays changes


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


class EmbeddingCache:
    """One folder of ``.npz`` chunks for one model identity: content key → row of arrays.

    Chunks are written atomically and never modified, so a killed writer leaves only whole chunks.
    """

    def __init__(self, folder: Path, identity: dict):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "identity.json"
        if not meta.exists():
            bundle.write_json(meta, identity)

    def load(self, prefix: str) -> dict[str, dict[str, np.ndarray]]:
        """Every stored row of the chunks named ``prefix-*.npz``: key → {array name: row}."""
        rows: dict[str, dict[str, np.ndarray]] = {}
        for path in sorted(self.folder.glob(f"{prefix}-*.npz")):
            try:
                with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as chunk:
                    arrays = {name: chunk[name] for name in chunk.files if name != "keys"}
                    for index, key in enumerate(chunk["keys"].tolist()):
                        rows[key] = {name: array[index] for name, array in arrays.items()}
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
                log.warning("%s: damaged cache chunk ignored and recomputed (%s)", path, error)
        return rows

    def store(self, prefix: str, keys: Sequence[str], arrays: dict[str, np.ndarray]) -> None:
        path = self.folder / f"{prefix}-{digest(list(keys))}.npz"
        with bundle.atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, keys=np.asarray(keys, dtype=str), **arrays)
