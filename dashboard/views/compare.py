"""Compare approaches: scores side by side, per-class recall, confusion matrices on one scale,
agreement, and the images where two approaches disagree; with approaches of other bundles of the
same images and split beside this bundle's."""

from __future__ import annotations

import streamlit as st

from analysis.core import escape, records, side_by_side, tables
from analysis.stats import approach_agreement
from analysis.present import explain, panels
from dashboard import components, loaders, other_bundles
from dashboard import panels as page_panels


def choose_approaches(approaches: list[dict], labels: dict[str, str], preset: bool = False) -> list[dict]:
    """The approaches picker; ``preset``: its value was just set in the session state (no default then)."""
    ids = [record["id"] for record in approaches]
    default = None if preset else [record["id"] for record in side_by_side.representative_by_bundle(approaches)]
    chosen = st.multiselect("Approaches to compare", ids, default=default, format_func=labels.get,
                            key="compare_approaches", **components.KEPT)
    return [record for record in approaches if record["id"] in chosen]


@components.guarded("agreement")
def agreement_panel(ref, opened, chosen: list[dict]) -> None:
    if len(chosen) < 2:
        st.info("Choose two or more approaches above to see where they agree.")
        return
    ids = [record["id"] for record in chosen]
    scored = loaders.scored_images(ref)
    found = approach_agreement.agreement_of(scored, ids)
    short = tables.approach_labels(chosen, short=True)
    table = tables.agreement_table(found, short)
    st.markdown(explain.read_agreement(found, chosen=True))
    st.dataframe(table, hide_index=True, width="stretch", height=38 + 35 * min(len(table), 12),
                 column_config={"images": st.column_config.NumberColumn("images", help="held-out images with this pattern"),
                                "share": st.column_config.NumberColumn("share", format="percent")})
    st.caption(f"{tables.RIGHT} right, {tables.WRONG} wrong under the {len(ids)} approaches chosen above; one row per "
               "pattern of right and wrong answers, most frequent first.")
    all_wrong = found["all_wrong"]
    stored = loaders.diagnostics(ref, "agreement") or {}
    if set(ids) == set(stored.get("approaches") or []):
        st.caption(f"{escape.markdown_text(approach_agreement.missed_sentence(len(all_wrong), list(short.values())))}: the same set as on "
                   "Label problems and in the report.")
    else:
        st.caption(f"{len(all_wrong)} held-out images are missed by every approach chosen here; "
                   f"{len(stored.get('all_wrong') or [])} are {approach_agreement.MISSED} ({len(stored.get('approaches') or [])} "
                   "approaches, the count on Label problems and in the report).")
    if all_wrong:
        with st.expander(f"The {len(all_wrong)} images every chosen approach gets wrong"):
            components.paged_grid(scored[scored["image_id"].isin(all_wrong)], ref, ids, short, opened.classes,
                                  key="compare_all_wrong", per_page=12)
    problems = loaders.diagnostics(ref, "label_problems")
    if problems and problems.get("rows"):
        st.markdown(f"**{len(problems['rows'])} possible label problems** in this bundle: identical images, "
                    "conflicting labels and images no approach gets right.")
        st.page_link("views/label_problems.py", label="See them side by side on the Label problems page",
                     icon=":material/image_search:")


def disagreement_panel(ref, opened, approaches: list[dict], labels: dict[str, str]) -> None:
    if len(approaches) < 2:
        st.info("Two approaches are needed; this bundle has one.")
        return
    # the headline's approach against the zero-shot run chosen on train: chosen on the training part, never
    # by held-out score
    first_default = records.headline_approach(approaches)[0] or approaches[0]
    others = [record for record in approaches if record["id"] != first_default["id"]]
    zeroshot = max(records.best_per_model(others, records.ZEROSHOT).values(), key=records.choice_accuracy, default=None)
    left, middle, right = st.columns([2, 2, 2])
    first = components.approach_selector("First approach", approaches, "compare_first",
                                         default=first_default["id"], container=left)
    second = components.approach_selector("Second approach", approaches, "compare_second",
                                          default=(zeroshot or others[0])["id"], container=middle)
    if first == second:
        st.info("Pick two different approaches.")
        return
    scored = loaders.scored_images(ref)
    rows = tables.disagreements(scored, first, second)
    show = right.radio("Show images where", ["either is right", "only the first is right", "only the second is right",
                                              "neither is right"], key="compare_right", horizontal=False,
                      **components.KEPT)
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
ref = other_bundles.picker(ref)  # the bundle with the comparable other bundles' approaches
opened = loaders.open_bundle(ref)
preset = other_bundles.select_added(opened, "compare_approaches")
if not opened.approaches:
    components.missing(opened.manifest, ref, "approaches")
    st.stop()
all_labels = tables.approach_labels(opened.approaches)
chosen = choose_approaches(opened.approaches, all_labels, preset)
# The scores side by side are drawn at once; every other section (the figures and readings of
# analysis.present.panels.COMPARE_PANELS, as in the report, then agreement and disagreements) when opened.
if chosen:
    key = ("compare", tuple(record["id"] for record in chosen))
    page_panels.show(panels.COMPARE_PANELS, page_panels.page_data(
        ref, key, lambda: panels.compare_data(page_panels.LoaderSource(ref, opened), chosen)), ref, opened.manifest, key,
        open_headings=(), sections="compare")  # a section stays open when the chosen approaches change
if section := page_panels.closed_section("compare", "Agreement"):
    with section:
        agreement_panel(ref, opened, chosen)
if section := page_panels.closed_section("compare", "Where two approaches disagree"):
    with section:
        disagreement_panel(ref, opened, opened.approaches, all_labels)
