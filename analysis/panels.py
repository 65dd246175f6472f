"""Panels: each page's figures and the sentences that read them, declared once.

A *panel* is one figure (or none, for a panel of words only), the heading it sits under and the
reading that states what it shows. Every dashboard page that has a matching section in the report
declares its panels here, in order, as a tuple of :class:`PanelSpec`. Two thin adapters draw them:
``dashboard/panels.py`` on a Streamlit page and :mod:`analysis.report.sections` in the HTML report,
so the dashboard and the report always show the same figures with the same words, in the same order.

Both adapters get a page's data through the same ``*_data`` function below, from a
:class:`Source` (the dashboard passes its cached loaders, the report an opened bundle).

To add a panel:

1. write its figure in :mod:`analysis.figures` and its reading in :mod:`analysis.explain`
   (plain data in, a figure or Markdown text out);
2. add a :class:`PanelSpec` to the page's tuple (``AUTOPSY_PANELS`` …) where it should appear;
3. if it needs data the page's data class lacks, add a field to that class and fill it in the
   page's ``*_data`` function. Nothing else changes: both adapters pick it up.

A panel whose data the bundle lacks is left out, or, when its spec names a ``missing`` part,
replaced by the sentence and command that add that part. Data of an unexpected shape (written by
another CornLens version) raises :class:`PanelDataError` naming the diagnostics and the field;
the adapters show that in place of the one panel and draw the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Generic, Mapping, Protocol, TypeVar

import pandas as pd
import plotly.graph_objects as go

from analysis import explain, figures, tables
from analysis.bundle import Bundle, BundleError


class PanelDataError(BundleError):
    """The bundle's data for one panel has a shape this CornLens cannot draw."""


# --- where the data comes from ----------------------------------------------------------------------

class Source(Protocol):
    """What the ``*_data`` functions read: the dashboard's cached loaders, or a bundle (:class:`BundleSource`)."""

    manifest: dict
    classes: list[str]

    def diagnostics(self, name: str) -> dict:
        """The named diagnostics; an empty dict when the bundle has none by that name."""

    def projection_names(self) -> list[str]:
        """The names of the bundle's embedding maps."""

    def projection(self, name: str) -> pd.DataFrame:
        """``projections/<name>.parquet``."""

    def map_points(self, name: str, approach_id: str | None, prompt_set: str | None) -> pd.DataFrame:
        """``tables.map_points`` of one map, with ``approach_id``'s answers and ``prompt_set``'s class prompts."""


class BundleSource:
    """A :class:`Source` over an opened bundle (the report, notebooks, tests); reads as it goes."""

    def __init__(self, bundle: Bundle):
        self.bundle, self.manifest, self.classes = bundle, bundle.manifest, bundle.classes
        self._scored: pd.DataFrame | None = None

    @property
    def scored(self) -> pd.DataFrame:
        """``tables.scored_images`` of every approach (read once)."""
        if self._scored is None:
            predictions = {record["id"]: self.bundle.predictions(record["id"]) for record in self.bundle.approaches}
            self._scored = tables.scored_images(self.bundle.images(), predictions, self.classes)
        return self._scored

    def diagnostics(self, name: str) -> dict:
        return self.bundle.diagnostics(name) if self.bundle.has_diagnostics(name) else {}

    def projection_names(self) -> list[str]:
        return self.bundle.projection_names()

    def projection(self, name: str) -> pd.DataFrame:
        return self.bundle.projection(name)

    def map_points(self, name: str, approach_id: str | None, prompt_set: str | None) -> pd.DataFrame:
        return tables.map_points(self.projection(name), self.bundle.images(), self.scored, approach_id, prompt_set)


# --- the spec ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageData:
    """What every page's panels read: the classes, the reference rates and the page's diagnostics."""

    classes: list[str]
    reference: dict         # manifest["reference"]: majority_class, majority_rate, uniform_rate
    diagnostics: dict       # the page's diagnostics ({} when the bundle has none)
    diagnostics_name: str   # their name in the bundle, for messages


Data = TypeVar("Data", bound=PageData)


