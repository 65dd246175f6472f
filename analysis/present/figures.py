"""Plotly figures of a bundle, shared by the dashboard and the HTML report.

Each builder is pure: plain bundle data in (manifest parts, diagnostics dicts, tables from
:mod:`analysis.core.tables`), a ``plotly.graph_objects.Figure`` out; nothing is read from disk. Classes
keep one colour everywhere (:func:`class_colours`), accuracies are shown as percentages of the
held-out images, and every axis names its unit.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.present.figure_style import (  # noqa: F401 (the look; re-exported, callers say figures.class_colours)
    CORRECTNESS_COLOURS, COUNT_SCALE, HEIGHT, KIND_COLOURS, PERCENT_AXIS, SERIES_COLOURS, SIMILARITY_SCALE, TEMPLATE,
    VIEW_COLOURS, layout, reference_lines, vertical_marker, class_colours, wrap)
from analysis.present.figures_map import (  # noqa: F401 (embedding maps; re-exported, callers say figures.…)
    colour_map, label_positions, projection_figure)
from analysis.present.figures_compare import (  # noqa: F401 (approaches side by side; re-exported, callers say figures.…)
    accuracy_by_view_figure, metrics_comparison_figure, per_class_recall_figure)
from analysis.core.records import QUANTILE_LEVELS
from analysis.stats.choices import kshot_axis, one_standard_error, shots_phrase
from analysis.core.tables import as_frame, shots_text
from analysis.present.confusion_cells import row_shares


# --- headline -------------------------------------------------------------------------------------

def headline_figure(table: pd.DataFrame, majority_rate: float | None, uniform_rate: float | None) -> go.Figure:
    """Accuracy of each approach of the bundle with its 95% interval, against the reference rates.

    Args:
        table: ``tables.headline_table`` (only ``source == "this bundle"`` rows are drawn).
    """
    rows = table[table["source"] == "this bundle"].iloc[::-1]
    figure = go.Figure(go.Bar(
        x=rows["accuracy"], y=[wrap(name, 45) for name in rows["approach"]], orientation="h",
        marker_color=[KIND_COLOURS.get(kind, "#777777") for kind in rows["kind"]],
        error_x=dict(type="data", symmetric=False, array=(rows["ci_high"] - rows["accuracy"]).fillna(0),
                     arrayminus=(rows["accuracy"] - rows["ci_low"]).fillna(0), color="#333333"),
        text=[f"{value:.1%}" for value in rows["accuracy"]], textposition="inside", insidetextanchor="start",
        hovertemplate="%{y}<br>accuracy %{x:.1%}<extra></extra>", showlegend=False))
    reference_lines(figure, majority_rate, uniform_rate, horizontal=False)
    figure.update_xaxes(title="accuracy on the held-out images (95% bootstrap interval)", range=[0, 1], **PERCENT_AXIS)
    lines = sum(wrap(name, 45).count("<br>") + 1 for name in rows["approach"])
    return layout(figure, height=max(220, 70 + 30 * len(rows) + 14 * lines))


# --- zero-shot autopsy ----------------------------------------------------------------------------

def prompt_ladder_figure(autopsy: dict, majority_rate: float | None = None,
                         uniform_rate: float | None = None) -> go.Figure:
    """Accuracy of each prompt set (bars, worst to best) and of each single template (dots)."""
    sets = as_frame(autopsy.get("prompt_sets")).sort_values("accuracy") if autopsy.get("prompt_sets") else pd.DataFrame()
    figure = go.Figure()
    if len(sets):
        figure.add_trace(go.Bar(x=sets["name"], y=sets["accuracy"], name="prompt set (all templates averaged)",
                                marker_color=SERIES_COLOURS[1], text=[f"{v:.1%}" for v in sets["accuracy"]],
                                textposition="outside", hovertemplate="%{x}: %{y:.1%}<extra></extra>"))
    templates = as_frame(autopsy.get("templates"))
    if len(templates):
        figure.add_trace(go.Box(x=templates.get("prompt_set"), y=templates["accuracy"], boxpoints="all", jitter=0.4,
                                pointpos=0, fillcolor="rgba(0,0,0,0)", line=dict(color="rgba(0,0,0,0)"),
                                marker=dict(color=SERIES_COLOURS[0], size=6, opacity=0.7), name="single template",
                                customdata=templates["template"],
                                hovertemplate="%{customdata}<br>accuracy %{y:.1%}<extra></extra>"))
    reference_lines(figure, majority_rate, uniform_rate)
    figure.update_yaxes(title="accuracy (held-out images)", **PERCENT_AXIS)
    figure.update_xaxes(title="prompt set", categoryorder="array",
                        categoryarray=list(sets["name"]) if len(sets) else None)
    return layout(figure, "Prompt ladder")


def distribution_figure(true_counts: dict[str, int], predicted_counts: dict[str, dict[str, int]],
                        classes: Sequence[str]) -> go.Figure:
    """Share of each class among the true labels and among each prompt set's answers (stacked bars)."""
    colours = class_colours(classes)
    series = {"true labels": true_counts} | {f"predicted · {name}": counts for name, counts in predicted_counts.items()}
    names = list(series)[::-1]
    figure = go.Figure()
    for name in classes:
        shares, counts = [], []
        for series_name in names:
            total = sum(series[series_name].values()) or 1
            counts.append(series[series_name].get(name, 0))
            shares.append(series[series_name].get(name, 0) / total)
        figure.add_trace(go.Bar(y=names, x=shares, orientation="h", name=name, marker_color=colours[name],
                                customdata=counts, text=[f"{s:.0%}" if s >= 0.06 else "" for s in shares],
                                textposition="inside",
                                hovertemplate=f"{name}: %{{x:.1%}} (%{{customdata}} images)<extra>%{{y}}</extra>"))
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title="share of held-out images", range=[0, 1], tickformat=".0%")
    return layout(figure, "What the model answers vs what is there", height=max(230, 120 + 45 * len(names)))


