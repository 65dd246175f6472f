"""Shareable reports: self-contained, escaped, faithful to the bundle's numbers, drawn by a real browser.

Most tests use a small hand-made bundle whose class names and image ids are hostile HTML, with
every diagnostics shape of docs/bundle.md; the demo bundle checks the report on real pipeline output.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from analysis.core import bundle, records, tables
from analysis.cli import commands
from analysis.present import figures, panels, report
from analysis.stats import metrics
from analysis.core.records import choice_accuracy
from tests.conftest import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
# --enable-unsafe-swiftshader: WebGL (the embedding map's scattergl) without a GPU; Playwright adds it
# itself only from about 1.49, and the oldest one pyproject.toml allows is 1.45
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--enable-unsafe-swiftshader"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# Class names and an image id that would run script or break tables if they were not escaped.
HOSTILE_CLASSES = ["pure", "<script>window.__pwned=1</script>", "a|b *c* </script><img src=x onerror=window.__pwned=2>",
                   "silk&cut"]
HOSTILE_IMAGE_ID = 'train/"><script>window.__pwned=3</script>.png'


# --- a hand-made bundle ----------------------------------------------------------------------------

def _thumbnail(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def _proba(labels: np.ndarray, classes: list[str], accuracy: float, rng: np.random.Generator) -> np.ndarray:
    """Probabilities that put the top mass on the true class for about ``accuracy`` of the rows."""
    proba = rng.dirichlet(np.ones(len(classes)), size=len(labels))
    right = rng.random(len(labels)) < accuracy
    for row, label in enumerate(labels):
        target = classes.index(label) if right[row] else (classes.index(label) + 1) % len(classes)
        proba[row, target] += 2.0
    return proba / proba.sum(axis=1, keepdims=True)


def make_bundle(path: Path, classes: list[str], with_approaches: bool = True, demo: bool = True,
                seed: int = 0) -> bundle.Bundle:
    """A small bundle (80 images) with every approach kind and every diagnostics shape of docs/bundle.md."""
    rng = np.random.default_rng(seed)
    n = 80
    labels = np.array([classes[i % len(classes)] for i in range(n)])
    image_ids = [f"train/{i:03d}.png" for i in range(n)]
    image_ids[1] = HOSTILE_IMAGE_ID
    split = np.where((np.arange(n) // 4) % 4 == 0, "eval", "train")  # every class in both parts
    images = pd.DataFrame({"image_id": image_ids, "path": image_ids, "seed_id": [str(i) for i in range(n)],
                           "view": np.where(np.arange(n) % 2 == 0, "top", "bottom"), "label": labels,
                           "split": split, "fold": np.where(split == "train", np.arange(n) % 3, -1)})
    train, held_out = images[images["split"] == "train"], images[images["split"] == "eval"]
    manifest = {"demo": demo, "classes": classes,
                "dataset": {"root": str(path) + "-data", "layout": "kaggle", "classes": classes,
                            "counts": {c: int((labels == c).sum()) for c in classes}, "views": {"top": 40, "bottom": 40},
                            "n_labelled": n, "n_unlabelled": 0, "fingerprint": "hand-made", "problems": {"zero_byte": 1}},
                "split": {"seed": 0, "eval_fraction": 0.25, "n_folds": 3, "grouped_by": ["seed_id"],
                          "counts": {"train": len(train), "eval": len(held_out)}},
                "reference": metrics.reference_rates(train["label"].to_numpy(), held_out["label"].to_numpy(), classes)}
    colours = [(200, 160, 60), (40, 90, 160), (30, 150, 110), (200, 120, 170)]
    thumbnails = pd.DataFrame({"image_id": image_ids, "jpeg": [_thumbnail(colours[i % 4]) for i in range(n)]})
    bundle.create_bundle(path, manifest, images, thumbnails)
    bundle.save_diagnostics(path, "data", {"problems": [], "duplicates": [
        {"content_hash": "abc", "image_ids": image_ids[:2], "labels": list(labels[:2]), "conflicting": True,
         "leak": False}]})
    if not with_approaches:
        return bundle.open_bundle(path)
    model_key, eval_labels = "Tiny:random", held_out["label"].to_numpy()
    specs = [("baseline:majority", "baseline", None, 0.0), ("zeroshot:Tiny:random:<b>bold</b>", "zeroshot",
             "<b>bold</b>", 0.3), (f"probe:{model_key}", "probe", None, 0.7), ("finetune:convnext_tiny", "finetune",
             None, 0.8)]
    predicted = {}
    for approach_id, kind, prompt_set, accuracy in specs:
        proba = _proba(eval_labels, classes, accuracy, rng)
        if kind == "baseline":
            proba = np.tile(np.eye(len(classes))[classes.index(manifest["reference"]["majority_class"])], (len(held_out), 1))
        scores = metrics.evaluate(eval_labels, proba, classes)
        scores["accuracy_by_view"] = {"top": scores["accuracy"], "bottom": scores["accuracy"]}
        record = {"id": approach_id, "kind": kind, "model": None if kind == "baseline" else "Tiny",
                  "model_key": approach_id.split(":", 1)[1] if kind in ("baseline", "finetune") else model_key,
                  "pretrained": None if kind == "baseline" else "random", "prompt_set": prompt_set,
                  "metrics": scores, "wall_time_s": 1.5, "device": "cpu"}
        diagnostics = None
        if kind == "probe":
            diagnostics = {"c_sweep": [{"C": c, "cv_accuracy_mean": 0.6 + 0.01 * i, "cv_accuracy_std": 0.02}
                                       for i, c in enumerate([0.01, 0.1, 1.0, 10.0])], "best_C": 1.0,
                           "kshot": {"k": [1, 2, 4, 8], "mean": [0.3, 0.4, 0.5, 0.6], "std": [0.1, 0.08, 0.05, 0.03],
                                     "draws": 5},
                           "zeroshot_accuracy": 0.3, "majority_rate": 0.25, "effective_shots": 1.0,
                           "blend": [{"alpha": a, "accuracy": 0.7 - 0.3 * a} for a in (0.0, 0.5, 1.0)]}
        if kind == "finetune":
            diagnostics = {"epochs": [{"epoch": e, "train_loss": 1.0 / e, "train_accuracy": 0.5 + 0.1 * e,
                                       "val_loss": 1.1 / e, "val_accuracy": 0.45 + 0.1 * e, "lr": 1e-4,
                                       "seconds": 3.0} for e in (1, 2, 3)], "best_epoch": 3, "weights": "scratch",
                           "tta": False}
        bundle.save_approach(path, record, bundle.predictions_frame(held_out["image_id"].tolist(), proba, classes),
                             diagnostics)
        predicted[approach_id] = np.asarray(classes)[proba.argmax(axis=1)]
    similarity = (np.eye(4) * 0.2 + 0.8).tolist()
    bundle.save_diagnostics(path, f"autopsy:{model_key}", {
        "model": "Tiny", "pretrained": "random",
        "prompt_sets": [{"name": "<b>bold</b>", "approach_id": specs[1][0], "accuracy": 0.3, "balanced_accuracy": 0.3}],
        "templates": [{"prompt_set": "<b>bold</b>", "template": "a photo of a {}.", "accuracy": 0.3}],
        "true_distribution": {c: 5 for c in classes},
        "predicted_distribution": {"<b>bold</b>": {classes[1]: 15, classes[0]: 5}},
        "modality_gap": {"overall": 0.8, "per_class": {c: 0.8 for c in classes}},
        "text_similarity": similarity, "image_centroid_similarity": similarity,
        "margins": {"correct": [0.1, 0.2], "wrong": [0.1, 0.3]},
        "reliability": metrics.reliability(np.array([0.3, 0.6, 0.9]), np.array([1.0, 0.0, 1.0])),
        "projection": model_key})
    points = pd.DataFrame({"image_id": image_ids + [None] * len(classes), "kind": ["image"] * n + ["text"] * len(classes),
                           "label": list(labels) + classes, "x": rng.normal(size=n + len(classes)),
                           "y": rng.normal(size=n + len(classes))})
    bundle.save_projection(path, model_key, points, method="umap")
    right = pd.DataFrame({approach_id: pred == eval_labels for approach_id, pred in predicted.items()})
    patterns = right.value_counts().reset_index(name="count")
    bundle.save_diagnostics(path, "agreement", {
        "approaches": list(predicted),
        "patterns": [{"correct": {a: bool(row[a]) for a in predicted}, "count": int(row["count"])}
                     for _, row in patterns.iterrows()],
        "all_wrong": held_out["image_id"][~right.any(axis=1).to_numpy()].tolist() + [HOSTILE_IMAGE_ID]})
    bundle.save_diagnostics(path, "label_problems", {"rows": [
        {"kind": "conflicting", "image_ids": image_ids[:2], "labels": list(labels[:2])},
        {"kind": "all_wrong", "image_ids": [HOSTILE_IMAGE_ID], "labels": [classes[1]]}]})
    bundle.save_diagnostics(path, "confounders", {
        "shortcut_accuracy": {"size": 0.3, "view": 0.25, "colour": 0.35, "all": 0.4},
        "per_class": {c: {"n": 20, "width": {"mean": 100.0, "std": 5.0, "quantiles": [90, 95, 100, 105, 110]}}
                      for c in classes},
        "units": {"width": "px"}, "quantile_levels": [0.05, 0.25, 0.5, 0.75, 0.95], "majority_rate": 0.25})
    return bundle.open_bundle(path)


@pytest.fixture(scope="module")
def hostile_bundle(tmp_path_factory) -> bundle.Bundle:
    return make_bundle(tmp_path_factory.mktemp("report") / "hostile", HOSTILE_CLASSES)


@pytest.fixture(scope="module")
def hostile_html(hostile_bundle) -> str:
    return report.render_html(hostile_bundle)


class TagCollector(HTMLParser):
    """Every start tag with its attributes, and the text of every <script> element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def figure_specs(html: str) -> list[dict]:
    """The data and layout of every plotly figure in an HTML fragment, parsed (not compared as
    text: plotly may write "·" as itself or as \\u00b7)."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r'Plotly\.newPlot\(\s*"[^"]+",\s*', html):
        data, end = decoder.raw_decode(html, match.end())
        layout, _ = decoder.raw_decode(html, html.index("{", end))
        found.append({"data": data, "layout": layout})
    return found


def parse(text: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(text)
    collector.close()
    return collector


# --- HTML ------------------------------------------------------------------------------------------

URL_ATTRIBUTES = ("src", "href", "data", "action", "poster", "srcset", "background")


def assert_self_contained(text: str) -> TagCollector:
    """No element loads anything from the network; plotly.js is inlined exactly once."""
    parsed = parse(text)
    for tag, attributes in parsed.tags:
        for name in URL_ATTRIBUTES:
            value = (attributes.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), f"<{tag} {name}={value[:80]}>"
        if tag == "img":
            assert attributes["src"].startswith("data:image/"), attributes["src"][:40]
        if tag == "link":
            assert attributes.get("rel") != "stylesheet" or not attributes.get("href"), attributes
    scripts = [attributes for tag, attributes in parsed.tags if tag == "script"]
    assert all("src" not in attributes for attributes in scripts)
    assert sum("Plotly" in body and len(body) > 1_000_000 for body in parsed.scripts) == 1  # plotly.js, once
    assert len(re.findall(r"<style[\s>]", text)) == 1
    return parsed


def test_demo_report_is_self_contained_and_complete(demo_bundle):
    text = report.render_html(bundle.open_bundle(demo_bundle))
    parsed = assert_self_contained(text)
    titles = {section.title for section in report.ReportBuilder(bundle.open_bundle(demo_bundle)).sections()}
    assert {"Dataset", "Zero-shot autopsy", "Most confident mistakes"} <= titles
    assert "Demo bundle" in text and "has random weights" in text
    assert any(tag == "img" for tag, _ in parsed.tags), "the gallery shows thumbnails"
    # the bundle's headline numbers are in the page
    for record in bundle.open_bundle(demo_bundle).approaches:
        assert f"{record['metrics']['accuracy']:.3f}" in text


def test_hostile_labels_are_escaped(hostile_html):
    parsed = assert_self_contained(hostile_html)
    # every script element is either plotly.js, a figure, or the report's own small script: none injected
    figures = sum(1 for tag, attributes in parsed.tags if tag == "div" and "plotly-graph-div" in attributes.get("class", ""))
    assert len(parsed.scripts) == figures + 2
    assert not any(name.startswith("on") for _, attributes in parsed.tags for name in attributes)
    assert not any(tag == "img" and attributes.get("src") == "x" for tag, attributes in parsed.tags)
    assert not any(tag == "b" for tag, _ in parsed.tags), "a prompt-set name <b>bold</b> must not become markup"
    # the names are shown as text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in hostile_html
    assert "silk&amp;cut" in hostile_html
    assert "Possible label problems" in hostile_html and "(table of 2 of 2 rows)" in hostile_html
    # inside the figure JSON, "</script>" cannot appear: plotly writes < and / as \u003c and \u002f
    for body in parsed.scripts:
        assert "</script" not in body.lower()


def test_figure_that_would_break_out_is_refused(monkeypatch):
    from analysis.present import figure_style

    monkeypatch.setattr(figure_style, "text_only", lambda figure: figure)  # the check after plotly's own escaping

    class Broken:
        layout = type("Layout", (), {"height": None})()

        def to_html(self, **_):
            return '<div></div><script>Plotly.newPlot("x", {"name": "</script><script>alert(1)"})</script>'

    with pytest.raises(ValueError, match="close its <script>"):
        report.figure_html(Broken())


def test_missing_parts_become_notes(tmp_path):
    empty = make_bundle(tmp_path / "empty", ["pure", "broken"], with_approaches=False, demo=False)
    text = report.render_html(empty)
    assert_self_contained(text)
    notes = re.findall(r'<p class="note">(.*?)</p>', text, flags=re.S)
    assert any("no zero-shot CLIP approach" in line and "--clip" in line for line in notes)
    assert str(tmp_path) not in text, "a shared report does not reveal the author's folders"
    assert any("no fine-tuned ConvNeXt" in line and "--convnext" in line for line in notes)
    assert any("no agreement table" in line for line in notes)
    markdown = report.render_markdown(empty)
    assert "no approaches yet" in markdown and "uniform random guess" in markdown
    assert "Demo bundle" not in text and "Demo bundle" not in markdown


# --- Markdown --------------------------------------------------------------------------------------

def markdown_table(text: str) -> list[list[str]]:
    """The rows of the first Markdown table, cells split on unescaped pipes."""
    all_lines = text.splitlines()
    start = next(number for number, line in enumerate(all_lines) if line.startswith("|"))
    lines = list(itertools.takewhile(lambda line: line.startswith("|"), all_lines[start:]))
    rows = [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    assert rows[0] == ["approach", "accuracy", "interval", "notes"]
    return rows[2:]


def unescape_markdown(text: str) -> str:
    """The text a Markdown cell shows: backslash escapes and references resolved, word joiners dropped."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text)).replace("\u2060", "")


