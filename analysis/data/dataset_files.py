"""A dataset's CSV files, read as text, and the error for a dataset that cannot be used at all.

Below :mod:`analysis.data.loading` and :mod:`analysis.data.csvlayout`, which both read CSV files this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

UNKNOWN_VIEW = "unknown"


class DatasetError(Exception):
    """The dataset cannot be used at all; the message says why and what to do."""


def read_csv(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """Read a CSV with every column as text (keeps zero-padded ids); check required columns."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot be read as CSV ({error}).") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise DatasetError(
            f"{path}: missing required column(s) {', '.join(missing)}; "
            f"found {', '.join(frame.columns) or 'none'}. Expected {', '.join(required)}."
        )
    return frame
