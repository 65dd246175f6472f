"""Shareable reports of a bundle: one self-contained HTML file, or a Markdown summary to paste.

The HTML report makes no network request: plotly's JavaScript is inlined once in the head, every
figure is a ``<div>`` plus the small script that draws it, thumbnails are ``data:`` URIs, and a
Content-Security-Policy forbids the browser to fetch anything from elsewhere. Every text that comes
from the data (class names, image ids, approach ids, prompt sets) is escaped: the page is built
with :class:`markupsafe.Markup`, whose ``format`` escapes every argument that is not itself markup.

Numbers, figures and the sentences that read them are the dashboard's (:mod:`analysis.tables`,
:mod:`analysis.figures`, :mod:`analysis.explain`), so the report and the dashboard say the same
thing in the same class colours. A section whose data the bundle lacks is replaced by one line
naming the command that produces it.
"""

from __future__ import annotations

import base64
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd
import plotly.offline
from markupsafe import Markup

from analysis import explain, figures, records, tables
from analysis.bundle import Bundle, BundleError, atomic_path, now, open_bundle

log = logging.getLogger(__name__)

FORMATS = ("html", "md")
DEFAULT_NAMES = {"html": "report.html", "md": "report.md"}
GALLERY_SIZE = 12        # most confident mistakes shown per approach
ALL_WRONG_SHOWN = 24     # thumbnails of images every approach misses
LABEL_PROBLEM_ROWS = 50  # rows of the label-problems table
KIND_ORDER = {"baseline": 0, "zeroshot": 1, "probe": 2, "finetune": 3}


# --- what the bundle says -------------------------------------------------------------------------

def _diagnostics(bundle: Bundle, name: str) -> dict:
    """The named diagnostics, or an empty dict when the bundle has none (or they cannot be read)."""
    if not bundle.has_diagnostics(name):
        return {}
    try:
        return bundle.diagnostics(name)
    except BundleError as error:
        log.warning("report: %s", error)
        return {}


def ordered_approaches(bundle: Bundle) -> list[dict]:
    """The bundle's approaches in story order: baselines, zero-shot, probe, fine-tuned; best first within."""
    return sorted(bundle.approaches,
                  key=lambda record: (KIND_ORDER.get(record["kind"], 9), -record["metrics"]["accuracy"]))


def best_of_kind(bundle: Bundle, kind: str) -> dict | None:
    """The most accurate approach of one kind, or None."""
    records = bundle.approaches_of_kind(kind)
    return max(records, key=lambda record: record["metrics"]["accuracy"]) if records else None


def key_findings(bundle: Bundle) -> list[str]:
    """A few plain sentences that read the headline numbers (plain text; callers escape them)."""
    labels = tables.approach_labels(bundle.approaches)
    reference = bundle.manifest.get("reference", {})
    majority = reference.get("majority_rate")
    findings = []
    if bundle.approaches:
        best = max(bundle.approaches, key=lambda record: record["metrics"]["accuracy"])
        scores = best["metrics"]
        interval = scores.get("accuracy_ci") or [math.nan, math.nan]
        findings.append(f"Best approach: {labels[best['id']]} at {scores['accuracy']:.3f} "
                        f"(95% interval {interval[0]:.3f}–{interval[1]:.3f}) on {scores.get('n', '?')} "
                        "held-out images.")
    zeroshot = best_of_kind(bundle, "zeroshot")
    if zeroshot and majority is not None:
        accuracy = zeroshot["metrics"]["accuracy"]
        findings.append(f"The best zero-shot run ({labels[zeroshot['id']]}) scores {accuracy:.3f}, "
                        f"{_compared(accuracy, majority)} the majority-class rate of {majority:.3f} "
                        f"(always answering \u201c{reference.get('majority_class', '?')}\u201d).")
    probe = best_of_kind(bundle, "probe")
    if probe and zeroshot:
        findings.append(f"The linear probe ({labels[probe['id']]}) scores {probe['metrics']['accuracy']:.3f}, "
                        f"{_difference(probe['metrics']['accuracy'], zeroshot['metrics']['accuracy'])} "
                        "the best zero-shot run.")
    finetune = best_of_kind(bundle, "finetune")
    if finetune and probe:
        findings.append(f"Fine-tuning ({labels[finetune['id']]}) scores {finetune['metrics']['accuracy']:.3f}, "
                        f"{_difference(finetune['metrics']['accuracy'], probe['metrics']['accuracy'])} "
                        "the linear probe.")
    stats = next((record for record in bundle.approaches if record["id"] == "baseline:image-stats"), None)
    if stats and zeroshot:
        findings.append(f"Simple image statistics (size, view, colour) alone score "
                        f"{stats['metrics']['accuracy']:.3f}, against {zeroshot['metrics']['accuracy']:.3f} "
                        "for the best zero-shot run.")
    probe_diagnostics = _diagnostics(bundle, probe["id"]) if probe else {}
    shots = probe_diagnostics.get("effective_shots")
    if isinstance(shots, (int, float)):
        at_most = probe_diagnostics.get("effective_shots_bound") == "at_most"
        findings.append(f"The probe matches zero-shot with {'at most' if at_most else 'about'} "
                        f"{tables.shots_text(shots)} labelled images per class.")
    elif probe_diagnostics.get("effective_shots_bound") == "never":
        findings.append("The probe never reaches zero-shot within the labelled images of this bundle.")
    all_wrong = _diagnostics(bundle, "agreement").get("all_wrong")
    n_eval = bundle.approaches[0]["metrics"].get("n") if bundle.approaches else None
    if all_wrong is not None and n_eval:
        findings.append(f"{len(all_wrong)} held-out images ({len(all_wrong) / n_eval:.0%}) are missed by every "
                        "approach: candidates for label problems.")
    return findings