@pytest.mark.parametrize("which", ["demo", "hostile"])
def test_markdown_table_matches_bundle_metrics(which, request):
    opened = (bundle.open_bundle(request.getfixturevalue("demo_bundle")) if which == "demo"
              else request.getfixturevalue("hostile_bundle"))
    rows = markdown_table(report.render_markdown(opened))
    assert all(len(row) == 4 for row in rows), rows
    by_name = {unescape_markdown(row[0]): row for row in rows}
    labels = tables.approach_labels(opened.approaches)
    assert len(rows) == len(opened.approaches) + len(tables.PUBLISHED_LEADERBOARD) + (
        1 if any(r["id"] == "baseline:majority" for r in opened.approaches) else 2)
    for record in opened.approaches:
        scores = record["metrics"]
        row = by_name[labels[record["id"]]]
        assert row[1] == f"{scores['accuracy']:.3f}"
        assert row[2] == f"{scores['accuracy_ci'][0]:.3f}–{scores['accuracy_ci'][1]:.3f}"
        assert f"macro-F1 {scores['macro_f1']:.3f}" in row[3]
    kinds = list(records.KINDS)  # the ladder's order, never ranked by held-out accuracy
    in_order = sorted(opened.approaches, key=lambda r: (kinds.index(r["kind"]), -records.choice_accuracy(r)))
    assert [row[1] for row in rows[:len(in_order)]] == [by_name[labels[r["id"]]][1] for r in in_order]
    uniform = by_name["uniform random guess"]
    assert uniform[1] == f"{opened.manifest['reference']['uniform_rate']:.3f}"
    published = [row for row in rows if row[0].startswith("published:")]
    assert [row[1] for row in published] == [f"{p['public']:.3f} / {p['private']:.3f}"
                                              for p in tables.PUBLISHED_LEADERBOARD]


