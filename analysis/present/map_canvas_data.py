"""What the Embedding map's canvas draws (``dashboard.map_canvas``): every image point as binary
columns, its colour groups, the class prompts as stars and the axis titles.

The page draws its map on a canvas of its own instead of a plotly figure: with 100,000 points
Streamlit's plotly element alone took 2.4–2.7 s to show on the 2-core machine (its chart library is
~0.7 s of script to evaluate before anything is drawn), this page 1.4–1.6 s
(``benchmarks/bench_dashboard_browser.py``). The colours and the drawing order are the figures'
(:func:`analysis.present.figures_map.colour_groups`), so the map looks like the report's.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.present.figure_style import class_colours
from analysis.present.figures_map import GREY_GROUPS, colour_groups, colour_map, label_positions

# What a point's hover says after its group (and true label): the page turns a click into its image.
HINT = "click or select to see it"


def map_canvas_data(points: pd.DataFrame, colour_by: str, classes: Sequence[str], method: str = "umap",
                    height: int = 520) -> dict:
    """The canvas's data for ``tables.map_points`` coloured by ``colour_by`` (``label``,
    ``prediction``, ``correctness`` or ``view``).

    Returns:
        ``points``: an Arrow table, one row per image point in map order (the row a selection names,
        as ``map_views.selection_ids`` reads it): ``x``, ``y`` (float32), ``g`` (its group, int16),
        ``t`` (its true label among ``true_names``, int16); ``groups``: name, colour, point size,
        opacity and count of each group in drawing order; ``stars``: the class prompts (``x``, ``y``,
        ``label``, ``colour``, ``above``: where the label goes); ``star_name``; ``show_true`` (the
        hover names the true label when the colour is something else); axis titles and height.
    """
    colours = colour_map(colour_by, classes)
    images = points[points["kind"] == "image"]
    values, order = colour_groups(images, colour_by, colours)
    groups = pd.Categorical(values, categories=order).codes.astype(np.int16)
    truth, true_names = pd.factorize(images["label"].fillna("unlabelled").astype(str))
    table = pa.table({"x": images["x"].to_numpy(dtype=np.float32), "y": images["y"].to_numpy(dtype=np.float32),
                      "g": groups, "t": truth.astype(np.int16)})
    counts = np.bincount(groups, minlength=len(order)) if len(order) else np.zeros(0, dtype=int)
    text = points[points["kind"] == "text"]
    label_colours = class_colours(classes)
    sets = list(dict.fromkeys(text["prompt_set"].dropna())) if "prompt_set" in text else []
    above = [position.startswith("top") for position in label_positions(text["x"].to_numpy(float))]
    return {
        "points": table,
        "groups": [{"name": name, "colour": colours.get(name, "#777777"), "size": 4 if name in GREY_GROUPS else 5,
                    "opacity": 0.5 if name in GREY_GROUPS else 0.8, "count": int(count)}
                   for name, count in zip(order, counts)],
        "true_names": [str(name) for name in true_names],
        "show_true": colour_by != "label",
        "stars": [{"x": float(x), "y": float(y), "label": str(label), "colour": label_colours.get(label, "#777777"),
                   "above": flag} for x, y, label, flag in zip(text["x"], text["y"], text["label"], above)],
        "star_name": "class prompts" + (f" · {sets[0]}" if len(sets) == 1 else ""),
        "hint": HINT,
        "x_title": f"{method.upper()} 1 (no unit)",
        "y_title": f"{method.upper()} 2 (no unit)",
        "height": height,
    }
