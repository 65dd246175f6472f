"""The demo bundle: synthetic kernels, a tiny CLIP trained on captions that plant a cause, and every approach.

The demo's CLIP is ``CornLens-Tiny`` with the weights of :mod:`analysis.models.demo_clip`, loaded as a
user's local checkpoint (``--clip CornLens-Tiny:/path/to/CornLens-Tiny-demo.safetensors``). Its
captions plant a known cause of zero-shot failure; the manifest records it (``demo_planted_causes``)
so that every page and the report can say whether the verdict found it. No network.
"""

from __future__ import annotations

from pathlib import Path

from analysis.core import bundle
from analysis.models import demo_clip
from analysis.present.demo_story import PLANTED_KEY
from analysis.stages import runner
from analysis.data import synthetic
from analysis.core.paths import demo_data_folder

# What the demo runs beyond the data part: small enough for 2 CPU cores in a few minutes.
DEMO_OPTIONS: dict = {"eval_fraction": 0.25, "folds": 4, "clip": [demo_clip.SPEC],
                      "convnext": ["convnext_atto:scratch"], "epochs": 8, "image_size": 48, "batch_size": 32}
# The test suite's demo bundle: the same stages, made smaller still, on random weights (tests of shapes).
TEST_OVERRIDES: dict = {"epochs": 2, "image_size": 32, "clip": ["CornLens-Tiny:random"]}


def build_demo(out: str | Path, n_train: int = 600, n_test: int = 150, seed: int = 0,
               show_progress: bool = True, **overrides) -> bundle.Bundle:
    """Write the synthetic dataset (when absent) and run the pipeline on it into ``out``.

    When the demo's CLIP is among the ``clip`` models, the causes its captions plant are recorded in
    the manifest (``demo_planted_causes``).
    """
    out = Path(out)
    data_folder = demo_data_folder(out)
    if not (data_folder / "train.csv").exists():
        synthetic.write_dataset(data_folder, n_train, n_test, seed, show_progress=show_progress)
    options = runner.RunOptions(data=data_folder, out=out, seed=seed, demo=True, show_progress=show_progress,
                                  **(DEMO_OPTIONS | overrides))
    built = runner.run(options)
    if demo_clip.SPEC in options.clip:
        causes = [{**cause, "model_key": demo_clip.MODEL_KEY} for cause in demo_clip.PLANTED_CAUSES]
        bundle.update_manifest(out, lambda manifest: manifest.update({PLANTED_KEY: causes}))
    else:  # built again without the demo's CLIP: no planted story left over from an earlier build
        bundle.update_manifest(out, lambda manifest: manifest.pop(PLANTED_KEY, None))
    built = bundle.open_bundle(out)
    return built