def test_markdown_findings_read_the_numbers(hostile_bundle):
    text = report.render_markdown(hostile_bundle)
    findings = text.split("**Key findings**", 1)[1]
    best, rule = records.headline_approach(hostile_bundle.approaches)  # chosen on the training part
    assert f"Best approach by a rule fixed before scoring: {tables.approach_labels(hostile_bundle.approaches)[best['id']]}" \
        f" at {best['metrics']['accuracy']:.3f}" in unescape_markdown(findings)
    assert rule in unescape_markdown(findings)
    majority = hostile_bundle.manifest["reference"]["majority_rate"]
    assert f"majority-class rate of {majority:.3f}" in findings
    assert "Demo bundle" in text
    assert "<script>" not in text and "&#60;script&#62;" in text


# --- the command line ------------------------------------------------------------------------------

def test_cli_writes_both_formats(tmp_path, hostile_bundle):
    folder = tmp_path / "b"
    shutil.copytree(hostile_bundle.path, folder)
    assert commands.main(["report", str(folder), "-q"]) == 0
    assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")
    out = tmp_path / "shared" / "summary.md"
    assert commands.main(["report", str(folder), "--format", "md", "--out", str(out), "-q"]) == 0
    assert out.read_text() == report.render_markdown(bundle.open_bundle(folder))
    bundle.open_bundle(folder)  # a report inside the bundle leaves it readable


