"""Label problems: identical images with conflicting labels, leaks, copies and the images every
approach contradicts, shown as pictures side by side with their labels and splits; exportable."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.core import escape
from analysis.present import figures, label_review
from analysis.core import tables
from analysis.stats import approach_agreement
from dashboard import components, full_view, loaders
from dashboard import panels as page_panels

GROUPS_PER_PAGE = 24
PER_ROW = 4
THUMB_PX = 120


def problem_filter(counts: dict[str, int]) -> list[str]:
    """Which kinds of problem to show (all by default)."""
    return st.pills("Show", list(counts), selection_mode="multi", default=list(counts), key="problems_kinds",
                    format_func=lambda name: escape.markdown_text(f"{label_review.PROBLEM_NAMES.get(name, name)} ({counts[name]})"),
                    **components.KEPT)


def group_key(group: dict) -> str:
    """The list a group's full-size view steps through: the group's own images."""
    return f"problems_{group['number']}"


def export_button(ref, groups: list[dict]) -> None:
    st.download_button("Download as CSV (one row per image)", lambda: label_review.problems_csv(groups),  # on click
                       file_name=f"label-problems-{Path(ref.path).name}.csv", mime="text/csv",
                       icon=":material/download:", key="problems_csv")


def member_tile(ref, group: dict, member, colours: dict[str, str], thumbs: dict[str, str]) -> None:
    """One image of a problem: thumbnail, label badge, split, id and its full-size button."""
    if thumbs.get(member.image_id):
        st.image(thumbs[member.image_id], width=THUMB_PX)
    else:
        st.caption("no thumbnail")
    st.markdown(f"{components.class_badge(member.label, colours)} · {escape.markdown_text(str(member.split))}"
                f"<br><span style='font-size:0.8em'>{escape.markup_text(str(member.image_id))}</span>",
                unsafe_allow_html=True)
    st.button("Full size", key=f"problems_open_{group['number']}_{member.image_id}", icon=":material/open_in_full:",
              on_click=full_view.open_image, args=(group_key(group), member.image_id))


def group_card(ref, group: dict, colours: dict[str, str], thumbs: dict[str, str]) -> None:
    """One problem: its pictures side by side, each with its label and split, and what is wrong."""
    with st.container(border=True):
        st.markdown(f"**{group['number']}. {escape.markdown_text(group['name'])}** — {escape.markdown_text(group['detail'])}")
        members = list(group["images"].itertuples())
        for start in range(0, len(members), PER_ROW):
            for column, member in zip(st.columns(PER_ROW), members[start:start + PER_ROW]):
                with column:
                    member_tile(ref, group, member, colours, thumbs)


def single_cards(ref, groups: list[dict], colours: dict[str, str], thumbs: dict[str, str]) -> None:
    """Problems of one image each (every approach contradicts its label), several to a row."""
    for start in range(0, len(groups), PER_ROW):
        for column, group in zip(st.columns(PER_ROW), groups[start:start + PER_ROW]):
            with column, st.container(border=True):
                st.markdown(f"**{group['number']}.** {escape.markdown_text(group['detail'])}")
                member_tile(ref, group, next(group["images"].itertuples()), colours, thumbs)


def groups_panel(ref, opened, groups: list[dict]) -> None:
    pages = tables.page_count(len(groups), GROUPS_PER_PAGE)
    page = st.pagination(pages, key="problems_page", **components.KEPT) if pages > 1 else 1
    colours = figures.class_colours(opened.classes)
    shown = groups[(page - 1) * GROUPS_PER_PAGE: page * GROUPS_PER_PAGE]
    thumbs = loaders.thumbnails(ref, [image_id for group in shown for image_id in group["images"]["image_id"]])
    pairs, singles = [g for g in shown if len(g["images"]) > 1], [g for g in shown if len(g["images"]) == 1]
    for group in pairs:
        group_card(ref, group, colours, thumbs)
    if singles:
        st.markdown(f"**{label_review.PROBLEM_NAMES['all_wrong'].capitalize()}**" if all(
            g["problem"] == "all_wrong" for g in singles) else "**Single images**")
        single_cards(ref, singles, colours, thumbs)
    for group in shown:
        full_view.remember_order(group_key(group), group["images"]["image_id"].tolist())
        full_view.show(ref, group_key(group))


st.title("Label problems")
ref, opened = components.require_bundle()
diagnostics = loaders.diagnostics(ref, "label_problems")
if diagnostics is None:
    components.missing(opened.manifest, ref, "agreement")
    st.stop()
groups = page_panels.page_data(ref, ("label_problems",), lambda: label_review.problem_groups(diagnostics, opened.images()))
if not groups:
    st.success("No label problems found: no identical images, and every held-out image is right under some approach.")
    st.stop()
counts = label_review.problem_counts(groups)
identical = sum(count for name, count in counts.items() if name != "all_wrong")
st.markdown(f"**{identical} groups of identical files** (with conflicting or equal labels, or on both sides of the "
            f"split) and **{counts.get('all_wrong', 0)} held-out images {approach_agreement.MISSED}** "
            f"({len(diagnostics.get('approaches') or [])} approaches; the same count as in the report, and on Compare "
            "beside its own choice). Judge each from its pictures; the CSV lists every image with its path, label and "
            "split for a relabelling pass.")
kinds = problem_filter(counts)
shown = [{**group, "number": number} for number, group in  # numbered as shown, from 1 after a filter
         enumerate((group for group in groups if group["problem"] in kinds), start=1)]
export_button(ref, shown)
groups_panel(ref, opened, shown)