def _compared(value: float, reference: float) -> str:
    """``below``, ``level with`` or ``above``, as the three printed decimals show it."""
    difference = round(value, 3) - round(reference, 3)
    return "level with" if abs(difference) < 5e-4 else "below" if difference < 0 else "above"


def _difference(value: float, reference: float) -> str:
    """``12.0 points above``, ``3.3 points below`` or ``level with`` (in accuracy points)."""
    relation = _compared(value, reference)
    return relation if relation == "level with" else f"{abs(value - reference) * 100:.1f} points {relation}"


def missing_line(bundle: Bundle, part: str) -> str:
    """One line saying what is missing and the command that produces it (plain text).

    The command names the data and the bundle by placeholders: a report is made to be shared, and
    the author's folder names are nobody else's business (nor any use on another machine).
    """
    manifest = {**bundle.manifest, "dataset": {**bundle.manifest.get("dataset", {}), "root": "DATA_DIR"}}
    text = explain.missing_part(manifest, "BUNDLE", part)
    sentence, _, rest = text.partition("```bash\n")
    command = rest.split("\n```", 1)[0]
    return " ".join(f"{sentence.strip()} {command}".split())


# --- Markdown --------------------------------------------------------------------------------------

def markdown_text(text: object) -> str:
    """Text from the data made inert in Markdown: no table breaks, no emphasis, no links, no HTML."""
    return "".join("\\" + character if character in "\\`*_[]<>|" else character
                   for character in " ".join(str(text).split()))


def _interval(low: float, high: float) -> str:
    return "—" if pd.isna(low) or pd.isna(high) else f"{low:.3f}–{high:.3f}"


def markdown_rows(bundle: Bundle) -> list[tuple[str, str, str, str]]:
    """The forum-post table rows: (approach, accuracy, interval, notes), as plain text.

    The bundle's approaches (best first), the reference rates, then the published leaderboard.
    """
    rows = []
    for row in tables.headline_table(bundle.manifest).itertuples(index=False):
        if row.source == tables.SOURCE_BUNDLE:
            notes = ", ".join(part for part in (
                tables.KIND_NAMES.get(row.kind, str(row.kind)),
                f"balanced accuracy {row.balanced_accuracy:.3f}" if pd.notna(row.balanced_accuracy) else "",
                f"macro-F1 {row.macro_f1:.3f}" if pd.notna(row.macro_f1) else "") if part)
            rows.append((row.approach, f"{row.accuracy:.3f}", _interval(row.ci_low, row.ci_high), notes))
        elif row.source == tables.SOURCE_REFERENCE:
            rows.append((row.approach, f"{row.accuracy:.3f}", "—", "reference rate on the same held-out images"))
        else:
            rows.append((f"published: {row.approach}", f"{row.public_lb:.3f} / {row.private_lb:.3f}", "—",
                         "Kaggle public / private leaderboard, not measured here"))
    return rows


def render_markdown(bundle: Bundle) -> str:
    """The headline table in forum-post shape (approach | accuracy | interval | notes) and key findings.

    Args:
        bundle: an opened bundle.

    Returns:
        Markdown text, ready to paste.
    """
    dataset = bundle.manifest.get("dataset", {})
    n_eval = bundle.manifest.get("split", {}).get("counts", {}).get("eval", "?")
    lines = ["## CornLens results", ""]
    if bundle.demo:
        lines += ["> **Demo bundle**: synthetic images and random-weight models; these numbers say nothing "
                  "about CLIP.", ""]
    classes = ", ".join(markdown_text(name) for name in bundle.classes)
    lines += [f"Dataset: {dataset.get('n_labelled', '?')} labelled images, {len(bundle.classes)} classes "
              f"({classes}); every approach is scored on the same {n_eval} held-out images "
              "(accuracy with a 95% bootstrap interval).", ""]
    lines += ["| approach | accuracy | interval | notes |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(markdown_text(cell) for cell in row)} |" for row in markdown_rows(bundle)]
    lines.append("")
    findings = key_findings(bundle)
    if findings:
        lines += ["**Key findings**", ""] + [f"- {markdown_text(sentence)}" for sentence in findings]
    else:
        lines.append(markdown_text(missing_line(bundle, "approaches")))
    return "\n".join(lines) + "\n"


