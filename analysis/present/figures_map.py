"""Embedding maps: every image of a 2-D projection (UMAP) as WebGL points coloured by class, prediction,
correctness or view, with the class prompts as stars. The look is :mod:`analysis.present.figure_style`."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.present.figure_style import CORRECTNESS_COLOURS, VIEW_COLOURS, class_colours, layout


def colour_map(colour_by: str, classes: Sequence[str]) -> dict[str, str]:
    """The colours of a map coloured by ``label``, ``prediction``, ``correctness`` or ``view``."""
    if colour_by in ("label", "prediction"):
        return class_colours(classes) | {"not scored": CORRECTNESS_COLOURS["not scored"]}
    if colour_by == "correctness":
        return dict(CORRECTNESS_COLOURS)
    return dict(VIEW_COLOURS)


# Grey groups (unlabelled, not scored): drawn first and smaller, so the coloured points lie on top of them.
GREY_GROUPS = ("unlabelled", "not scored", "unknown")


def colour_groups(images: pd.DataFrame, colour_by: str, colours: dict[str, str]) -> tuple[np.ndarray, list[str]]:
    """Each image point's group (its ``colour_by`` value as text, ``unknown`` when missing) and the
    groups present in drawing order: grey ones first, then ``colours``' order, then any other."""
    values = images[colour_by].fillna("unknown").astype(str).to_numpy(dtype=object)
    present = set(pd.unique(values))
    order = ([name for name in GREY_GROUPS if name in present]
             + [name for name in colours if name in present and name not in GREY_GROUPS]
             + sorted(present - set(colours) - set(GREY_GROUPS)))
    return values, order


def projection_figure(points: pd.DataFrame, colour_by: str, classes: Sequence[str], title: str | None = None,
                      height: int = 520, method: str = "umap", counts: dict[str, int] | None = None) -> go.Figure:
    """A 2-D embedding map; one WebGL trace per colour group (the dashboard's panels and the report;
    the Embedding map page draws its own canvas from :mod:`analysis.present.map_canvas_data`).

    Args:
        points: ``tables.map_points`` (image points, then text points of the class prompts).
        colour_by: ``label``, ``prediction``, ``correctness`` or ``view``.
        method: how the map was made (``tables.projection_method``), named on the axes.
        counts: images per colour group for the legend when ``points`` are a sample of them
            (``map_views.panel_map``); default: the points drawn.
    """
    colours = colour_map(colour_by, classes)
    images = points[points["kind"] == "image"]
    values, order = colour_groups(images, colour_by, colours)
    x, y = images["x"].to_numpy(dtype=np.float32), images["y"].to_numpy(dtype=np.float32)  # half the bytes to send
    labels = images["label"].to_numpy(dtype=object)
    by_label = colour_by == "label"  # the trace's name is then the true label: no per-point copy of it to send
    traces = []
    for name in order:
        mask = values == name
        traces.append(go.Scattergl(
            x=x[mask], y=y[mask], mode="markers", name=f"{name} ({(counts or {}).get(name, int(mask.sum())):,})",
            legendgroup=name, marker=dict(color=colours.get(name, "#777777"), size=4 if name in GREY_GROUPS else 5,
                                          opacity=0.5 if name in GREY_GROUPS else 0.8),
            text=None if by_label else labels[mask],
            hovertemplate=name + ("" if by_label else "<br>true: %{text}") + "<extra></extra>"))
    figure = go.Figure(traces)
    text = points[points["kind"] == "text"]
    if len(text):
        label_colours = class_colours(classes)
        sets = list(dict.fromkeys(text["prompt_set"].dropna())) if "prompt_set" in text else []
        name = "class prompts" + (f" · {sets[0]}" if len(sets) == 1 else "")
        figure.add_trace(go.Scatter(
            x=text["x"], y=text["y"], mode="markers+text", name=name, text=text["label"],
            textposition=label_positions(text["x"].to_numpy(float)),
            marker=dict(symbol="star", size=18, line=dict(color="#000000", width=1.5),
                        color=[label_colours.get(l, "#777777") for l in text["label"]]),
            hovertemplate="text embedding of “%{text}”<extra></extra>"))
    figure.update_xaxes(title=f"{method.upper()} 1 (no unit)", showticklabels=False, zeroline=False)
    figure.update_yaxes(title=f"{method.upper()} 2 (no unit)", showticklabels=False, zeroline=False)
    return layout(figure, title, height=height, dragmode="select")


def label_positions(x: np.ndarray) -> list[str]:
    """Where each star's label goes: above and below in turn, from left to right, so the labels of
    two neighbouring prompts never print over each other (a row of close stars is common)."""
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")
    positions = [""] * len(order)
    for rank, index in enumerate(order):
        positions[index] = "top center" if rank % 2 == 0 else "bottom center"
    return positions