def modality_gap_figure(gap: dict, classes: Sequence[str]) -> go.Figure:
    """Distance between image and text embeddings, per class (bars) and overall (line); the
    ``measure`` the diagnostics name is shown on hover."""
    colours = class_colours(classes)
    per_class = gap.get("per_class", {}) or {}
    names = [name for name in classes if name in per_class]
    figure = go.Figure(go.Bar(x=names, y=[per_class[name] for name in names], marker_color=[colours[n] for n in names],
                              text=[f"{per_class[n]:.2f}" for n in names], textposition="outside", showlegend=False,
                              hovertemplate="%{x}: %{y:.3f}<extra>" + str(gap.get("measure", ""))[:60] + "</extra>"))
    if gap.get("overall") is not None:
        figure.add_hline(y=gap["overall"], line=dict(color="#333333", dash="dash"),
                         annotation_text=f"overall {gap['overall']:.2f}", annotation_position="bottom right",
                         annotation_bgcolor="rgba(255,255,255,0.8)")
    figure.update_yaxes(title="gap (image-to-text centroid distance)", rangemode="tozero")
    figure.update_xaxes(title="class")
    return layout(figure, "Modality gap")


def similarity_figure(text_similarity: Sequence[Sequence[float]], image_similarity: Sequence[Sequence[float]],
                      classes: Sequence[str]) -> go.Figure:
    """Class-by-class cosine similarity of the class prompts and of the image centroids, on one scale."""
    text, image = np.asarray(text_similarity, dtype=float), np.asarray(image_similarity, dtype=float)
    low = float(min(text.min(), image.min()))
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12,
                           subplot_titles=("class prompts (text ↔ text)", "image centroids (image ↔ image)"))
    for column, matrix in ((1, text), (2, image)):
        figure.add_trace(go.Heatmap(z=matrix, x=list(classes), y=list(classes), coloraxis="coloraxis",
                                    text=np.round(matrix, 2), texttemplate="%{text:.2f}",
                                    hovertemplate="%{y} ↔ %{x}: %{z:.3f}<extra></extra>"), row=1, col=column)
        figure.update_yaxes(autorange="reversed", row=1, col=column)
    figure.update_layout(coloraxis=dict(colorscale=SIMILARITY_SCALE, cmin=low, cmax=1.0,
                                        colorbar=dict(title=dict(text="cosine<br>similarity"))))
    return layout(figure, None, height=HEIGHT)


