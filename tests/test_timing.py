"""The per-stage time and peak-memory table of `run` (analysis.stages.timing)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.core import bundle
from analysis.stages import baselines, runner, timing
from analysis.data import synthetic


def test_measured_records_the_stage_even_when_it_fails():
    rows: list[dict] = []
    with timing.measured("fine", rows):
        block = np.ones(4_000_000)  # 32 MB held during the stage
        del block
    with pytest.raises(RuntimeError), timing.measured("broken", rows):
        raise RuntimeError("stage failed")
    assert [row["stage"] for row in rows] == ["fine", "broken"]
    assert rows[0]["peak_memory_mb"] >= 32 and rows[0]["seconds"] >= 0


def test_table_sums_time_and_keeps_the_largest_peak():
    rows = [{"stage": "data", "seconds": 1.25, "peak_memory_mb": 300.0},
            {"stage": "zeroshot", "seconds": 10.0, "peak_memory_mb": 900.0}]
    lines = timing.table_text(rows).splitlines()
    assert lines[0].split() == ["stage", "time", "peak", "memory"]
    assert lines[-1].split() == ["total", "11.2s", "900", "MiB"]  # 11.25 s shown to one decimal
    assert len(lines) == 4


def test_run_writes_one_row_per_stage_in_the_manifest(tmp_path):
    data = synthetic.write_dataset(tmp_path / "data", 60, 0, seed=1, show_progress=False)
    options = runner.RunOptions(data=data, out=tmp_path / "bundle", show_progress=False)
    opened = runner.run(options, stages=[baselines.STAGE])
    rows = bundle.read_manifest(opened.path)[timing.MANIFEST_KEY]
    assert [row["stage"] for row in rows] == ["data", baselines.STAGE.name]
    assert all(row["seconds"] > 0 and row["peak_memory_mb"] > 0 for row in rows)
