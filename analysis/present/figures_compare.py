"""Figures that put approaches side by side: metrics, per-class recall, accuracy by view. Bars run
horizontally with wrapped names, so any number of approaches with long names stays readable; the
look is :mod:`analysis.present.figure_style`."""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.present.figure_style import KIND_COLOURS, SERIES_COLOURS, layout, reference_lines, class_colours, wrap
from analysis.core.records import bundle_of


BUNDLE_PATTERNS = ["/", "x", ".", "\\", "+"]  # the bars of other bundles' approaches (analysis.core.side_by_side): hatched


def _bar_height(n_approaches: int, n_series: int) -> int:
    """The height of a horizontal grouped bar chart: room for every bar, whatever the number of approaches."""
    return max(260, 130 + n_approaches * (14 * n_series + 18))


def metrics_comparison_figure(metrics: pd.DataFrame, majority_rate: float | None = None,
                              uniform_rate: float | None = None) -> go.Figure:
    """Accuracy (with 95% interval), balanced accuracy and macro-F1 of each approach: one panel per
    metric, bars in each approach's kind colour (as on Home), names wrapped. Each panel draws only
    the reference that belongs to its metric: the majority-class and uniform rates for accuracy,
    1 / number of classes (any constant answer, the uniform rate) for balanced accuracy, none for macro-F1.

    Args:
        metrics: ``tables.metrics_table``.
    """
    names = list(dict.fromkeys(metrics["metric"]))
    titles = [f"{name} (dotted: any constant answer)" if name == "balanced accuracy" and uniform_rate is not None
              else name for name in names]
    figure = make_subplots(rows=1, cols=len(names), shared_yaxes=True, horizontal_spacing=0.05,
                           subplot_titles=titles)
    figure.update_annotations(yshift=22)  # the titles above the reference lines' labels
    approaches = list(dict.fromkeys(metrics["approach"]))
    for column, metric in enumerate(names, start=1):
        group = metrics[metrics["metric"] == metric]
        error = None
        if group["ci_high"].notna().any():
            error = dict(type="data", symmetric=False, array=(group["ci_high"] - group["value"]).fillna(0),
                         arrayminus=(group["value"] - group["ci_low"]).fillna(0), color="#333333")
        figure.add_trace(go.Bar(y=[wrap(a, 24) for a in group["approach"]], x=group["value"], name=metric,
                                orientation="h", error_x=error, showlegend=False,
                                marker_color=[KIND_COLOURS.get(kind, "#777777") for kind in group["kind"]],
                                text=[f"{v:.0%}" for v in group["value"]], textposition="inside", textangle=0,
                                insidetextanchor="start", hovertemplate="%{y}<br>" + metric + " %{x:.1%}<extra></extra>"),
                         row=1, col=column)
        if metric == "accuracy":
            reference_lines(figure, majority_rate, uniform_rate, horizontal=False, row=1, col=column)
        elif metric == "balanced accuracy" and uniform_rate is not None:
            figure.add_vline(x=uniform_rate, line=dict(color="#999999", dash="dot"), row=1, col=column)
        figure.update_xaxes(range=[0, 1], tickvals=[0, 0.5, 1], tickformat=".0%", row=1, col=column)
    figure.update_yaxes(title=None, autorange="reversed", categoryorder="array",
                        categoryarray=[wrap(a, 24) for a in approaches])
    figure = layout(figure, "Metrics side by side", height=_bar_height(len(approaches), 1) + 60)
    figure.update_layout(margin=dict(t=110))
    return figure


def per_class_recall_figure(per_class: pd.DataFrame, classes: Sequence[str]) -> go.Figure:
    """Recall of every class under every approach (horizontal bars in class colours, grouped by approach)."""
    colours = class_colours(classes)
    figure = go.Figure()
    approaches = list(dict.fromkeys(per_class["approach"]))
    for name in classes:
        rows = per_class[per_class["class"] == name]
        figure.add_trace(go.Bar(y=[wrap(a, 28) for a in rows["approach"]], x=rows["recall"], name=name, orientation="h",
                                marker_color=colours[name], customdata=rows["support"],
                                hovertemplate=f"{name}: recall %{{x:.1%}} of %{{customdata}} images<extra>%{{y}}</extra>"))
    figure.update_layout(barmode="group")
    figure.update_xaxes(title="recall (share of the class found)", range=[0, 1], tickformat=".0%")
    figure.update_yaxes(title=None, autorange="reversed", categoryorder="array",
                        categoryarray=[wrap(a, 28) for a in approaches])
    return layout(figure, "Per-class recall", height=_bar_height(len(approaches), len(classes)))


def accuracy_by_view_figure(approaches: list[dict], labels: dict[str, str],
                            majority_by_view: dict[str, float] | None = None) -> go.Figure:
    """Accuracy of each approach on each photo view (top / bottom), values on the bars, and beside
    them what always answering the majority class scores on that view (grey bars). Approaches of other
    bundles (:mod:`analysis.core.side_by_side`) take the colours of their own bundle's order, hatched."""
    figure = go.Figure()
    views = sorted({view for record in approaches for view in record.get("metrics", {}).get("accuracy_by_view", {})})
    kinds = [record.get("kind") for record in approaches]
    by_kind = len(set(kinds)) == len(kinds)  # one colour per kind, unless two approaches share a kind
    others = [name for name in dict.fromkeys(map(bundle_of, approaches)) if name]
    for record in approaches:
        values = [record.get("metrics", {}).get("accuracy_by_view", {}).get(view) for view in views]
        own = [other for other in approaches if bundle_of(other) == bundle_of(record)].index(record)
        figure.add_trace(go.Bar(x=views, y=values, name=wrap(labels.get(record["id"], record["id"]), 45),
                                marker_color=KIND_COLOURS.get(record.get("kind"), "#777777") if by_kind
                                else SERIES_COLOURS[own % len(SERIES_COLOURS)],
                                marker_pattern_shape=BUNDLE_PATTERNS[others.index(bundle_of(record)) % len(BUNDLE_PATTERNS)]
                                if bundle_of(record) else "",
                                text=[f"{v:.1%}" if v is not None else "" for v in values], textposition="outside",
                                hovertemplate="%{x} view: %{y:.1%}<extra>%{fullData.name}</extra>"))
    majority = {view: (majority_by_view or {})[view] for view in views if view in (majority_by_view or {})}
    if majority:
        figure.add_trace(go.Bar(x=list(majority), y=list(majority.values()), name="always the majority class",
                                marker_color=KIND_COLOURS["baseline"], text=[f"{v:.1%}" for v in majority.values()],
                                textposition="outside", hovertemplate="%{x} view: %{y:.1%}<extra>always the majority "
                                                                      "class</extra>"))
    figure.update_layout(barmode="group")
    figure.update_yaxes(title="accuracy (held-out images)", range=[0, 1.1], tickformat=".0%")
    figure.update_xaxes(title="view of the photo")
    figure = layout(figure, "Accuracy by view", height=400)
    return figure.update_layout(legend=dict(y=-0.22, yanchor="top"), margin_b=70)  # long names: under the plot
