"""Zero-shot autopsy: why zero-shot CLIP fails on these images, one figure and one reading at a time.

The figures and their readings are ``analysis.present.panels.AUTOPSY_PANELS`` and ``SHORTCUT_PANELS``,
the ones the report shows too.
"""

from __future__ import annotations

import streamlit as st

from analysis.present import explain, panels
from analysis.core import escape, records
from analysis.stats import wording
from dashboard import components
from dashboard import panels as page_panels


def headline(ref, opened, best: dict, reference: dict) -> None:
    st.markdown(f"Prompt set chosen on the training images: **{escape.markdown_text(best.get('prompt_set') or best['id'])}** — "
                f"{explain.describe_approach(best)}")
    components.approach_summary(ref, opened, best)
    majority = reference.get("majority_rate")
    if majority is not None and wording.direction(best["metrics"].get("accuracy_ci"), majority) == wording.BELOW:
        st.warning(f"Zero-shot ({best['metrics']['accuracy']:.1%}) is below always answering "
                   f"*{escape.markdown_text(reference.get('majority_class'))}* ({majority:.1%}).", icon=":material/trending_down:")


st.title("Zero-shot autopsy")
ref, opened = components.require_bundle()
source = page_panels.LoaderSource(ref, opened)
models = records.best_per_model(opened.approaches, records.ZEROSHOT)
if not models:
    components.missing(opened.manifest, ref, "zeroshot")
else:
    model = st.selectbox("CLIP model", list(models), key="autopsy_model") if len(models) > 1 else next(iter(models))
    data = page_panels.page_data(ref, ("autopsy", model), lambda: panels.autopsy_data(source, model))
    headline(ref, opened, data.record, data.reference)
    if not data.diagnostics:
        components.missing(opened.manifest, ref, "autopsy")
    # The ladder and its attribution (the "why") are drawn at once; the prompts and the other sections when opened.
    page_panels.show(panels.AUTOPSY_PANELS, data, ref, opened.manifest, key=("autopsy", model),
                     open_headings={spec.heading for spec in panels.LADDER_PANELS})
    if data.map.available:
        st.page_link("views/embedding_map.py", label="Select points and see the images on the Embedding map page",
                     icon=":material/scatter_plot:")
page_panels.show(panels.SHORTCUT_PANELS, page_panels.page_data(ref, "shortcuts", lambda: panels.shortcut_data(source)),
                 ref, opened.manifest, key="shortcuts", open_headings=())
