"""The report's image sections: neighbours of the most confident mistakes, and the tagged images."""

from __future__ import annotations

import html
import re
import shutil

from analysis.core import bundle, tables, tags
from analysis.stats import neighbours
from analysis.present import report
from analysis.present.report import inspection


def test_report_shows_the_neighbours_of_confident_mistakes_and_the_tagged_images(demo_bundle, tmp_path):
    folder = tmp_path / "bundle"
    shutil.copytree(demo_bundle, folder)
    opened = bundle.open_bundle(folder)
    untagged = html.unescape(report.render_html(opened))
    assert "No image is tagged yet" in untagged
    probe = "probe:CornLens-Tiny:random"
    scored = tables.scored_images(opened.images(), {r["id"]: opened.predictions(r["id"]) for r in opened.approaches},
                                  opened.classes)
    index = neighbours.build_index("CornLens-Tiny:random", opened.embeddings("CornLens-Tiny:random"), opened.images())
    first = neighbours.confident_mistakes(scored, probe, index, opened.classes, 1, inspection.NEIGHBOURS_SHOWN)[0]
    assert first["vote"].sentence().replace("*", "") + "." in re.sub(r"<[^>]+>", "", untagged)  # *x* is <em>x</em>
    assert all(image_id in untagged for image_id in first["neighbours"]["image_id"])
    tagged_id = opened.images()["image_id"].iloc[3]
    tags.set_tags(folder, tagged_id, ["label wrong"])
    text = html.unescape(report.render_html(bundle.open_bundle(folder)))
    assert "label wrong: 1 images" in text and "label wrong (1 of 1 shown)" in text
    assert tagged_id in text.split("label wrong (1 of 1 shown)")[1]
