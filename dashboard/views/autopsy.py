"""Zero-shot autopsy: why zero-shot CLIP fails on these images, one figure and one reading at a time."""

from __future__ import annotations

import streamlit as st

from analysis import explain, figures, tables
from dashboard import components, loaders


def zeroshot_models(approaches: list[dict]) -> dict[str, list[dict]]:
    """model key → its zero-shot approaches (one per prompt set)."""
    models: dict[str, list[dict]] = {}
    for record in approaches:
        if record["kind"] == "zeroshot":
            models.setdefault(tables.model_key(record), []).append(record)
    return models


def headline(records: list[dict], reference: dict) -> None:
    best = max(records, key=lambda record: record["metrics"]["accuracy"])
    st.markdown(f"Best prompt set here: **{best.get('prompt_set') or best['id']}** — "
                f"{explain.describe_approach(best)}")
    components.metric_row(best)
    majority = reference.get("majority_rate")
    if majority is not None and best["metrics"]["accuracy"] < majority:
        st.warning(f"Zero-shot ({best['metrics']['accuracy']:.1%}) is below always answering "
                 f"*{reference.get('majority_class')}* ({majority:.1%}).", icon=":material/trending_down:")


@components.guarded("prompt diagnostics")
def prompt_panel(autopsy: dict, reference: dict) -> None:
    st.subheader("Prompts")
    components.figure(figures.prompt_ladder_figure(autopsy, reference.get("majority_rate"), reference.get("uniform_rate")),
                      explain.read_prompt_ladder(autopsy, reference.get("majority_rate")))


@components.guarded("answer distribution")
def distribution_panel(autopsy: dict, classes: list[str]) -> None:
    true_counts, predicted = autopsy.get("true_distribution", {}), autopsy.get("predicted_distribution", {})
    components.figure(figures.distribution_figure(true_counts, predicted, classes),
                      explain.read_distribution(true_counts, predicted, autopsy.get("best_prompt_set")))


@components.guarded("embedding diagnostics")
def embedding_space_panel(autopsy: dict, classes: list[str]) -> None:
    st.subheader("Where images and texts sit")
    left, right = st.columns(2)
    with left:
        if autopsy.get("modality_gap"):
            components.figure(figures.modality_gap_figure(autopsy["modality_gap"], classes),
                              explain.read_modality_gap(autopsy["modality_gap"]))
    with right:
        if autopsy.get("margins"):
            components.figure(figures.margin_figure(autopsy["margins"]), explain.read_margins(autopsy["margins"]))
    if autopsy.get("text_similarity") and autopsy.get("image_centroid_similarity"):
        components.figure(figures.similarity_figure(autopsy["text_similarity"], autopsy["image_centroid_similarity"],
                                                    classes),
                          explain.read_similarity(autopsy["text_similarity"], autopsy["image_centroid_similarity"],
                                                  classes))


@components.guarded("calibration diagnostics")
def calibration_panel(autopsy: dict, record: dict, classes: list[str]) -> None:
    st.subheader("Confidence and mistakes")
    left, right = st.columns(2)
    with left:
        if autopsy.get("reliability"):
            components.figure(figures.reliability_figure(autopsy["reliability"]),
                              explain.read_reliability(autopsy["reliability"]))
    with right:
        matrix = record["metrics"].get("confusion_matrix")
        if matrix:
            components.figure(figures.confusion_matrix_figure(matrix, classes, title="Confusion matrix (best prompt set)"),
                              explain.read_confusion(matrix, classes))


@components.guarded("embedding map")
def joint_map_panel(ref, opened, autopsy: dict, record: dict) -> None:
    st.subheader("Images and class prompts in one map")
    name = autopsy.get("projection")
    if not name or name not in opened.projection_names():
        components.missing(opened.manifest, ref, "projections")
        return
    prompt_set = record.get("prompt_set") if record.get("prompt_set") in tables.prompt_sets_of(
        loaders.projection(ref, name)) else None
    points = loaders.map_points(ref, name, record["id"], prompt_set)
    components.figure(figures.projection_figure(points, "label", opened.classes, height=460,
                                                method=tables.projection_method(opened.manifest, name)),
                      explain.read_projection(points))
    st.page_link("views/embedding_map.py", label="Select points and see the images on the Embedding map page",
                 icon=":material/scatter_plot:")


@components.guarded("confounder diagnostics")
def confounders_panel(ref, opened) -> None:
    st.subheader("Shortcuts in the images")
    confounders = loaders.diagnostics(ref, "confounders")
    if not confounders:
        components.missing(opened.manifest, ref, "confounders")
        return
    reference = opened.manifest.get("reference", {})
    majority = confounders.get("majority_rate", reference.get("majority_rate"))
    shortcut, details = confounders.get("shortcut_accuracy") or {}, confounders.get("shortcuts")
    if shortcut:
        components.figure(figures.shortcut_figure(shortcut, majority, reference.get("uniform_rate"), details),
                          explain.read_shortcuts(shortcut, majority, details))
    columns = st.columns(2)
    for index, profile in enumerate(tables.confounder_profiles(confounders, opened.classes)):
        with columns[index % 2]:
            components.figure(figures.feature_by_class_figure(classes=opened.classes, **profile))


st.title("Zero-shot autopsy")
ref, opened = components.require_bundle()
models = zeroshot_models(opened.approaches)
if not models:
    components.missing(opened.manifest, ref, "zeroshot")
    confounders_panel(ref, opened)
    st.stop()
model = st.selectbox("CLIP model", list(models), key="autopsy_model") if len(models) > 1 else next(iter(models))
records = models[model]
best_record = max(records, key=lambda record: record["metrics"]["accuracy"])
reference = opened.manifest.get("reference", {})
headline(records, reference)
autopsy = loaders.diagnostics(ref, f"autopsy:{model}")
if not autopsy:
    components.missing(opened.manifest, ref, "autopsy")
    calibration_panel({}, best_record, opened.classes)
else:
    prompt_panel(autopsy, reference)
    distribution_panel(autopsy, opened.classes)
    embedding_space_panel(autopsy, opened.classes)
    calibration_panel(autopsy, best_record, opened.classes)
    joint_map_panel(ref, opened, autopsy, best_record)
confounders_panel(ref, opened)
