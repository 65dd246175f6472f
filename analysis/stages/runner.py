"""`python -m analysis run`: data → split → the registered stages → one results bundle.

The runner sits above everything: it writes the data part (images table, split, thumbnails, data
diagnostics), then runs the stages of :data:`analysis.stages.registry.STAGES` in order. Each stage adds itself
to the same bundle through its :class:`~analysis.stages.context.RunContext` (``save_approach`` scores every
approach the same way on the same held-out images). A unit of work that a stage's ``done`` rule finds
in the bundle, made from the same inputs (:attr:`~analysis.stages.context.Stage.inputs`, recorded in the
manifest's ``inputs``), is skipped unless ``force`` is set, so an interrupted run loses no finished work
and a changed input (a new prompt file) reruns what it feeds, never more.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from analysis.core import bundle, jsonfile, lock
from analysis.data import loading, split
from analysis.stats import metrics
from analysis.stages import timing
from analysis.stages.context import RunContext, RunOptions, Stage

__all__ = ["RunContext", "RunOptions", "images_table", "prepare", "run", "run_stage", "split_facts"]

log = logging.getLogger(__name__)


def images_table(dataset: loading.Dataset, options: RunOptions) -> pd.DataFrame:
    """images.parquet: the dataset's images with split, fold and group."""
    table = split.assign_split(dataset.images, options.eval_fraction, options.folds, options.seed)
    return table.drop(columns=["source"])


def split_facts(images: pd.DataFrame, options: RunOptions, given: bool) -> dict:
    """The manifest's ``split``: how the held-out part was chosen (``method``) and the share held out.

    With a CSV whose ``split`` column decides (``given``), ``eval_fraction`` is the share that column
    holds out and no fraction was requested; otherwise it is the share of the one grouped fold held
    out, 1/round(1/f) of the requested f (both recorded).
    """
    counts = images["split"].value_counts()
    labelled = int(counts.get(split.TRAIN, 0) + counts.get(split.EVAL, 0))
    grouped_by = ["seed_id", "content_hash"]
    if given:
        fractions = {"method": split.CSV_COLUMN, "eval_fraction": int(counts.get(split.EVAL, 0)) / max(labelled, 1)}
        # the CSV keeps each of its groups (seed_id) on one side; identical images it may split
        grouped_by = ["seed_id"]
        sides = images[images["split"].isin([split.TRAIN, split.EVAL])].groupby("group")["split"].nunique()
        if (across := int((sides > 1).sum())):
            log.warning("the CSV's split column puts %d sets of identical images (same content) on both sides of the "
                        "split; their held-out scores are not independent of training", across)
            fractions["identical_images_across_split"] = across
    else:
        used = split.used_eval_fraction(options.eval_fraction)
        if abs(used - options.eval_fraction) > 1e-9:
            log.warning("--eval-fraction %g: the held-out part is one of %d grouped folds, so a share of %.3g is "
                        "held out (the manifest records both)", options.eval_fraction,
                        split.held_out_folds(options.eval_fraction), used)
        fractions = {"method": split.GROUPED_FOLD, "eval_fraction": used,
                     "eval_fraction_requested": options.eval_fraction}
    return {"seed": options.seed, **fractions, "n_folds": int(images["fold"].max()) + 1,
            "grouped_by": grouped_by, "counts": {str(k): int(v) for k, v in counts.items()}}


def prepare(options: RunOptions) -> RunContext:
    """Load and validate the data, split it, and write the data part of the bundle."""
    dataset = loading.load_dataset(options.data, options.classes, options.thumbnail_size, options.workers,
                                options.show_progress)
    if dataset.problems:
        log.warning("problems in the data (rows skipped):\n%s", "\n".join(loading.summary_lines(dataset.problems)))
    images = images_table(dataset, options)
    split_record = split_facts(images, options, split.uses_given_split(dataset.images))
    log.info("split: %s", split.method_text(split_record))
    thumbnails = pd.DataFrame({"image_id": list(dataset.thumbnails), "jpeg": list(dataset.thumbnails.values())})
    labelled = dataset.labelled
    train, held_out = images[images["split"] == split.TRAIN], images[images["split"] == split.EVAL]
    manifest = {
        "demo": options.demo,
        "classes": dataset.classes,
        "dataset": {
            "root": str(dataset.root),
            "layout": dataset.layout,
            "classes": dataset.classes,
            "counts": {name: int((labelled["label"] == name).sum()) for name in dataset.classes},
            "views": {str(k): int(v) for k, v in labelled["view"].value_counts().items()},
            "n_labelled": len(labelled),
            "n_unlabelled": len(dataset.unlabelled),
            "fingerprint": dataset.fingerprint(),
            "problems": dataset.problem_counts(),
            "sample_submission": dataset.sample_submission,
        },
        "split": split_record,
        "reference": metrics.reference_rates(train["label"].to_numpy(), held_out["label"].to_numpy(),
                                             dataset.classes),
    }
    bundle.create_bundle(options.out, manifest, images, thumbnails)
    duplicates = loading.duplicate_groups(dataset.images)
    bundle.save_diagnostics(options.out, "data", {
        "problems": [{"kind": p.kind, "where": p.where, "message": p.message} for p in dataset.problems],
        "duplicates": duplicates.to_dict(orient="records"),
    })
    return RunContext(options, dataset, images, Path(options.out))


