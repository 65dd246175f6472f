"""Report: preview and download the shareable report of this bundle (built by analysis.report)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.bundle import BundleError
from dashboard import components, loaders

PREVIEW_HEIGHT = 900


def downloads(ref, html_text: str, markdown_text: str) -> None:
    name = Path(ref.path).name
    row = st.container(horizontal=True)
    row.download_button("Download HTML", html_text, file_name=f"cornlens-{name}.html", mime="text/html",
                         icon=":material/download:", key="report_html", type="primary")
    row.download_button("Download Markdown", markdown_text, file_name=f"cornlens-{name}.md", mime="text/markdown",
                          icon=":material/download:", key="report_markdown")
    st.caption("The HTML file is self-contained (figures and thumbnails inside): send it as it is.")


st.title("Report")
ref, opened = components.require_bundle()
try:
    html_text = loaders.report(ref, "html")
    markdown_text = loaders.report(ref, "md")
except BundleError as error:  # the bundle's files; a bug in CornLens is not blamed on the bundle
    st.error(f"The report could not be rendered for this bundle: {error}")
    st.stop()
downloads(ref, html_text, markdown_text)
preview, source = st.tabs(["Preview", "Markdown"])
with preview:
    st.iframe(html_text, height=PREVIEW_HEIGHT)
with source:
    st.markdown(markdown_text)
