"""Everything about one image for its full-size view: every approach's probability of every class,
the other photos of the same kernel (``seed_id``), and its neighbours in the list it was opened
from (no I/O, no UI)."""

from __future__ import annotations

import pandas as pd


def probabilities(predictions: dict[str, pd.DataFrame], image_id: str, classes: list[str],
                  labels: dict[str, str], true_label: str | None) -> pd.DataFrame:
    """One row per approach that predicted ``image_id``: ``approach``, ``answer``, ``right``
    (✔/✘, blank for an unlabelled image) and one column per class with its probability (0..1).

    Args:
        predictions: approach id → its predictions table indexed by ``image_id``.
        labels: approach id → readable label.
    """
    rows = []
    for approach_id, frame in predictions.items():
        if image_id not in frame.index:
            continue
        row = frame.loc[image_id]
        answer = str(row["pred_label"])
        right = "" if true_label is None else ("✔" if answer == true_label else "✘")
        rows.append({"approach": labels.get(approach_id, approach_id), "answer": answer, "right": right}
                    | {name: float(row[f"prob_{name}"]) for name in classes})
    return pd.DataFrame(rows, columns=["approach", "answer", "right", *classes])


def same_seed(images: pd.DataFrame, image_id: str) -> pd.DataFrame:
    """The other images of the same kernel (rows of ``images`` sharing ``seed_id``), by view then id."""
    if "seed_id" not in images.columns:
        return images.iloc[:0]
    seed = images.loc[images["image_id"] == image_id, "seed_id"]
    if seed.empty or pd.isna(seed.iloc[0]):
        return images.iloc[:0]
    siblings = images[(images["seed_id"] == seed.iloc[0]) & (images["image_id"] != image_id)]
    return siblings.sort_values(["view", "image_id"], kind="stable")


def neighbours(order: list[str], image_id: str) -> tuple[str | None, str | None, int]:
    """The previous and next image ids around ``image_id`` in ``order`` (None at either end) and its
    1-based position (0 when it is not in ``order``)."""
    if image_id not in order:
        return None, None, 0
    index = order.index(image_id)
    return (order[index - 1] if index > 0 else None,
            order[index + 1] if index + 1 < len(order) else None, index + 1)