@dataclass(frozen=True)
class Panel:
    """One built panel, ready for an adapter to draw."""

    key: str
    title: str
    heading: str
    figure: go.Figure | None = None
    reading: str = ""          # Markdown (explain's small dialect: **bold**, *italics*, `code`)
    warning: str = ""          # said plainly above the figure (random weights, from-scratch training)
    half: bool = False         # the dashboard sets two consecutive half panels side by side
    missing: str | None = None  # an explain.missing_part name: the bundle lacks this panel's data


def _nothing(_) -> str:
    return ""


def _always(_) -> bool:
    return True


@dataclass(frozen=True)
class PanelSpec(Generic[Data]):
    """How one panel is built from its page's data.

    Attributes:
        key: a stable name (widget keys, tests).
        title: what the panel shows, in words ("k-shot curve"); messages name the panel by it.
        heading: the heading the panel sits under; adapters write it when it changes.
        figure: builds the figure; None for a panel of words only.
        reading: the sentences that read the figure (Markdown).
        shows: whether the bundle has this panel's data.
        needs: diagnostics field → columns its table must have; checked before building, so that a
            file of another shape gives a :class:`PanelDataError` naming the field, not a code error.
        warning: a plain warning to show with the panel ("" for none).
        half: half width in the dashboard.
        missing: when ``shows`` is false, say what is missing (an ``explain.missing_part`` name)
            instead of leaving the panel out.
    """

    key: str
    title: str
    heading: str
    figure: Callable[[Data], go.Figure] | None
    reading: Callable[[Data], str] = _nothing
    shows: Callable[[Data], bool] = _always
    needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    warning: Callable[[Data], str] = _nothing
    half: bool = False
    missing: str | None = None


def check_shape(spec: PanelSpec, data: PageData) -> None:
    """Raise :class:`PanelDataError` when a table ``spec.needs`` lacks a column (or is no table)."""
    for name, columns in spec.needs.items():
        value = data.diagnostics.get(name)
        if value is None:
            continue
        try:
            frame = tables.as_frame(value)
        except (TypeError, ValueError) as error:
            raise PanelDataError(f"diagnostics {data.diagnostics_name!r}: {name!r} is not a table ({error}).") from error
        absent = [column for column in columns if column not in frame.columns]
        if absent:
            raise PanelDataError(f"diagnostics {data.diagnostics_name!r}: {name!r} lacks "
                                 f"{', '.join(repr(column) for column in absent)}.")


def build(spec: PanelSpec[Data], data: Data) -> Panel | None:
    """One panel; None when the bundle lacks its data and the spec names nothing missing.

    Raises:
        PanelDataError: the data has a shape this CornLens cannot draw.
    """
    base = dict(key=spec.key, title=spec.title, heading=spec.heading, half=spec.half)
    if not spec.shows(data):
        return Panel(**base, missing=spec.missing) if spec.missing else None
    check_shape(spec, data)
    return Panel(**base, figure=spec.figure(data) if spec.figure else None, reading=spec.reading(data),
                 warning=spec.warning(data))


def build_all(specs: tuple[PanelSpec[Data], ...], data: Data) -> list[Panel]:
    """Every panel of a page, in order (for tests and notebooks; adapters build one at a time)."""
    return [panel for spec in specs if (panel := build(spec, data)) is not None]


def _reference(source: Source) -> dict:
    return source.manifest.get("reference", {})


# --- zero-shot autopsy ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutopsyData(PageData):
    """One CLIP model's autopsy: its diagnostics, its best zero-shot run and its map."""

    model_key: str
    record: dict                 # the model's most accurate zero-shot approach
    points: pd.DataFrame | None  # the joint map of images and class prompts; None without one


def best_zeroshot(approaches: list[dict]) -> dict[str, dict]:
    """model key → its most accurate zero-shot approach (one per prompt set is stored)."""
    best: dict[str, dict] = {}
    for record in approaches:
        key = tables.model_key(record) if record["kind"] == "zeroshot" else None
        if key is not None and (key not in best or record["metrics"]["accuracy"] > best[key]["metrics"]["accuracy"]):
            best[key] = record
    return best


