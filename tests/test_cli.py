"""The command line: readable reports, clear errors, no traceback walls, bundles that open."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from analysis.core import bundle
from analysis.cli import commands
from tests.conftest import PROJECT_ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)


def test_validate_reports_problems_without_traceback(tmp_path, synthetic_data):
    import shutil

    root = tmp_path / "d"
    shutil.copytree(synthetic_data, root)
    (root / "train" / "00000.png").unlink(missing_ok=True)
    rows = pd.read_csv(root / "train.csv", dtype=str)
    (root / rows["image"].iloc[1]).write_bytes(b"")
    result = run_cli("validate", "--data", str(root), "-q")
    assert result.returncode == 0, result.stderr
    assert "zero_byte: 1" in result.stdout and rows["image"].iloc[1] in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_unusable_dataset_fails_clearly(tmp_path):
    (tmp_path / "train.csv").write_text("seed_id,image\n1,a.png\n")
    result = run_cli("validate", "--data", str(tmp_path), "-q")
    assert result.returncode == 1
    assert "missing required column(s) view, label" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_on_real_sample_writes_data_part(real_sample, tmp_path):
    assert commands.main(["run", "--data", str(real_sample), "--out", str(tmp_path / "b"), "-q", "--no-baselines"]) == 0
    opened = bundle.open_bundle(tmp_path / "b")
    images = opened.images()
    assert len(images) == 600 and set(images["split"]) == {"train", "eval"}
    assert opened.manifest["dataset"]["root"] == str(real_sample.resolve())
    assert len(opened.thumbnail_ids()) == 600
    assert images.groupby("seed_id")["split"].nunique().max() == 1


def test_bad_bundle_path_is_a_clear_error(tmp_path, capsys):
    assert commands.main(["validate", "--data", str(tmp_path / "nowhere"), "-q"]) == 1
    assert "dataset folder does not exist" in capsys.readouterr().err
