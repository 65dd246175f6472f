"""The demo bundle: synthetic kernels + every approach with random-weight models, no network."""

from __future__ import annotations

from pathlib import Path

from analysis.core import bundle
from analysis.stages import runner
from analysis.data import synthetic
from analysis.core.paths import demo_data_folder

# What the demo runs beyond the data part: small enough for 2 CPU cores in a few minutes.
DEMO_OPTIONS: dict = {"eval_fraction": 0.25, "folds": 4, "clip": ["CornLens-Tiny:random"],
                      "convnext": ["convnext_atto:scratch"], "epochs": 8, "image_size": 48, "batch_size": 32}
# The test suite's demo bundle: the same stages, made smaller still.
TEST_OVERRIDES: dict = {"epochs": 2, "image_size": 32}


def build_demo(out: str | Path, n_train: int = 600, n_test: int = 150, seed: int = 0,
               show_progress: bool = True, **overrides) -> bundle.Bundle:
    """Write the synthetic dataset (when absent) and run the pipeline on it into ``out``."""
    out = Path(out)
    data_folder = demo_data_folder(out)
    if not (data_folder / "train.csv").exists():
        synthetic.write_dataset(data_folder, n_train, n_test, seed, show_progress=show_progress)
    options = runner.RunOptions(data=data_folder, out=out, seed=seed, demo=True, show_progress=show_progress,
                                  **(DEMO_OPTIONS | overrides))
    return runner.run(options)
