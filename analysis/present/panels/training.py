"""Panels of the pages of trained approaches: the linear probe and the fine-tuned ConvNeXt."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.present import explain, figures, map_views, run_facts
from analysis.core import tables
from analysis.present.panels.spec import PageData, PanelSpec, Source, confusion_panel, reference_rates


TRAINING, MISTAKES = "Training", "Mistakes"  # headings of the pages of trained approaches


@dataclass(frozen=True)
class ProbeData(PageData):
    """One linear probe and its diagnostics (C sweep, k-shot curve, blend)."""

    record: dict


def probe_data(source: Source, record: dict) -> ProbeData:
    return ProbeData(source.classes, reference_rates(source), source.diagnostics(record["id"]), record["id"], record)


PROBE_PANELS: tuple[PanelSpec[ProbeData], ...] = (
    PanelSpec("kshot", "k-shot curve", "",
              lambda d: figures.kshot_figure(d.diagnostics["kshot"], d.diagnostics.get("zeroshot_accuracy"),
                                             d.diagnostics.get("majority_rate", d.reference.get("majority_rate")),
                                             d.reference.get("uniform_rate"), d.diagnostics.get("effective_shots"),
                                             d.diagnostics.get("effective_shots_range"),
                                             d.diagnostics.get("train_class_counts")),
              lambda d: explain.read_kshot(d.diagnostics),
              lambda d: bool(d.diagnostics.get("kshot"))),
    PanelSpec("c_sweep", "regularisation sweep", "How C and the blend were chosen",
              lambda d: figures.c_sweep_figure(d.diagnostics["c_sweep"], d.diagnostics.get("best_C")),
              lambda d: explain.read_c_sweep(d.diagnostics["c_sweep"], d.diagnostics.get("best_C")),
              lambda d: bool(d.diagnostics.get("c_sweep")), half=True),
    PanelSpec("blend", "zero-shot / probe blend", "How C and the blend were chosen",
              lambda d: figures.blend_figure(d.diagnostics["blend"], d.diagnostics.get("blend_alpha")),
              lambda d: explain.read_blend(d.diagnostics["blend"], d.diagnostics.get("blend_alpha")),
              lambda d: bool(d.diagnostics.get("blend")), half=True),
    confusion_panel(MISTAKES),
)


# --- fine-tuned ConvNeXt ----------------------------------------------------------------------------

STILL_IMPROVING = ("Training stopped while still improving: the best validation accuracy came at the last epoch. "
                   "More epochs (`--epochs`) would likely help.")

@dataclass(frozen=True)
class ConvnextData(PageData):
    """One fine-tuned network, its training diagnostics and the map of its own features."""

    record: dict
    map: map_views.PanelMap  # the map of its own features, read when its panel is drawn
    method: str
    majority_by_view: dict[str, float]  # what always answering the majority class scores per view


def convnext_data(source: Source, record: dict) -> ConvnextData:
    key = tables.model_key(record)
    own_map = map_views.PanelMap((lambda: source.map_points(key, record["id"], None))
                                 if key in source.projection_names() else None)
    return ConvnextData(source.classes, reference_rates(source), source.diagnostics(record["id"]), record["id"], record,
                        own_map, tables.projection_method(source.manifest, key),
                        run_facts.majority_rate_by_view(source.images(), reference_rates(source).get("majority_class")))


CONVNEXT_PANELS: tuple[PanelSpec[ConvnextData], ...] = (
    PanelSpec("weights", "starting weights", TRAINING, None,
              lambda d: explain.read_weights(d.diagnostics),
              lambda d: bool(d.diagnostics),
              warning=lambda d: explain.SCRATCH_WARNING if d.diagnostics.get("weights") == "scratch" else ""),
    PanelSpec("training", "training curves", TRAINING,
              lambda d: figures.training_curves_figure(d.diagnostics["epochs"], d.diagnostics.get("best_epoch")),
              lambda d: explain.read_training(d.diagnostics),
              lambda d: bool(d.diagnostics.get("epochs")),
              warning=lambda d: STILL_IMPROVING if run_facts.still_improving(d.diagnostics.get("epochs"),
                                                                             d.diagnostics.get("best_epoch")) else ""),
    confusion_panel(MISTAKES, half=True),
    PanelSpec("by_view", "accuracy by view", MISTAKES,
              lambda d: figures.accuracy_by_view_figure([d.record], tables.approach_labels([d.record]), d.majority_by_view),
              shows=lambda d: bool(d.record["metrics"].get("accuracy_by_view")), half=True),
    PanelSpec("feature_map", "embedding map", "Its own feature space",
              lambda d: figures.projection_figure(d.map.points, "label", d.classes, height=460,
                                                  method=d.method, title=f"Embedding map ({tables.model_key(d.record)}), "
                                                                        "coloured by true class", counts=d.map.counts),
              lambda d: d.map.reading,
              lambda d: d.map.available),
)
