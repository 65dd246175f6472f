"""Panels of the zero-shot autopsy page: one CLIP model's diagnostics, then the image-statistics shortcuts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.present import explain, figures, ladder_panels, map_views
from analysis.core import records, tables, weights
from analysis.present.panels.ladder import LADDER_PANELS
from analysis.present.panels.spec import PageData, PanelSpec, Source, confusion_panel, reference_rates


@dataclass(frozen=True)
class AutopsyData(PageData):
    """One CLIP model's autopsy: its diagnostics, its best zero-shot run and its map."""

    model_key: str
    record: dict                 # the model's zero-shot approach chosen on the training images
    map: map_views.PanelMap      # the joint map of images and class prompts, read when its panel is drawn
    method: str                  # how the map was made (umap, or pca for tiny bundles)
    ladder: dict = field(default_factory=dict)  # ladder:{model key} ({} without one)
    evidence: dict | None = None  # the rung that shows the features separate the classes (ladder_panels)
    learnt: bool = True             # weights learnt from images and texts (analysis.core.weights.learnt)
    verdict: dict | None = None     # the bundle's verdict: its word for zero-shot against the majority class


def autopsy_data(source: Source, model_key: str) -> AutopsyData:
    """The autopsy page's data for one CLIP model of the bundle."""
    record = records.best_per_model(source.manifest.get("approaches", []), records.ZEROSHOT)[model_key]
    name = records.autopsy_name(model_key)
    autopsy = source.diagnostics(name)
    projection = autopsy.get("projection") or model_key

    def joint_map() -> pd.DataFrame:
        placed = tables.prompt_sets_of(source.projection(projection))
        return source.map_points(projection, record["id"],
                                 record.get("prompt_set") if record.get("prompt_set") in placed else None)

    reference = reference_rates(source)
    evidence = ladder_panels.separation_evidence(source.manifest.get("approaches", []), reference.get("majority_rate"),
                                                 model_key)
    return AutopsyData(source.classes, reference, autopsy, name, model_key, record,
                       map_views.PanelMap(joint_map if projection in source.projection_names() else None),
                       tables.projection_method(source.manifest, projection),
                       source.diagnostics(f"ladder:{model_key}"), evidence,
                       weights.learnt(source.manifest, model_key), source.diagnostics("verdict"))


PROMPTS = "Prompts"  # the heading of the prompt sets' panels (a closed section on the dashboard)

AUTOPSY_PANELS: tuple[PanelSpec[AutopsyData], ...] = (
    *LADDER_PANELS,
    PanelSpec("prompt_ladder", "prompt ladder", PROMPTS,
              lambda d: figures.prompt_ladder_figure(d.diagnostics, d.reference.get("majority_rate"),
                                                     d.reference.get("uniform_rate")),
              lambda d: explain.read_prompt_ladder(d.diagnostics, d.reference.get("majority_rate"), d.learnt,
                                                         d.verdict),
              lambda d: bool(d.diagnostics.get("prompt_sets"))),
    PanelSpec("distribution", "answer distribution", PROMPTS,
              lambda d: figures.distribution_figure(d.diagnostics.get("true_distribution", {}),
                                                    d.diagnostics["predicted_distribution"], d.classes),
              lambda d: explain.read_distribution(d.diagnostics.get("true_distribution", {}),
                                                  d.diagnostics["predicted_distribution"],
                                                  d.diagnostics.get("best_prompt_set") or d.record.get("prompt_set")),
              lambda d: bool(d.diagnostics.get("predicted_distribution"))),
    PanelSpec("modality_gap", "modality gap", "Where images and texts sit",
              lambda d: figures.modality_gap_figure(d.diagnostics["modality_gap"], d.classes),
              lambda d: explain.read_modality_gap(d.diagnostics["modality_gap"], d.learnt),
              lambda d: bool(d.diagnostics.get("modality_gap")), half=True),
    PanelSpec("margins", "margins", "Where images and texts sit",
              lambda d: figures.margin_figure(d.diagnostics["margins"]),
              lambda d: explain.read_margins(d.diagnostics["margins"]),
              lambda d: bool(d.diagnostics.get("margins")), half=True),
    PanelSpec("similarity", "similarity matrices", "Where images and texts sit",
              lambda d: figures.similarity_figure(d.diagnostics["text_similarity"],
                                                  d.diagnostics["image_centroid_similarity"], d.classes),
              lambda d: explain.read_similarity(d.diagnostics["text_similarity"],
                                                d.diagnostics["image_centroid_similarity"], d.classes, d.evidence,
                                                d.learnt),
              lambda d: bool(d.diagnostics.get("text_similarity") and d.diagnostics.get("image_centroid_similarity"))),
    PanelSpec("reliability", "calibration", "Confidence and mistakes",
              lambda d: figures.reliability_figure(d.diagnostics["reliability"]),
              lambda d: explain.read_reliability(d.diagnostics["reliability"]),
              lambda d: bool(d.diagnostics.get("reliability")), half=True),
    confusion_panel("Confidence and mistakes", "Confusion matrix (chosen prompt set)", half=True),
    PanelSpec("joint_map", "embedding map", "Images and class prompts in one map",
              lambda d: figures.projection_figure(d.map.points, "label", d.classes, height=460, method=d.method,
                                                  counts=d.map.counts),
              lambda d: d.map.reading,
              lambda d: d.map.available, missing="projections"),
)


# --- shortcuts (the image-statistics baseline) -------------------------------------------------------

@dataclass(frozen=True)
class ShortcutData(PageData):
    """The ``confounders`` diagnostics: what trivial image statistics predict."""

    @property
    def majority_rate(self) -> float | None:
        return self.diagnostics.get("majority_rate", self.reference.get("majority_rate"))


def shortcut_data(source: Source) -> ShortcutData:
    return ShortcutData(source.classes, reference_rates(source), source.diagnostics("confounders"), "confounders")


def _profile_panel(feature: str) -> PanelSpec[ShortcutData]:
    def profile(data: ShortcutData) -> dict | None:
        return next((p for p in tables.confounder_profiles(data.diagnostics, data.classes) if p["feature"] == feature),
                    None)

    return PanelSpec(f"profile_{feature}", f"{feature} by class", "Shortcuts in the images",
                     lambda d: figures.feature_by_class_figure(classes=d.classes, **profile(d)),
                     shows=lambda d: profile(d) is not None, half=True)


SHORTCUT_PANELS: tuple[PanelSpec[ShortcutData], ...] = (
    PanelSpec("shortcuts", "image-statistics baseline", "Shortcuts in the images",
              lambda d: figures.shortcut_figure(d.diagnostics["shortcut_accuracy"], d.majority_rate,
                                                d.reference.get("uniform_rate"), d.diagnostics.get("shortcuts")),
              lambda d: explain.read_shortcuts(d.diagnostics["shortcut_accuracy"], d.majority_rate,
                                               d.diagnostics.get("shortcuts")),
              lambda d: bool(d.diagnostics.get("shortcut_accuracy")), missing="confounders"),
    *(_profile_panel(feature) for feature in tables.CONFOUNDER_FEATURES),
)
