"""Shared fixtures: the real sample in ../shared (skipped when absent) and small synthetic datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait ~47 s for a hub that cannot be reached

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_SAMPLE = PROJECT_ROOT.parent / "shared" / "data" / "corn-real"


@pytest.fixture(scope="session", autouse=True)
def embedding_cache(tmp_path_factory) -> Path:
    """The CLIP embedding cache of this test session (CORNLENS_CACHE): never the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("embedding-cache")
    os.environ["CORNLENS_CACHE"] = str(folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def allowed_roots(tmp_path_factory) -> Path:
    """The dashboard may open the test bundles, anywhere under pytest's temporary folder, through
    ``?bundle=`` or a typed path (CORNLENS_ROOTS); tests of the refusal unset it."""
    root = tmp_path_factory.getbasetemp()
    os.environ["CORNLENS_ROOTS"] = str(root)
    return root


@pytest.fixture
def empty_results(tmp_path, monkeypatch) -> Path:
    """An empty results folder for the dashboard (never the developer's results/), no bundle from the
    environment. Dashboard test modules use it for every test (``pytestmark``)."""
    folder = tmp_path / "results"
    folder.mkdir()
    monkeypatch.setenv("CORNLENS_RESULTS", str(folder))
    monkeypatch.delenv("CORNLENS_BUNDLE", raising=False)
    return folder


@pytest.fixture(scope="session")
def real_sample() -> Path:
    """The 600 real competition images, read in place from ../shared (never copied)."""
    if not (REAL_SAMPLE / "train.csv").is_file():
        pytest.skip(f"real sample not found at {REAL_SAMPLE} (it lives in ../shared beside the project)")
    return REAL_SAMPLE


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory) -> Path:
    """A small synthetic Kaggle-layout dataset (160 labelled, 40 test images)."""
    from analysis.data import synthetic

    return synthetic.write_dataset(tmp_path_factory.mktemp("synthetic"), 160, 40, seed=3, show_progress=False)


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory) -> Path:
    """A complete small demo bundle (every approach, random weights), built once per test session.

    Tests must not modify it; copy it (shutil.copytree) to damage or trim it.
    """
    from analysis.cli import demo

    folder = tmp_path_factory.mktemp("demo") / "bundle"
    demo.build_demo(folder, n_train=240, n_test=60, seed=0, show_progress=False, **demo.TEST_OVERRIDES)
    return folder
