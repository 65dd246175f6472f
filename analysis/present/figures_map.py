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


# A selectable map hands plotly's pointer (hover, click, selection) this many image points at most.
PICK_POINTS = 2_000  # ~300 KB of point dicts for a box over all of them; hover finds one within ~20 px almost anywhere


def projection_figure(points: pd.DataFrame, colour_by: str, classes: Sequence[str], title: str | None = None,
                      height: int = 520, method: str = "umap", counts: dict[str, int] | None = None,
                      selectable: bool = False) -> go.Figure:
    """A 2-D embedding map; one WebGL trace per colour group.

    A ``selectable`` map (the Embedding map page) draws every image without hover on the axes
    ``x``/``y`` and lays invisible points for the pointer over them on the matching axes ``x2``/``y2``:
    at most :data:`PICK_POINTS` images (``pick_sample``), ``customdata`` = the row among the image
    points of ``points`` (``map_views.selected_ids``). Plotly sends the server every selected point of
    those traces, one dict each, which at 100,000 points took seconds; the page finds the images
    inside a box or lasso from its geometry over every image (``map_views.selection_ids``).

    Args:
        points: ``tables.map_points`` (image points, then text points of the class prompts).
        colour_by: ``label``, ``prediction``, ``correctness`` or ``view``.
        method: how the map was made (``tables.projection_method``), named on the axes.
        counts: images per colour group for the legend when ``points`` are a sample of them
            (``map_views.panel_map``); default: the points drawn.
        selectable: the page turns a click or a selection into the images (the Embedding map); the
            hover says so.
    """
    colours = colour_map(colour_by, classes)
    images = points[points["kind"] == "image"]
    values = images[colour_by].fillna("unknown").astype(str).to_numpy(dtype=object)
    present = set(pd.unique(values))
    # Grey groups (unlabelled, not scored) first, so the coloured points are drawn on top of them.
    grey = ("unlabelled", "not scored", "unknown")
    order = ([name for name in grey if name in present] + [name for name in colours if name in present and name not in grey]
             + sorted(present - set(colours) - set(grey)))
    x, y = images["x"].to_numpy(dtype=np.float32), images["y"].to_numpy(dtype=np.float32)  # half the bytes to send
    labels = images["label"].to_numpy(dtype=object)
    by_label = colour_by == "label"  # the trace's name is then the true label: no per-point copy of it to send
    picked = pick_sample(len(images)) if selectable else None
    traces = []
    for name in order:
        mask = values == name
        colour = colours.get(name, "#777777")
        hover = (name + ("" if by_label else "<br>true: %{text}") + ("<br>click or select to see it" if selectable else "")
                 + "<extra></extra>")
        traces.append(go.Scattergl(
            x=x[mask], y=y[mask], mode="markers", name=f"{name} ({(counts or {}).get(name, int(mask.sum())):,})",
            legendgroup=name, marker=dict(color=colour, size=4 if name in grey else 5, opacity=0.5 if name in grey else 0.8),
            text=None if by_label or selectable else labels[mask], hovertemplate=None if selectable else hover,
            hoverinfo="skip" if selectable else None))
        if selectable:
            rows = picked[values[picked] == name]
            traces.append(go.Scattergl(
                x=x[rows], y=y[rows], mode="markers", name=name, legendgroup=name, showlegend=False, xaxis="x2",
                yaxis="y2", marker=dict(color=colour, size=6, opacity=0), customdata=rows.astype(np.int32),
                text=None if by_label else labels[rows], hovertemplate=hover, hoverlabel=dict(bgcolor=colour)))
    figure = go.Figure(traces)
    text = points[points["kind"] == "text"]
    if len(text):
        label_colours = class_colours(classes)
        sets = list(dict.fromkeys(text["prompt_set"].dropna())) if "prompt_set" in text else []
        name = "class prompts" + (f" · {sets[0]}" if len(sets) == 1 else "")
        figure.add_trace(go.Scatter(
            x=text["x"], y=text["y"], mode="markers+text", name=name, text=text["label"],
            textposition=label_positions(text["x"].to_numpy(float)), marker=dict(symbol="star", size=18, line=dict(color="#000000", width=1.5),
                                                   color=[label_colours.get(l, "#777777") for l in text["label"]]),
            hovertemplate="text embedding of “%{text}”<extra></extra>", **(dict(xaxis="x2", yaxis="y2") if selectable else {})))
    figure.update_xaxes(title=f"{method.upper()} 1 (no unit)", showticklabels=False, zeroline=False)
    figure.update_yaxes(title=f"{method.upper()} 2 (no unit)", showticklabels=False, zeroline=False)
    if selectable:  # the pointer's layer: the same place and scale as the drawn one, drawn above it, no axes of its own
        figure.update_layout(xaxis2=dict(matches="x", anchor="y2", visible=False),
                             yaxis2=dict(matches="y", anchor="x2", visible=False),
                             # a box or lasso takes every image inside it (read on the server), so a class
                             # cannot be hidden from the map: a legend click would hide it from view only
                             legend=dict(itemclick=False, itemdoubleclick=False))
    return layout(figure, title, height=height, dragmode="select")


def pick_sample(n_images: int, limit: int | None = None, seed: int = 0) -> np.ndarray:
    """Sorted rows of the images a selectable map's pointer reaches: all up to ``limit`` (default
    :data:`PICK_POINTS`), else a seeded uniform sample of that many."""
    limit = PICK_POINTS if limit is None else limit
    rows = np.arange(n_images)
    return rows if n_images <= limit else np.sort(np.random.default_rng(seed).choice(n_images, limit, replace=False))


def label_positions(x: np.ndarray) -> list[str]:
    """Where each star's label goes: above and below in turn, from left to right, so the labels of
    two neighbouring prompts never print over each other (a row of close stars is common)."""
    order = np.argsort(np.asarray(x, dtype=float), kind="stable")
    positions = [""] * len(order)
    for rank, index in enumerate(order):
        positions[index] = "top center" if rank % 2 == 0 else "bottom center"
    return positions