def autopsy_data(source: Source, model_key: str) -> AutopsyData:
    """The autopsy page's data for one CLIP model of the bundle."""
    record = best_zeroshot(source.manifest.get("approaches", []))[model_key]
    name = f"autopsy:{model_key}"
    autopsy = source.diagnostics(name)
    projection = autopsy.get("projection") or model_key
    points = None
    if projection in source.projection_names():
        placed = tables.prompt_sets_of(source.projection(projection))
        points = source.map_points(projection, record["id"],
                                   record.get("prompt_set") if record.get("prompt_set") in placed else None)
    return AutopsyData(source.classes, _reference(source), autopsy, name, model_key, record, points)


def _map_reading(data: AutopsyData | ConvnextData) -> str:
    return explain.read_projection(data.points)


AUTOPSY_PANELS: tuple[PanelSpec[AutopsyData], ...] = (
    PanelSpec("prompt_ladder", "prompt ladder", "Prompts",
              lambda d: figures.prompt_ladder_figure(d.diagnostics, d.reference.get("majority_rate"),
                                                     d.reference.get("uniform_rate")),
              lambda d: explain.read_prompt_ladder(d.diagnostics, d.reference.get("majority_rate")),
              lambda d: bool(d.diagnostics.get("prompt_sets")),
              needs={"prompt_sets": ("name", "accuracy"), "templates": ("accuracy", "template")}),
    PanelSpec("distribution", "answer distribution", "Prompts",
              lambda d: figures.distribution_figure(d.diagnostics.get("true_distribution", {}),
                                                    d.diagnostics["predicted_distribution"], d.classes),
              lambda d: explain.read_distribution(d.diagnostics.get("true_distribution", {}),
                                                  d.diagnostics["predicted_distribution"],
                                                  d.diagnostics.get("best_prompt_set") or d.record.get("prompt_set")),
              lambda d: bool(d.diagnostics.get("predicted_distribution"))),
    PanelSpec("modality_gap", "modality gap", "Where images and texts sit",
              lambda d: figures.modality_gap_figure(d.diagnostics["modality_gap"], d.classes),
              lambda d: explain.read_modality_gap(d.diagnostics["modality_gap"]),
              lambda d: bool(d.diagnostics.get("modality_gap")), half=True),
    PanelSpec("margins", "margins", "Where images and texts sit",
              lambda d: figures.margin_figure(d.diagnostics["margins"]),
              lambda d: explain.read_margins(d.diagnostics["margins"]),
              lambda d: bool(d.diagnostics.get("margins")), half=True),
    PanelSpec("similarity", "similarity matrices", "Where images and texts sit",
              lambda d: figures.similarity_figure(d.diagnostics["text_similarity"],
                                                  d.diagnostics["image_centroid_similarity"], d.classes),
              lambda d: explain.read_similarity(d.diagnostics["text_similarity"],
                                                d.diagnostics["image_centroid_similarity"], d.classes),
              lambda d: bool(d.diagnostics.get("text_similarity") and d.diagnostics.get("image_centroid_similarity"))),
    PanelSpec("reliability", "calibration", "Confidence and mistakes",
              lambda d: figures.reliability_figure(d.diagnostics["reliability"]),
              lambda d: explain.read_reliability(d.diagnostics["reliability"]),
              lambda d: bool(d.diagnostics.get("reliability")), half=True),
    PanelSpec("confusion", "confusion matrix", "Confidence and mistakes",
              lambda d: figures.confusion_matrix_figure(d.record["metrics"]["confusion_matrix"], d.classes,
                                                        title="Confusion matrix (best prompt set)"),
              lambda d: explain.read_confusion(d.record["metrics"]["confusion_matrix"], d.classes),
              lambda d: bool(d.record["metrics"].get("confusion_matrix")), half=True),
    PanelSpec("joint_map", "embedding map", "Images and class prompts in one map",
              lambda d: figures.projection_figure(d.points, "label", d.classes, height=460),
              _map_reading, lambda d: d.points is not None, missing="projections"),
)


# --- shortcuts (the image-statistics baseline) -------------------------------------------------------

@dataclass(frozen=True)
class ShortcutData(PageData):
    """The ``confounders`` diagnostics: what trivial image statistics predict."""

    @property
    def majority_rate(self) -> float | None:
        return self.diagnostics.get("majority_rate", self.reference.get("majority_rate"))


def shortcut_data(source: Source) -> ShortcutData:
    return ShortcutData(source.classes, _reference(source), source.diagnostics("confounders"), "confounders")


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


