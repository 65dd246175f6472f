"""The script every visit to the dashboard runs (``dashboard/Home.py`` serves it).

It declares the pages (``st.navigation``) and the bundle picker in the sidebar, which
every page shares. Pages live in ``dashboard/views/`` and only read bundle files.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `analysis` and `dashboard` as packages

import streamlit as st  # noqa: E402

from dashboard import components  # noqa: E402

# The icon ships with the package: a ":material/…:" page icon is fetched from a font CDN on every page load.
st.set_page_config(page_title="CornLens", page_icon=str(Path(__file__).with_name("icon.png")), layout="wide")
components.host_guard()  # a page of another site that resolves its name to this machine gets nothing
components.still_placeholders()

PAGES = [
    st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("views/autopsy.py", title="Zero-shot autopsy", icon=":material/troubleshoot:"),
    st.Page("views/probe.py", title="Linear probe", icon=":material/linear_scale:"),
    st.Page("views/convnext.py", title="ConvNeXt", icon=":material/model_training:"),
    st.Page("views/compare.py", title="Compare approaches", icon=":material/compare_arrows:"),
    st.Page("views/embedding_map.py", title="Embedding map", icon=":material/scatter_plot:"),
    st.Page("views/gallery.py", title="Misclassified gallery", icon=":material/photo_library:"),
    st.Page("views/label_problems.py", title="Label problems", icon=":material/image_search:"),
    st.Page("views/search.py", title="Text search", icon=":material/travel_explore:"),
    st.Page("views/report.py", title="Report", icon=":material/description:"),
]

page = st.navigation(PAGES)
components.bundle_picker()
try:
    page.run()
finally:
    components.start_text_tower()  # the text tower and thumbnail index in the background, once per server