def why_run(recorded: dict | None, inputs: dict[str, str], force: bool) -> str | None:
    """Why a unit whose output is in the bundle must be made again (None: it need not be).

    Args:
        recorded: what the bundle records it was made from (part → digest), None when nothing is.
        inputs: what it would be made from now (part → digest).
    """
    if force:
        return "--force"
    if recorded is None:
        return "the bundle does not record what it was made from" if inputs else None
    changed = [part for part in sorted(set(inputs) | set(recorded)) if inputs.get(part) != recorded.get(part)]
    if changed:
        return f"the {' and the '.join(changed)} changed" if len(changed) < 3 else \
            f"the {', the '.join(changed[:-1])} and the {changed[-1]} changed"
    return None


def run_stage(stage: Stage, context: RunContext) -> None:
    """Run every unit of ``stage`` that is not done: its ``done`` rule finds it in the bundle, made from
    the same ``inputs``, and ``--force`` is not set. The one place that decides what runs."""
    options = stage.typed_options(context.options)
    for unit in stage.units(context, options):
        name = stage.describe(unit)
        inputs = {part: jsonfile.digest(value) for part, value in stage.inputs(context, options, unit).items()}
        recorded = context.recorded_inputs(stage.name, name)
        reason = why_run(recorded, inputs, context.options.force)
        if stage.done(context, options, unit):
            if reason is None:
                log.info("%s: %s already in the bundle; skipped (--force recomputes it)", stage.name, name)
                continue
            log.info("%s: %s: %s; recomputing", stage.name, name, reason)
        elif recorded is not None and reason is not None:  # partly made from other inputs (a new prompt set)
            log.info("%s: %s: %s; recomputing", stage.name, name, reason)
        context.inputs = inputs
        try:
            stage.run(context, options, unit)
        finally:
            context.inputs = {}
        if inputs:
            context.record_inputs(stage.name, name, inputs)


def run(options: RunOptions, stages: Sequence[Stage] | None = None) -> bundle.Bundle:
    """Write (or complete) the bundle at ``options.out``; returns it opened and validated.

    Args:
        stages: the stages to run, in order (default: every registered stage, :data:`analysis.stages.registry.STAGES`).
    """
    from analysis.stages.registry import STAGES  # here, not at the top: the stages import torch; `validate` must not

    started = time.perf_counter()
    stages = STAGES if stages is None else stages
    for stage in stages:  # fail in seconds, before the data is read
        stage.check(stage.typed_options(options))
    times: list[dict] = []  # one row per stage: seconds and peak memory (analysis.stages.timing)
    with lock.bundle_lock(options.out):  # one writer per bundle: a second run refuses at once
        with timing.measured("data", times):  # image checks, split, thumbnails
            context = prepare(options)
        for stage in stages:
            with timing.measured(stage.name, times):
                run_stage(stage, context)
            log.info("%s: %.1f s, peak memory %.0f MiB", stage.name, times[-1]["seconds"], times[-1]["peak_memory_mb"])
            # after every stage, so that a run stopped later still tells where its time went
            bundle.update_manifest(context.path, lambda manifest: manifest.__setitem__(timing.MANIFEST_KEY, times))
    log.info("time and peak memory per stage:\n%s", timing.table_text(times))
    log.info("bundle ready at %s (%.1f s)", context.path, time.perf_counter() - started)
    return bundle.open_bundle(context.path)
