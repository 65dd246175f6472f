"""The panel spec: what a panel is, how it is built from a page's data, and where data comes from.

See :mod:`analysis.present.panels` for how pages declare their panels with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Iterable, Iterator, Protocol, TypeVar

import pandas as pd
import plotly.graph_objects as go

from analysis.present import explain, figures
from analysis.core import tables
from analysis.core.bundle import Bundle


# --- where the data comes from ----------------------------------------------------------------------

class Source(Protocol):
    """What the ``*_data`` functions read: the dashboard's cached loaders, or a bundle (:class:`BundleSource`)."""

    manifest: dict
    classes: list[str]

    def diagnostics(self, name: str) -> dict:
        """The named diagnostics; an empty dict when the bundle has none by that name."""

    def images(self) -> pd.DataFrame:
        """``images.parquet``."""

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

    def images(self) -> pd.DataFrame:
        return self.bundle.images()

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
    table: pd.DataFrame | None = None  # a table shown in place of a figure (its reading under it)


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
        warning: a plain warning to show with the panel ("" for none).
        half: half width in the dashboard.
        missing: when ``shows`` is false, say what is missing (an ``explain.missing_part`` name)
            instead of leaving the panel out.
        table: builds a table to show in place of a figure (the ladder, the alignment table).
    """

    key: str
    title: str
    heading: str
    figure: Callable[[Data], go.Figure] | None
    reading: Callable[[Data], str] = _nothing
    shows: Callable[[Data], bool] = _always
    warning: Callable[[Data], str] = _nothing
    half: bool = False
    missing: str | None = None
    table: Callable[[Data], pd.DataFrame] | None = None


def confusion_panel(heading: str, title: str = "Confusion matrix", half: bool = False) -> PanelSpec:
    """The confusion matrix of one approach (``data.record``) with its reading, as every page of one
    approach shows it."""
    return PanelSpec("confusion", "confusion matrix", heading,
                     lambda d: figures.confusion_matrix_figure(d.record["metrics"]["confusion_matrix"], d.classes,
                                                               title=title),
                     lambda d: explain.read_confusion(d.record["metrics"]["confusion_matrix"], d.classes),
                     lambda d: bool(d.record["metrics"].get("confusion_matrix")), half=half)


def build(spec: PanelSpec[Data], data: Data) -> Panel | None:
    """One panel; None when the bundle lacks its data and the spec names nothing missing.

    Raises:
        BundleError: the bundle's data for it has a shape this CornLens cannot draw (the read-time
            checks of :mod:`analysis.core.records` raise it when a malformed key is read).
    """
    base = dict(key=spec.key, title=spec.title, heading=spec.heading, half=spec.half)
    if not spec.shows(data):
        return Panel(**base, missing=spec.missing) if spec.missing else None
    return Panel(**base, figure=spec.figure(data) if spec.figure else None, reading=spec.reading(data),
                 warning=spec.warning(data), table=spec.table(data) if spec.table else None)


def build_all(specs: tuple[PanelSpec[Data], ...], data: Data) -> list[Panel]:
    """Every panel of a page, in order (for tests and notebooks; adapters build one at a time)."""
    return [panel for spec in specs if (panel := build(spec, data)) is not None]


def rows(built: Iterable[Panel]) -> Iterator[tuple[str, list[Panel]]]:
    """Panels in the rows the dashboard and the report lay them out in: ``(heading, row)``, where
    ``heading`` is written before the row when it starts a new heading ("" otherwise) and ``row`` is
    one full-width panel or one or two half panels (a half panel waits for a partner under the same
    heading)."""
    heading, row, announce = None, [], ""
    for panel in built:
        if panel.heading != heading:
            if row:
                yield announce, row
                row = []
            heading, announce = panel.heading, panel.heading or ""
        if panel.half:
            row.append(panel)
            if len(row) < 2:
                continue
        else:
            if row:
                yield announce, row
                announce = ""
            row = [panel]
        yield announce, row
        announce, row = "", []
    if row:
        yield announce, row


def reference_rates(source: Source) -> dict:
    """``manifest["reference"]``: majority class, majority and uniform rates."""
    return source.manifest.get("reference", {})
