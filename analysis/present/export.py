"""The headline chart as a PNG file, for a forum post.

plotly's static export (kaleido 1.x) drives a local Chrome or Chromium (Debian's ``chromium`` works,
offline). Both are optional: without them :class:`ExportError` says what to install, and the
dashboard's charts keep their own "Download plot as a png" button (the camera in the chart's
toolbar), which needs nothing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import plotly.graph_objects as go

from analysis.present import figures
from analysis.core import tables, weights
from analysis.core.bundle import atomic_path

PNG_WIDTH, PNG_HEIGHT, PNG_SCALE = 1100, 520, 2
HEADLINE_PNG = "headline.png"
NO_EXPORT = ("saving a chart as PNG needs the kaleido package (pip install kaleido) and a Chrome or Chromium "
             "browser (Debian/Ubuntu: apt install chromium); in the dashboard, the camera button of the chart's "
             "toolbar downloads it as PNG without either")


class ExportError(Exception):
    """A chart cannot be saved as an image here; the message says what to install."""


def png_export_available() -> bool:
    """True when kaleido is installed (a browser is still needed when a chart is saved)."""
    return importlib.util.find_spec("kaleido") is not None


def headline_chart(manifest: dict) -> go.Figure:
    """The headline chart of a bundle: every approach's accuracy with its interval, against the baselines,
    titled so that it can stand alone in a post (a demo bundle says so)."""
    reference = manifest.get("reference", {})
    table = tables.headline_table(manifest)
    figure = figures.headline_figure(table, reference.get("majority_rate"), reference.get("uniform_rate"))
    n_eval = manifest.get("split", {}).get("counts", {}).get("eval", "?")
    title = f"CornLens: accuracy on the same {n_eval} held-out images"
    if manifest.get("demo"):
        untrained = weights.untrained(manifest)
        title += " (demo bundle: synthetic images" + (", models not pretrained" if untrained else "") + ")"
    shown = int((table["source"] == tables.SOURCE_BUNDLE).sum()) if len(table) else 0
    return figure.update_layout(title={"text": title, "x": 0.01}, height=max(PNG_HEIGHT, 160 + 44 * shown),
                                margin={"t": 90})


def figure_png(figure: go.Figure, width: int = PNG_WIDTH, height: int = PNG_HEIGHT) -> bytes:
    """``figure`` as PNG bytes (twice the pixels of ``width`` x ``height``, sharp on any screen)."""
    if not png_export_available():
        raise ExportError(f"{NO_EXPORT}.")
    try:
        return figure.to_image(format="png", width=width, height=height, scale=PNG_SCALE)
    except (RuntimeError, OSError, ValueError) as error:  # kaleido's "no Chrome found" is a RuntimeError subclass
        raise ExportError(f"the chart could not be rendered ({type(error).__name__}: {error}); {NO_EXPORT}.") from error


def headline_png(manifest: dict) -> bytes:
    """The headline chart of ``manifest``'s bundle as PNG bytes."""
    figure = headline_chart(manifest)
    return figure_png(figure, height=figure.layout.height or PNG_HEIGHT)


def write_headline_png(manifest: dict, out: str | Path) -> Path:
    """Write the headline chart of ``manifest``'s bundle to ``out`` (atomically)."""
    data = headline_png(manifest)
    with atomic_path(Path(out)) as temporary:
        temporary.write_bytes(data)
    return Path(out)
