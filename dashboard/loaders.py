"""Cached readers of bundle files: the only place the dashboard caches anything.

Every loader takes a :class:`BundleRef` — the bundle's path plus a version stamp taken from the
modification times of its manifest and diagnostics folder — so a bundle that `python -m analysis
run` completes while the dashboard is open is read again, and an unchanged one is read once.
Large tables are shared between sessions (``st.cache_resource``) and must be treated as read-only.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Iterable, NamedTuple

import pandas as pd
import streamlit as st

from analysis.core import background, escape
from analysis.core import bundle as bundle_module
from analysis.core import side_by_side
from analysis.core import confinement
from analysis.present import explain
from analysis.present import map_canvas_data
from analysis.stats import neighbours
from analysis.present import report as report_module
from analysis.core import tables, thumbnail_index
from analysis.core.bundle import MANIFEST, Bundle, BundleError
from analysis.models import texttower, tower_process
from analysis.core.paths import DEFAULT_RESULTS

RESULTS_VARIABLE = confinement.RESULTS_VARIABLE  # folder of bundles to list (default: the project's results/)
BUNDLE_VARIABLE = confinement.BUNDLE_VARIABLE    # bundle to open first (a `?bundle=PATH` query parameter wins)


class BundleRef(NamedTuple):
    """A bundle path and a stamp that changes whenever the bundle is rewritten; ``others``: bundles
    whose approaches are shown beside this one's (:mod:`analysis.core.side_by_side`; the Compare page), part of
    every cache key."""

    path: str
    version: int
    others: tuple["BundleRef", ...] = ()

    def alone(self) -> "BundleRef":
        """This bundle without the others (its own data: thumbnails, maps, embeddings)."""
        return self._replace(others=())


def results_folder() -> Path:
    return Path(os.environ.get(RESULTS_VARIABLE) or DEFAULT_RESULTS).expanduser()


def find_bundles(folder: Path) -> list[Path]:
    """Bundles directly under ``folder`` (folders with a manifest), newest first."""
    if not folder.is_dir():
        return []
    found = [child for child in folder.iterdir() if (child / MANIFEST).is_file()]
    return sorted(found, key=lambda child: (child / MANIFEST).stat().st_mtime, reverse=True)


def confined(path: str | Path) -> Path:
    """``path`` resolved, when the dashboard may open it (:func:`analysis.core.confinement.allowed_roots`);
    otherwise a BundleError naming the variables that allow more."""
    try:
        return confinement.confine(path, confinement.allowed_roots(results_folder()))
    except confinement.OutsideRootsError as error:
        raise BundleError(str(error)) from error


def bundle_ref(path: str | Path) -> BundleRef:
    """The reference of the bundle at ``path``; raises BundleError when there is no bundle there
    or the dashboard may not open it (:func:`confined`)."""
    folder = confined(path)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        bundle_module.read_manifest(folder)  # raises the foundation's message for this case
    diagnostics = folder / bundle_module.DIAGNOSTICS
    version = manifest.stat().st_mtime_ns + (diagnostics.stat().st_mtime_ns if diagnostics.is_dir() else 0)
    return BundleRef(str(folder), version)


def describe_bundle(path: str | Path) -> str:
    """A line under the bundle picker: creation date, number of approaches, demo flag."""
    try:
        path = confined(path)
    except BundleError:
        return "outside the folders this dashboard may open"
    try:
        manifest = bundle_module.read_manifest(path)
        created = str(manifest.get("created", ""))[:16].replace("T", " ")
        demo = " · demo" if manifest.get("demo") else ""
        return f"created {created} · {len(manifest.get('approaches', []))} approaches{demo}"
    except (OSError, ValueError, AttributeError, BundleError):
        return f"{Path(path).name} (unreadable)"


@st.cache_resource(show_spinner=False, max_entries=8)
def open_bundle(ref: BundleRef) -> Bundle:
    """The validated bundle (raises BundleError, which is not cached); with ``ref.others``, a
    :class:`~analysis.core.side_by_side.SideBySide` of it and them (checked with :func:`refusal` first)."""
    if ref.others:
        return side_by_side.SideBySide(open_bundle(ref.alone()), [open_bundle(other) for other in ref.others])
    return bundle_module.open_bundle(ref.path)


@st.cache_data(show_spinner="Checking the bundles match…", max_entries=32)
def refusal(ref: BundleRef, other: BundleRef) -> str | None:
    """Why ``other``'s approaches cannot be shown beside ``ref``'s (other images, split or labels:
    :func:`analysis.core.side_by_side.check_comparable`), or None when they can."""
    try:
        side_by_side.check_comparable(open_bundle(ref.alone()), open_bundle(other))
    except BundleError as error:
        return str(error)
    return None


@st.cache_resource(show_spinner="Reading predictions…", max_entries=4)
def scored_images(ref: BundleRef) -> pd.DataFrame:
    """``tables.scored_images`` of every approach: one row per held-out image."""
    opened = open_bundle(ref)
    predictions = {record["id"]: opened.predictions(record["id"]) for record in opened.approaches}
    return tables.scored_images(opened.images(), predictions, opened.classes)


@st.cache_resource(show_spinner="Reading predictions…", max_entries=4)
def predictions_by_image(ref: BundleRef) -> dict[str, pd.DataFrame]:
    """approach id → its predictions table indexed by ``image_id`` (every split it predicted)."""
    opened = open_bundle(ref)
    return {record["id"]: opened.predictions(record["id"]).set_index("image_id") for record in opened.approaches}


def thumbnails(ref: BundleRef, image_ids: Iterable[str]) -> dict[str, str]:
    """image id → its thumbnail as a ``data:`` URI (``st.image`` takes it as is), for the ``image_ids``
    that have one: only the thumbnails a page shows are read and kept, never the whole table
    (``Bundle.thumbnails``). Sent inside the page, a grid of 48 costs the browser no request per image
    (48 media-file fetches took ~0.5 s after a gallery click on 2 busy cores)."""
    ids = tuple(dict.fromkeys(str(image_id) for image_id in image_ids))
    return _thumbnails(ref.alone(), ids)  # with other bundles beside it: the first bundle's own, cached once


@st.cache_resource(show_spinner=False, max_entries=64)
def _thumbnails(ref: BundleRef, image_ids: tuple[str, ...]) -> dict[str, str]:
    return {image_id: thumbnail_index.data_uri(data) for image_id, data in open_bundle(ref).thumbnails(image_ids).items()}


@st.cache_resource(show_spinner="Reading the map…", max_entries=16)
def projection(ref: BundleRef, name: str) -> pd.DataFrame:
    """``projections/<name>.parquet`` (the first bundle's, with others beside it)."""
    if ref.others:  # one cached copy
        return projection(ref.alone(), name)
    return open_bundle(ref).projection(name)


@st.cache_resource(show_spinner="Reading the map…", max_entries=16)
def map_points(ref: BundleRef, name: str, approach_id: str | None, prompt_set: str | None = None) -> pd.DataFrame:
    """``tables.map_points`` of one projection, answers from ``approach_id``, class prompts of ``prompt_set``."""
    opened = open_bundle(ref)
    return tables.map_points(projection(ref, name), opened.images(), scored_images(ref), approach_id, prompt_set)


@st.cache_resource(show_spinner="Drawing the map…", max_entries=8)
def map_canvas(ref: BundleRef, name: str, colour_by: str, approach_id: str | None, prompt_set: str | None) -> dict:
    """``map_canvas_data`` of every point of a map (built once: a rerun after a selection only sends
    it again). Shared and read-only, like the tables."""
    opened = open_bundle(ref)
    return map_canvas_data.map_canvas_data(map_points(ref, name, approach_id, prompt_set), colour_by, opened.classes,
                                           method=tables.projection_method(opened.manifest, name))


@st.cache_data(show_spinner=False, max_entries=16)
def map_reading(ref: BundleRef, name: str, approach_id: str | None, prompt_set: str | None) -> str:
    """``explain.read_projection`` of a map."""
    return explain.read_projection(map_points(ref, name, approach_id, prompt_set))


@st.cache_data(show_spinner=False, max_entries=64)
def diagnostics(ref: BundleRef, name: str) -> dict | None:
    """The diagnostics named ``name``, or None when the bundle has none by that name."""
    opened = open_bundle(ref)
    return opened.diagnostics(name) if opened.has_diagnostics(name) else None


def full_image(ref: BundleRef, image_id: str) -> tuple[bytes | Path, bool]:
    """The image at full size when its file is reachable under ``dataset.root`` and is the one the
    bundle analysed (same content hash), else its thumbnail. A path that leads outside the dataset
    folder raises BundleError naming the row (:func:`analysis.core.confinement.dataset_image`).

    Returns:
        (the image file or thumbnail bytes, True when it is the full-size file)
    """
    opened = open_bundle(ref)
    rows = opened.images()
    positions = (rows["image_id"] == image_id).to_numpy().nonzero()[0]
    root = confinement.dataset_root(opened.path, opened.manifest.get("dataset", {}).get("root"))
    if root is not None and len(positions):
        row = rows.iloc[positions[0]]
        where = f"{Path(opened.path) / bundle_module.IMAGES} row {positions[0] + 1} (image_id {image_id!r})"
        try:
            candidate = confinement.dataset_image(root, row["path"], row.get("content_hash"), where)
        except confinement.UnsafePathError as error:
            raise BundleError(str(error)) from error
        if candidate is not None:
            return candidate, True
    return thumbnails(ref, [image_id]).get(image_id, b""), False


@st.cache_resource(show_spinner=False)
def background_runs() -> dict[str, background.BackgroundRun]:
    """Child processes started from the dashboard (bundle path → run), shared by every session so
    that a reload shows the running build instead of starting a second one."""
    return {}


@st.cache_resource(show_spinner="Indexing the embeddings…", max_entries=8)
def neighbour_index(ref: BundleRef, space: str) -> neighbours.NeighbourIndex:
    """Unit float32 rows of the embeddings ``space`` with the images' ids, labels and splits."""
    if ref.others:  # the first bundle's own embeddings: one cached index
        return neighbour_index(ref.alone(), space)
    opened = open_bundle(ref)
    return neighbours.build_index(space, opened.embeddings(space), opened.images())


_SEARCH_ASKED = threading.Event()  # the text search page wants a tower now: no more waiting
# A tower's process starts once no page has run for this long: even at the lowest priority, its imports
# (torch, open_clip: ~5 s of a core) made a first visit drawn meanwhile ~0.4 s slower on 2 cores. In its
# own process it no longer holds the server's interpreter, so a click made while it loads is not slowed
# as it was in a thread (the confusion click at 100,000 images: 0.50-0.87 s then, 0.47-0.49 s now, three
# runs each). The text search page asks for it at once.
PRELOAD_IDLE_S = 5.0
_LAST_PAGE_RUN = [time.monotonic()]


def page_ran() -> None:
    """Note that a page (or a gallery's or grid's fragment) has just run: the tower waits for a quiet moment."""
    _LAST_PAGE_RUN[0] = time.monotonic()


_ONE_LOAD = threading.Semaphore(1)  # one tower's process loads at a time: a new weights file or a retry waits


def tower_loading(source: texttower.TowerSource, weights_file: str) -> Future:
    """The CLIP text tower of ``source`` (``tower_process.RemoteTower``: it runs in a child process
    at the lowest priority, so torch never enters the server) or the message saying which weights
    file to pass, as a future: loaded once per server, model and checkpoint version (bundles built
    with the same weights share it; a checkpoint rewritten in place loads again), started by
    :func:`start_text_tower` when the server opens a bundle (once no page has run for
    :data:`PRELOAD_IDLE_S`) or by the text search page (at once). A tower that falls out of the cache
    ends its process once no page holds it."""
    return _tower_loading(source, weights_file, _checkpoint_stamp(weights_file or source.pretrained))


def forget_towers() -> None:
    """Drop every cached tower (Try again on the text search page): the next ask loads afresh."""
    _tower_loading.clear()


def _checkpoint_stamp(path: str) -> str:
    """Size and modification time of a checkpoint file, read as the tower reads its path (``~``
    expanded; empty for a hub tag or no such file): part of a tower's cache key, so a checkpoint
    rewritten in place is not answered by the old weights. Only the file's metadata is read here; the
    tower's process confines what it loads."""
    try:
        found = os.stat(os.path.expanduser(path.strip()))
    except (OSError, ValueError):
        return ""
    return f"{found.st_size}:{found.st_mtime_ns}" if stat.S_ISREG(found.st_mode) else ""


@st.cache_resource(show_spinner=False, max_entries=2)
def _tower_loading(source: texttower.TowerSource, weights_file: str, stamp: str) -> Future:
    """:func:`tower_loading`'s cached future; ``stamp`` only keys it. No argument has a default:
    Streamlit's cache tells ``f(a)`` from ``f(a, "")``, and the page's call must find the server's."""
    future: Future = Future()
    # a daemon thread, not an executor's: stopping the server never waits for a tower still loading
    threading.Thread(target=_load_text_tower, args=(future, source, weights_file, results_folder()), daemon=True,
                     name="cornlens-text-tower").start()
    return future


def _load_text_tower(future: Future, source: texttower.TowerSource, weights_file: str, results: Path) -> None:
    while not _SEARCH_ASKED.is_set():
        quiet = time.monotonic() - _LAST_PAGE_RUN[0]
        if quiet >= PRELOAD_IDLE_S:
            break
        _SEARCH_ASKED.wait(PRELOAD_IDLE_S - quiet)
    if not future.set_running_or_notify_cancel():
        return
    try:
        with _ONE_LOAD:
            future.set_result(tower_process.start(source, weights_file or None,
                                                  allowed_roots=confinement.allowed_roots(results)))
    except texttower.TowerUnavailable as error:
        future.set_result(str(error))
    except BaseException as error:  # a bug: raised where the page waits for the tower
        future.set_exception(error)


@st.cache_resource(show_spinner=False, max_entries=8)
def index_thumbnails(ref: BundleRef) -> threading.Thread:
    """Build the bundle's thumbnail index (``Bundle.thumbnail_index``: every image id's row group, a
    read of the whole id column, ~0.5 s at 100,000 images) in a background thread, once per server and
    bundle version, so that the first page of thumbnails shown (a map selection's) does not wait for it.
    A file that cannot be read is left for the page that shows thumbnails to report."""
    def build() -> None:
        try:
            open_bundle(ref.alone()).thumbnail_index()
        except (BundleError, OSError):
            pass
    thread = threading.Thread(target=build, daemon=True, name="cornlens-thumbnail-index")
    thread.start()
    return thread


def start_text_tower(ref: BundleRef) -> None:
    """Start loading the text tower of the bundle's first CLIP space in the background (once per
    server and model), so that the text search page rarely waits for it; a space that records no
    CLIP model is left for the search page to explain."""
    opened = open_bundle(ref)
    spaces = neighbours.text_spaces(opened.manifest)
    try:
        if spaces:
            tower_loading(texttower.recorded_source(opened.manifest, spaces[0]), "")
    except texttower.TowerUnavailable:
        pass


def text_tower(source: texttower.TowerSource,
               weights_file: str) -> tower_process.RemoteTower | texttower.TextTower | str:
    """:func:`tower_loading`'s result, waiting for it (the search page asks now: no quiet moment)."""
    _SEARCH_ASKED.set()
    return tower_loading(source, weights_file).result()


@st.cache_data(show_spinner="Rendering the report…", max_entries=4)
def report(ref: BundleRef, form: str) -> str:
    """The shareable report as ``html`` or ``md`` (:mod:`analysis.present.report`)."""
    render = report_module.render_html if form == "html" else report_module.render_markdown
    return render(open_bundle(ref))


def predictions_csv(ref: BundleRef, approach_id: str) -> str:
    """An approach's predictions with each image's path, label and split, as CSV (on a download click)."""
    opened = open_bundle(ref)
    return escape.spreadsheet_csv(tables.predictions_table(opened.images(), opened.predictions(approach_id)))


def submission_csv(ref: BundleRef, approach_id: str) -> bytes | None:
    """The Kaggle submission file the bundle holds for an approach (``submissions/``), or None."""
    opened = open_bundle(ref)
    entry = (opened.manifest.get("submissions") or {}).get(approach_id)
    if not isinstance(entry, dict) or not entry.get("file"):
        return None
    path = opened.file(entry["file"], f"submission of {approach_id!r}")
    return path.read_bytes() if path.is_file() else None


__all__ = ["BundleError", "BundleRef", "background_runs", "bundle_ref", "describe_bundle", "diagnostics",
           "find_bundles", "forget_towers", "full_image", "index_thumbnails", "map_canvas", "map_points",
           "map_reading", "neighbour_index", "open_bundle", "page_ran", "predictions_by_image", "predictions_csv",
           "projection", "refusal", "report", "results_folder", "scored_images", "start_text_tower", "submission_csv",
           "text_tower", "thumbnails", "tower_loading"]
