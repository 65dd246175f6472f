"""The dashboard's adapter for :mod:`analysis.present.panels`: draws a page's panels with Streamlit.

The report draws the same lists (:mod:`analysis.present.report.sections`); nothing here decides what a
page shows or says, only how: a heading when it changes, two half-width panels side by side, the
figure with its reading as a caption, a warning or a "missing part" notice in place of a panel.
"""

from __future__ import annotations

import itertools
import logging
from typing import Callable, Collection, Hashable, Sequence, TypeVar

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analysis.core import escape
from analysis.present import panels
from analysis.core.bundle import Bundle, BundleError
from analysis.present.panels import Panel, PanelSpec
from dashboard import components, loaders
from dashboard.loaders import BundleRef

log = logging.getLogger(__name__)
Made = TypeVar("Made")


class LoaderSource:
    """An :class:`analysis.present.panels.Source` over the dashboard's cached loaders."""

    def __init__(self, ref: BundleRef, opened: Bundle):
        self.ref, self.opened = ref, opened
        self.manifest, self.classes = opened.manifest, opened.classes

    def diagnostics(self, name: str) -> dict:
        return loaders.diagnostics(self.ref, name) or {}

    def images(self) -> pd.DataFrame:
        return self.opened.images()

    def projection_names(self) -> list[str]:
        return self.opened.projection_names()

    def projection(self, name: str) -> pd.DataFrame:
        return loaders.projection(self.ref, name)

    def map_points(self, name: str, approach_id: str | None, prompt_set: str | None) -> pd.DataFrame:
        return loaders.map_points(self.ref, name, approach_id, prompt_set)


def _built(specs: Sequence[PanelSpec], data: panels.PageData) -> list[Panel]:
    """Each panel, or in its place a warning panel when the bundle's data for it has another shape."""
    built = []
    for spec in specs:
        try:
            panel = panels.build(spec, data)
        except BundleError as error:  # data of another shape; a bug in CornLens is not caught
            log.warning("panel %s: %s", spec.key, error)
            panel = Panel(spec.key, spec.title, spec.heading, half=spec.half, warning=(
                f"The {spec.title} in this bundle has an unexpected shape ({escape.markdown_text(error)}), so it is not "
                "shown; the rest of "
                "the page is. Rebuilding the bundle with this CornLens version fixes it."))
        if panel is not None:
            built.append(panel)
    return built


@st.cache_resource(show_spinner=False, max_entries=64)
def _once(ref: BundleRef, key: Hashable, _make: Callable[[], Made]) -> Made:
    return _make()


def page_data(ref: BundleRef, key: Hashable, make: Callable[[], Made]) -> Made:
    """``make()`` (a page's :class:`analysis.present.panels.PageData`) once per bundle version and ``key``
    (the page and every choice its data depends on), shared by every session and rerun, read-only."""
    return _once(ref, ("data", key), make)


def home_data(ref: BundleRef, opened: Bundle) -> panels.PageData:
    """Home's headline data (``HOME_PANELS``), once per bundle version: the page and the server's
    warm-up (``dashboard.warm``) read the same entry."""
    return page_data(ref, "home", lambda: panels.home_data(LoaderSource(ref, opened)))


def verdict_data(ref: BundleRef, opened: Bundle) -> panels.PageData:
    """Home's verdict data (``VERDICT_PANELS``), once per bundle version, as :func:`home_data`."""
    return page_data(ref, "verdict", lambda: panels.verdict_data(LoaderSource(ref, opened)))


def prepare(specs: Sequence[PanelSpec], data: panels.PageData, ref: BundleRef, key: Hashable) -> None:
    """Build, without drawing, the panels :func:`show` draws at once with this ``key`` (every section:
    ``open_headings=None``), so the first visit finds them built."""
    for heading, group in _sections(specs):
        _section_panels(ref, key, heading, group, data)


def _draw(panel: Panel, ref: BundleRef, manifest: dict) -> None:
    if panel.missing:
        components.missing(manifest, ref, panel.missing)
        return
    if panel.warning:
        st.warning(panel.warning, icon=":material/warning:")  # Markdown made by present.panels, names escaped
    if panel.figure is not None:
        components.figure(panel.figure, panel.reading)
    elif panel.table is not None:
        components.markdown_table(panel.table, border="horizontal")  # long cells wrap instead of being cut off
        if panel.reading:
            st.caption(panel.reading)
    elif panel.reading:
        st.markdown(panel.reading)


def _sections(specs: Sequence[PanelSpec]) -> list[tuple[str, list[PanelSpec]]]:
    """The specs grouped by heading, in order (a heading starts a section)."""
    return [(heading, list(group)) for heading, group in itertools.groupby(specs, key=lambda spec: spec.heading)]


def _draw_rows(built: list[Panel], ref: BundleRef, manifest: dict, headings: bool = True) -> None:
    for heading, row in panels.rows(built):
        if heading and headings:
            st.subheader(heading)
        if not row[0].half:
            _draw(row[0], ref, manifest)
            continue
        for column, panel in zip(st.columns(2), row):
            with column:
                _draw(panel, ref, manifest)


def show(specs: Sequence[PanelSpec], data: panels.PageData, ref: BundleRef, manifest: dict,
         key: Hashable | None = None, open_headings: Collection[str] | None = None,
         sections: Hashable | None = None) -> None:
    """Draw a page's panels in order (``panels.rows``): a subheader when the heading changes, half
    panels in pairs; a lone half panel keeps its width, it need not fill the page.

    With ``key`` (the ``page_data`` key of ``data``), the figures and readings are built once per
    bundle version and key and shared by every session and rerun (a rerun only sends them again).
    With ``open_headings``, the sections under those headings are drawn in place and every other
    one is a closed section (an expander named by its heading) whose panels are built and drawn only
    once it is opened, so a long page draws what is seen first; a section with nothing to show for
    this bundle (and no missing part to name) is left out. ``sections`` names the page's sections when
    ``key`` changes with a choice that should not close them (Compare's chosen approaches); default ``key``.
    """
    for heading, group in _sections(specs):
        if open_headings is None or heading in open_headings or not heading:
            _draw_rows(_section_panels(ref, key, heading, group, data), ref, manifest)
            continue
        if not _has_content(group, data):
            continue
        section = closed_section(key if sections is None else sections, heading)
        if section is not None:
            with section:
                _draw_rows(_section_panels(ref, key, heading, group, data), ref, manifest, headings=False)


def _has_content(group: list[PanelSpec], data: panels.PageData) -> bool:
    """Whether a section would draw anything: a panel with data, or a notice naming a missing part."""
    for spec in group:
        try:
            if spec.missing or spec.shows(data):
                return True
        except BundleError:  # data of another shape: its panel is a warning, drawn once opened
            return True
    return False


def closed_section(key: Hashable | None, heading: str) -> DeltaGenerator | None:
    """A section that starts closed (an expander named by ``heading``, its open state under
    :func:`section_key`): its container once opened, for the caller to build and draw into; else None."""
    section = st.expander(heading, on_change="rerun", key=section_key(key, heading))
    return section if section.open else None


def section_key(key: Hashable | None, heading: str) -> str:
    """The widget key of a closed section: its open state is ``st.session_state[section_key(...)]``."""
    return f"section:{key}:{heading}"


def _section_panels(ref: BundleRef, key: Hashable | None, heading: str, group: list[PanelSpec],
                    data: panels.PageData) -> list[Panel]:
    if key is None:
        return _built(group, data)
    return _once(ref, ("panels", key, heading), lambda: _built(group, data))