# --- HTML building blocks --------------------------------------------------------------------------

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
# The browser may load nothing from anywhere: inline scripts and styles, images from data: URIs.
# plotly.js compiles a few functions at run time, hence 'unsafe-eval'.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
                           "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'")


@dataclass(frozen=True)
class Section:
    """One part of the report: an anchor for the table of contents, a title and its HTML body."""

    anchor: str
    title: str
    body: Markup


def figure_html(figure, reading: str = "") -> Markup:
    """A plotly figure as a ``<div>`` plus the script that draws it, and the sentences that read it.

    plotly escapes ``<`` and ``/`` in the figure JSON, so a label such as ``</script>`` cannot end
    the script early; the check keeps it that way should plotly ever change.
    """
    fragment = figure.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG,
                              default_height=f"{figure.layout.height or figures.HEIGHT}px")
    if fragment.lower().count("</script") != 1:
        raise ValueError("a plotly figure would close its <script> early; refusing to embed it")
    return Markup('<figure class="chart">{}{}</figure>').format(
        Markup(fragment), Markup("<figcaption>{}</figcaption>").format(inline_markdown(reading)) if reading else "")


def inline_markdown(text: str) -> Markup:
    """The small Markdown of :mod:`analysis.explain` (``**bold**``, ``*italics*``, ```code```) as HTML.

    The text is escaped first; only then are the markers turned into tags, so nothing from the data
    can become markup.
    """
    escaped = str(Markup.escape(text))
    escaped = re.sub(r"```(?:bash)?\s*(.+?)\s*```", r"<code>\1</code>", escaped, flags=re.S)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", escaped)
    return Markup(escaped)


def note(text: str) -> Markup:
    """A one-line note, e.g. in place of a section whose data the bundle lacks."""
    return Markup('<p class="note">{}</p>').format(text)


def table_html(header: Iterable, rows: Iterable[Iterable], row_classes: Iterable[str] | None = None,
               numeric_from: int = 1) -> Markup:
    """An HTML table; every cell is escaped unless it is already :class:`Markup`.

    Args:
        header: column titles.
        rows: cell values, one iterable per row.
        row_classes: optional CSS class per row.
        numeric_from: columns from this index on are right-aligned.
    """
    rows = [list(row) for row in rows]
    classes = list(row_classes) if row_classes is not None else [""] * len(rows)
    head = Markup("").join(Markup("<th>{}</th>").format(cell) for cell in header)
    body = Markup("").join(
        Markup('<tr class="{}">{}</tr>').format(css, Markup("").join(
            Markup('<td class="{}">{}</td>').format("num" if index >= numeric_from else "", cell)
            for index, cell in enumerate(row)))
        for row, css in zip(rows, classes))
    return Markup('<div class="table"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>').format(
        head, body)


def details(summary: str, body: Markup, open_: bool = False) -> Markup:
    """A collapsible block (the figures inside are resized when it opens; see ``_SCRIPT``)."""
    return Markup("<details{}><summary>{}</summary>{}</details>").format(
        Markup(" open") if open_ else "", summary, body)


def image_data_uri(data: bytes) -> str:
    """A ``data:`` URI for thumbnail bytes (JPEG, or PNG when the bytes say so)."""
    mime = "image/png" if bytes(data[:8]) == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(bytes(data)).decode('ascii')}"


def class_badge(name: str, colours: dict[str, str]) -> Markup:
    return Markup('<span class="badge" style="border-color:{}">{}</span>').format(
        colours.get(name, "#777777"), name)


