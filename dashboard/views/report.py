"""Report: preview and download the shareable report of this bundle (built by analysis.present.report)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.core import escape
from analysis.present import export
from analysis.core.bundle import BundleError
from dashboard import components, loaders

PREVIEW_HEIGHT = 900
NOT_RENDERED = "The report could not be rendered for this bundle: {}"  # the bundle's files; a CornLens bug is not blamed on it


def html_or_error(ref) -> str:
    """The HTML report, or a small page that says why it could not be rendered (a lazy download)."""
    try:
        return loaders.report(ref, "html")
    except BundleError as error:
        return f"<p>{escape.html_text(NOT_RENDERED.format(error))}</p>"


def downloads(ref, opened, markdown_text: str) -> None:
    name = Path(ref.path).name
    row = st.container(horizontal=True)
    row.download_button("Download HTML", lambda: html_or_error(ref), file_name=f"cornlens-{name}.html",
                        mime="text/html", icon=":material/download:", key="report_html", type="primary",
                        on_click="ignore")
    row.download_button("Download Markdown", markdown_text, file_name=f"cornlens-{name}.md", mime="text/markdown",
                        icon=":material/download:", key="report_markdown")
    if export.png_export_available():
        row.download_button("Headline chart (PNG)", lambda: export.headline_png(opened.manifest),
                            file_name=f"cornlens-{name}-headline.png", mime="image/png", icon=":material/image:",
                            key="report_png", on_click="ignore")
    st.caption("The HTML file is self-contained (figures and thumbnails inside): send it as it is; it is drawn when "
               "you download or preview it (a few seconds for a large bundle). "
               + ("The PNG of the headline chart takes a few seconds to draw. " if export.png_export_available() else
                  "Any chart's toolbar (camera button, top right of the chart) downloads it as PNG. ")
               + "The Markdown tab shows the text to paste, with a copy button.")


st.title("Report")
ref, opened = components.require_bundle()
try:
    markdown_text = loaders.report(ref, "md")
except BundleError as error:
    st.error(escape.markdown_text(NOT_RENDERED.format(error)))
    st.stop()
downloads(ref, opened, markdown_text)
# Only the open tab runs: the HTML (every figure, neighbours in every embedding space) is drawn when
# its preview is opened or downloaded, not on every visit.
source, preview = st.tabs(["Markdown", "Preview"], key="report_tab", on_change="rerun")
if source.open:
    with source:
        st.code(markdown_text, language="markdown", wrap_lines=True)
if preview.open:
    with preview:
        try:
            st.iframe(loaders.report(ref, "html"), height=PREVIEW_HEIGHT)
        except BundleError as error:
            st.error(escape.markdown_text(NOT_RENDERED.format(error)))
