"""Progress bars for long work (one place, so every bar looks and behaves the same)."""

from __future__ import annotations

import sys
from typing import Iterable, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it",
             disable: bool = False) -> Iterable[T]:
    """Wrap an iterable in a tqdm bar on stderr; ``disable`` hides it."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr,
                dynamic_ncols=True, leave=False)
