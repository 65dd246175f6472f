"""The reproduction block that opens every report, and the headline chart as PNG."""

from __future__ import annotations

import shutil

import pytest

from analysis.core import bundle, runfile
from analysis.cli import commands
from analysis.present import export, report, reproduce


def test_reproduction_block_names_command_weights_hyperparameters_seed_and_version(demo_bundle, tmp_path):
    target = shutil.copytree(demo_bundle, tmp_path / "b")
    runfile.record_run(target, {"name": "run", "command": "python -m analysis run --data 'my data' --out b",
                                "config": {"data": "my data"}, "run_file": None, "finished": "now"})
    opened = bundle.open_bundle(target)
    block = reproduce.reproduction(opened.manifest)
    assert block.commands == ["python -m analysis run --data 'my data' --out b"]
    facts = dict(block.facts)
    assert facts["CornLens"] == opened.manifest["tool_version"]
    assert facts["seed"].startswith(str(opened.manifest["split"]["seed"]))
    assert facts["CLIP model"].startswith("CornLens-Tiny, random weights (not pretrained)")
    assert "trained from scratch" in facts["ConvNeXt"] and "epochs 2" in facts["ConvNeXt"]
    assert "learning_rate" in facts["ConvNeXt"] and "C " in facts["linear probe"]

    markdown = report.render_markdown(opened)
    head = markdown.split("| approach |")[0]  # the block comes before the headline table
    assert "**Reproduce**" in head and "```bash\npython -m analysis run --data 'my data' --out b\n```" in head
    page = report.render_html(opened)
    assert page.index('id="reproduce"') < page.index("<nav>")
    assert "--data &#39;my data&#39;" in page  # escaped like every text from the data


def test_shared_reproduction_hides_the_authors_folders():
    manifest = {"runs": [{"command": "python -m analysis run --data /home/ana/data/corn --out /home/ana/results/b "
                                     "--clip ViT-B-32:/home/ana/weights/clip.pt", "config": {}}],
                "dataset": {"root": "/home/ana/data/corn", "layout": "csv"}, "approaches": []}
    block = reproduce.reproduction(manifest)
    assert block.commands == ["python -m analysis run --data …/corn --out …/b --clip ViT-B-32:…/clip.pt"]
    assert "/home/ana" not in str(block.facts) and dict(block.facts)["note"] == reproduce.SHORTENED


def test_unrecorded_bundle_says_so(demo_bundle):
    block = reproduce.reproduction(bundle.open_bundle(demo_bundle).manifest)
    assert block.commands == [] and reproduce.NOT_RECORDED in "\n".join(reproduce.markdown(block))


def test_headline_png_or_a_clear_reason(demo_bundle, tmp_path, capsys):
    out = tmp_path / "headline.png"
    code = commands.main(["report", str(demo_bundle), "--format", "png", "--out", str(out)])
    if code == 0:
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert code == 1
        error = capsys.readouterr().err
        assert "kaleido" in error and "camera button" in error and "Traceback" not in error
        assert not out.exists()
    browser = any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))
    if export.png_export_available() and browser:  # kaleido beside an older plotly renders nothing: caught here
        assert code == 0, capsys.readouterr().err


def test_png_export_without_kaleido_raises_export_error(monkeypatch):
    monkeypatch.setattr(export, "png_export_available", lambda: False)
    with pytest.raises(export.ExportError, match="pip install kaleido"):
        export.figure_png(export.headline_chart({"approaches": [], "reference": {}}))
