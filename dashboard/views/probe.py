"""Linear probe: what a logistic regression on the same CLIP features buys over zero-shot.

The figures and their readings are ``analysis.present.panels.PROBE_PANELS``, the ones the report shows too.
"""

from __future__ import annotations

import streamlit as st

from analysis.stats import choices
from analysis.present import explain, panels
from analysis.core import tables
from dashboard import components
from dashboard import panels as page_panels

st.title("Linear probe")
ref, opened = components.require_bundle()
record = components.require_approach(opened, ref, "probe", "Probe", "probe_choice")
st.markdown(explain.describe_approach(record))
components.approach_summary(ref, opened, record)
data = page_panels.page_data(ref, ("probe", record["id"]),
                             lambda: panels.probe_data(page_panels.LoaderSource(ref, opened), record))
if not data.diagnostics:
    st.info(f"This probe has no diagnostics (C sweep, k-shot curve, blend) in the bundle. Recompute it with\n\n"
            f"```bash\n{explain.run_command(opened.manifest, ref.path, f'--clip {tables.model_key(record)}', '--force')}\n```")
elif "kshot" in data.diagnostics:  # (reading a malformed curve here would raise; its panel says so below)
    shots, found = data.diagnostics.get("effective_shots"), data.diagnostics.get("effective_shots_range")
    st.metric("effective shots",
              choices.shots_phrase(found) if found else
              f"{tables.shots_text(shots)} per class" if isinstance(shots, (int, float)) else "never reached",
              help="labelled images per class at which the probe clearly overtakes zero-shot: k-shot points closer "
                   "to the zero-shot line than their uncertainty count as level, so the answer can be a range")
page_panels.show(panels.PROBE_PANELS, data, ref, opened.manifest, key=("probe", record["id"]),
                 open_headings=())  # the k-shot curve at once, every other section when opened
