"""Facts the pages show beside an approach's scores: the hyper-parameters it was trained with and
the majority-class rate of each photo view (no I/O, no UI)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.core.tables import GALLERY_SPLIT, as_frame, duration_text

PARAMETER_NAMES = {"epochs": "epochs asked", "epochs_run": "epochs run", "best_epoch": "best epoch (kept)",
                   "image_size": "image size", "batch_size": "batch size", "learning_rate": "learning rate", "lr": "learning rate",
                   "weight_decay": "weight decay", "drop_path_rate": "drop-path rate", "tta": "test-time augmentation",
                   "trained_on": "trained on split"}
PARAMETER_UNITS = {"image_size": "px", "batch_size": "images"}


def parameter_text(name: str, value: Any) -> str:
    """One hyper-parameter's value as text, with its unit."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if name.endswith("_s") and isinstance(value, (int, float)):
        return duration_text(value)
    unit = PARAMETER_UNITS.get(name)
    return f"{value} {unit}" if unit else str(value)


def hyperparameter_table(params: dict | None) -> pd.DataFrame:
    """The ``params`` of an approach record as a two-column table (``setting``, ``value``), in the
    order they were recorded, with readable names and units."""
    rows = [{"setting": PARAMETER_NAMES.get(name, name.replace("_", " ")), "value": parameter_text(name, value)}
            for name, value in (params or {}).items() if not isinstance(value, (dict, list))]
    return pd.DataFrame(rows, columns=["setting", "value"])


def majority_rate_by_view(images: pd.DataFrame, majority_class: str | None) -> dict[str, float]:
    """view → share of the held-out images of that view labelled ``majority_class``: what always
    answering the training majority class scores on each view."""
    if not majority_class or "view" not in images.columns:
        return {}
    held_out = images[(images["split"] == GALLERY_SPLIT) & images["label"].notna()]
    return {str(view): float((group["label"] == majority_class).mean()) for view, group in held_out.groupby("view")}


def still_improving(epochs: list[dict] | dict | None, best_epoch: int | None) -> bool:
    """True when training ran more than one epoch and its best epoch is the last: it stopped while
    the validation accuracy was still going up."""
    frame = as_frame(epochs)
    if len(frame) < 2 or "epoch" not in frame:
        return False
    if best_epoch is None and "val_accuracy" in frame:
        best_epoch = int(frame.loc[frame["val_accuracy"].idxmax(), "epoch"])
    return best_epoch is not None and best_epoch >= int(frame["epoch"].max())
