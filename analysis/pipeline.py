"""`python -m analysis run`: data → split → approaches → one results bundle.

The data part (images table, split, thumbnails, data diagnostics) is written first; each approach
stage then adds itself to the same bundle through :meth:`RunContext.save_approach`, which scores
every approach the same way on the same held-out images. Finished approaches are skipped on a
second run unless ``force`` is set, so an interrupted run loses no finished work.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from analysis import bundle, data, metrics, split

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    """Everything `run` can be told. Stages read the fields that concern them."""

    data: Path
    out: Path
    seed: int = 0
    eval_fraction: float = 0.2
    folds: int = 5
    classes: list[str] | None = None
    thumbnail_size: int = 96
    workers: int = 4
    demo: bool = False
    force: bool = False
    show_progress: bool = True
    baselines: bool = True
    clip: list[str] = field(default_factory=list)       # "MODEL:PRETRAINED" or "MODEL:/path/to/checkpoint"
    prompts: list[Path] = field(default_factory=list)   # user prompt-set JSON files
    device: str = "auto"
    batch_size: int = 64
    cache_dir: Path | None = None                       # CLIP embedding cache (default $CORNLENS_CACHE or ~/.cache/cornlens)
    convnext: list[str] = field(default_factory=list)   # timm names, e.g. convnext_tiny, NAME:scratch, NAME:/path/to/weights
    epochs: int = 10
    image_size: int = 224
    tta: bool = False                                   # ConvNeXt test-time augmentation (8 flips/rotations)


@dataclass
class RunContext:
    """What a stage needs: the options, the validated dataset and the bundle being written."""

    options: RunOptions
    dataset: data.Dataset
    images: pd.DataFrame  # images.parquet as written: one row per image with split and fold
    path: Path            # the bundle folder

    @property
    def classes(self) -> list[str]:
        return self.dataset.classes

    def image_paths(self, frame: pd.DataFrame | None = None) -> list[Path]:
        """Absolute image file paths of ``frame`` (default: every image), in row order."""
        frame = self.images if frame is None else frame
        return [self.dataset.root / relative for relative in frame["path"]]

    def rows(self, *splits: str) -> pd.DataFrame:
        """The images of the given splits (``train``, ``eval``, ``kaggle_test``)."""
        return self.images[self.images["split"].isin(splits)]

    def is_complete(self, approach_id: str) -> bool:
        """True when the bundle already holds this approach and ``force`` is not set."""
        if self.options.force:
            return False
        manifest = bundle.read_manifest(self.path)
        return any(record["id"] == approach_id for record in manifest["approaches"])

    def save_approach(self, approach_id: str, kind: str, image_ids: Any, proba: np.ndarray, *,
                      model: str | None = None, pretrained: str | None = None, prompt_set: str | None = None,
                      params: dict | None = None, diagnostics: dict | None = None,
                      wall_time_s: float | None = None, device: str = "cpu", **extra: Any) -> dict:
        """Score an approach on the held-out ``eval`` images and store it in the bundle.

        Args:
            image_ids: the predicted images; must include every ``eval`` image (and should include
                ``kaggle_test`` images so that a submission can be written).
            proba: ndarray of shape (n_images, n_classes), ``classes`` order.
        """
        predictions = bundle.predictions_frame(list(image_ids), proba, self.classes)
        eval_rows = self.rows(split.EVAL)
        scored = eval_rows[["image_id", "label", "view"]].merge(predictions, on="image_id", how="left")
        if scored["pred_label"].isna().any():
            missing = scored.loc[scored["pred_label"].isna(), "image_id"].head(3).tolist()
            raise ValueError(f"approach {approach_id} has no prediction for held-out images such as {missing}")
        proba_eval = scored[[f"prob_{name}" for name in self.classes]].to_numpy()
        scores = metrics.evaluate(scored["label"].to_numpy(), proba_eval, self.classes, seed=self.options.seed)
        scores["accuracy_by_view"] = {
            str(view): float((group["pred_label"] == group["label"]).mean())
            for view, group in scored.groupby("view")
        }
        record = {"id": approach_id, "kind": kind, "model": model, "pretrained": pretrained,
                  "prompt_set": prompt_set, "params": params or {}, "metrics": scores,
                  "wall_time_s": wall_time_s, "device": device, **extra}
        stored = bundle.save_approach(self.path, record, predictions, diagnostics)
        log.info("%s: accuracy %.3f (95%% CI %.3f–%.3f) on %d held-out images", approach_id,
                 scores["accuracy"], *scores["accuracy_ci"], scores["n"])
        return stored


Stage = Callable[[RunContext], None]


def default_stages() -> list[Stage]:
    """The approach stages in run order; each module contributes its ``run_stage``.

    Imported here, not at the top, so that `validate` and the dashboard never import torch.
    """
    from analysis import agreement, baselines, finetune, probe, submission, zeroshot

    return [
        baselines.run_stage,   # majority, image-stats, confounders; off with --no-baselines
        zeroshot.run_stage,    # every --clip model: embeddings, zero-shot per prompt set, autopsy, map
        probe.run_stage,       # every CLIP model with cached features: C sweep, k-shot curve, blend
        finetune.run_stage,    # every --convnext model: training, predictions, features, map
        agreement.run_stage,   # after every approach: agreement table, label problems
        submission.run_stage,  # after every approach: submissions/<approach>.csv when there is a test set
    ]


def images_table(dataset: data.Dataset, options: RunOptions) -> pd.DataFrame:
    """images.parquet: the dataset's images with split, fold and group."""
    table = split.assign_split(dataset.images, options.eval_fraction, options.folds, options.seed)
    return table.drop(columns=["source"])


def prepare(options: RunOptions) -> RunContext:
    """Load and validate the data, split it, and write the data part of the bundle."""
    dataset = data.load_dataset(options.data, options.classes, options.thumbnail_size, options.workers,
                                options.show_progress)
    for problem in dataset.problems:
        log.warning("skipped: %s", problem)
    images = images_table(dataset, options)
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
        "split": {
            "seed": options.seed,
            "eval_fraction": options.eval_fraction,
            "n_folds": int(images["fold"].max()) + 1,
            "grouped_by": ["seed_id", "content_hash"],
            "counts": {str(k): int(v) for k, v in images["split"].value_counts().items()},
        },
        "reference": metrics.reference_rates(train["label"].to_numpy(), held_out["label"].to_numpy(),
                                             dataset.classes),
    }
    bundle.create_bundle(options.out, manifest, images, thumbnails)
    duplicates = data.duplicate_groups(dataset.images)
    bundle.save_diagnostics(options.out, "data", {
        "problems": [{"kind": p.kind, "where": p.where, "message": p.message} for p in dataset.problems],
        "duplicates": duplicates.to_dict(orient="records"),
    })
    return RunContext(options, dataset, images, Path(options.out))


def run(options: RunOptions, stages: list[Stage] | None = None) -> bundle.Bundle:
    """Write (or complete) the bundle at ``options.out``; returns it opened and validated."""
    started = time.perf_counter()
    stages = default_stages() if stages is None else stages
    for stage in stages:  # a stage may check its options first, to fail in seconds, before the data is read
        getattr(stage, "check_options", lambda options: None)(options)
    context = prepare(options)
    for stage in stages:
        stage(context)
    log.info("bundle ready at %s (%.1f s)", context.path, time.perf_counter() - started)
    return bundle.open_bundle(context.path)
