"""Which approaches get which held-out image right, and the images worth a second look.

Runs after every approach. Two diagnostics:

- ``agreement`` — for each held-out image, which approaches are right; how many images share each
  pattern of right and wrong (all right, only ConvNeXt right, all wrong, …), and the images all of
  them miss. The compared approaches are the ones that learn something from images: the best
  zero-shot prompt set of each CLIP model (the other prompt sets would only multiply the
  patterns), every probe and every fine-tuned network. Baselines are references, not compared,
  unless the bundle holds nothing else.
- ``label_problems`` — one table (``rows``) gathering the byte-identical groups of the data
  diagnostics (conflicting labels, train/test leaks, plain copies) and the held-out images every
  compared approach gets wrong, each row with its image ids so that thumbnails can be shown.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.core.escape import listed
from analysis.core import bundle, records
from analysis.data import split
from analysis.stages.context import NoOptions, RunContext, Stage
from analysis.stats import approach_agreement
from analysis.stats.approach_agreement import agreement  # noqa: F401  (the stage's patterns; shared with the dashboard)

log = logging.getLogger(__name__)

AGREEMENT, LABEL_PROBLEMS = "agreement", "label_problems"
UNLABELLED = "(unlabelled)"


def compared_approaches(approaches: list[dict]) -> tuple[list[str], list[dict]]:
    """The approach ids the agreement compares (:func:`analysis.stats.approach_agreement.compared`,
    the one definition of "missed by every approach"), and the ones left out with the reason.

    Returns:
        ``(ids, left_out)``: ids in manifest order; ``left_out`` is a list of ``id``, ``why``.
    """
    chosen = {record["id"] for record in approach_agreement.compared(approaches)}
    left_out = [{"id": record["id"], "why": "a baseline that never looks at the image (a reference, not compared)"
                 if record["kind"] == records.BASELINE else "not the prompt set chosen on the training images"}
                for record in approaches if record["id"] not in chosen]
    return [record["id"] for record in approaches if record["id"] in chosen], left_out


def correctness_table(opened: bundle.Bundle, approach_ids: list[str]) -> pd.DataFrame:
    """One row per held-out image: ``image_id``, ``label``, then per approach whether it is right
    (bool column named by the id) and its probability of the true class (``p_true:<id>``)."""
    images = opened.images()
    table = images.loc[images["split"] == split.EVAL, ["image_id", "label"]].reset_index(drop=True)
    for approach in approach_ids:
        predictions = opened.predictions(approach).set_index("image_id")
        rows = predictions.reindex(table["image_id"])
        if rows["pred_label"].isna().any():
            raise bundle.BundleError(f"{opened.path}: approach {approach!r} has no prediction for held-out images "
                                     f"such as {table.loc[rows['pred_label'].isna().to_numpy(), 'image_id'].head(3).tolist()}.")
        table[approach] = (rows["pred_label"].to_numpy() == table["label"].to_numpy())
        probability = np.array([rows[f"prob_{label}"].iloc[index] if f"prob_{label}" in rows else np.nan
                                for index, label in enumerate(table["label"])], dtype=float)
        table[f"p_true:{approach}"] = probability
        table[f"pred:{approach}"] = rows["pred_label"].to_numpy()
    return table


def label_problem_rows(duplicates: list[dict], images: pd.DataFrame, table: pd.DataFrame,
                       approach_ids: list[str]) -> list[dict]:
    """The rows of the ``label_problems`` table.

    Args:
        duplicates: the ``duplicates`` of the ``data`` diagnostics (content_hash, image_ids, labels,
            conflicting, leak).
        images: images.parquet.
        table: :func:`correctness_table` of ``approach_ids``.

    Returns:
        list of dicts with ``problem`` (conflicting_labels | train_test_leak | duplicate |
        all_wrong), ``image_ids``, ``labels`` and ``splits`` (one per image), ``content_hash``,
        ``true_class_probability`` (all_wrong: the compared approaches' mean probability of the
        given label — the lower, the more they disagree with it) and ``detail`` (readable text).
        Conflicts first, then leaks, copies, and the all-wrong images most confidently contradicted.
    """
    by_id = images.set_index("image_id")
    rows = []
    for group in duplicates:
        ids = [image_id for image_id in group["image_ids"] if image_id in by_id.index]
        labels = [by_id.at[i, "label"] if isinstance(by_id.at[i, "label"], str) else UNLABELLED for i in ids]
        splits = [str(by_id.at[i, "split"]) for i in ids]
        if group.get("conflicting"):
            problem, detail = "conflicting_labels", f"{len(ids)} identical files labelled {listed(labels, separator=' / ')}"
        elif group.get("leak"):
            problem, detail = "train_test_leak", (f"{len(ids)} identical files, labelled and in the competition "
                                                  "test set")
        else:
            problem, detail = "duplicate", f"{len(ids)} identical files, same label"
        if len(set(splits)) > 1:
            detail += f" (on both sides of the split: {listed(sorted(set(splits)))})"
        rows.append({"problem": problem, "image_ids": ids, "labels": labels, "splits": splits,
                     "content_hash": group.get("content_hash"), "true_class_probability": None, "detail": detail})
    missed = table[~table[approach_ids].any(axis=1)] if approach_ids else table.iloc[:0]
    all_wrong = []
    for _, row in missed.iterrows():
        probability = row[[f"p_true:{a}" for a in approach_ids]].astype(float)
        said = pd.Series([row[f"pred:{a}"] for a in approach_ids]).value_counts()
        answers = "; ".join(f"{answer} from {count}" for answer, count in said.items())
        all_wrong.append({"problem": "all_wrong", "image_ids": [row["image_id"]], "labels": [row["label"]],
                          "splits": [split.EVAL], "content_hash": by_id.at[row["image_id"], "content_hash"]
                          if "content_hash" in by_id else None,
                          "true_class_probability": float(probability.mean()) if probability.notna().any() else None,
                          "detail": f"labelled {row['label']}; the {len(approach_ids)} approaches that look at the image "
                                    f"answer otherwise ({answers})"})
    all_wrong.sort(key=lambda entry: (entry["true_class_probability"] is None, entry["true_class_probability"] or 0))
    order = {"conflicting_labels": 0, "train_test_leak": 1, "duplicate": 2}
    rows.sort(key=lambda entry: order[entry["problem"]])
    return rows + all_wrong


def run_stage(context: RunContext, options: NoOptions, unit: None = None) -> None:
    """Pipeline stage: the ``agreement`` and ``label_problems`` diagnostics (recomputed every run,
    since any approach may have changed)."""
    opened = context.bundle()
    approach_ids, left_out = compared_approaches(opened.approaches)
    table = correctness_table(opened, approach_ids)
    found = agreement(table, approach_ids) | {"left_out": left_out}
    if approach_ids:
        context.save_diagnostics(AGREEMENT, found)
    duplicates = opened.diagnostics("data").get("duplicates", []) if opened.has_diagnostics("data") else []
    rows = label_problem_rows(duplicates, opened.images(), table, approach_ids)
    counts = {name: sum(row["problem"] == name for row in rows)
              for name in ("conflicting_labels", "train_test_leak", "duplicate", "all_wrong")}
    context.save_diagnostics(LABEL_PROBLEMS, {"rows": rows, "counts": counts, "approaches": approach_ids})
    log.info("agreement of %d approaches on %d held-out images: %d right under all, %d wrong under all",
             len(approach_ids), len(table), sum(p["count"] for p in found["patterns"] if all(p["correct"].values())),
             len(found["all_wrong"]))


STAGE = Stage("agreement", "after every approach: agreement table, label problems", NoOptions, run_stage)
