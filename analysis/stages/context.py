"""What a stage may read and write: :class:`RunContext`, :class:`Stage`, and the options (from :mod:`analysis.core.options`).

This module sits below every stage and below the runner (:mod:`analysis.stages.runner`): stages import it,
it imports no stage. A stage reads its own typed options (a frozen dataclass whose field names are
:class:`RunOptions` fields, see :func:`stage_options`) and writes into the bundle only through the
context: :meth:`RunContext.save_approach`, :meth:`~RunContext.save_embeddings`,
:meth:`~RunContext.save_projection`, :meth:`~RunContext.save_diagnostics`,
:meth:`~RunContext.save_features`, :meth:`~RunContext.set_manifest_entry` and :meth:`~RunContext.atomic_file`; it reads what earlier stages
wrote with :meth:`RunContext.bundle`. How to add a stage: see :mod:`analysis.stages.registry`.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

import numpy as np
import pandas as pd

from analysis.core import atomic, bundle, records
from analysis.data import loading, split
from analysis.stats import metrics
from analysis.core.options import NoOptions, O, OptionsError, RunOptions, stage_options

__all__ = ["NoOptions", "OptionsError", "RunContext", "RunOptions", "Stage", "data_inputs", "stage_options"]

log = logging.getLogger(__name__)

INPUTS = "inputs"  # manifest: stage → unit → part → digest of what the unit was made from


@dataclass
class RunContext:
    """What a stage needs: the options, the validated dataset and the bundle being written."""

    options: RunOptions
    dataset: loading.Dataset
    images: pd.DataFrame  # images.parquet as written: one row per image with split and fold
    path: Path            # the bundle folder
    clip_models: dict = field(default_factory=dict, init=False, repr=False)  # see clip_model
    # what the unit being run is made from (part → digest), set by the runner; every approach records it
    inputs: dict = field(default_factory=dict, init=False, repr=False)

    def clip_model(self, text: str, device: str, seed: int, cache_dir: Path | None, precision: str,
                   engine: Any = None) -> Any:
        """The ``--clip`` model ``text`` of this run (an :class:`analysis.models.embed.ClipModel`), made once:
        the stages that use it in turn (zero-shot, then the ladder's wordings) share its loaded weights.
        ``engine``: the Ray cluster its image embeddings are computed on (``--ray``), or None."""
        key = (text, device, seed, cache_dir, precision, engine)
        if key not in self.clip_models:
            from analysis.models import embed  # torch: only when a CLIP model is asked for

            self.clip_models[key] = embed.ClipModel.from_text(*key)
        return self.clip_models[key]

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

    # --- reading what is written ------------------------------------------------------------------

    def bundle(self) -> bundle.Bundle:
        """The bundle as written so far (manifest read afresh), to read earlier stages' output."""
        return bundle.Bundle(self.path, bundle.read_manifest(self.path))

    def has_approach(self, approach_id: str) -> bool:
        """True when the bundle holds this approach (whether to redo it is the runner's call: ``--force``,
        changed inputs)."""
        return any(record["id"] == approach_id for record in self.bundle().approaches)

    def recorded_inputs(self, stage: str, unit: str) -> dict[str, str] | None:
        """What the bundle records that ``unit`` of ``stage`` was made from (part → digest), if anything."""
        return self.bundle().manifest.get(INPUTS, {}).get(stage, {}).get(unit)

    # --- writing ----------------------------------------------------------------------------------

    def save_approach(self, kind: str, image_ids: Any, proba: np.ndarray, *, model_key: str,
                      prompt_set: str | None = None, model: str | None = None, pretrained: str | None = None,
                      params: dict | None = None, diagnostics: dict | None = None,
                      wall_time_s: float | None = None, device: str = "cpu", **extra: Any) -> dict:
        """Score an approach on the held-out ``eval`` images and store it in the bundle.

        The approach's id is :func:`analysis.core.records.approach_id` of its identity (``kind``,
        ``model_key``, ``prompt_set``), which the record also stores as data.

        Args:
            image_ids: the predicted images; must include every ``eval`` image (and should include
                ``kaggle_test`` images so that a submission can be written).
            proba: ndarray of shape (n_images, n_classes), ``classes`` order.
            model_key: the model key (``ViT-B-32:openai``, ``convnext_tiny``) or the baseline's name.
        """
        approach_id = records.approach_id(kind, model_key, prompt_set)
        predictions = bundle.predictions_frame(list(image_ids), proba, self.classes)
        eval_rows = self.rows(split.EVAL)
        scored = eval_rows[["image_id", "label", "view"]].merge(predictions, on="image_id", how="left")
        if scored["pred_label"].isna().any():
            missing = scored.loc[scored["pred_label"].isna(), "image_id"].head(3).tolist()
            raise ValueError(f"approach {approach_id} has no prediction for held-out images such as {missing}")
        proba_eval = scored[[f"prob_{name}" for name in self.classes]].to_numpy()
        scores = metrics.evaluate(scored["label"].to_numpy(), proba_eval, self.classes, seed=self.options.seed,
                                  groups=split.interval_groups(eval_rows))
        scores["accuracy_by_view"] = {
            str(view): float((group["pred_label"] == group["label"]).mean())
            for view, group in scored.groupby("view")
        }
        record = {"id": approach_id, "kind": kind, "model_key": model_key, "prompt_set": prompt_set,
                  "model": model, "pretrained": pretrained, "params": params or {}, "metrics": scores,
                  "wall_time_s": wall_time_s, "device": device, "inputs": dict(self.inputs), **extra}
        stored = bundle.save_approach(self.path, record, predictions, diagnostics)
        log.info("%s: accuracy %.3f (95%% CI %.3f–%.3f) on %d held-out images", approach_id,
                 scores["accuracy"], *scores["accuracy_ci"], scores["n"])
        return stored

    def save_embeddings(self, name: str, array: np.ndarray, **meta: Any) -> None:
        """``embeddings/<name>.npy`` (rows in images order) and its manifest entry."""
        bundle.save_embeddings(self.path, name, array, **meta)

    def save_projection(self, name: str, frame: pd.DataFrame, **meta: Any) -> None:
        """``projections/<name>.parquet`` and its manifest entry (give ``method``: the one actually used)."""
        bundle.save_projection(self.path, name, frame, **meta)

    def save_diagnostics(self, name: str, diagnostics: dict) -> None:
        """``diagnostics/<name>.json``."""
        bundle.save_diagnostics(self.path, name, diagnostics)

    def save_features(self, name: str, frame: pd.DataFrame, **meta: Any) -> None:
        """``features/<name>.parquet`` (a per-image table such as the image statistics) and its manifest entry."""
        bundle.save_features(self.path, name, frame, **meta)

    def set_manifest_entry(self, key: str, value: Any, section: str | None = None) -> None:
        """Set ``manifest[key]`` (or ``manifest[section][key]``) to ``value``."""
        def change(manifest: dict) -> None:
            (manifest.setdefault(section, {}) if section else manifest)[key] = value
        bundle.update_manifest(self.path, change)

    def record_inputs(self, stage: str, unit: str, inputs: dict[str, str]) -> None:
        """Record what ``unit`` of ``stage`` was made from (part → digest): manifest ``inputs``."""
        bundle.update_manifest(self.path, lambda manifest: manifest.setdefault(INPUTS, {}).setdefault(
            stage, {}).__setitem__(unit, inputs))

    def remove_approach(self, approach_id: str) -> None:
        """Take an approach out of the bundle (a zero-shot approach whose prompt set is no longer given):
        its manifest entry first, so that a stop half-way leaves only unlisted files, then its
        predictions and diagnostics."""
        bundle.update_manifest(self.path, lambda manifest: manifest.__setitem__(
            "approaches", [record for record in manifest["approaches"] if record["id"] != approach_id]))
        stem = bundle.file_stem(approach_id)
        self.remove_file(f"{bundle.PREDICTIONS}/{stem}.parquet")
        self.remove_file(f"{bundle.DIAGNOSTICS}/{stem}.json")

    def file_path(self, relative: str | Path) -> Path:
        """A path inside the bundle for a stage's own files (checkpoints, submissions); write it with
        :meth:`atomic_file` or a helper that writes atomically."""
        return self.path / relative

    def remove_file(self, relative: str | Path) -> None:
        """Delete a stage's own file inside the bundle (a finished training checkpoint), if it is there."""
        path = self.file_path(relative)
        atomic.check_inside_bundle(path)  # never through a link that leads out of the bundle
        path.unlink(missing_ok=True)

    @contextmanager
    def atomic_file(self, relative: str | Path) -> Iterator[Path]:
        """A temporary path that replaces ``relative`` (inside the bundle) in one rename on success."""
        with bundle.atomic_path(self.file_path(relative)) as temporary:
            yield temporary


U = TypeVar("U")


def _one_unit(context: RunContext, options: Any) -> Iterable[Any]:
    return [None]


def _never_done(context: RunContext, options: Any, unit: Any) -> bool:
    return False


def _no_check(options: Any) -> None:
    return None


def _no_inputs(context: RunContext, options: Any, unit: Any) -> dict[str, Any]:
    return {}


def data_inputs(context: RunContext) -> dict[str, Any]:
    """The inputs every approach shares: the images (the dataset's fingerprint) and the split."""
    manifest = context.bundle().manifest
    return {"data": manifest["dataset"].get("fingerprint"), "split": manifest.get("split")}


@dataclass(frozen=True)
class Stage(Generic[O, U]):
    """One step of `run`, as listed in :data:`analysis.stages.registry.STAGES`.

    The runner, for each stage in order: builds its typed ``options`` (:func:`stage_options`), calls
    ``check(options)`` before any image is read, then after the data part is written, for each
    unit of ``units(context, options)`` (a CLIP model, a ConvNeXt spec, …) calls
    ``run(context, options, unit)`` unless the unit is done: ``done(context, options, unit)`` finds
    its output in the bundle, the bundle records that it was made from the same ``inputs``, and
    ``--force`` is not set. Whether to run is decided there and nowhere else.

    Attributes:
        name: short name (``zeroshot``), used in logs and to pick stages.
        summary: one line on what the stage adds to the bundle.
        options: a frozen dataclass whose field names are :class:`RunOptions` fields.
        run: does the work of one unit, writing only through the context.
        units: the units of work (default: one, ``None``).
        done: the stage's own "already in the bundle" rule for one unit (default: never done).
        inputs: what one unit is made from, by part (``data``, ``split``, ``model``, ``prompt sets``,
            ``wordings``, ``options``, or the ``inputs`` of the approaches it reads): JSON-able values,
            stored as digests; a part that changed makes the unit (and so what reads it) run again.
        check: fails in seconds on unusable options (raise an error written for the user).
        describe: names a unit in logs and in the manifest's ``inputs``.
    """

    name: str
    summary: str
    options: type[O]
    run: Callable[[RunContext, O, U], None]
    units: Callable[[RunContext, O], Iterable[U]] = _one_unit
    done: Callable[[RunContext, O, U], bool] = _never_done
    inputs: Callable[[RunContext, O, U], dict[str, Any]] = _no_inputs
    check: Callable[[O], None] = _no_check
    describe: Callable[[U], str] = str

    def typed_options(self, options: RunOptions) -> O:
        return stage_options(self.options, options)
