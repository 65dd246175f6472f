"""ConvNeXt: the fine-tuned network's training curves, scores and mistakes."""

from __future__ import annotations

import streamlit as st

from analysis import explain, figures, run_facts, tables
from dashboard import components, loaders

WEIGHTS = {"imagenet": "ImageNet weights, fine-tuned", "checkpoint": "a local checkpoint, fine-tuned",
           "scratch": "random initialisation (no pretrained weights were available)"}


@components.guarded("training diagnostics")
def training_panel(finetune: dict) -> None:
    st.subheader("Training")
    weights = finetune.get("weights")
    st.markdown(f"Started from **{WEIGHTS.get(weights, weights or 'unknown weights')}**"
                + (" · test-time augmentation on" if finetune.get("tta") else ""))
    if weights == "scratch":
        st.warning("Trained from scratch: expect far lower accuracy than with ImageNet weights.")
    if run_facts.still_improving(finetune.get("epochs"), finetune.get("best_epoch")):
        st.info("Training stopped while still improving: the best validation accuracy came at the last epoch. More "
                "epochs (`--epochs`) would likely help.", icon=":material/trending_up:")
    if finetune.get("epochs"):
        components.figure(figures.training_curves_figure(finetune["epochs"], finetune.get("best_epoch")),
                          explain.read_training(finetune))


@components.guarded("confusion matrix")
def errors_panel(opened, record: dict, classes: list[str]) -> None:
    st.subheader("Mistakes")
    left, right = st.columns(2)
    matrix = record["metrics"].get("confusion_matrix")
    with left:
        if matrix:
            components.figure(figures.confusion_matrix_figure(matrix, classes, title="Confusion matrix"),
                              explain.read_confusion(matrix, classes))
    with right:
        majority = run_facts.majority_rate_by_view(opened.images(), opened.manifest.get("reference", {}).get("majority_class"))
        components.figure(figures.accuracy_by_view_figure([record], tables.approach_labels([record]), majority))
    st.page_link("views/gallery.py", label="See the misclassified images in the gallery", icon=":material/photo_library:")


st.title("ConvNeXt")
ref, opened = components.require_bundle()
record = components.require_approach(opened, ref, "finetune", "Network", "convnext_choice")
chosen = record["id"]
st.markdown(explain.describe_approach(record))
components.metric_row(record)
with st.expander("Hyper-parameters", expanded=True):
    st.table(run_facts.hyperparameter_table(record.get("params")).set_index("setting"))
finetune = loaders.diagnostics(ref, chosen)
if finetune:
    training_panel(finetune)
else:
    st.info(f"This network has no training diagnostics in the bundle. Recompute it with\n\n"
            f"```bash\n{explain.run_command(opened.manifest, ref.path, f'--convnext {tables.model_key(record)}', '--force')}\n```")
errors_panel(opened, record, opened.classes)
