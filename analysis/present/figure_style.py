"""The look shared by every figure: class colours, the template, sizes, reference lines, layout.

One place for it, so that a class has one colour in every figure of the dashboard and the report,
and every figure has the same margins, legend position and reference lines. The builders that use
it are in :mod:`analysis.present.figures` (which re-exports the names callers need).
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from analysis.core.escape import html_text

Made = TypeVar("Made")

# Okabe–Ito colours (safe for colour-blind readers); the four corn classes get fixed ones so that
# "silkcut" is the same pink on every page and in every report.
KNOWN_CLASS_COLOURS = {"pure": "#E69F00", "broken": "#0072B2", "discolored": "#009E73", "silkcut": "#CC79A7"}
SPARE_COLOURS = ("#56B4E9", "#D55E00", "#F0E442", "#000000") + tuple(qualitative.Dark24)
UNLABELLED_COLOUR = "#BBBBBB"
# Okabe–Ito blue / vermillion: told apart with every common colour-vision deficiency and in grey
# scale (dark blue, light orange); points not scored are pale and small, behind the others.
CORRECTNESS_COLOURS = {"correct": "#0072B2", "wrong": "#D55E00", "not scored": "#D9D9D9"}
VIEW_COLOURS = {"top": "#332288", "bottom": "#88CCEE", "unknown": "#BBBBBB"}
KIND_COLOURS = {"baseline": "#9E9E9E", "zeroshot": "#AA4499", "zeroshot-calibrated": "#CC6677",
                "zeroshot-worded": "#882255", "zeroshot-worded-calibrated": "#661100", "centroid": "#44AA99", "knn": "#88CCEE", "probe": "#117733",
                "finetune": "#332288"}
SERIES_COLOURS = ("#332288", "#AA4499", "#117733", "#88CCEE", "#DDCC77", "#882255")
REFERENCE_LINE = {"majority": dict(color="#444444", dash="dash"), "uniform": dict(color="#999999", dash="dot")}
PERCENT_AXIS = dict(tickformat=".0%", rangemode="tozero")
HEIGHT = 380  # fits two figures side by side at 1280×800
# One look in the dashboard and in the report: the dashboard shows figures with theme=None, so that
# Streamlit does not swap this template for its own.
TEMPLATE = "plotly_white"
SIMILARITY_SCALE = "Viridis"
COUNT_SCALE = "Blues"


def class_colours(classes: Sequence[str]) -> dict[str, str]:
    """class name → colour: fixed for the corn classes, then a colour-blind-safe cycle."""
    spare = iter(SPARE_COLOURS)
    colours = {}
    for name in classes:
        colours[name] = KNOWN_CLASS_COLOURS.get(name) or next(spare)
    colours["unlabelled"] = UNLABELLED_COLOUR
    return colours


def wrap(label: str, width: int = 20) -> str:
    """A long axis label broken onto lines of about ``width`` characters (plotly's ``<br>``); a
    word longer than a line (``convnext_large_mlp.clip_laion2b…``) is cut after ``_``, ``.`` or ``-``."""
    words = []
    for word in str(label).split(" "):
        while len(word) > width:
            cut = max(word.rfind(mark, 0, width) for mark in "_.-") + 1 or width
            words.append(word[:cut])
            word = word[cut:]
        words.append(word)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


# The only markup the figures write themselves: line breaks, bold and italics, and the hover's
# ``<extra>`` box. After escaping they are put back; none of them can load or link anything.
_OWN_MARKUP = re.compile(r"&lt;(/?(?:br|b|i|extra))&gt;")


def text_only(figure: go.Figure) -> go.Figure:
    """A copy of ``figure`` whose every string is plain text for plotly, which reads its text as a small
    HTML (``<a href>``, ``<span style>``): class names, approach labels, prompts and paths become
    characters (:func:`analysis.core.escape.html_text`), the figures' own ``<br>``/``<b>``/``<i>`` stay.
    A selection event then carries the escaped strings: ``html.unescape`` gives back the originals.
    The copy of a figure still alive (a cached one, drawn on every rerun) is made once."""
    return _once_per_figure(_text_only_copies, figure, lambda: go.Figure(_escaped(figure.to_plotly_json())))


def text_only_json(figure: go.Figure) -> str:
    """:func:`text_only` of ``figure`` as plotly's JSON (what the browser draws), made once per
    figure still alive, like the copy."""
    return _once_per_figure(_text_only_json, figure, lambda: text_only(figure).to_json())


_text_only_copies: dict[int, tuple[weakref.ref, go.Figure]] = {}
_text_only_json: dict[int, tuple[weakref.ref, str]] = {}


def _once_per_figure(cache: dict[int, tuple[weakref.ref, Made]], figure: go.Figure, make: Callable[[], Made]) -> Made:
    """``make()`` once per ``figure`` while it lives (a cached figure drawn on every rerun), kept in
    ``cache`` by the figure's id and dropped with the figure."""
    key = id(figure)
    kept = cache.get(key)
    if kept is not None and kept[0]() is figure:
        return kept[1]
    made = make()
    cache[key] = (weakref.ref(figure, lambda _, key=key: cache.pop(key, None)), made)
    return made


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return _OWN_MARKUP.sub(r"<\1>", html_text(value))
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(item) for item in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        items = value.ravel().tolist()
        try:  # a column of a few distinct names (100,000 points, four classes): each escaped once
            distinct = {item: _escaped(item) for item in set(items)}
            escaped = [distinct[item] for item in items]
        except TypeError:  # unhashable items (lists)
            escaped = [_escaped(item) for item in items]
        return np.array(escaped, dtype=object).reshape(value.shape)
    return value


def layout(figure: go.Figure, title: str | None = None, height: int = HEIGHT, **extra) -> go.Figure:
    # The title sits at the very top and the legend in one row under it, both above the plot.
    figure.update_layout(title=dict(text=title, y=0.98, yanchor="top", yref="container") if title else None,
                         template=TEMPLATE, height=height, margin=dict(l=10, r=10, t=85 if title else 40, b=10),
                         legend=dict(orientation="h", yanchor="bottom", y=1.04, xanchor="left", x=0,
                                     traceorder="normal"), **extra)
    return figure


def reference_lines(figure: go.Figure, majority_rate: float | None, uniform_rate: float | None,
                     horizontal: bool = True, **where) -> None:
    """Dashed lines for the majority-class rate and the uniform guess, labelled on the line."""
    for name, rate, text in (("majority", majority_rate, "majority class"), ("uniform", uniform_rate, "uniform guess")):
        if rate is None:
            continue
        label = f"{text} {rate:.0%}"
        if horizontal:
            figure.add_hline(y=rate, line=REFERENCE_LINE[name], annotation_text=label,
                             annotation_position="top left" if name == "majority" else "bottom left",
                             annotation_font_color=REFERENCE_LINE[name]["color"],
                             annotation_bgcolor="rgba(255,255,255,0.75)", **where)
        else:  # labels above the plot, clear of the bars
            figure.add_vline(x=rate, line=REFERENCE_LINE[name], **where)
            figure.add_annotation(x=rate, y=1.0, yref="paper", yanchor="bottom", showarrow=False, text=label,
                                  xanchor="left" if name == "majority" else "right",
                                  font=dict(color=REFERENCE_LINE[name]["color"], size=11))


def vertical_marker(figure: go.Figure, x: float, text: str, colour: str, dash: str, log_axis: bool = False) -> None:
    """A labelled vertical line. On a log axis the label's x is given in log10 units, as plotly
    wants (``add_vline``'s own label lands in the wrong place there)."""
    figure.add_vline(x=x, line=dict(color=colour, dash=dash))
    figure.add_annotation(x=float(np.log10(x)) if log_axis else x, y=1.0, yref="paper", yanchor="bottom",
                          xanchor="left", showarrow=False, text=text, font=dict(color=colour, size=11))
