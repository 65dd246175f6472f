"""The report's sections, in reading order: each one title and its HTML body.

The zero-shot autopsy, linear probe, ConvNeXt and shortcut sections draw the panels of
:mod:`analysis.present.panels` (the dashboard draws the same lists); the others are tables, galleries and
lines of text about the whole bundle. A section whose data the bundle lacks is one line naming the
command that produces it; one whose files cannot be read (:class:`BundleError`) says so in place
of the section. Any other exception is a bug in CornLens and is not hidden.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup

from analysis.present import explain, figures, method, panels
from analysis.core import records, tables, thumbnail_index
from analysis.data import split as split_module
from analysis.stats import approach_agreement
from analysis.core.bundle import Bundle, BundleError
from analysis.present.report.inspection import neighbours_body, tagged_body
from analysis.present.report.findings import KIND_ORDER, chosen_of_kind, diagnostics, key_findings, missing_line, ordered_approaches
from analysis.present.report.html import (cell, class_badge, details, inline_markdown, note, number, panels_html,
                                  percent, table_html, tick)
from analysis.present.report.markdown import interval_text

log = logging.getLogger(__name__)

GALLERY_SIZE = 12        # most confident mistakes shown per approach
ALL_WRONG_SHOWN = 24     # thumbnails of images every approach misses
LABEL_PROBLEM_ROWS = 50  # rows of the label-problems table


@dataclass(frozen=True)
class Section:
    """One part of the report: an anchor for the table of contents, a title and its HTML body."""

    anchor: str
    title: str
    body: Markup


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
        self.source = panels.BundleSource(bundle)
        self._thumbnails: dict[str, bytes | None] = {}

    @property
    def scored(self) -> pd.DataFrame:
        """``tables.scored_images`` of the held-out images under every approach (read once)."""
        return self.source.scored

    def thumbnail(self, image_id: str) -> bytes | None:
        """The image's thumbnail, read on its own (a report shows a few hundred of a bundle's thumbnails)."""
        if image_id not in self._thumbnails:
            self._thumbnails[image_id] = self.bundle.thumbnails([image_id]).get(image_id)
        return self._thumbnails[image_id]

    def missing(self, part: str) -> Markup:
        return note(missing_line(self.bundle, part))

    def image_card(self, image_id: str, lines: list[Markup]) -> Markup:
        data = self.thumbnail(image_id)
        picture = (Markup('<img src="{}" alt="{}">').format(thumbnail_index.data_uri(data), image_id)
                   if data is not None else Markup('<div class="noimg">no thumbnail</div>'))
        return Markup('<div class="card">{}<div class="caption"><div class="id">{}</div>{}</div></div>').format(
            picture, image_id, Markup("").join(Markup("<div>{}</div>").format(line) for line in lines))

    # the sections, in reading order
    def sections(self) -> list[Section]:
        """Every section. One whose bundle files cannot be read (:class:`BundleError`) says so in
        place of the section and the report goes on; the reason is logged with its traceback."""
        builders = [(self.verdict, "verdict", "Verdict"), (self.dataset, "dataset", "Dataset"),
                    (self.headline, "headline", "Headline"), (self.how_made, "method", "How the numbers are made"),
                    (self.comparison, "compare", "Compare approaches"), (self.autopsy, "autopsy", "Zero-shot autopsy"),
                    (self.probe, "probe", "Linear probe"), (self.finetune, "finetune", "Fine-tuned ConvNeXt"),
                    (self.agreement, "agreement", "Agreement"),
                    (self.confounders, "confounders", "Shortcuts"), (self.gallery, "gallery", "Most confident mistakes"),
                    (self.neighbours, "neighbours", "Nearest training images"), (self.tagged, "tagged", "Tagged images")]
        sections = []
        for build, anchor, title in builders:
            try:
                sections.append(build())
            except BundleError as error:
                log.warning("report: section %r could not be drawn", title, exc_info=True)
                sections.append(Section(anchor, title, note(
                    f"This section could not be drawn from the bundle's data ({error}). "
                    "Rebuilding the bundle with the current CornLens usually fixes it.")))
        return sections

    def verdict(self) -> Section:
        """The verdict first: the panel Home shows (``panels.VERDICT_PANELS``)."""
        data = panels.verdict_data(self.source)
        if not data.diagnostics:
            return Section("verdict", "Verdict", note("No verdict in this bundle yet: it is written after the "
                                                      "approaches by `python -m analysis run`."))
        return Section("verdict", "Verdict", panels_html(panels.VERDICT_PANELS, data, self.missing) + note(
            f"Differences in accuracy points on the same {data.diagnostics.get('n_eval')} held-out images, with "
            "paired bootstrap intervals that resample whole groups of images."))

    def dataset(self) -> Section:
        dataset, split = self.manifest.get("dataset", {}), self.manifest.get("split", {})
        counts = dataset.get("counts", {})
        total = sum(counts.values()) or 1
        images = self.bundle.images()
        held_out = images[images["split"] == "eval"]["label"].value_counts()
        parts = [Markup("<p>{}</p>").format(
            f"{dataset.get('n_labelled', '?')} labelled and {dataset.get('n_unlabelled', 0)} unlabelled images "
            f"({dataset.get('layout', '?')} layout), {len(self.classes)} classes. Split (seed {split.get('seed', '?')}, "
            f"grouped by {', '.join(split.get('grouped_by', [])) or '?'}; {split_module.method_text(split)}): "
            + ", ".join(f"{name} {count}" for name, count in split.get("counts", {}).items()) + ".")]
        parts.append(table_html(
            ["class", "labelled images", "share", "held-out images"],
            [[class_badge(name, self.colours), counts.get(name, 0), percent(counts.get(name, 0) / total),
              int(held_out.get(name, 0))] for name in self.classes]))
        views = dataset.get("views", {})
        if views:
            parts.append(Markup("<p>{}</p>").format(
                "Views: " + ", ".join(f"{name} {count}" for name, count in views.items()) + "."))
        problems = {kind: count for kind, count in (dataset.get("problems") or {}).items() if count}
        duplicates = diagnostics(self.bundle, "data").get("duplicates", [])
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
        parts = [panels_html(panels.HOME_PANELS, panels.home_data(self.source), self.missing)]
        parts.append(table_html(
            ["approach", "accuracy", "95% interval", "balanced accuracy", "macro-F1", "ECE", "wall time"],
            [[row.approach, number(row.accuracy), interval_text(row.ci_low, row.ci_high), number(row.balanced_accuracy),
              number(row.macro_f1), number(row.ece), "—" if pd.isna(row.wall_time_s) else f"{row.wall_time_s:.0f} s"]
             for row in ours.itertuples(index=False)],
            ["reference" if row.source == tables.SOURCE_REFERENCE else "" for row in ours.itertuples(index=False)]))
        parts.append(Markup("<h3>{}</h3><p class=\"note\">{}</p>").format(
            "Published figures, for reference",
            "Accuracy on the Kaggle \u201cIt\u2019s Corn\u201d competition test set as published; measured on "
            "other images than this bundle's, so compare orders of magnitude, not decimals."))
        parts.append(table_html(["approach (published)", "public leaderboard", "private leaderboard"],
                                [[row.approach, number(row.public_lb), number(row.private_lb)]
                                 for row in published.itertuples(index=False)], ["published"] * len(published)))
        findings = key_findings(self.bundle)
        if findings:
            parts.append(Markup("<h3>Key findings</h3><ul>{}</ul>").format(
                Markup("").join(Markup("<li>{}</li>").format(sentence) for sentence in findings)))
        return Section("headline", "Headline: every approach against the baselines", Markup("").join(parts))

    def how_made(self) -> Section:
        """Split, choices on the training part, bootstrap by group, the headline and multiplicity rules."""
        lines = method.how_numbers_are_made(self.manifest, self.bundle.images(), diagnostics(self.bundle, "verdict"))
        return Section("method", "How the numbers are made", Markup("<ul>{}</ul>").format(
            Markup("").join(Markup("<li>{}</li>").format(line) for line in lines)))

    def comparison(self) -> Section:
        """Every approach side by side, as on the dashboard's compare page (``panels.COMPARE_PANELS``)."""
        title = "Compare approaches: per metric, class and view"
        if not self.approaches:
            return Section("compare", title, self.missing("approaches"))
        data = panels.compare_data(self.source, self.approaches)
        return Section("compare", title, panels_html(panels.COMPARE_PANELS, data, self.missing))

    def autopsy(self) -> Section:
        """Per CLIP model, the panels of the dashboard's autopsy page (``panels.AUTOPSY_PANELS``)."""
        models = records.best_per_model(self.bundle.approaches, records.ZEROSHOT)
        if not models:
            return Section("autopsy", "Zero-shot autopsy", self.missing("zeroshot"))
        parts = []
        for key in models:
            data = panels.autopsy_data(self.source, key)
            lead = Markup("") if data.diagnostics else self.missing("autopsy")
            parts.append(Markup("<h3>{}</h3>{}{}").format(
                key, lead, panels_html(panels.AUTOPSY_PANELS, data, self.missing)))
        return Section("autopsy", "Zero-shot autopsy", Markup("").join(parts))

    def probe(self) -> Section:
        """Per probe, the panels of the dashboard's probe page (``panels.PROBE_PANELS``)."""
        probes = self.bundle.approaches_of_kind("probe")
        if not probes:
            return Section("probe", "Linear probe", self.missing("probe"))
        parts = []
        for record in probes:
            data = panels.probe_data(self.source, record)
            lead = Markup("") if data.diagnostics else note(
                "No probe diagnostics (k-shot curve, C sweep) were stored for this probe.")
            parts.append(Markup("<h3>{}</h3>{}{}").format(
                self.labels[record["id"]], lead, panels_html(panels.PROBE_PANELS, data, self.missing)))
        return Section("probe", "Linear probe: how many labels is zero-shot worth?", Markup("").join(parts))

    def finetune(self) -> Section:
        """Per network, the panels of the dashboard's ConvNeXt page (``panels.CONVNEXT_PANELS``)."""
        runs = self.bundle.approaches_of_kind("finetune")
        if not runs:
            return Section("finetune", "Fine-tuned ConvNeXt", self.missing("finetune"))
        parts = []
        for record in runs:
            data = panels.convnext_data(self.source, record)
            lead = Markup("") if data.diagnostics else note("No training curves were stored for this run.")
            parts.append(Markup("<h3>{}</h3>{}{}").format(
                self.labels[record["id"]], lead, panels_html(panels.CONVNEXT_PANELS, data, self.missing)))
        return Section("finetune", "Fine-tuned ConvNeXt", Markup("").join(parts))

    def agreement(self) -> Section:
        found = diagnostics(self.bundle, "agreement")
        if not found:
            return Section("agreement", "Agreement between approaches", self.missing("agreement"))
        table = tables.agreement_table(found, self.labels)
        parts = [Markup("<p>{}</p>").format(inline_markdown(explain.read_agreement(found))),
                 table_html(list(table.columns),
                            [[*(tick(mark) for mark in row[:-2]), int(row[-2]), percent(row[-1])]
                             for row in table.itertuples(index=False)],
                            numeric_from=len(table.columns) - 2)]
        all_wrong = list(found.get("all_wrong") or [])
        if all_wrong:
            labels = self.bundle.images().set_index("image_id")["label"]
            cards = [self.image_card(image_id, [Markup("true {}").format(class_badge(str(labels.get(image_id)),
                                                                                     self.colours))])
                     for image_id in all_wrong[:ALL_WRONG_SHOWN]]
            parts.append(Markup("<h3>{}</h3><div class=\"gallery\">{}</div>").format(
                f"{approach_agreement.MISSED.capitalize()} ({min(len(all_wrong), ALL_WRONG_SHOWN)} of "
                f"{len(all_wrong)} shown)",
                Markup("").join(cards)))
        stored = diagnostics(self.bundle, "label_problems")
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
                table_html(list(shown.columns), [[cell(value) for value in row] for row in
                                                 shown.itertuples(index=False)], numeric_from=len(shown.columns)))))
        return Section("agreement", "Agreement between approaches", Markup("").join(parts))

    def confounders(self) -> Section:
        """The panels of the image-statistics baseline (``panels.SHORTCUT_PANELS``), as on the autopsy page."""
        title = "Shortcuts: what trivial image statistics predict"
        data = panels.shortcut_data(self.source)
        if not data.diagnostics:
            return Section("confounders", title, self.missing("confounders"))
        return Section("confounders", title, panels_html(panels.SHORTCUT_PANELS, data, self.missing)
                       or note("The confounder diagnostics hold no figures."))

    def gallery(self) -> Section:
        if not self.approaches:
            return Section("gallery", "Most confident mistakes", self.missing("approaches"))
        scored = self.scored
        parts = [note(f"Up to {GALLERY_SIZE} held-out images per approach that it got wrong with the highest "
                      "confidence; open an approach to see them.")]
        best = {record["id"] for record in (chosen_of_kind(self.bundle, kind) for kind in KIND_ORDER) if record}
        for record in self.approaches:
            approach_id = record["id"]
            rows = tables.filter_gallery(scored, approach_id).head(GALLERY_SIZE)
            cards = [self.image_card(row.image_id, [
                Markup("true {}").format(class_badge(row.label, self.colours)),
                Markup("predicted {} {}").format(class_badge(row[tables.prediction_column(approach_id)], self.colours),
                                                 percent(row[tables.confidence_column(approach_id)]))])
                for _, row in rows.iterrows()]
            body = (Markup('<div class="gallery">{}</div>').format(Markup("").join(cards)) if cards
                    else note("No mistakes on the held-out images."))
            wrong = int((scored[tables.prediction_column(approach_id)] != scored["label"]).sum())
            parts.append(details(f"{self.labels[approach_id]} — {wrong} mistakes", body, approach_id in best))
        return Section("gallery", "Most confident mistakes", Markup("").join(parts))

    def neighbours(self) -> Section:
        """The most confident mistakes of each kind's chosen run beside their nearest training images."""
        return Section("neighbours", "Why those mistakes? Their nearest training images",
                       neighbours_body(self))

    def tagged(self) -> Section:
        """The images tagged in the dashboard's gallery (``tags.csv`` beside the bundle)."""
        return Section("tagged", "Tagged images", tagged_body(self))
