"""Panels of the overview pages: Home's headline and Compare's approaches side by side."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.present import explain, figures
from analysis.core import tables
from analysis.core.escape import markdown_text
from analysis.present.panels.spec import PageData, PanelSpec, Source, reference_rates


@dataclass(frozen=True)
class HomeData(PageData):
    """The headline: every approach of the bundle against the reference rates (``tables.headline_table``)."""

    table: pd.DataFrame
    approaches: list[dict]  # the manifest's records: the reading names the zero-shot run chosen on train
    verdict: dict | None = None  # the bundle's verdict: its word for zero-shot against the majority class


def home_data(source: Source) -> HomeData:
    return HomeData(source.classes, reference_rates(source), {}, "", tables.headline_table(source.manifest),
                    source.manifest.get("approaches", []), source.diagnostics("verdict"))


HOME_PANELS: tuple[PanelSpec[HomeData], ...] = (
    PanelSpec("headline", "headline figure", "",
              lambda d: figures.headline_figure(d.table, d.reference.get("majority_rate"),
                                                d.reference.get("uniform_rate")),
              lambda d: explain.read_headline(d.table, d.reference, d.approaches, d.verdict),
              lambda d: bool((d.table["source"] == tables.SOURCE_BUNDLE).any()), missing="approaches"),
)


@dataclass(frozen=True)
class CompareData(PageData):
    """Approaches side by side (the dashboard's selection; the report shows them all)."""

    approaches: list[dict]

    @property
    def matrices(self) -> dict[str, list]:
        """short label → confusion matrix, for the approaches that store one."""
        short = tables.approach_labels(self.approaches, short=True)
        return {short[record["id"]]: record["metrics"]["confusion_matrix"] for record in self.approaches
                if record["metrics"].get("confusion_matrix")}


def compare_data(source: Source, approaches: list[dict]) -> CompareData:
    return CompareData(source.classes, reference_rates(source), {}, "", list(approaches))


def _confusion_readings(data: CompareData) -> str:
    short = tables.approach_labels(data.approaches, short=True)
    lines = [f"- **{markdown_text(short[record['id']])}**: {explain.read_confusion(record['metrics']['confusion_matrix'], data.classes)}"
             for record in data.approaches if record["metrics"].get("confusion_matrix")]
    return "Colour: share of each true class (rows sum to 100%); numbers: images.\n\n" + "\n".join(lines)


COMPARE_PANELS: tuple[PanelSpec[CompareData], ...] = (
    PanelSpec("metrics", "metrics side by side", "",
              lambda d: figures.metrics_comparison_figure(tables.metrics_table(d.approaches),
                                                          d.reference.get("majority_rate"),
                                                          d.reference.get("uniform_rate")),
              shows=lambda d: bool(d.approaches)),
    PanelSpec("per_class", "per-class recall", "Per-class recall",
              lambda d: figures.per_class_recall_figure(tables.per_class_table(d.approaches, d.classes), d.classes),
              shows=lambda d: bool(d.approaches)),
    PanelSpec("by_view", "accuracy by view", "Accuracy by view",
              lambda d: figures.accuracy_by_view_figure(d.approaches, tables.approach_labels(d.approaches, short=True)),
              shows=lambda d: any(record["metrics"].get("accuracy_by_view") for record in d.approaches)),
    PanelSpec("confusion", "confusion matrices", "Confusion matrices on one scale",
              lambda d: figures.confusion_grid_figure(d.matrices, d.classes, columns=min(3, len(d.matrices))),
              _confusion_readings, lambda d: bool(d.matrices)),
)