def margin_figure(margins: dict) -> go.Figure:
    """How sure the model is when right and when wrong: histograms of the top-1 − top-2 margin, on an
    axis scaled to the margins there are (a model whose margins all stay below 0.14 is not drawn
    squeezed into the left edge of 0–1), and a title that says so when every margin is the same."""
    values = [v for name in ("correct", "wrong") for v in margins.get(name) or []]
    top = max(values) if values else 1.0
    end = 1.0 if top > 0.5 else max(top * 1.1, 1e-3)
    bins = dict(start=0.0, end=end, size=end / 40)
    figure = go.Figure()
    for name in ("correct", "wrong"):
        values_of = np.asarray(margins.get(name) or [], dtype=float)  # sent as binary, not a list of numbers
        figure.add_trace(go.Histogram(x=values_of, name=f"{name} ({len(values_of)} images)", xbins=bins,
                                      histnorm="percent", marker_color=CORRECTNESS_COLOURS[name], opacity=0.75,
                                      hovertemplate="margin %{x}<br>%{y:.1f}% of the " + name + " answers<extra></extra>"))
    figure.update_layout(barmode="overlay")
    scale = "" if end == 1.0 else f", axis zoomed to 0–{end:.2g}"
    figure.update_xaxes(title=f"margin (top-1 minus top-2 probability{scale})", range=[0, end])
    figure.update_yaxes(title="share of answers (%)")
    title = "Margins: right vs wrong answers"
    if values and max(values) - min(values) < 1e-6:
        title += f" — every margin is {values[0]:.3g}"
    elif end < 1.0:
        title += f" — all below {top:.2g}"
    return layout(figure, title)


