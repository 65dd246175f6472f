"""Which of a chosen set of approaches get which held-out image right (no I/O, no UI).

The ``agreement`` stage stores the patterns of the approaches it compares; the dashboard recomputes
them for whatever approaches a person selects (baselines included) from the same function.
"""

from __future__ import annotations

import pandas as pd

from analysis.core.tables import prediction_column


def correctness(scored: pd.DataFrame, approach_ids: list[str]) -> pd.DataFrame:
    """``image_id``, ``label`` and one bool column per approach (named by its id): right or not.

    Args:
        scored: ``tables.scored_images``; images an approach did not predict count as wrong.
    """
    table = scored[["image_id", "label"]].copy()
    for approach_id in approach_ids:
        table[approach_id] = (scored[prediction_column(approach_id)] == scored["label"]).to_numpy()
    return table


def agreement(table: pd.DataFrame, approach_ids: list[str]) -> dict:
    """The ``agreement`` diagnostics of a correctness table (one bool column per approach id).

    Returns:
        dict with ``approaches``, ``n_images``, ``patterns`` (list of ``correct`` ({id: bool}),
        ``count``, ``image_ids``; most frequent first) and ``all_wrong`` (image ids).
    """
    patterns = []
    if approach_ids:
        for key, group in table.groupby(approach_ids, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            patterns.append({"correct": {approach: bool(value) for approach, value in zip(approach_ids, key)},
                             "count": int(len(group)), "image_ids": group["image_id"].tolist()})
    patterns.sort(key=lambda pattern: (-pattern["count"], [not v for v in pattern["correct"].values()]))
    wrong = ~table[approach_ids].any(axis=1) if approach_ids else pd.Series(False, index=table.index)
    return {"approaches": list(approach_ids), "n_images": int(len(table)), "patterns": patterns,
            "all_wrong": table.loc[wrong, "image_id"].tolist()}


def agreement_of(scored: pd.DataFrame, approach_ids: list[str]) -> dict:
    """``agreement`` of the chosen approaches on the held-out images of ``tables.scored_images``."""
    return agreement(correctness(scored, approach_ids), approach_ids)
