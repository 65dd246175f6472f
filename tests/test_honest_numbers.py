"""Honest numbers (issue 25): no page and no report names a "best" approach chosen on the held-out
images, on a bundle where the held-out maximum differs from the approach the rule picks on the
training part."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest

from analysis.core import bundle, records, tables
from analysis.present import report
from tests.apptest import go, open_page, shown_text
from tests.conftest import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from large_bundle import write_large_bundle  # noqa: E402

pytestmark = pytest.mark.usefixtures("empty_results")
PAGES = ("views/autopsy.py", "views/probe.py", "views/convnext.py", "views/compare.py", "views/embedding_map.py",
         "views/gallery.py", "views/label_problems.py", "views/search.py", "views/report.py")
# what each approach scored on training images it did not fit: the fine-tuned network, best on the
# held-out images, is behind the ViT-H-14 probe on its validation fold
ESTIMATES = {"zeroshot": 0.30, "probe:ViT-H-14:laion2b_s32b_b79k": 0.74, "probe:ViT-B-32-quickgelu:laion400m_e32": 0.61,
             "finetune:convnext_tiny": 0.70}


@pytest.fixture(scope="module")
def disagreeing(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("honest") / "bundle"
    write_large_bundle(folder, n_images=500, seed=2, baselines=True)

    def add_estimates(manifest: dict) -> None:
        for record in manifest["approaches"]:
            if record["kind"] == "zeroshot":
                record["train_accuracy"] = ESTIMATES["zeroshot"]
            elif record["id"] in ESTIMATES:
                record["train_estimate"] = ESTIMATES[record["id"]]

    bundle.update_manifest(folder, add_estimates)
    return folder


def best_sentences(text: str) -> list[str]:
    """The sentences that name something best or a winner."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [sentence for sentence in sentences if re.search(r"\bbest\b|\bwinner", sentence, re.IGNORECASE)]


def test_no_page_or_report_names_the_held_out_maximum_best(disagreeing):
    opened = bundle.open_bundle(disagreeing)
    labels = tables.approach_labels(opened.approaches)
    argmax = max(opened.approaches, key=lambda record: record["metrics"]["accuracy"])
    chosen, rule = records.headline_approach(opened.approaches)
    assert argmax["id"] == "finetune:convnext_tiny" and chosen["id"] == "probe:ViT-H-14:laion2b_s32b_b79k"
    assert rule == records.HEADLINE_RULE

    app = open_page(disagreeing)
    texts = {"views/home.py": shown_text(app)}
    for page in PAGES:
        texts[page] = shown_text(go(app, page))
    texts["report.md"] = report.render_markdown(opened)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", report.render_html(opened), flags=re.DOTALL)
    texts["report.html"] = html.unescape(re.sub(r"<[^>]+>", " ", page))
    held_out_best = {labels[argmax["id"]], argmax["id"]}
    assert labels[argmax["id"]] in texts["report.md"].replace("\\", "")  # it is shown, scored, in the table
    for where, text in texts.items():
        for sentence in best_sentences(text.replace("\\", "")):
            named = [name for name in held_out_best if name in sentence]
            assert not named or "oracle" in sentence, f"{where}: {sentence!r}"
    headline = f"Best here by a rule fixed before scoring: **{labels[chosen['id']]}**"
    assert headline in texts["views/home.py"] and rule in texts["views/home.py"]
    for where in ("report.md", "report.html"):
        assert f"Best approach by a rule fixed before scoring: {labels[chosen['id']]}" in \
            " ".join(texts[where].replace("\\", "").split()), where


def test_how_the_numbers_are_made_counts_the_groups_it_names():
    import pandas as pd

    from analysis.present import method

    images = pd.DataFrame({"image_id": [f"i{n}" for n in range(26)], "split": ["eval"] * 20 + ["train"] * 6,
                           "group": [n // 5 for n in range(20)] + list(range(100, 106))})
    record = {"id": "probe:M:p", "kind": "probe", "model_key": "M:p", "train_estimate": 0.6,
              "metrics": {"accuracy": 0.5, "accuracy_ci_groups": 4}}
    manifest = {"approaches": [record], "split": {"method": "grouped_fold", "counts": {"train": 6, "eval": 20}}}
    lines = method.how_numbers_are_made(manifest, images)
    assert len(lines) == 5
    assert "the 20 held-out images form 4 groups" in lines[2] and "written before" not in lines[2]
    assert records.HEADLINE_RULE in lines[3]
    assert "98.75% each for 4 rows" in lines[4]
    older = {**manifest, "approaches": [{**record, "metrics": {"accuracy": 0.5}}]}
    assert "treat every image as independent evidence" in method.how_numbers_are_made(older, images)[2]
    verdict_found = {"multiplicity": "One line."}
    assert method.how_numbers_are_made(manifest, images, verdict_found)[4] == "The multiplicity rule: One line."


def test_the_verdict_says_its_family_rule_and_each_row_its_level():
    import numpy as np

    from analysis.ladder import verdict
    from analysis.present import ladder_panels
    from analysis.stats import bootstrap

    rng = np.random.default_rng(4)
    a, b = (rng.random(400) < 0.7).astype(float), (rng.random(400) < 0.5).astype(float)
    level = bootstrap.simultaneous_level(0.95, 3)
    rows = [verdict.verdict_row(name, verdict.paired_difference(a, b, level=level), "A", "B", "")
            for name in ("one", "two", "three")]
    found = {"rows": rows, "multiplicity": verdict.multiplicity_text(level, rows)}
    text = ladder_panels.verdict_markdown(found)
    assert "98.33% paired interval" in text and "the 3 intervals are simultaneous (98.33% each, Bonferroni)" in text
    # the simultaneous interval is wider than the 95% one of the same draws
    single = verdict.paired_difference(a, b)
    assert rows[0]["comparison"]["ci"][0] < single["ci"][0] and rows[0]["comparison"]["ci"][1] > single["ci"][1]
