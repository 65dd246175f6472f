"""Kaggle submissions: one approach's predictions in ``sample_submission.csv``'s exact format.

The file has the sample's columns, ids and row order; only ``label`` changes. The sample's
``seed_id`` values are written exactly as the sample has them (integers in the competition file),
matched to the zero-padded ``seed_id`` of ``test.csv`` by value. ``run`` writes one file per
approach under the bundle (``submissions/<approach>.csv``); ``python -m analysis submit`` writes
one anywhere, so the tool's figures can be checked on the leaderboard.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from analysis.core import bundle, confinement
from analysis.data import loading, split
from analysis.stages.context import NoOptions, RunContext, Stage

log = logging.getLogger(__name__)

SUBMISSIONS = "submissions"
ID_COLUMN, LABEL_COLUMN = loading.SUBMISSION_COLUMNS


class SubmissionError(bundle.BundleError):
    """No submission can be written; the message says which file or ids and what to do."""


def _id_key(value: object) -> object:
    """``"00042"``, ``"42"`` and ``42`` are the same competition id; other ids compare as text."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def sample_path(opened: bundle.Bundle, sample: str | Path | None = None) -> Path:
    """The sample submission to copy the format from: ``sample`` or the dataset's own."""
    if sample is not None:
        path = Path(sample).expanduser()
    else:
        dataset = opened.manifest.get("dataset", {})
        if not dataset.get("sample_submission"):
            raise SubmissionError(f"{opened.path}: the dataset of this bundle has no usable "
                                  f"{loading.SAMPLE_SUBMISSION_CSV}; pass one with --sample FILE.")
        root = confinement.dataset_root(opened.path, dataset.get("root"))
        path = confinement.resolve_inside(root, dataset["sample_submission"]) if root is not None else None
        if path is None:
            raise SubmissionError(f"{opened.path / bundle.MANIFEST}: dataset.sample_submission "
                                  f"{dataset['sample_submission']!r} is not a file inside the dataset folder "
                                  f"{dataset.get('root')!r}; it is not opened. Pass one with --sample FILE.")
    if not path.is_file():
        raise SubmissionError(f"{path}: sample submission not found (the dataset may have moved); pass its new "
                              "place with --sample FILE.")
    return path


def submission_frame(opened: bundle.Bundle, approach_id: str,
                     sample: str | Path | None = None) -> tuple[pd.DataFrame, dict]:
    """The submission table of one approach and what was done to make it.

    Args:
        opened: the bundle.
        approach_id: an approach of the bundle that predicted the ``kaggle_test`` images.
        sample: a sample submission file (default: the dataset's ``sample_submission.csv``).

    Returns:
        The table (the sample's columns as text, ``label`` replaced) and a dict with ``rows``,
        ``filled`` (ids without a usable test image, given the majority training class),
        ``filled_ids`` (the first few) and ``sample`` (the path used).
    """
    path = sample_path(opened, sample)
    table = loading.read_csv(path, loading.SUBMISSION_COLUMNS)
    images = opened.images()
    tests = images[images["split"] == split.KAGGLE_TEST]
    if tests.empty:
        raise SubmissionError(f"{opened.path}: the bundle has no competition test images (no {loading.TEST_CSV} in "
                              "the dataset), so there is nothing to submit.")
    predictions = opened.predictions(approach_id)
    merged = tests[["image_id", "seed_id"]].merge(predictions[["image_id", "pred_label"]], on="image_id", how="left")
    if merged["pred_label"].isna().all():
        raise SubmissionError(f"{opened.path}: approach {approach_id!r} has no predictions for the competition "
                              f"test images; rerun it with --force.")
    answers = dict(zip(merged["seed_id"].map(_id_key), merged["pred_label"]))
    keys = table[ID_COLUMN].map(_id_key)
    sample_keys = set(keys)
    unknown = [key for key in answers if key not in sample_keys]
    if len(unknown) == len(answers):
        raise SubmissionError(f"{path}: none of its {ID_COLUMN} values matches a test image of the bundle (such as "
                              f"{list(answers)[:3]}); is it the sample submission of this dataset?")
    labels = keys.map(answers)
    missing = labels.isna()
    fallback = opened.manifest.get("reference", {}).get("majority_class") or opened.classes[0]
    if missing.any():
        log.warning("%s: %d id(s) of %s have no usable test image (e.g. %s); they get the majority class %r",
                    approach_id, int(missing.sum()), path.name, table.loc[missing, ID_COLUMN].head(3).tolist(),
                    fallback)
    result = table.copy()
    result[LABEL_COLUMN] = labels.where(~missing, fallback).astype(str)
    return result, {"rows": len(result), "filled": int(missing.sum()),
                    "filled_ids": table.loc[missing, ID_COLUMN].head(20).tolist(),
                    "ignored_test_images": len(unknown), "sample": str(path)}


def write_submission(opened: bundle.Bundle, approach_id: str, out: str | Path,
                     sample: str | Path | None = None) -> dict:
    """Write the submission CSV of ``approach_id`` to ``out`` (atomically); returns the info dict."""
    frame, info = submission_frame(opened, approach_id, sample)
    out = Path(out).expanduser()
    with bundle.atomic_path(out) as temporary:
        frame.to_csv(temporary, index=False)
    return info | {"file": str(out)}


def run_stage(context: RunContext, options: NoOptions, unit: None = None) -> None:
    """Pipeline stage: ``submissions/<approach>.csv`` for every approach, when the data has a test set."""
    opened = context.bundle()
    if not (opened.images()["split"] == split.KAGGLE_TEST).any() or not opened.approaches:
        return
    try:
        sample_path(opened)
    except SubmissionError as error:
        log.warning("no submissions written: %s", error)
        return
    written = {}
    for record in opened.approaches:
        relative = f"{SUBMISSIONS}/{bundle.file_stem(record['id'])}.csv"
        try:
            frame, info = submission_frame(opened, record["id"])
        except SubmissionError as error:
            log.warning("%s: no submission: %s", record["id"], error)
            continue
        with context.atomic_file(relative) as temporary:
            frame.to_csv(temporary, index=False)
        written[record["id"]] = {"file": relative, "rows": info["rows"], "filled": info["filled"]}
    context.set_manifest_entry("submissions", written)
    kept = {entry["file"] for entry in written.values()}
    for old in sorted(context.file_path(SUBMISSIONS).glob("*.csv")):  # an approach no longer in the bundle
        if f"{SUBMISSIONS}/{old.name}" not in kept:
            context.remove_file(f"{SUBMISSIONS}/{old.name}")
    log.info("%d submission file(s) under %s", len(written), context.file_path(SUBMISSIONS))


STAGE = Stage("submission", "after every approach: submissions/<approach>.csv when there is a test set",
              NoOptions, run_stage)