def test_cli_bad_bundle_is_a_clear_error(tmp_path, capsys):
    assert commands.main(["report", str(tmp_path / "nowhere"), "-q"]) == 1
    assert "no bundle folder here" in capsys.readouterr().err


# --- a real browser --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")
def test_report_renders_in_headless_chromium(hostile_bundle, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    path = report.write_report(hostile_bundle.path, tmp_path / "report.html")
    requests, errors = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(path.resolve().as_uri(), wait_until="load")
            plots = page.locator(".js-plotly-plot")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                                   "2 * document.querySelectorAll('.plotly-graph-div').length", timeout=30_000)
            n_plots = plots.count()
            drawn = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).filter("
                                  "p => p.querySelector('.main-svg .plot, .main-svg .cartesianlayer, canvas')).length")
            pwned = page.evaluate("window.__pwned === undefined")
            dataset_text = page.locator("#dataset table").inner_text()
            legend_texts = page.evaluate("Array.from(document.querySelectorAll('.legendtext'), t => t.textContent)")
            bars = page.locator("#headline .js-plotly-plot .bars path").count()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert n_plots >= 10 and drawn == n_plots
    assert bars >= len(hostile_bundle.approaches)
    assert pwned, "a class name ran as script"
    assert "<script>window.__pwned=1</script>" in dataset_text  # shown as text, in the page
    assert HOSTILE_CLASSES[1] in legend_texts  # and in plotly's legends
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert errors == []


