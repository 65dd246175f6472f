"""What the server does once, before it answers its first page (``dashboard/Home.py``).

A page's first visit on a fresh server used to import every module the pages use (plotly, pandas,
the analysis layers: ~0.6 s on 2 cores), open the bundle, index its thumbnails and, on the Embedding
map, build the map (~1 s at 100,000 images), while the browser waited. The server now does these when
it starts: the modules every page imports, read from the pages' own ``import`` lines (so the list
never drifts), then the bundle the dashboard shows first, opened with the cached loaders every page
shares, its thumbnail index, Home's verdict and headline (data, figures, readings) and its first map;
its CLIP text tower starts loading in a child process once no page has run for a moment. Everything
else a page shows is built on its first visit, once per bundle version (``dashboard.panels.page_data``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.core.bundle import Bundle
    from dashboard.loaders import BundleRef

log = logging.getLogger(__name__)
DASHBOARD = Path(__file__).resolve().parent
PAGES = [DASHBOARD / "navigation.py", *sorted((DASHBOARD / "views").glob("*.py"))]


def page_modules(pages: list[Path] = PAGES) -> list[str]:
    """Every module the ``pages`` import at their top (``import a.b`` and ``from a.b import c``), in
    order, once; an import inside a function (the text tower's torch) stays where it is, on demand."""
    found: dict[str, None] = {}
    for page in pages:
        for node in ast.parse(page.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                found.update(dict.fromkeys(alias.name for alias in node.names))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found[node.module] = None
                found.update(dict.fromkeys(name for name in (f"{node.module}.{alias.name}" for alias in node.names)
                                           if _is_module(name)))  # from dashboard import components
    return list(found)


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # the parent is a module, not a package
        return False


def first_bundle() -> str | None:
    """The bundle a first visit shows (as ``components.bundle_picker`` chooses without ``?bundle=``):
    ``$CORNLENS_BUNDLE``, else the newest bundle under the results folder; None when there is none."""
    from dashboard import loaders

    named = os.environ.get(loaders.BUNDLE_VARIABLE)
    if named:
        return named
    found = loaders.find_bundles(loaders.results_folder())
    return str(found[0].resolve()) if found else None


def prepare() -> None:
    """Import the pages' modules and open the first bundle with the pages' cached loaders. A module
    that does not import or a bundle that cannot be opened is left for its page to report. Streamlit's
    note that a cached function ran outside a page ("missing ScriptRunContext") is not logged here."""
    context_log = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = context_log.level
    context_log.setLevel(logging.ERROR)
    try:
        _prepare()
    finally:
        context_log.setLevel(level)


def _prepare() -> None:
    try:
        names = page_modules()
    except (OSError, SyntaxError, ValueError) as error:  # a page being edited: it reports itself when visited
        log.warning("warm-up: %s", error)
        names = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # a page being edited, a missing extra: its page reports it; the server starts
            log.warning("warm-up: %s: %s", name, error)
    from analysis.core.bundle import BundleError
    from dashboard import loaders

    try:
        path = first_bundle()
        if path is None:
            return
        ref = loaders.bundle_ref(path)
        opened = loaders.open_bundle(ref)
        loaders.scored_images(ref)
        opened.thumbnail_index()  # where each image's thumbnail is: the first grid of thumbnails reads only its own
        first_home(ref, opened)
        first_map(ref, opened)
        loaders.start_text_tower(ref)  # in a child process, once no page has run for a moment (loaders.PRELOAD_IDLE_S)
    except (BundleError, OSError) as error:
        log.warning("warm-up: %s", error)
    except Exception:  # a bundle this version reads another way: its page says so; the server still starts
        log.warning("warm-up stopped; the pages build what is missing", exc_info=True)


def first_home(ref: BundleRef, opened: Bundle) -> None:
    """Home as it first shows: its verdict and headline data and their panels (figures and readings),
    built with the page's own functions and keys."""
    from analysis.present import panels
    from dashboard import panels as page_panels

    verdict = page_panels.verdict_data(ref, opened)
    if verdict.diagnostics:
        page_panels.prepare(panels.VERDICT_PANELS, verdict, ref, key="verdict")
    page_panels.prepare(panels.HOME_PANELS, page_panels.home_data(ref, opened), ref, key="home")


def first_map(ref: BundleRef, opened: Bundle) -> None:
    """The Embedding map as it first shows (the first model, coloured by true label, the answers and class
    prompts ``map_views`` picks first): its points, canvas data and reading, built once for every visit."""
    from analysis.core import tables
    from analysis.present import map_views
    from dashboard import loaders

    projections = opened.projection_names()
    if not projections:
        return
    name = projections[0]
    approach_id = map_views.best_approach_for(name, opened.approaches)
    prompt_set = map_views.first_prompt_set(opened.approaches, approach_id,
                                            tables.prompt_sets_of(loaders.projection(ref, name)))
    loaders.map_canvas(ref, name, next(iter(map_views.COLOURINGS.values())), approach_id, prompt_set)
    loaders.map_reading(ref, name, approach_id, prompt_set)
