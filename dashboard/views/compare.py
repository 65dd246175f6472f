"""Compare approaches: scores side by side, per-class recall, confusion matrices on one scale,
agreement, and the images where two approaches disagree."""

from __future__ import annotations

import streamlit as st

from analysis import explain, figures, tables
from dashboard import components, loaders


def choose_approaches(approaches: list[dict], labels: dict[str, str]) -> list[dict]:
    ids = [record["id"] for record in approaches]
    representative = tables.representative_approaches(approaches)
    if len(representative) < 2:  # one model so far: compare it with the baselines
        representative += [record for record in approaches if record["kind"] == "baseline"]
    default = [record["id"] for record in representative]
    chosen = st.multiselect("Approaches to compare", ids, default=default, format_func=labels.get,
                            key="compare_approaches", persist_state="session")
    return [record for record in approaches if record["id"] in chosen]


@components.guarded("approach metrics")
def scores_panel(chosen: list[dict], reference: dict, classes: list[str]) -> None:
    left, right = st.columns(2)
    with left:
        components.figure(figures.metrics_comparison_figure(tables.metrics_table(chosen), reference.get("majority_rate"),
                                                            reference.get("uniform_rate")))
    with right:
        components.figure(figures.per_class_recall_figure(tables.per_class_table(chosen, classes), classes))


@components.guarded("confusion matrices")
def confusion_panel(chosen: list[dict], classes: list[str]) -> None:
    st.subheader("Confusion matrices on one scale")
    short = tables.approach_labels(chosen, short=True)
    matrices = {short[r["id"]]: r["metrics"]["confusion_matrix"] for r in chosen if r["metrics"].get("confusion_matrix")}
    if matrices:
        place = st.columns(2)[0] if len(matrices) == 1 else st.container()  # one matrix need not fill the page
        with place:
            components.figure(figures.confusion_grid_figure(matrices, classes, columns=min(3, len(matrices))),
                              "Colour: share of each true class (rows sum to 100%); numbers: images.")


@components.guarded("agreement diagnostics")
def agreement_panel(ref, opened, labels: dict[str, str]) -> None:
    st.subheader("Agreement")
    agreement = loaders.diagnostics(ref, "agreement")
    if not agreement:
        components.missing(opened.manifest, ref, "agreement")
        return
    known = [opened.approach(approach_id) for approach_id in agreement.get("approaches", [])
             if any(record["id"] == approach_id for record in opened.approaches)]
    table = tables.agreement_table(agreement, labels | tables.approach_labels(known, short=True))
    st.markdown(explain.read_agreement(agreement))
    st.dataframe(table, hide_index=True, width="stretch", height=38 + 35 * min(len(table), 12),
                 column_config={"images": st.column_config.NumberColumn("images", help="held-out images with this pattern"),
                                "share": st.column_config.NumberColumn("share", format="percent")})
    st.caption(f"{tables.RIGHT} right, {tables.WRONG} wrong; one row per pattern of right and wrong answers, "
               "most frequent first.")
    all_wrong = list(agreement.get("all_wrong", []))
    if all_wrong:
        with st.expander(f"The {len(all_wrong)} images every approach gets wrong"):
            scored = loaders.scored_images(ref)
            shown = tables.representative_approaches(opened.approaches)
            components.paged_grid(scored[scored["image_id"].isin(all_wrong)], ref, [r["id"] for r in shown],
                                  tables.approach_labels(shown, short=True), opened.classes, key="compare_all_wrong",
                                  per_page=12)
    problems = tables.label_problems_table(loaders.diagnostics(ref, "label_problems"))
    if len(problems):
        st.markdown(f"**Possible label problems** ({len(problems)}): duplicate images, conflicting labels and "
                    "images no approach gets right.")
        st.dataframe(problems, hide_index=True, width="stretch", height=38 + 35 * min(len(problems), 10))


def disagreement_panel(ref, opened, approaches: list[dict], labels: dict[str, str]) -> None:
    st.subheader("Where two approaches disagree")
    if len(approaches) < 2:
        st.info("Two approaches are needed; this bundle has one.")
        return
    ranked = sorted(approaches, key=lambda record: -record["metrics"]["accuracy"])
    zeroshot = [record for record in ranked if record["kind"] == "zeroshot"]
    left, middle, right = st.columns([2, 2, 2])
    first = components.approach_selector("First approach", ranked, "compare_first",
                                         default=ranked[0]["id"], container=left)
    second = components.approach_selector("Second approach", ranked, "compare_second",
                                          default=(zeroshot[0] if zeroshot else ranked[1])["id"], container=middle)
    if first == second:
        st.info("Pick two different approaches.")
        return
    scored = loaders.scored_images(ref)
    rows = tables.disagreements(scored, first, second)
    show = right.radio("Show images where", ["either is right", "only the first is right", "only the second is right",
                                              "neither is right"], key="compare_right", horizontal=False)
    wanted = {"only the first is right": first, "only the second is right": second, "neither is right": "neither"}.get(show)
    st.markdown(explain.read_disagreement(rows, first, second, labels))
    shown = rows if wanted is None else rows[rows["right"] == wanted]
    if shown.empty:
        st.caption("No images match.")
        return
    card_labels = tables.approach_labels([opened.approach(first), opened.approach(second)], short=True)
    components.paged_grid(shown, ref, [first, second], card_labels, opened.classes, key="compare", per_page=16)


st.title("Compare approaches")
ref, opened = components.require_bundle()
if not opened.approaches:
    components.missing(opened.manifest, ref, "approaches")
    st.stop()
all_labels = tables.approach_labels(opened.approaches)
chosen = choose_approaches(opened.approaches, all_labels)
if chosen:
    scores_panel(chosen, opened.manifest.get("reference", {}), opened.classes)
    confusion_panel(chosen, opened.classes)
agreement_panel(ref, opened, all_labels)
disagreement_panel(ref, opened, [r for r in opened.approaches if r["kind"] != "baseline"] or opened.approaches, all_labels)