def test_malformed_diagnostics_cost_one_panel_not_the_report(tmp_path, hostile_bundle, caplog):
    folder = tmp_path / "b"
    shutil.copytree(hostile_bundle.path, folder)
    probe_id = next(r["id"] for r in hostile_bundle.approaches if r["kind"] == "probe")
    diagnostics = hostile_bundle.diagnostics(probe_id)
    bundle.save_diagnostics(folder, probe_id, {**diagnostics, "kshot": {"k": [1, 2]}})  # no "mean": unusable
    text = report.render_html(bundle.open_bundle(folder))
    probe = text.split('<section id="probe">', 1)[1].split("</section>", 1)[0]
    # found when the diagnostics are read (analysis.core.records), named with the key; one panel lost, not the section
    assert "The k-shot curve could not be drawn from the bundle&#39;s data" in probe and "&#39;kshot&#39;" in probe
    assert 'data-panel="c_sweep"' in probe and 'data-panel="blend"' in probe  # the rest of the section is drawn
    assert "Most confident mistakes" in text and "panel kshot" in caplog.text


def test_a_code_bug_is_not_blamed_on_the_bundle(hostile_bundle, monkeypatch):
    """Only bundle errors become notes; a bug in a figure builder fails loudly (here: a test)."""
    def broken(*_, **__):
        raise KeyError("a bug in CornLens")

    monkeypatch.setattr(figures, "kshot_figure", broken)
    with pytest.raises(KeyError, match="a bug in CornLens"):
        report.render_html(hostile_bundle)


