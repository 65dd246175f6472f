"""UI pieces shared by the pages: the bundle picker, notices, figures with their reading, image cards."""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import socket
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.core import escape
from analysis.present import demo_story, explain, figures
from analysis.core import tables, weights
from analysis.core.bundle import MANIFEST, Bundle, BundleError, file_stem
from dashboard import chart, dense_gallery, full_view, loaders
from dashboard.badges import class_badge  # noqa: F401  (used by the pages too)
from dashboard.loaders import BundleRef

log = logging.getLogger(__name__)
BUNDLE_KEY = "bundle_path"  # the chosen bundle, shared by every page
EXTRA_BUNDLES_KEY = "bundle_opened_by_path"  # bundles opened by URL or typed path, kept as choices
TYPED_ERROR_KEY = "bundle_typed_error"
# Widget arguments that keep a widget's value across pages and write it to the URL query under its
# key, so that a link reopens the same view (Streamlit's own binding; no copy of the state by hand).
KEPT = dict(bind="query-params", persist_state="session")
HOSTS_VARIABLE = "CORNLENS_HOSTS"  # more host names the dashboard answers for (comma-separated)
EVERY_INTERFACE = ("", "0.0.0.0", "::", "[::]")


# --- the bundle ----------------------------------------------------------------------------------

def allowed_host(host: str | None, environment: dict[str, str] | None = None) -> bool:
    """True when the ``Host`` header names this server: an IP address (a page cannot rebind one),
    ``localhost``, this machine's names, the address the server was told to listen on, or a name in
    ``$CORNLENS_HOSTS``. A page of another site whose name was made to resolve to this machine (DNS
    rebinding) sends its own name and is refused."""
    if not host:
        return True  # no header: not a browser (Streamlit's own test harness)
    environment = os.environ if environment is None else environment
    name = host.strip().lower()
    name = name[1:name.find("]")] if name.startswith("[") else name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    names = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower(),
             str(st.get_option("server.address") or "").lower()}
    names |= {part.strip().lower() for part in environment.get(HOSTS_VARIABLE, "").split(",") if part.strip()}
    return name in names or name.endswith(".localhost")


def host_guard() -> None:
    """Stop the page when the browser asked for another host name than this server's (see :func:`allowed_host`)."""
    host = st.context.headers.get("Host") if st.context.headers is not None else None
    if not allowed_host(host):
        log.warning("refused a page for host %r (not one of this server's names; %s adds names)", host, HOSTS_VARIABLE)
        st.error(f"This dashboard does not answer for the host name {escape.markdown_code(host)}. Open it by this "
                 f"machine's name or address, or start it with {HOSTS_VARIABLE}=that-name.", icon=":material/block:")
        st.stop()


# Streamlit draws a shimmering grey box where an element's code is still loading (every chart waits for
# the 4.7 MB plotly bundle on a tab's first visit). Each frame of the shimmer repaints the page: in a
# browser that draws in software (no GPU: a server, a virtual machine) it took 0.4-0.8 s of a chart
# page's first visit on 2 cores (benchmarks/bench_dashboard_browser.py). The box stays, grey and still.
STILL_PLACEHOLDERS = "<style>[data-testid='stSkeleton'] { animation: none !important; }</style>"


def still_placeholders() -> None:
    """Placeholders that do not shimmer (:data:`STILL_PLACEHOLDERS`); a style only, it takes no room."""
    st.html(STILL_PLACEHOLDERS)


def exposure_notice() -> None:
    """Warn when the server listens on every network interface without anyone having asked for it:
    started outside the project folder, streamlit does not read its ``.streamlit/config.toml``; or
    the address came from the environment (``STREAMLIT_SERVER_ADDRESS``), not from a flag."""
    address = st.get_option("server.address")
    from_environment = os.environ.get("STREAMLIT_SERVER_ADDRESS")
    if address in EVERY_INTERFACE and from_environment is not None and from_environment == address:
        st.warning("**This dashboard can be reached from other machines.** It listens on every network interface "
                   f"because the environment sets STREAMLIT_SERVER_ADDRESS={escape.markdown_text(from_environment)}. "
                   "Unset it, or restart with `--server.address localhost`, unless you mean to share it (README: "
                   "“Sharing the dashboard”).", icon=":material/public:")
    elif not address:
        st.warning("**This dashboard can be reached from other machines.** It was started outside the CornLens "
                   "folder, so its `.streamlit/config.toml` (`server.address = \"localhost\"`) was not read. "
                   "Restart it with `--server.address localhost` unless you mean to share it (README: "
                   "“Sharing the dashboard”).", icon=":material/public:")