def _number(value, digits: int = 3) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _percent(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


# --- sections --------------------------------------------------------------------------------------

class ReportBuilder:
    """Builds the sections of one bundle's report; the tables it needs are read once."""

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.manifest = bundle.manifest
        self.classes = bundle.classes
        self.colours = figures.class_colours(self.classes)
        self.approaches = ordered_approaches(bundle)
        self.labels = tables.approach_labels(self.approaches)
        self.reference = self.manifest.get("reference", {})
        self._scored: pd.DataFrame | None = None
        self._thumbnails: dict[str, bytes] | None = None

    # data, read lazily
    @property
    def scored(self) -> pd.DataFrame:
        """``tables.scored_images`` of the held-out images under every approach."""
        if self._scored is None:
            predictions = {record["id"]: self.bundle.predictions(record["id"]) for record in self.approaches}
            self._scored = tables.scored_images(self.bundle.images(), predictions, self.classes)
        return self._scored

    def thumbnail(self, image_id: str) -> bytes | None:
        if self._thumbnails is None:
            frame = self.bundle.thumbnails()
            self._thumbnails = dict(zip(frame["image_id"], frame["jpeg"]))
        return self._thumbnails.get(image_id)

    def missing(self, part: str) -> Markup:
        return note(missing_line(self.bundle, part))

    def image_card(self, image_id: str, lines: list[Markup]) -> Markup:
        data = self.thumbnail(image_id)
        picture = (Markup('<img src="{}" alt="{}">').format(image_data_uri(data), image_id)
                   if data is not None else Markup('<div class="noimg">no thumbnail</div>'))
        return Markup('<div class="card">{}<div class="caption"><div class="id">{}</div>{}</div></div>').format(
            picture, image_id, Markup("").join(Markup("<div>{}</div>").format(line) for line in lines))

    # the sections, in reading order
    def sections(self) -> list[Section]:
        """Every section; one that cannot be drawn from this bundle's data says so instead of
        taking the whole report down (the reason is logged with its traceback)."""
        builders = [(self.dataset, "dataset", "Dataset"), (self.headline, "headline", "Headline"),
                    (self.comparison, "compare", "Per class and per view"), (self.autopsy, "autopsy", "Zero-shot autopsy"),
                    (self.probe, "probe", "Linear probe"), (self.finetune, "finetune", "Fine-tuned ConvNeXt"),
                    (self.confusion, "confusion", "Confusion matrices"), (self.agreement, "agreement", "Agreement"),
                    (self.confounders, "confounders", "Shortcuts"), (self.gallery, "gallery", "Most confident mistakes")]
        sections = []
        for build, anchor, title in builders:
            try:
                sections.append(build())
            except (KeyError, ValueError, TypeError, IndexError, BundleError) as error:
                log.warning("report: section %r could not be drawn", title, exc_info=True)
                sections.append(Section(anchor, title, note(
                    f"This section could not be drawn from the bundle's data ({type(error).__name__}: {error}). "
                    "Rebuilding the bundle with the current CornLens usually fixes it.")))
        return sections

    def dataset(self) -> Section:
        dataset, split = self.manifest.get("dataset", {}), self.manifest.get("split", {})
        counts = dataset.get("counts", {})
        total = sum(counts.values()) or 1
        images = self.bundle.images()
        held_out = images[images["split"] == "eval"]["label"].value_counts()
        parts = [Markup("<p>{}</p>").format(
            f"{dataset.get('n_labelled', '?')} labelled and {dataset.get('n_unlabelled', 0)} unlabelled images "
            f"({dataset.get('layout', '?')} layout), {len(self.classes)} classes. Split (seed {split.get('seed', '?')}, "
            f"grouped by {', '.join(split.get('grouped_by', [])) or '?'}): "
            + ", ".join(f"{name} {count}" for name, count in split.get("counts", {}).items()) + ".")]
        parts.append(table_html(
            ["class", "labelled images", "share", "held-out images"],
            [[class_badge(name, self.colours), counts.get(name, 0), _percent(counts.get(name, 0) / total),
              int(held_out.get(name, 0))] for name in self.classes]))
        views = dataset.get("views", {})
        if views:
            parts.append(Markup("<p>{}</p>").format(
                "Views: " + ", ".join(f"{name} {count}" for name, count in views.items()) + "."))
        problems = {kind: count for kind, count in (dataset.get("problems") or {}).items() if count}
        duplicates = _diagnostics(self.bundle, "data").get("duplicates", [])
        facts = []
        if problems:
            facts.append("skipped rows: " + ", ".join(f"{kind} {count}" for kind, count in problems.items()))
        if duplicates:
            conflicting = sum(bool(group.get("conflicting")) for group in duplicates)
            leaks = sum(bool(group.get("leak")) for group in duplicates)
            facts.append(f"{len(duplicates)} groups of byte-identical images ({conflicting} with conflicting labels, "
                         f"{leaks} shared between train and test)")
        parts.append(note("Data problems: " + "; ".join(facts) + "." if facts else "No data problems were found."))
        return Section("dataset", "Dataset", Markup("").join(parts))

    def headline(self) -> Section:
        table = tables.headline_table(self.manifest)
        ours = table[table["source"] != tables.SOURCE_PUBLISHED]
        published = table[table["source"] == tables.SOURCE_PUBLISHED]
        parts = []
        if self.approaches:
            parts.append(figure_html(
                figures.headline_figure(table, self.reference.get("majority_rate"), self.reference.get("uniform_rate")),
                explain.read_headline(table, self.reference)))
        else:
            parts.append(self.missing("approaches"))
        parts.append(table_html(
            ["approach", "accuracy", "95% interval", "balanced accuracy", "macro-F1", "ECE", "wall time"],
            [[row.approach, _number(row.accuracy), _interval(row.ci_low, row.ci_high), _number(row.balanced_accuracy),
              _number(row.macro_f1), _number(row.ece), "—" if pd.isna(row.wall_time_s) else f"{row.wall_time_s:.0f} s"]
             for row in ours.itertuples(index=False)],
            ["reference" if row.source == tables.SOURCE_REFERENCE else "" for row in ours.itertuples(index=False)]))
        parts.append(Markup("<h3>{}</h3><p class=\"note\">{}</p>").format(
            "Published figures, for reference",
            "Accuracy on the Kaggle \u201cIt\u2019s Corn\u201d competition test set as published; measured on "
            "other images than this bundle's, so compare orders of magnitude, not decimals."))
        parts.append(table_html(["approach (published)", "public leaderboard", "private leaderboard"],
                                [[row.approach, _number(row.public_lb), _number(row.private_lb)]
                                 for row in published.itertuples(index=False)], ["published"] * len(published)))
        findings = key_findings(self.bundle)
        if findings:
            parts.append(Markup("<h3>Key findings</h3><ul>{}</ul>").format(
                Markup("").join(Markup("<li>{}</li>").format(sentence) for sentence in findings)))
        return Section("headline", "Headline: every approach against the baselines", Markup("").join(parts))

    def comparison(self) -> Section:
        if not self.approaches:
            return Section("compare", "Per class and per view", self.missing("approaches"))
        per_class = tables.per_class_table(self.approaches, self.classes)
        parts = [figure_html(figures.per_class_recall_figure(per_class, self.classes))]
        if any(record["metrics"].get("accuracy_by_view") for record in self.approaches):
            parts.append(figure_html(figures.accuracy_by_view_figure(self.approaches, self.labels)))
        return Section("compare", "Per class and per view", Markup("").join(parts))

    def autopsy(self) -> Section:
        zeroshot = self.bundle.approaches_of_kind("zeroshot")
        if not zeroshot:
            return Section("autopsy", "Zero-shot autopsy", self.missing("zeroshot"))
        majority, uniform = self.reference.get("majority_rate"), self.reference.get("uniform_rate")
        parts = []
        for key, best in records.best_per_model(zeroshot, records.ZEROSHOT).items():
            autopsy = _diagnostics(self.bundle, f"autopsy:{key}")
            if not autopsy:
                parts.append(Markup("<h3>{}</h3>{}").format(key, self.missing("autopsy")))
                continue
            block = [figure_html(figures.prompt_ladder_figure(autopsy, majority, uniform),
                                 explain.read_prompt_ladder(autopsy, majority))]
            if autopsy.get("predicted_distribution"):
                block.append(figure_html(
                    figures.distribution_figure(autopsy.get("true_distribution", {}),
                                                autopsy["predicted_distribution"], self.classes),
                    explain.read_distribution(autopsy.get("true_distribution", {}), autopsy["predicted_distribution"])))
            if autopsy.get("modality_gap"):
                block.append(figure_html(figures.modality_gap_figure(autopsy["modality_gap"], self.classes),
                                         explain.read_modality_gap(autopsy["modality_gap"])))
            if autopsy.get("text_similarity") and autopsy.get("image_centroid_similarity"):
                block.append(figure_html(
                    figures.similarity_figure(autopsy["text_similarity"], autopsy["image_centroid_similarity"],
                                              self.classes),
                    explain.read_similarity(autopsy["text_similarity"], autopsy["image_centroid_similarity"],
                                            self.classes)))
            if autopsy.get("margins"):
                block.append(figure_html(figures.margin_figure(autopsy["margins"]),
                                         explain.read_margins(autopsy["margins"])))
            if autopsy.get("reliability"):
                block.append(figure_html(figures.reliability_figure(autopsy["reliability"]),
                                         explain.read_reliability(autopsy["reliability"])))
            block.append(self.embedding_map(autopsy.get("projection") or key, best["id"], best.get("prompt_set")))
            parts.append(Markup("<h3>{}</h3>{}").format(key, Markup("").join(block)))
        return Section("autopsy", "Zero-shot autopsy", Markup("").join(parts))

    def embedding_map(self, projection: str, approach_id: str | None, prompt_set: str | None = None) -> Markup:
        """The map of ``projection`` with ``approach_id``'s answers; of the class prompts, only
        ``prompt_set``'s when the map places several sets (as the dashboard's autopsy shows it)."""
        if projection not in self.bundle.projection_names():
            return self.missing("projections")
        frame = self.bundle.projection(projection)
        prompt_set = prompt_set if prompt_set in tables.prompt_sets_of(frame) else None
        points = tables.map_points(frame, self.bundle.images(), self.scored, approach_id, prompt_set)
        return figure_html(figures.projection_figure(points, "label", self.classes,
                                                     title=f"Embedding map ({projection}), coloured by true class",
                                                     method=tables.projection_method(self.bundle.manifest, projection)),
                           explain.read_projection(points))

    def probe(self) -> Section:
        probes = self.bundle.approaches_of_kind("probe")
        if not probes:
            return Section("probe", "Linear probe", self.missing("probe"))
        parts = []
        for record in probes:
            found = _diagnostics(self.bundle, record["id"])
            block = []
            if found.get("kshot"):
                block.append(figure_html(
                    figures.kshot_figure(found["kshot"], found.get("zeroshot_accuracy"),
                                         self.reference.get("majority_rate"), self.reference.get("uniform_rate"),
                                         found.get("effective_shots")),
                    explain.read_kshot(found)))
            if found.get("c_sweep"):
                block.append(figure_html(figures.c_sweep_figure(found["c_sweep"], found.get("best_C")),
                                         explain.read_c_sweep(found["c_sweep"], found.get("best_C"))))
            if found.get("blend"):
                block.append(figure_html(figures.blend_figure(found["blend"]), explain.read_blend(found["blend"])))
            if not block:
                block.append(note("No probe diagnostics (k-shot curve, C sweep) were stored for this probe."))
            parts.append(Markup("<h3>{}</h3>{}").format(self.labels[record["id"]], Markup("").join(block)))
        return Section("probe", "Linear probe: how many labels is zero-shot worth?", Markup("").join(parts))

    def finetune(self) -> Section:
        runs = self.bundle.approaches_of_kind("finetune")
        if not runs:
            return Section("finetune", "Fine-tuned ConvNeXt", self.missing("finetune"))
        parts = []
        for record in runs:
            found = _diagnostics(self.bundle, record["id"])
            block = [figure_html(figures.training_curves_figure(found["epochs"], found.get("best_epoch")),
                                 explain.read_training(found))
                     if found.get("epochs") else note("No training curves were stored for this run.")]
            if tables.model_key(record) in self.bundle.projection_names():  # its feature space, next to CLIP's
                block.append(self.embedding_map(tables.model_key(record), record["id"]))
            parts.append(Markup("<h3>{}</h3>{}").format(self.labels[record["id"]], Markup("").join(block)))
        return Section("finetune", "Fine-tuned ConvNeXt", Markup("").join(parts))

    def confusion(self) -> Section:
        if not self.approaches:
            return Section("confusion", "Confusion matrices", self.missing("approaches"))
        matrices = {self.labels[record["id"]]: record["metrics"]["confusion_matrix"] for record in self.approaches
                    if record["metrics"].get("confusion_matrix")}
        readings = Markup("").join(
            Markup("<li><strong>{}</strong>: {}</li>").format(
                self.labels[record["id"]], inline_markdown(explain.read_confusion(record["metrics"]["confusion_matrix"],
                                                                                   self.classes)))
            for record in self.approaches if record["metrics"].get("confusion_matrix"))
        body = Markup("{}<ul class=\"readings\">{}</ul>").format(
            figure_html(figures.confusion_grid_figure(matrices, self.classes)), readings)
        return Section("confusion", "Confusion matrices (rows: true class, one colour scale)", body)

    def agreement(self) -> Section:
        found = _diagnostics(self.bundle, "agreement")
        if not found:
            return Section("agreement", "Agreement between approaches", self.missing("agreement"))
        table = tables.agreement_table(found, self.labels)
        parts = [Markup("<p>{}</p>").format(inline_markdown(explain.read_agreement(found))),
                 table_html(list(table.columns),
                            [[*(_tick(cell) for cell in row[:-2]), int(row[-2]), _percent(row[-1])]
                             for row in table.itertuples(index=False)],
                            numeric_from=len(table.columns) - 2)]
        all_wrong = list(found.get("all_wrong") or [])
        if all_wrong:
            labels = self.bundle.images().set_index("image_id")["label"]
            cards = [self.image_card(image_id, [Markup("true {}").format(class_badge(str(labels.get(image_id)),
                                                                                     self.colours))])
                     for image_id in all_wrong[:ALL_WRONG_SHOWN]]
            parts.append(Markup("<h3>{}</h3><div class=\"gallery\">{}</div>").format(
                f"Missed by every approach ({min(len(all_wrong), ALL_WRONG_SHOWN)} of {len(all_wrong)} shown)",
                Markup("").join(cards)))
        stored = _diagnostics(self.bundle, "label_problems")
        problems = tables.label_problems_table(stored)
        if len(problems):
            # content hashes mean nothing to a reader; duplicates and conflicts before the (pictured) all-wrong rows
            problems = problems.drop(columns="content_hash", errors="ignore")
            if "problem" in problems.columns:
                problems = problems.sort_values("problem", key=lambda kind: kind == "all_wrong", kind="stable")
            shown = problems.head(LABEL_PROBLEM_ROWS)
            counts = stored.get("counts", {}) if isinstance(stored, dict) else {}
            summary = ", ".join(f"{kind.replace('_', ' ')} {count}" for kind, count in counts.items()) or (
                f"{len(problems)} rows")
            parts.append(Markup("<h3>Possible label problems</h3>{}").format(details(
                f"{summary} (table of {len(shown)} of {len(problems)} rows)",
                table_html(list(shown.columns), [[_cell(value) for value in row] for row in
                                                 shown.itertuples(index=False)], numeric_from=len(shown.columns)))))
        return Section("agreement", "Agreement between approaches", Markup("").join(parts))

    def confounders(self) -> Section:
        found = _diagnostics(self.bundle, "confounders")
        if not found:
            return Section("confounders", "Shortcuts: what trivial image statistics predict",
                           self.missing("confounders"))
        majority = found.get("majority_rate", self.reference.get("majority_rate"))
        shortcut, shortcut_details = found.get("shortcut_accuracy") or {}, found.get("shortcuts")
        parts = []
        if shortcut:
            parts.append(figure_html(
                figures.shortcut_figure(shortcut, majority, self.reference.get("uniform_rate"), shortcut_details),
                explain.read_shortcuts(shortcut, majority, shortcut_details)))
        for profile in tables.confounder_profiles(found, self.classes):
            parts.append(figure_html(figures.feature_by_class_figure(classes=self.classes, **profile)))
        return Section("confounders", "Shortcuts: what trivial image statistics predict",
                       Markup("").join(parts) or note("The confounder diagnostics hold no figures."))

    def gallery(self) -> Section:
        if not self.approaches:
            return Section("gallery", "Most confident mistakes", self.missing("approaches"))
        scored = self.scored
        parts = [note(f"Up to {GALLERY_SIZE} held-out images per approach that it got wrong with the highest "
                      "confidence; open an approach to see them.")]
        best = {record["id"] for record in (best_of_kind(self.bundle, kind) for kind in KIND_ORDER) if record}
        for record in self.approaches:
            approach_id = record["id"]
            rows = tables.filter_gallery(scored, approach_id).head(GALLERY_SIZE)
            cards = [self.image_card(row.image_id, [
                Markup("true {}").format(class_badge(row.label, self.colours)),
                Markup("predicted {} {}").format(class_badge(row[tables.prediction_column(approach_id)], self.colours),
                                                 _percent(row[tables.confidence_column(approach_id)]))])
                for _, row in rows.iterrows()]
            body = (Markup('<div class="gallery">{}</div>').format(Markup("").join(cards)) if cards
                    else note("No mistakes on the held-out images."))
            wrong = int((scored[tables.prediction_column(approach_id)] != scored["label"]).sum())
            parts.append(details(f"{self.labels[approach_id]} — {wrong} mistakes", body, approach_id in best))
        return Section("gallery", "Most confident mistakes", Markup("").join(parts))


def _tick(cell: str) -> Markup:
    """✓ / ✗ of the agreement table, coloured."""
    return Markup('<span class="{}">{}</span>').format("right" if cell == "✓" else "wrong", cell)


def _cell(value) -> str:
    if isinstance(value, float):
        return _number(value)
    return "—" if value is None else str(value)


# --- the page --------------------------------------------------------------------------------------

_STYLE = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#dde1e8; --accent:#AA4499; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:#fafbfc; }
header, main, footer { max-width:1180px; margin:0 auto; padding:0 24px; }
header { padding-top:28px; }
h1 { margin:0 0 4px; font-size:28px; } h2 { margin:40px 0 12px; padding-top:8px; border-top:1px solid var(--line); }
h3 { margin:24px 0 8px; font-size:17px; }
.subtitle, .note, figcaption, footer { color:var(--muted); }
.banner { margin:16px 0; padding:12px 16px; border-radius:6px; background:#fff4d6; border:1px solid #e7b416; }
nav ol { columns:2; padding-left:20px; }
.table { overflow-x:auto; } table { border-collapse:collapse; margin:8px 0 16px; background:#fff; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { font-weight:600; background:#f1f3f6; } td.num { text-align:right; font-variant-numeric:tabular-nums; }
tr.reference td { font-style:italic; color:var(--muted); } tr.published td { color:var(--muted); }
figure.chart { margin:12px 0 20px; background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px; }
figcaption { padding:6px 8px 2px; }
.badge { display:inline-block; max-width:100%; padding:0 6px; border-left:6px solid; background:#f1f3f6;
         border-radius:3px; overflow-wrap:anywhere; }
.gallery { display:grid; grid-template-columns:repeat(auto-fill,minmax(150px,1fr)); gap:10px; margin:10px 0; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:6px; font-size:13px; }
.card img, .noimg { width:100%; aspect-ratio:1; object-fit:contain; background:#eee; display:block; }
.noimg { display:flex; align-items:center; justify-content:center; color:var(--muted); }
.card .id { font-family:ui-monospace,monospace; font-size:11px; overflow-wrap:anywhere; color:var(--muted); }
.right { color:#117733; font-weight:600; } .wrong { color:#D55E00; }
details { margin:8px 0; } summary { cursor:pointer; font-weight:600; }
code { background:#f1f3f6; padding:0 4px; border-radius:3px; }
@media print { details { display:block; } nav { display:none; } }
"""

# Figures drawn inside a closed <details> have no width yet: redraw them when it opens.
_SCRIPT = """
document.querySelectorAll("details").forEach(function (block) {
  block.addEventListener("toggle", function () {
    if (block.open) block.querySelectorAll(".js-plotly-plot").forEach(function (plot) { Plotly.Plots.resize(plot); });
  });
});
"""


def render_html(bundle: Bundle) -> str:
    """The whole report as one self-contained HTML page.

    Args:
        bundle: an opened bundle.

    Returns:
        HTML text; it loads nothing from the network (plotly.js and thumbnails are inlined).
    """
    sections = ReportBuilder(bundle).sections()
    name = bundle.path.name
    banner = ""
    if bundle.demo:
        made_by = bundle.manifest.get("generated_by")
        banner = Markup('<div class="banner" role="alert"><strong>Demo bundle.</strong> {}</div>').format(
            "Synthetic images and random model weights" + (f" ({made_by})" if made_by else "")
            + ". These numbers show how CornLens works; they say nothing about CLIP.")
    contents = Markup("").join(Markup('<li><a href="#{}">{}</a></li>').format(s.anchor, s.title) for s in sections)
    body = Markup("").join(Markup('<section id="{}"><h2>{}</h2>{}</section>').format(s.anchor, s.title, s.body)
                           for s in sections)
    page = Markup("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CornLens report: {name}</title>
<style>{style}</style>
<script>{plotly}</script>
</head>
<body>
<header>
<h1>CornLens report</h1>
<p class="subtitle">Does zero-shot CLIP work on these images, and if not, why? Bundle <code>{name}</code>,
created {created}; report written {written} by CornLens {version}.</p>
{banner}
<nav><ol>{contents}</ol></nav>
</header>
<main>{body}</main>
<footer><p>Every approach is scored on the same held-out images of the bundle's split; intervals are 95%
bootstrap intervals. Explore the bundle interactively with <code>streamlit run dashboard/Home.py</code>.</p></footer>
<script>{script}</script>
</body>
</html>
""").format(csp=CONTENT_SECURITY_POLICY, name=name, style=Markup(_STYLE), plotly=Markup(_plotly_js()),
            created=bundle.manifest.get("created", "?"), written=now(),
            version=bundle.manifest.get("tool_version", "?"), banner=banner, contents=contents, body=body,
            script=Markup(_SCRIPT))
    return str(page)


def _plotly_js() -> str:
    """plotly.js, to be inlined once; checked so that it cannot end its own <script> element."""
    source = plotly.offline.get_plotlyjs()
    if "</script" in source.lower():
        raise ValueError("plotly.js contains '</script' and cannot be inlined safely")
    return source


# --- writing ---------------------------------------------------------------------------------------

def default_output(bundle_path: str | Path, form: str = "html") -> Path:
    """Where a report goes unless told otherwise: inside the bundle (``report.html``, ``report.md``)."""
    return Path(bundle_path) / DEFAULT_NAMES[form]


def write_report(bundle_path: str | Path, out: str | Path | None = None, form: str = "html") -> Path:
    """Render the report of the bundle at ``bundle_path`` and write it atomically.

    Args:
        bundle_path: a bundle folder.
        out: the file to write (default: ``report.html`` or ``report.md`` inside the bundle).
        form: ``html`` or ``md``.

    Returns:
        The path written.
    """
    if form not in FORMATS:
        raise ValueError(f"report format must be one of {', '.join(FORMATS)}, not {form!r}")
    opened = open_bundle(bundle_path)
    text = render_html(opened) if form == "html" else render_markdown(opened)
    target = Path(out).expanduser() if out is not None else default_output(opened.path, form)
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target