def test_agreement_ticks_are_coloured_as_right_and_wrong(hostile_bundle):
    section = str(report.ReportBuilder(hostile_bundle).agreement().body)
    marks = re.findall(r'<span class="(right|wrong)">(.)</span>', section)
    assert {mark for _, mark in marks} == {tables.RIGHT, tables.WRONG}
    assert all((css == "right") == (mark == tables.RIGHT) for css, mark in marks)


def test_autopsy_map_shows_the_class_prompts_of_the_models_best_prompt_set(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    zeroshot = opened.approaches_of_kind("zeroshot")
    key = tables.model_key(zeroshot[0])
    best = max((r for r in zeroshot if tables.model_key(r) == key), key=choice_accuracy)  # chosen on train
    placed = tables.prompt_sets_of(opened.projection(key))
    assert len(placed) > 1 and best["prompt_set"] in placed
    section = str(report.ReportBuilder(opened).autopsy().body)
    legend = {trace.get("name") for figure in figure_specs(section) for trace in figure["data"]
              if str(trace.get("name", "")).startswith("class prompts")}
    assert legend == {f"class prompts · {best['prompt_set']}"}  # not every set's stars


def test_key_findings_say_effective_shots_as_the_dashboard_does(tmp_path):
    path = tmp_path / "shots"
    opened = make_bundle(path, ["pure", "broken"])
    probe_id = opened.approaches_of_kind("probe")[0]["id"]
    bundle.save_diagnostics(path, probe_id, {**opened.diagnostics(probe_id), "effective_shots": 11.1579})
    assert "with about 11.2 labelled images per class" in " ".join(report.key_findings(bundle.open_bundle(path)))