def bundle_picker() -> str | None:
    """Sidebar: choose a bundle under the results folder (newest first) or type a path; the choice
    is written to the URL (``?bundle=PATH``) so a link reopens the same bundle.

    The first choice comes from ``?bundle=PATH``, then ``$CORNLENS_BUNDLE``, then the newest bundle.
    """
    exposure_notice()
    asked = st.query_params.get("bundle") or os.environ.get(loaders.BUNDLE_VARIABLE)
    if asked:
        try:  # confined first: a refusal names the folder as given, never where it resolves to
            asked = str(loaders.confined(asked))
        except BundleError as error:
            st.error(f"This bundle cannot be opened.\n\n{escape.markdown_text(error)}", icon=":material/error:")
            st.stop()
    extra = st.session_state.setdefault(EXTRA_BUNDLES_KEY, [])
    if asked and asked not in extra:
        extra.append(asked)
    options = known_bundles()
    if asked in options and st.session_state.get("bundle_choice") not in options:
        st.session_state["bundle_choice"] = asked
    with st.sidebar:
        st.markdown("**Results bundle**")
        path = None
        if options:
            path = st.selectbox("Bundle", options, format_func=lambda option: Path(option).name, key="bundle_choice",
                                help=f"Bundles found in {loaders.results_folder()}, newest first, then the ones "
                                     "opened by path.")
            st.caption(f"Showing {escape.markdown_code(path)} · {escape.markdown_text(describe(path))}")
        st.text_input("…or open a bundle folder", key="bundle_typed", placeholder="/path/to/bundle",
                      on_change=open_typed_bundle, help="Any bundle folder written by `python -m analysis run`.")
        if st.session_state.get(TYPED_ERROR_KEY):
            st.error(escape.markdown_text(st.session_state[TYPED_ERROR_KEY]), icon=":material/error:")
    st.session_state[BUNDLE_KEY] = path
    if path and st.query_params.get("bundle") != path:
        st.query_params["bundle"] = path
    return path


def known_bundles() -> list[str]:
    """The bundles this session can choose from: those under the results folder (newest first), then
    those opened by path or URL."""
    found = [str(path.resolve()) for path in loaders.find_bundles(loaders.results_folder())]
    return found + [path for path in st.session_state.get(EXTRA_BUNDLES_KEY, []) if path not in found]


def typed_bundle(typed: str) -> str:
    """The bundle folder a person typed, resolved and remembered among :func:`known_bundles`; raises
    BundleError saying why not (outside the allowed folders, no bundle there)."""
    path = str(loaders.confined(typed))
    if not (Path(path) / MANIFEST).is_file():
        raise BundleError(f"No bundle at {typed} (no {MANIFEST} there).")
    extra = st.session_state.setdefault(EXTRA_BUNDLES_KEY, [])
    if path not in extra:
        extra.append(path)
    return path


def describe(path: str) -> str:
    """The line under the picker; for a folder this dashboard may not open, a pointer to the page's
    message (which names the variable that allows it) rather than a second, shorter copy of it."""
    try:
        loaders.confined(path)
    except BundleError:
        return "not opened: see the message on the page"
    return loaders.describe_bundle(path)


def open_typed_bundle() -> None:
    """Callback of the typed path: a bundle folder joins the choices and becomes the one shown."""
    typed = st.session_state.get("bundle_typed", "").strip()
    st.session_state[TYPED_ERROR_KEY] = None
    if not typed:
        return
    try:
        path = typed_bundle(typed)
    except BundleError as error:
        st.session_state[TYPED_ERROR_KEY] = f"{error} Still showing the bundle above."
        return
    st.session_state["bundle_choice"] = path
    st.session_state["bundle_typed"] = ""


def current_ref() -> BundleRef | None:
    """The chosen bundle's reference; None when no bundle is chosen. Raises BundleError when broken."""
    path = st.session_state.get(BUNDLE_KEY)
    return loaders.bundle_ref(path) if path else None


def start_text_tower() -> None:
    """Start loading the open bundle's CLIP text tower (``loaders.start_text_tower``: in a child
    process, once the pages have been quiet a moment) and its thumbnail index
    (``loaders.index_thumbnails``) in the background; a bundle that cannot be opened is left alone
    (its page says why)."""
    loaders.page_ran()
    try:
        ref = current_ref()
        if ref is not None:
            loaders.index_thumbnails(ref)
            loaders.start_text_tower(ref)
    except BundleError:
        pass


def require_bundle() -> tuple[BundleRef, Bundle]:
    """The chosen bundle, opened; otherwise a message (never a traceback) and the page stops."""
    try:
        ref = current_ref()
        if ref is None:
            st.info("No results bundle is open. Go to **Home** to build the demo bundle or choose one.")
            st.page_link("views/home.py", label="Home", icon=":material/home:")
            st.stop()
        opened = loaders.open_bundle(ref)
    except BundleError as error:
        st.error(f"This bundle cannot be opened.\n\n{escape.markdown_text(error)}")
        st.stop()
    demo_banner(ref, opened.manifest)
    return ref, opened


