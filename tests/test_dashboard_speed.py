"""Do only what is seen (issue 26): what the dashboard's pages import, and what a rerun recomputes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from large_bundle import write_large_bundle  # noqa: E402

pytestmark = pytest.mark.usefixtures("empty_results")
HEAVY = ("sklearn", "scipy", "torch", "open_clip", "timm", "umap")
PAGES = ("views/autopsy.py", "views/probe.py", "views/convnext.py", "views/compare.py", "views/embedding_map.py",
         "views/gallery.py", "views/label_problems.py", "views/report.py", "views/search.py")
# Every page in a fresh interpreter (text search before a phrase is typed; the text tower loads in a
# child process): the heavy packages it imported on the way.
IMPORTED = """
import json, sys
from tests.apptest import open_page, go
app = open_page(sys.argv[1])
for page in sys.argv[2:]:
    go(app, page)
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules} & set(%r))))
""" % (HEAVY,)


@pytest.fixture(scope="module")
def small_large(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("speed") / "bundle"
    write_large_bundle(folder, n_images=400, seed=5, baselines=True)
    return folder


def test_pages_import_no_model_or_learning_package(small_large):
    """scikit-learn and scipy cost a fresh server's first visit about a second to import, torch and
    open_clip several (the text tower loads them in a process of its own, for text search only)."""
    done = subprocess.run([sys.executable, "-c", IMPORTED, str(small_large), *PAGES], cwd=ROOT, capture_output=True,
                          text=True, env=os.environ | {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# The server's preparation (dashboard/Home.py's lifespan) in a fresh interpreter: then the bundle's
# reader is replaced by one that fails, so a page that opened the bundle again would fail.
PREPARED = """
import json, sys
from analysis.core import bundle, tables, thumbnail_index
from analysis.present import figures, map_canvas_data, panels
from dashboard import loaders, warm
from tests.apptest import map_canvases, open_page, HOME
from streamlit.testing.v1 import AppTest
from analysis.models import tower_process
starts = []
tower_process.start = lambda *args, start=tower_process.start, **kwargs: starts.append(args) or start(*args, **kwargs)
warm.prepare()
def refuse(*args, **kwargs):
    raise AssertionError("built again")
bundle.open_bundle = figures.projection_figure = map_canvas_data.map_canvas_data = refuse
tables.map_points = thumbnail_index.ThumbnailIndex = refuse
panels.home_data = panels.verdict_data = panels.build = refuse  # Home's data and panels
ref = loaders.bundle_ref(sys.argv[1])
home = AppTest.from_file(str(HOME), default_timeout=90)
home.query_params["bundle"] = sys.argv[1]
home.run()
assert not home.exception, [e.value for e in home.exception]
app = open_page(sys.argv[1], "views/embedding_map.py", every_section=False)  # fails on any exception
first = loaders.scored_images(ref)["image_id"][:1]
from analysis.models import texttower
from analysis.stats import neighbours
manifest = loaders.open_bundle(ref).manifest
loading = loaders.tower_loading(texttower.recorded_source(manifest, neighbours.text_spaces(manifest)[0]), "")
tower = loading.result(timeout=240)  # the search page's call finds the one the preparation started
tower = tower if isinstance(tower, str) else "a tower"  # its process imported torch and found no weights here
print(json.dumps({"rows": len(loaders.scored_images(ref)), "approaches": len(loaders.open_bundle(ref).approaches),
                  "maps": len(map_canvases(app)), "tower": tower, "loads": len(starts),
                  "thumbnail": next(iter(loaders.thumbnails(ref, first).values()))[:5],
                  "missing": [name for name in warm.page_modules() if name not in sys.modules],
                  "heavy": sorted({name.split('.')[0] for name in sys.modules} & set(%r))}))
""" % (HEAVY,)


def test_the_server_prepares_what_a_first_visit_needs_and_nothing_heavy(small_large):
    """Before it answers, the server imports every module the pages import at their top, opens the bundle
    a first visit shows ($CORNLENS_BUNDLE) with the pages' own cached loaders, indexes its thumbnails,
    builds Home's verdict and headline and the Embedding map as they first show, and starts loading the text
    tower in a child process; torch, open_clip, scikit-learn and scipy never enter the server, even once the
    tower's process has imported them (``tests/test_texttower.py`` runs one)."""
    done = subprocess.run([sys.executable, "-c", PREPARED, str(small_large)], cwd=ROOT, capture_output=True, text=True,
                          env=os.environ | {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
                                            "CORNLENS_BUNDLE": str(small_large)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["rows"] > 0 and found["approaches"] > 0  # both from the caches the preparation filled
    assert found["maps"] == 1  # the Embedding map as it first shows, not built again
    assert "laion400m_e32" in found["tower"] or found["tower"] == "a tower"  # tried in a child process
    assert found["loads"] == 1  # one load, started by the server and found by the page's call
    assert found["thumbnail"] == "data:"  # read through the index built before the first visit
    assert found["missing"] == [] and found["heavy"] == []


def test_the_first_bundle_is_the_named_one_else_the_newest(tmp_path, monkeypatch):
    from dashboard import warm

    monkeypatch.setenv("CORNLENS_RESULTS", str(tmp_path))
    monkeypatch.delenv("CORNLENS_BUNDLE", raising=False)
    assert warm.first_bundle() is None
    for name, stamp in (("old", 1_000_000), ("new", 2_000_000)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
        os.utime(tmp_path / name / "manifest.json", (stamp, stamp))
    assert warm.first_bundle() == str((tmp_path / "new").resolve())
    monkeypatch.setenv("CORNLENS_BUNDLE", str(tmp_path / "old"))
    assert warm.first_bundle() == str(tmp_path / "old")


def test_page_modules_are_the_top_level_imports_of_the_pages(tmp_path):
    from dashboard import warm

    page = tmp_path / "page.py"
    page.write_text("import a.b\nfrom c.d import e\nfrom . import f\n\ndef later():\n    import torch\n")
    assert warm.page_modules([page]) == ["a.b", "c.d"]
    assert "dashboard.components" in warm.page_modules() and "streamlit" in warm.page_modules()
