"""ConvNeXt: the fine-tuned network's training curves, scores and mistakes.

The figures and their readings are ``analysis.present.panels.CONVNEXT_PANELS``, the ones the report shows too.
"""

from __future__ import annotations

import streamlit as st

from analysis.present import explain, panels, run_facts
from analysis.core import tables
from dashboard import components
from dashboard import panels as page_panels

st.title("ConvNeXt")
ref, opened = components.require_bundle()
record = components.require_approach(opened, ref, "finetune", "Network", "convnext_choice")
st.markdown(explain.describe_approach(record))
components.approach_summary(ref, opened, record)
with st.expander("Hyper-parameters", expanded=True):
    st.markdown(components.markdown_grid(run_facts.hyperparameter_table(record.get("params"))))
data = page_panels.page_data(ref, ("convnext", record["id"]),
                             lambda: panels.convnext_data(page_panels.LoaderSource(ref, opened), record))
if not data.diagnostics:
    st.info(f"This network has no training diagnostics in the bundle. Recompute it with\n\n"
            f"```bash\n{explain.run_command(opened.manifest, ref.path, f'--convnext {tables.model_key(record)}', '--force')}\n```")
page_panels.show(panels.CONVNEXT_PANELS, data, ref, opened.manifest, key=("convnext", record["id"]),
                 open_headings={panels.TRAINING})  # its mistakes and its own feature space (a map) when opened
st.page_link("views/gallery.py", label="See the misclassified images in the gallery", icon=":material/photo_library:")
