"""The public notebook API (`from analysis import open_bundle`) and the README example that shows it."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import PROJECT_ROOT


def readme_example(index: int = 0) -> str:
    """The ``index``-th Python block under README's "Notebook use" heading."""
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text.split("## Notebook use", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)[index]


def test_readme_example_runs(demo_bundle):
    code = readme_example()
    assert code.count("\n") <= 6 and "results/corn" in code
    namespace: dict = {}
    exec(compile(code.replace("results/corn", str(demo_bundle)), "README.md", "exec"), namespace)
    results, scored, mistakes, features = (namespace[name] for name in ("results", "scored", "mistakes", "features"))
    assert isinstance(results.manifest, dict) and results.manifest["approaches"]
    assert isinstance(scored, pd.DataFrame) and set(scored["split"]) == {"eval"}
    assert 0 < len(mistakes) < len(scored)
    assert isinstance(features, np.ndarray) and features.shape[0] == len(results.images())


def test_public_api_surface(demo_bundle):
    from analysis import open_bundle

    results = open_bundle(demo_bundle)
    assert list(results.classes) == results.manifest["classes"]
    approach = results.approaches[0]["id"]
    predictions = results.predictions(approach)
    assert {"image_id", "pred_label", *(f"prob_{name}" for name in results.classes)} <= set(predictions.columns)
    images = results.images()
    assert {"image_id", "path", "label", "split", "fold"} <= set(images.columns)
    scored = results.scored_images()
    assert all(f"pred:{record['id']}" in scored.columns for record in results.approaches)


def test_open_bundle_errors_name_the_folder(tmp_path):
    from analysis import open_bundle
    from analysis.core.api import BundleError

    with pytest.raises(BundleError, match=str(tmp_path / "nowhere")):
        open_bundle(tmp_path / "nowhere")


def test_importing_the_package_stays_light():
    code = "import sys, analysis; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"


def test_readme_attribution_example_runs(capsys):
    """The README's attribute_failure example on embeddings where a class bias was planted."""
    from tests.planted import planted

    case = planted("bias", n=600, seed=1)
    namespace = {name: getattr(case, name) for name in ("images", "labels", "is_train", "is_eval", "folds", "classes",
                                                        "prompt_sets", "scale", "wordings")}
    exec(compile(readme_example(1), "README.md", "exec"), namespace)
    found, printed = namespace["found"], capsys.readouterr().out
    assert [cause["cause"] for cause in found["causes"]] == ["bias"]
    assert found["text"] in printed and "bias +" in printed