def reliability_figure(reliability: dict) -> go.Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration."""
    confidence = reliability.get("bin_confidence") or []
    accuracy = reliability.get("bin_accuracy") or []
    counts = reliability.get("bin_count") or [0] * len(confidence)
    filled = [(c, a, n) for c, a, n in zip(confidence, accuracy, counts) if c is not None and a is not None]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                                line=dict(color="#999999", dash="dot"), hoverinfo="skip"))
    if filled:
        c, a, n = zip(*filled)
        figure.add_trace(go.Scatter(x=c, y=a, mode="lines+markers", name="model",
                                    marker=dict(size=[6 + 14 * np.sqrt(v / max(n)) for v in n], color=SERIES_COLOURS[0]),
                                    customdata=n, hovertemplate="confidence %{x:.0%}: right %{y:.0%} "
                                                                "(%{customdata} images)<extra></extra>"))
    ece = reliability.get("ece")
    if len(filled) == 1:  # one dot says nothing about calibration: say so on the chart
        figure.add_annotation(x=0.5, y=0.02, xref="paper", yref="paper", showarrow=False, yanchor="bottom",
                              text=f"every answer ({filled[0][2]}) has about {filled[0][0]:.0%} confidence:<br>"
                                   "one bin, so the curve cannot show calibration", bgcolor="rgba(255,255,255,0.8)")
    figure.update_xaxes(title="confidence (top-1 probability)", range=[0, 1], tickformat=".0%")
    figure.update_yaxes(title="accuracy in the bin", range=[0, 1], tickformat=".0%")
    return layout(figure, f"Calibration (ECE {ece:.3f})" if ece is not None else "Calibration")


# --- confusion matrices ---------------------------------------------------------------------------

def _confusion_annotations(counts: np.ndarray, shares: np.ndarray) -> list[list[str]]:
    return [[f"{int(n)}<br>{s:.0%}" for n, s in zip(row_n, row_s)] for row_n, row_s in zip(counts, shares)]


def confusion_matrix_figure(matrix: Sequence[Sequence[int]], classes: Sequence[str], title: str | None = None,
                            height: int = HEIGHT) -> go.Figure:
    """A confusion matrix (rows: true class, columns: predicted), coloured by the share of each true
    class (row-normalised, 0–100%) and annotated with image counts.
    """
    counts, shares = row_shares(matrix)
    names = list(classes)
    figure = go.Figure(go.Heatmap(z=shares, x=names, y=names, zmin=0, zmax=1, colorscale=COUNT_SCALE,
                                  text=_confusion_annotations(counts, shares), texttemplate="%{text}",
                                  customdata=counts, colorbar=dict(title=dict(text="share of<br>true class"),
                                                                   tickformat=".0%"),
                                  hovertemplate="true %{y}, predicted %{x}: %{customdata} images "
                                                "(%{z:.0%} of %{y})<extra></extra>"))
    figure.update_xaxes(title="predicted class", side="bottom", constrain="domain")
    figure.update_yaxes(title="true class", autorange="reversed")
    return layout(figure, title, height=height)


def confusion_grid_figure(matrices: dict[str, Sequence[Sequence[int]]], classes: Sequence[str],
                          columns: int = 3) -> go.Figure:
    """Several confusion matrices on one colour scale (share of the true class, 0–100%)."""
    names = list(matrices)
    columns = 2 if len(names) == 4 else min(columns, max(1, len(names)))  # 2 × 2 rather than 3 + 1
    rows = max(1, -(-len(names) // columns))
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[wrap(name, 36) for name in names],
                           horizontal_spacing=0.12, vertical_spacing=0.18 if rows > 1 else 0.1)
    for index, name in enumerate(names):
        counts, shares = row_shares(matrices[name])
        row, column = index // columns + 1, index % columns + 1
        figure.add_trace(go.Heatmap(z=shares, x=list(classes), y=list(classes), coloraxis="coloraxis",
                                    text=_confusion_annotations(counts, shares), texttemplate="%{text}",
                                    hovertemplate=f"{name}<br>true %{{y}}, predicted %{{x}}: %{{z:.0%}}<extra></extra>"),
                         row=row, col=column)
        figure.update_yaxes(autorange="reversed", row=row, col=column, title="true class" if column == 1 else None)
        figure.update_xaxes(row=row, col=column, title="predicted class")  # plotly slants names that would run together
    figure.update_layout(coloraxis=dict(colorscale=COUNT_SCALE, cmin=0, cmax=1,
                                        colorbar=dict(title=dict(text="share of<br>true class"), tickformat=".0%")))
    figure.update_annotations(font_size=12)
    return layout(figure, None, height=80 + 360 * rows)


# --- linear probe ---------------------------------------------------------------------------------

def c_sweep_figure(c_sweep: Iterable[dict] | dict, best_c: float | None = None) -> go.Figure:
    """Cross-validated accuracy against the regularisation strength C (log axis), ±1 std band."""
    frame = as_frame(c_sweep).sort_values("C")
    mean, std = frame["cv_accuracy_mean"], frame.get("cv_accuracy_std", pd.Series(0.0, index=frame.index)).fillna(0)
    figure = go.Figure([
        go.Scatter(x=list(frame["C"]) + list(frame["C"])[::-1], y=list(mean + std) + list(mean - std)[::-1],
                   fill="toself", fillcolor="rgba(17,119,51,0.15)", line=dict(width=0), hoverinfo="skip",
                   mode="lines", name="±1 std across folds"),
        go.Scatter(x=frame["C"], y=mean, mode="lines+markers", name="cross-validated accuracy",
                   line=dict(color=KIND_COLOURS["probe"]), hovertemplate="C = %{x:g}: %{y:.1%}<extra></extra>"),
    ])
    if best_c is not None:
        vertical_marker(figure, best_c, f"chosen C = {best_c:g}", "#333333", "dash", log_axis=True)
        if "cv_accuracy_folds" in frame:  # the choice: the smallest C at or above this line
            best, standard_error = one_standard_error(frame.to_dict("records"))
            figure.add_hline(y=best["cv_accuracy_mean"] - standard_error, line=dict(color="#888888", dash="dot"),
                             annotation_text="best − 1 standard error", annotation_position="bottom right",
                             annotation_font=dict(size=11, color="#555555"))
    figure.update_xaxes(title="C (inverse regularisation strength, log scale)", type="log")
    figure.update_yaxes(title="accuracy (cross-validation on train)", tickformat=".0%")
    return layout(figure, "Regularisation sweep")


def kshot_figure(kshot: dict | Iterable[dict], zeroshot_accuracy: float | None = None,
                 majority_rate: float | None = None, uniform_rate: float | None = None,
                 effective_shots: float | None = None, shots_range: dict | None = None,
                 class_counts: dict[str, int] | None = None) -> go.Figure:
    """Probe accuracy against labelled images per class (mean ± std over draws), with the zero-shot
    accuracy and the reference rates as lines and the effective-shots crossing marked — as a band
    between two k when ``shots_range`` (``probe.effective_shots_range``) says the crossing is not
    clear at one k. The last tick reads "all (N)" when it is the whole training part."""
    frame = as_frame(kshot).sort_values("k")
    std = frame["std"].fillna(0) if "std" in frame else pd.Series(0.0, index=frame.index)
    figure = go.Figure([
        go.Scatter(x=list(frame["k"]) + list(frame["k"])[::-1], y=list(frame["mean"] + std) + list(frame["mean"] - std)[::-1],
                   fill="toself", fillcolor="rgba(17,119,51,0.15)", line=dict(width=0), hoverinfo="skip",
                   mode="lines", name="±1 std over random draws"),
        go.Scatter(x=frame["k"], y=frame["mean"], mode="lines+markers", name="linear probe",
                   line=dict(color=KIND_COLOURS["probe"]), hovertemplate="k = %{x}: %{y:.1%}<extra></extra>"),
    ])
    if zeroshot_accuracy is not None:
        figure.add_hline(y=zeroshot_accuracy, line=dict(color=KIND_COLOURS["zeroshot"], dash="dash"),
                         annotation_text=f"zero-shot {zeroshot_accuracy:.0%}", annotation_position="bottom right")
    reference_lines(figure, majority_rate, uniform_rate)
    if shots_range and shots_range.get("how") == "between":
        figure.add_vrect(x0=shots_range["low"], x1=shots_range["high"], fillcolor=KIND_COLOURS["zeroshot"],
                         opacity=0.10, line_width=0)
        vertical_marker(figure, shots_range["low"], f"zero-shot ≈ {shots_phrase(shots_range)} per class",
                         KIND_COLOURS["zeroshot"], "dot", log_axis=True)
    elif effective_shots is not None and not shots_range:
        vertical_marker(figure, effective_shots, f"zero-shot ≈ {shots_text(effective_shots)} labelled images per class",
                         KIND_COLOURS["zeroshot"], "dot", log_axis=True)
    axis = kshot_axis(frame.to_dict("records"), class_counts)
    figure.update_xaxes(title=axis["title"], type="log", tickvals=axis["tickvals"], ticktext=axis["ticktext"])
    figure.update_yaxes(title="accuracy (held-out images)", **PERCENT_AXIS)
    return layout(figure, "How many labels is zero-shot worth?")


def blend_figure(blend: Iterable[dict] | dict, alpha: float | None = None) -> go.Figure:
    """Accuracy of ``alpha · zero-shot + (1 − alpha) · probe`` probabilities against alpha; the marked
    point is the ``alpha`` chosen on the training folds (without one, the held-out oracle, labelled so)."""
    frame = as_frame(blend).sort_values("alpha")
    chosen = alpha is not None and (frame["alpha"] - alpha).abs().min() < 1e-9
    best = frame.loc[(frame["alpha"] - alpha).abs().idxmin()] if chosen else frame.loc[frame["accuracy"].idxmax()]
    figure = go.Figure(go.Scatter(x=frame["alpha"], y=frame["accuracy"], mode="lines+markers",
                                  line=dict(color=SERIES_COLOURS[2]),
                                  hovertemplate="alpha %{x:.2f}: %{y:.1%}<extra></extra>", showlegend=False))
    figure.add_trace(go.Scatter(x=[best["alpha"]], y=[best["accuracy"]], mode="markers+text", showlegend=False,
                                marker=dict(size=12, color="#333333", symbol="diamond"),
                                text=[f"{'chosen on train' if chosen else 'held-out oracle'}: {best['accuracy']:.1%} at "
                                      f"α = {best['alpha']:.2f}"],
                                textposition="top right", hoverinfo="skip"))
    figure.update_xaxes(title="α: weight of zero-shot in the blend (0 = probe only)", range=[-0.02, 1.02])
    figure.update_yaxes(title="accuracy (held-out images)", tickformat=".0%")
    return layout(figure, "Zero-shot / probe blend")


# --- ConvNeXt -------------------------------------------------------------------------------------

def training_curves_figure(epochs: Iterable[dict] | dict, best_epoch: int | None = None) -> go.Figure:
    """Loss and accuracy per epoch, training vs validation, side by side."""
    frame = as_frame(epochs).sort_values("epoch")
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"), horizontal_spacing=0.1)
    for column, metric in ((1, "loss"), (2, "accuracy")):
        for part, colour, dash in (("train", SERIES_COLOURS[0], "solid"), ("val", SERIES_COLOURS[1], "dash")):
            name = f"{part}_{metric}"
            if name not in frame:
                continue
            figure.add_trace(go.Scatter(x=frame["epoch"], y=frame[name], mode="lines+markers",
                                        name="training" if part == "train" else "validation",
                                        legendgroup=part, showlegend=column == 1,
                                        line=dict(color=colour, dash=dash),
                                        hovertemplate=f"epoch %{{x}}: %{{y:.3f}}<extra>{name}</extra>"),
                             row=1, col=column)
        if best_epoch is not None:
            figure.add_vline(x=best_epoch, line=dict(color="#333333", dash="dot"), row=1, col=column)
    figure.update_xaxes(title="epoch", dtick=1 if len(frame) <= 20 else None)
    figure.update_yaxes(title="cross-entropy loss (nats)", row=1, col=1, rangemode="tozero")
    figure.update_yaxes(title="accuracy", tickformat=".0%", row=1, col=2)
    if best_epoch is not None:
        figure.add_annotation(x=best_epoch, y=0.0, yref="paper", xref="x2", text=f"best epoch {best_epoch}",
                              showarrow=False, yanchor="bottom", xanchor="right")
    figure = layout(figure, None)
    figure.update_layout(margin_t=80, legend_y=1.12)  # above the two subplot titles
    return figure


# --- comparisons ----------------------------------------------------------------------------------

def shortcut_figure(shortcut_accuracy: dict[str, float], majority_rate: float | None = None,
                    uniform_rate: float | None = None, details: dict[str, dict] | None = None) -> go.Figure:
    """Accuracy of classifiers that see only trivial image statistics (size, view, colour).

    Args:
        shortcut_accuracy: ``confounders.shortcut_accuracy`` (statistics set → accuracy).
        details: ``confounders.shortcuts`` (statistics set → ``features``, ``accuracy_ci``), for
            the 95% intervals and the feature names on hover.
    """
    details = details or {}
    names = list(shortcut_accuracy)
    values = [shortcut_accuracy[name] for name in names]
    intervals = [details.get(name, {}).get("accuracy_ci") or [value, value] for name, value in zip(names, values)]
    features = [", ".join(details.get(name, {}).get("features", [])) or name for name in names]
    figure = go.Figure(go.Bar(
        x=names, y=values, marker_color=KIND_COLOURS["baseline"], showlegend=False,
        error_y=dict(type="data", symmetric=False, array=[high - v for v, (_, high) in zip(values, intervals)],
                     arrayminus=[v - low for v, (low, _) in zip(values, intervals)], color="#333333"),
        text=[f"{v:.1%}" for v in values], textposition="inside", insidetextanchor="start", customdata=features,
        hovertemplate="%{x} only (%{customdata}): %{y:.1%}<extra></extra>"))
    reference_lines(figure, majority_rate, uniform_rate)
    figure.update_xaxes(title="image statistics the classifier may use")
    figure.update_yaxes(title="accuracy (held-out images" + (", 95% interval)" if details else ")"), **PERCENT_AXIS)
    return layout(figure, "What trivial image statistics already predict")


def feature_by_class_figure(per_class: dict[str, dict], feature: str, classes: Sequence[str], unit: str = "",
                            quantile_levels: Sequence[float] = QUANTILE_LEVELS) -> go.Figure:
    """One image statistic per class, from the ``confounders`` diagnostics.

    Args:
        per_class: class → statistics of ``feature`` (``mean``, ``std``, optional ``quantiles`` at
            ``quantile_levels``). With quantiles each class is a box (25–75%, median, whiskers at
            the outer levels); without, a bar of the mean ± std.
    """
    colours = class_colours(classes)
    names = [name for name in classes if isinstance(per_class.get(name), dict)]
    figure = go.Figure()
    if names and all("quantiles" in per_class[name] for name in names):
        for name in names:
            q = dict(zip(quantile_levels, per_class[name]["quantiles"]))
            figure.add_trace(go.Box(x=[name], q1=[q.get(0.25)], median=[q.get(0.5)], q3=[q.get(0.75)],
                                    lowerfence=[q.get(quantile_levels[0])], upperfence=[q.get(quantile_levels[-1])],
                                    mean=[per_class[name].get("mean")], name=name, marker_color=colours[name],
                                    showlegend=False))
        spread = f"box: 25–75%, whiskers: {quantile_levels[0]:.0%}–{quantile_levels[-1]:.0%}"
    else:
        figure.add_trace(go.Bar(x=names, y=[per_class[n].get("mean") for n in names],
                                error_y=dict(type="data", array=[per_class[n].get("std") or 0 for n in names],
                                             color="#333333"),
                                marker_color=[colours[n] for n in names], showlegend=False,
                                hovertemplate="%{x}: mean %{y:.3g}<extra></extra>"))
        spread = "mean ± std"
    figure.update_xaxes(title=spread, title_font_size=11)
    figure.update_yaxes(title=f"{feature} ({unit})" if unit else feature)
    return layout(figure, f"{feature.capitalize()} by class", height=320)
