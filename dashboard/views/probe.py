"""Linear probe: what a logistic regression on the same CLIP features buys over zero-shot."""

from __future__ import annotations

import streamlit as st

from analysis import explain, figures, tables
from dashboard import components, loaders


@components.guarded("probe diagnostics")
def sweep_panel(probe: dict) -> None:
    left, right = st.columns(2)
    with left:
        if probe.get("c_sweep"):
            components.figure(figures.c_sweep_figure(probe["c_sweep"], probe.get("best_C")),
                              explain.read_c_sweep(probe["c_sweep"], probe.get("best_C")))
    with right:
        if probe.get("blend"):
            components.figure(figures.blend_figure(probe["blend"]), explain.read_blend(probe["blend"]))


@components.guarded("k-shot curve")
def kshot_panel(probe: dict, reference: dict) -> None:
    if not probe.get("kshot"):
        return
    shots = probe.get("effective_shots")
    st.metric("effective shots", f"{tables.shots_text(shots)} per class" if shots is not None else "never reached",
              help="labelled images per class at which the probe matches zero-shot: what zero-shot is worth")
    components.figure(figures.kshot_figure(probe["kshot"], probe.get("zeroshot_accuracy"),
                                           probe.get("majority_rate", reference.get("majority_rate")),
                                           reference.get("uniform_rate"), shots),
                      explain.read_kshot(probe))


@components.guarded("confusion matrix")
def errors_panel(record: dict, classes: list[str]) -> None:
    matrix = record["metrics"].get("confusion_matrix")
    if matrix:
        components.figure(figures.confusion_matrix_figure(matrix, classes, title="Confusion matrix"),
                          explain.read_confusion(matrix, classes))


st.title("Linear probe")
ref, opened = components.require_bundle()
record = components.require_approach(opened, ref, "probe", "Probe", "probe_choice")
chosen = record["id"]
reference = opened.manifest.get("reference", {})
st.markdown(explain.describe_approach(record))
components.metric_row(record)
probe = loaders.diagnostics(ref, chosen)
if not probe:
    st.info(f"This probe has no diagnostics (C sweep, k-shot curve, blend) in the bundle. Recompute it with\n\n"
            f"```bash\n{explain.run_command(opened.manifest, ref.path, f'--clip {tables.model_key(record)}', '--force')}\n```")
else:
    kshot_panel(probe, reference)
    sweep_panel(probe)
errors_panel(record, opened.classes)
