"""Which of a chosen set of approaches get which held-out image right (no I/O, no UI).

The ``agreement`` stage stores the patterns of the approaches it compares; the dashboard recomputes
them for whatever approaches a person selects (baselines included) from the same function.
"""

from __future__ import annotations

import pandas as pd

from analysis.core import records
from analysis.core.tables import prediction_column

MISSED = "missed by every approach that looks at the image"  # the one name of the idea, everywhere
BLIND_BASELINES = ("majority",)  # baselines (model keys) whose answer never depends on the image


def compared(approaches: list[dict]) -> list[dict]:
    """The approaches "missed by every approach" is counted over: one definition for the Compare
    page, the Label problems page and the report. Every approach that looks at the image — the
    image-statistics baseline, the prompt set of each zero-shot model chosen on the training part,
    the ladder's rungs, every probe and fine-tuned network — but not the majority-class baseline (it
    never looks: with it no image of the majority class could ever be missed) nor the other prompt
    sets. A bundle of blind baselines only compares those."""
    best = {id(record) for record in records.best_per_model(approaches, records.ZEROSHOT).values()}
    chosen = [record for record in approaches
              if not (record.get("kind") == records.ZEROSHOT and id(record) not in best)
              and not (record.get("kind") == records.BASELINE and record.get("model_key") in BLIND_BASELINES)]
    return chosen or list(approaches)


def missed_sentence(count: int, approach_labels: list[str]) -> str:
    """``12 held-out images are missed by every approach that looks at the image (5: …)``: the set named exactly."""
    return (f"{count} held-out image{'s are' if count != 1 else ' is'} {MISSED} ({len(approach_labels)}: "
            f"{', '.join(approach_labels)})")


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
