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
# Every page in a fresh interpreter (text search before a phrase is typed; the text tower's background
# load held back): the heavy packages it imported on the way.
IMPORTED = """
import json, sys
from dashboard import loaders
loaders.PRELOAD_IDLE_S = 1e6
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
    open_clip several (they load in the background, for text search only)."""
    done = subprocess.run([sys.executable, "-c", IMPORTED, str(small_large), *PAGES], cwd=ROOT, capture_output=True,
                          text=True, env=os.environ | {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
