"""The benchmark bundle generator: five approaches or more, a map per model, distinct thumbnails."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from large_bundle import main  # noqa: E402

from analysis.core import bundle  # noqa: E402


def test_a_small_large_bundle_has_five_approaches_two_maps_and_distinct_thumbnails(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "b"), "--images", "200"]) == 0
    assert "200 images, 5 approaches" in capsys.readouterr().out
    opened = bundle.open_bundle(tmp_path / "b")
    kinds = [record["kind"] for record in opened.approaches]
    assert len(kinds) >= 5 and {"zeroshot", "probe", "finetune"} <= set(kinds)
    assert len(opened.projection_names()) >= 2
    ids = opened.thumbnail_ids()
    assert len(ids) == 200
    assert len(set(opened.thumbnails(ids).values())) == 200  # every image its own JPEG, as in a real bundle
