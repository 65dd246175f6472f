"""Random access to ``thumbnails.parquet``: read the thumbnails of the images a page shows, not all of them.

A bundle of 100,000 images holds about 300 MB of thumbnails; a page shows a few dozen. The file is
written in small Parquet row groups (:data:`ROW_GROUP_ROWS` rows, statistics on ``image_id`` only,
so the footer stays small); the index keeps each image id's row and reads only the row groups that
hold the requested ids. A file written in one big row group (older bundles) is still read correctly,
only more slowly.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 64  # ~200 KB of JPEGs per group: a page of 96 random thumbnails reads ~6,000 rows, not 100,000
COLUMNS = ("image_id", "jpeg")
WRITE_OPTIONS = {"row_group_size": ROW_GROUP_ROWS, "write_statistics": ["image_id"]}  # for pq.write_table


class ThumbnailFileError(ValueError):
    """A thumbnails file without the columns it must have."""


class ThumbnailIndex:
    """Which row group of a thumbnails file holds each image id.

    Raises ``OSError`` or ``pyarrow.ArrowException`` when the file cannot be read,
    :class:`ThumbnailFileError` when it lacks a column (the bundle reader turns them into a ``BundleError`` naming the file).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata = pq.ParquetFile(self.path).metadata
        missing = [column for column in COLUMNS if column not in self.metadata.schema.names]
        if missing:
            raise ThumbnailFileError(f"missing column(s) {', '.join(missing)}")
        ids = pq.read_table(self.path, columns=["image_id"]).column("image_id").to_pandas()
        kept = (ids.notna() & ~ids.duplicated()).to_numpy()  # a repeated id: its first row counts
        self.rows = pd.Series(np.flatnonzero(kept), index=ids[kept].astype(str).to_numpy())
        sizes = np.array([self.metadata.row_group(group).num_rows for group in range(self.metadata.num_row_groups)])
        self.group_starts = np.cumsum(sizes) - sizes

    def ids(self) -> list[str]:
        """Every image id that has a thumbnail, in file order."""
        return self.rows.index.tolist()

    def groups_of(self, image_ids: Iterable[str]) -> list[int]:
        """The row groups that hold ``image_ids`` (ids without a thumbnail are left out), ascending."""
        wanted = self.rows.reindex(pd.unique(pd.Series(list(image_ids), dtype=object))).dropna()
        return np.unique(np.searchsorted(self.group_starts, wanted.to_numpy(dtype=np.int64), side="right") - 1).tolist()

    def read(self, image_ids: Iterable[str]) -> dict[str, bytes]:
        """image id → JPEG bytes for the ``image_ids`` that have a thumbnail, reading only their row groups."""
        image_ids = [str(image_id) for image_id in image_ids]
        groups = self.groups_of(image_ids)
        if not groups:
            return {}
        table = pq.ParquetFile(self.path, metadata=self.metadata).read_row_groups(groups, columns=list(COLUMNS))
        wanted = set(image_ids)
        found: dict[str, bytes] = {}
        for image_id, jpeg in zip(table.column("image_id").to_pylist(), table.column("jpeg").to_pylist()):
            if image_id in wanted and image_id not in found and isinstance(jpeg, bytes):
                found[image_id] = jpeg
        return found


def data_uri(thumbnail: bytes) -> str:
    """A ``data:`` URI of thumbnail bytes (JPEG, or PNG when the bytes say so): the image travels inside
    the page (the report; a dashboard card) instead of as a file the browser fetches on its own."""
    mime = "image/png" if bytes(thumbnail[:8]) == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(bytes(thumbnail)).decode('ascii')}"


__all__ = ["COLUMNS", "ROW_GROUP_ROWS", "ThumbnailFileError", "ThumbnailIndex", "WRITE_OPTIONS", "data_uri"]