def demo_banner(ref: BundleRef, manifest: dict) -> None:
    """The banner at the top of every page: a demo bundle, and which models are not pretrained ones
    (:func:`analysis.core.weights.banner`), shown for every bundle with such a model; a demo whose CLIP
    was trained on planted captions adds each planted cause and whether the verdict found it."""
    def read(name: str) -> dict | None:
        try:
            return loaders.diagnostics(ref, name)
        except BundleError as error:  # a malformed verdict: its own panel says so; the banner goes without it
            log.warning("demo banner: %s", error)
            return None

    text = weights.banner(manifest)  # its names escaped
    told = demo_story.bundle_lines(manifest, read)
    if text or told:
        st.warning("\n".join([text, *(f"- {escape.markdown_text(line)}" if number else escape.markdown_text(line)
                                      for number, line in enumerate(told))]).strip(), icon=":material/science:")


def missing(manifest: dict, ref: BundleRef, *parts: str) -> None:
    """Say what is missing from the bundle and the command that adds it."""
    st.info(explain.missing_parts(manifest, ref.path, parts), icon=":material/info:")


def guarded(part: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run a page panel; if the bundle's data for it has an unexpected shape (a diagnostics file
    from another CornLens version, say: the read-time checks of ``analysis.core.records`` raise
    ``BundleError``), say so in place of the panel and keep the rest of the page. Any other error is
    a bug in CornLens and is not hidden."""
    def decorate(panel: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(panel)
        def run(*args, **kwargs) -> None:
            try:
                panel(*args, **kwargs)
            except BundleError as error:
                log.warning("panel %s: %s", panel.__name__, error)
                st.warning(f"The {part} in this bundle has an unexpected shape ({escape.markdown_text(error)}), "
                           "so it is not shown; the rest of the page is. Rebuilding the bundle with this CornLens "
                           "version fixes it.", icon=":material/warning:")
        return run
    return decorate


# --- figures ---------------------------------------------------------------------------------------

def markdown_table(table: pd.DataFrame, index: str | None = None, **options) -> None:
    """``st.table`` with every text cell, heading and index label escaped: st.table reads them as
    Markdown, and they come from a bundle. ``index`` names the column shown as the row labels."""
    def text(cell):
        return escape.markdown_text(cell) if isinstance(cell, str) else cell

    shown = table.map(text).rename(columns=lambda name: escape.markdown_text(str(name)))
    if index is not None:
        shown = shown.set_index(escape.markdown_text(index))
    else:
        options.setdefault("hide_index", True)
    st.table(shown, **options)


def markdown_grid(table: pd.DataFrame, formats: Mapping[str, str] | None = None) -> str:
    """``table`` as a Markdown table (every heading and text cell escaped, numbers right-aligned, a
    number of a column in ``formats`` written with that format, e.g. ``"{:.1%}"``; a missing one "—"),
    for ``st.markdown``: a few rows drawn at once, where ``st.table`` and ``st.dataframe`` first load
    0.7–1.2 MB of JavaScript (Arrow, the data grid, drawn on a canvas) in a tab that has not shown one yet."""
    formats = formats or {}

    def text(cell, column: str) -> str:  # numbers as they are; anything else (a name that is not a string too) escaped
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            return "—" if pd.isna(cell) else formats.get(column, "{}").format(cell)
        return escape.markdown_text(cell)

    numeric = [pd.api.types.is_numeric_dtype(table[column]) for column in table.columns]
    lines = ["| " + " | ".join(escape.markdown_text(str(column)) for column in table.columns) + " |",
             "|" + "|".join("---:" if number else "---" for number in numeric) + "|"]
    lines += ["| " + " | ".join(text(cell, column) for cell, column in zip(row, table.columns)) + " |"
              for row in table.itertuples(index=False)]
    return "\n".join(lines)


def figure(fig: go.Figure, reading: str = "", key: str | None = None) -> None:
    """A plotly figure (:func:`dashboard.chart.figure`: its own template, the look of the report too;
    every string drawn as text, so names from the bundle make no link) and, under it, the sentence
    that reads it."""
    chart.figure(fig, key=key)
    if reading:
        st.caption(reading)


def metric_row(record: dict) -> None:
    """Headline numbers of one approach."""
    scores = record.get("metrics", {})
    low, high = (scores.get("accuracy_ci") or [None, None])[:2]
    columns = st.columns(4)
    columns[0].metric("accuracy", f"{scores.get('accuracy', float('nan')):.1%}",
                      help="share of the held-out images classified correctly")
    if low is not None:
        columns[0].caption(f"95% interval {low:.1%} – {high:.1%}")
    columns[1].metric("balanced accuracy", f"{scores.get('balanced_accuracy', float('nan')):.1%}",
                      help="mean recall over the classes: answering one class always gives 1/number of classes")
    columns[2].metric("macro-F1", f"{scores.get('macro_f1', float('nan')):.3f}")
    columns[3].metric("wall time", tables.duration_text(record.get("wall_time_s")) or "—",
                      help=f"on {escape.markdown_text(record.get('device') or 'unknown device')}")


def approach_summary(ref: BundleRef, opened: Bundle, record: dict) -> None:
    """An approach page's head: the headline numbers, precision / recall / F1 per class, and its
    predictions and Kaggle submission (when the bundle holds one) to download."""
    metric_row(record)
    scores = tables.class_scores(record, opened.classes)
    left, right = st.columns([3, 1])
    if len(scores):
        left.markdown(markdown_grid(scores.rename(columns={"f1": "F1", "support": "images"}),
                                    {"precision": "{:.1%}", "recall": "{:.1%}", "F1": "{:.3f}"}))
        left.caption("images: held-out images of this class.")
    stem = file_stem(record["id"])
    with right:
        st.download_button("Predictions (CSV)", lambda: loaders.predictions_csv(ref, record["id"]),
                           file_name=f"predictions-{stem}.csv", mime="text/csv", icon=":material/download:",
                           key=f"download_predictions_{record['id']}", width="stretch",
                           help="every image this approach answered: id, path, true label, split, answer, "
                                "one probability per class")
        submission = loaders.submission_csv(ref, record["id"])
        if submission is not None:
            st.download_button("Kaggle submission (CSV)", submission, file_name=f"submission-{stem}.csv",
                               mime="text/csv", icon=":material/download:", key=f"download_submission_{record['id']}",
                               width="stretch", help="the competition's test images with this approach's answers, "
                                                     "ready to upload (submissions/ in the bundle)")


def approach_selector(label: str, approaches: list[dict], key: str, default: str | None = None,
                      container=st, **options) -> str:
    """A selectbox of approach ids shown by their readable labels, kept across pages and in the URL
    (``?KEY=label``; see ``KEPT``)."""
    labels = tables.approach_labels(approaches)
    ids = [record["id"] for record in approaches]
    index = ids.index(default) if default in ids else 0
    return container.selectbox(label, ids, index=index, format_func=labels.get, key=key, **KEPT, **options)


def require_approach(opened: Bundle, ref: BundleRef, kind: str, label: str, key: str) -> dict:
    """The approach of ``kind`` the page shows: a selectbox when the bundle has several; when it has
    none, say which command adds one and stop the page."""
    approaches = opened.approaches_of_kind(kind)
    if not approaches:
        missing(opened.manifest, ref, kind)
        st.stop()
    chosen = approach_selector(label, approaches, key) if len(approaches) > 1 else approaches[0]["id"]
    return opened.approach(chosen)


# --- images ----------------------------------------------------------------------------------------

# the map's selection and Compare's cards: four to a row, each approach's answer named on the card
NAMED_ANSWER_GRID = functools.partial(dense_gallery.compact_grid, per_row=4, every_answer=True)


@st.fragment
def paged_grid(rows: pd.DataFrame, ref: BundleRef, approach_ids: list[str], labels: dict[str, str],
               classes: list[str], key: str, per_page: int = 24, grid: Callable[..., None] = NAMED_ANSWER_GRID) -> None:
    """``grid`` (default :data:`NAMED_ANSWER_GRID`: every card drawn as one element) of one page of
    ``rows`` with a page selector above it. A fragment: turning a page or opening an image reruns
    only the grid, not the charts and filters above it."""
    loaders.page_ran()  # a click here is a person at work: the text tower's process starts later
    pages = tables.page_count(len(rows), per_page)
    page_key = f"{key}_page"
    full_view.remember_order(key, rows["image_id"].tolist())
    if st.session_state.get(page_key, 1) > pages:
        st.session_state[page_key] = 1
    left, right = st.columns([3, 2])
    with left:
        page = st.pagination(pages, key=page_key, max_visible_pages=7, **KEPT) if pages > 1 else 1
    first = (page - 1) * per_page
    right.caption(f"images {first + 1}–{min(first + per_page, len(rows))} of {len(rows)}" if len(rows) else "no images")
    grid(tables.page_of(rows, page, per_page), ref, approach_ids, labels, classes, key)
    full_view.show(ref, key)
