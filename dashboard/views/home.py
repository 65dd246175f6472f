"""Home: which bundle, how every approach scores against the baselines and the published leaderboard."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.core import background, escape, runfile, tables
from analysis.present import panels
from analysis.data import split as split_module
from analysis.core.bundle import BundleError
from dashboard import components, loaders
from dashboard import panels as page_panels

PAGE_GUIDE = (
    ("views/autopsy.py", "Zero-shot autopsy", "why zero-shot CLIP fails: prompts, modality gap, calibration"),
    ("views/probe.py", "Linear probe", "what a logistic regression on the same features buys"),
    ("views/convnext.py", "ConvNeXt", "training curves and errors of the fine-tuned network"),
    ("views/compare.py", "Compare approaches", "side by side, and the images where two approaches disagree"),
    ("views/embedding_map.py", "Embedding map", "the images in 2-D; select points to see them"),
    ("views/gallery.py", "Misclassified gallery", "every wrong answer, filterable, with its image"),
    ("views/label_problems.py", "Label problems", "identical images with conflicting labels, side by side"),
    ("views/search.py", "Text search", "type a phrase, see the images CLIP finds closest to it"),
    ("views/report.py", "Report", "a shareable HTML / Markdown report"),
)


def demo_target() -> Path:
    return loaders.results_folder() / "demo"


def build_demo_panel() -> None:
    """No bundle anywhere: offer to build the demo bundle in a child process."""
    st.info(f"No results bundle was found in {escape.markdown_code(loaders.results_folder())}.\n\n"
            "Build the **demo bundle** (synthetic kernels, a tiny CLIP trained on synthetic captions; a few minutes, "
            "no data or network needed), type the path of a bundle in the sidebar, or build one from your data with "
            "`python -m analysis run --data DIR --out BUNDLE --clip MODEL:PRETRAINED`.", icon=":material/info:")
    job = loaders.background_runs().get(str(demo_target()))
    if (job is None or not job.running) and st.button("Build the demo bundle", type="primary",
                                                      icon=":material/play_arrow:", key="home_build_demo"):
        loaders.background_runs()[str(demo_target())] = background.start_demo(demo_target())
        st.rerun()


def demo_build_status() -> None:
    """A running demo build's progress, or a failed one's output, above whatever bundle is open."""
    job = loaders.background_runs().get(str(demo_target()))
    if job is None:
        return
    if job.running or job.succeeded:
        demo_progress(str(demo_target()))
    else:
        st.error("The demo bundle could not be built:\n\n```\n" + "\n".join(job.progress_lines(12)) + "\n```",
                 icon=":material/error:")


@st.fragment(run_every=2)
def demo_progress(target: str) -> None:
    """The demo build's latest output, refreshed every 2 s; the rest of the app stays usable."""
    job = loaders.background_runs().get(target)
    if job is not None and job.running:
        with st.status(f"Building the demo bundle… {job.seconds:.0f} s", expanded=True):
            st.code("\n".join(job.progress_lines()) or "starting…", language=None)
        st.caption(f"`{' '.join(job.command[1:])}` runs in the background (output in `{job.log_path}`); "
                   "the other pages stay usable meanwhile, and show the bundle as its parts are written.")
        return
    loaders.background_runs().pop(target, None)  # finished: the picker lists the new bundle, newest first
    st.rerun()


def bundle_facts(opened) -> None:
    manifest = opened.manifest
    dataset, split = manifest.get("dataset", {}), manifest.get("split", {})
    counts = dataset.get("counts", {})
    total = sum(counts.values()) or 1
    shares = ", ".join(f"{name} {counts.get(name, 0) / total:.0%}" for name in opened.classes)
    text = escape.markdown_text
    st.markdown(f"**Bundle** {escape.markdown_code(opened.path)} · created "
                f"{text(str(manifest.get('created', '?'))[:16].replace('T', ' '))}  \n"
                f"**Data** {escape.markdown_code(dataset.get('root', '?'))} ({text(dataset.get('layout', '?'))} layout): "
                f"{text(dataset.get('n_labelled', '?'))} labelled images ({text(shares)}), "
                f"{text(dataset.get('n_unlabelled', 0))} unlabelled test images  \n"
                f"**Split** {text(split.get('counts', {}).get('eval', '?'))} held-out images scored by every approach "
                f"({text(split_module.method_text(split))}), "
                f"{text(split.get('counts', {}).get('train', '?'))} for training ({text(split.get('n_folds', '?'))} "
                f"folds, grouped by {text(', '.join(map(str, split.get('grouped_by', []))) or '—')}, "
                f"seed {text(split.get('seed', '?'))})")


def made_with_panel(opened) -> None:
    """The command(s) that made this bundle, ready to copy, and each as a run file."""
    made = runfile.runs(opened.manifest)
    if not made:
        st.caption("Made with: not recorded (this bundle was made before CornLens recorded its commands).")
        return
    st.markdown("**Made with**" + (f" {len(made)} commands, in this order" if len(made) > 1 else ""))
    for entry in made:
        st.code(entry["command"], language="bash", wrap_lines=True)
    runs = [entry for entry in made if entry.get("name") == "run"]
    if runs:
        with st.expander("The same as a run file (`python -m analysis run --config FILE.toml`)"):
            for entry in runs:
                st.code(runfile.to_toml(entry["config"]), language="toml")


def headline_panel(opened, ref) -> None:
    """The headline table: approaches, reference rates, published leaderboard."""
    data = page_panels.home_data(ref, opened)
    table = data.table
    st.subheader("Headline")
    page_panels.show(panels.HOME_PANELS, data, ref, opened.manifest, key="home")
    # A static table: long approach names wrap instead of being cut, and every header shows whole.
    components.markdown_table(tables.headline_display(table), index="approach")
    st.caption("Accuracy: share of the held-out images classified correctly, with its 95% bootstrap interval (whole "
               "groups of images resampled); rows in the ladder's order, not ranked by held-out score; balanced "
               "accuracy: mean recall over the classes; wall time: fitting and scoring, on the device the approach ran "
               "on. Published rows are the Kaggle “It's Corn” leaderboard (accuracy on the competition's own test set, "
               "public / private part); they are not computed from this bundle.")


def missing_parts(opened, ref) -> None:
    if not opened.approaches:  # the headline panel says so
        return
    kinds = {record["kind"] for record in opened.approaches}
    absent = [kind for kind in ("zeroshot", "probe", "finetune") if kind not in kinds]
    if absent:
        components.missing(opened.manifest, ref, *absent)


def page_guide() -> None:
    st.subheader("Where to look next")
    for path, title, what in PAGE_GUIDE:
        st.page_link(path, label=f"**{title}** — {what}")


st.title("CornLens")
st.markdown("*Does zero-shot CLIP work on my images — and if not, why? And what do a linear probe and a fine-tuned "
            "ConvNeXt buy instead?*")
try:
    ref = components.current_ref()
    opened = loaders.open_bundle(ref) if ref else None
except BundleError as error:
    st.error(f"This bundle cannot be opened.\n\n{escape.markdown_text(error)}", icon=":material/error:")
    st.stop()
demo_build_status()
if opened is None:
    build_demo_panel()
    st.stop()
components.demo_banner(ref, opened.manifest)
bundle_facts(opened)
made_with_panel(opened)
verdict = page_panels.verdict_data(ref, opened)
if verdict.diagnostics:  # written after the approaches by `run`
    st.subheader("Verdict")
    page_panels.show(panels.VERDICT_PANELS, verdict, ref, opened.manifest, key="verdict")
headline_panel(opened, ref)
missing_parts(opened, ref)
page_guide()