# --- linear probe -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProbeData(PageData):
    """One linear probe and its diagnostics (C sweep, k-shot curve, blend)."""

    record: dict


def probe_data(source: Source, record: dict) -> ProbeData:
    return ProbeData(source.classes, _reference(source), source.diagnostics(record["id"]), record["id"], record)


PROBE_PANELS: tuple[PanelSpec[ProbeData], ...] = (
    PanelSpec("kshot", "k-shot curve", "",
              lambda d: figures.kshot_figure(d.diagnostics["kshot"], d.diagnostics.get("zeroshot_accuracy"),
                                             d.diagnostics.get("majority_rate", d.reference.get("majority_rate")),
                                             d.reference.get("uniform_rate"), d.diagnostics.get("effective_shots")),
              lambda d: explain.read_kshot(d.diagnostics),
              lambda d: bool(d.diagnostics.get("kshot")), needs={"kshot": ("k", "mean")}),
    PanelSpec("c_sweep", "regularisation sweep", "",
              lambda d: figures.c_sweep_figure(d.diagnostics["c_sweep"], d.diagnostics.get("best_C")),
              lambda d: explain.read_c_sweep(d.diagnostics["c_sweep"], d.diagnostics.get("best_C")),
              lambda d: bool(d.diagnostics.get("c_sweep")), needs={"c_sweep": ("C", "cv_accuracy_mean")}, half=True),
    PanelSpec("blend", "zero-shot / probe blend", "",
              lambda d: figures.blend_figure(d.diagnostics["blend"]),
              lambda d: explain.read_blend(d.diagnostics["blend"]),
              lambda d: bool(d.diagnostics.get("blend")), needs={"blend": ("alpha", "accuracy")}, half=True),
    PanelSpec("confusion", "confusion matrix", "",
              lambda d: figures.confusion_matrix_figure(d.record["metrics"]["confusion_matrix"], d.classes,
                                                        title="Confusion matrix"),
              lambda d: explain.read_confusion(d.record["metrics"]["confusion_matrix"], d.classes),
              lambda d: bool(d.record["metrics"].get("confusion_matrix"))),
)


# --- fine-tuned ConvNeXt ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvnextData(PageData):
    """One fine-tuned network, its training diagnostics and the map of its own features."""

    record: dict
    points: pd.DataFrame | None


def convnext_data(source: Source, record: dict) -> ConvnextData:
    key = tables.model_key(record)
    points = source.map_points(key, record["id"], None) if key in source.projection_names() else None
    return ConvnextData(source.classes, _reference(source), source.diagnostics(record["id"]), record["id"], record,
                        points)


CONVNEXT_PANELS: tuple[PanelSpec[ConvnextData], ...] = (
    PanelSpec("weights", "starting weights", "Training", None,
              lambda d: explain.read_weights(d.diagnostics),
              lambda d: bool(d.diagnostics),
              warning=lambda d: explain.SCRATCH_WARNING if d.diagnostics.get("weights") == "scratch" else ""),
    PanelSpec("training", "training curves", "Training",
              lambda d: figures.training_curves_figure(d.diagnostics["epochs"], d.diagnostics.get("best_epoch")),
              lambda d: explain.read_training(d.diagnostics),
              lambda d: bool(d.diagnostics.get("epochs")), needs={"epochs": ("epoch", "val_accuracy")}),
    PanelSpec("confusion", "confusion matrix", "Mistakes",
              lambda d: figures.confusion_matrix_figure(d.record["metrics"]["confusion_matrix"], d.classes,
                                                        title="Confusion matrix"),
              lambda d: explain.read_confusion(d.record["metrics"]["confusion_matrix"], d.classes),
              lambda d: bool(d.record["metrics"].get("confusion_matrix")), half=True),
    PanelSpec("by_view", "accuracy by view", "Mistakes",
              lambda d: figures.accuracy_by_view_figure([d.record], tables.approach_labels([d.record])),
              shows=lambda d: bool(d.record["metrics"].get("accuracy_by_view")), half=True),
    PanelSpec("feature_map", "embedding map", "Its own feature space",
              lambda d: figures.projection_figure(d.points, "label", d.classes, height=460,
                                                  title=f"Embedding map ({tables.model_key(d.record)}), "
                                                        "coloured by true class"),
              _map_reading, lambda d: d.points is not None),
)
