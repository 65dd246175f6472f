"""The Markdown report: the headline table in forum-post shape and the key findings, to paste."""

from __future__ import annotations

import pandas as pd

from analysis.present import demo_story, ladder_panels, method, reproduce
from analysis.core import tables, weights
from analysis.core.bundle import Bundle
from analysis.core.escape import markdown_text  # text from the data made inert: no table break, link or HTML
from analysis.present.report.findings import diagnostics, key_findings, missing_line


def interval_text(low: float, high: float) -> str:
    """``0.412–0.498``, or ``—`` when the interval is unknown."""
    return "—" if pd.isna(low) or pd.isna(high) else f"{low:.3f}–{high:.3f}"


def markdown_rows(bundle: Bundle) -> list[tuple[str, str, str, str]]:
    """The forum-post table rows: (approach, accuracy, interval, notes), as plain text.

    The bundle's approaches (in the ladder's order), the reference rates, then the published leaderboard.
    """
    rows = []
    for row in tables.headline_table(bundle.manifest).itertuples(index=False):
        if row.source == tables.SOURCE_BUNDLE:
            notes = ", ".join(part for part in (
                tables.KIND_NAMES.get(row.kind, str(row.kind)),
                f"balanced accuracy {row.balanced_accuracy:.3f}" if pd.notna(row.balanced_accuracy) else "",
                f"macro-F1 {row.macro_f1:.3f}" if pd.notna(row.macro_f1) else "") if part)
            rows.append((row.approach, f"{row.accuracy:.3f}", interval_text(row.ci_low, row.ci_high), notes))
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
    told = demo_story.bundle_lines(bundle.manifest, lambda name: diagnostics(bundle, name))
    if weights.banner(bundle.manifest) or told:
        lines += [f"> {weights.banner(bundle.manifest)}" + (f" {markdown_text(told[0])}" if told else ""),
                  *(f"> - {markdown_text(line)}" for line in told[1:]), ""]
    verdict = diagnostics(bundle, "verdict")
    if verdict:
        lines += ["**Verdict**", "", ladder_panels.verdict_markdown(verdict), ""]
    lines += reproduce.markdown(reproduce.reproduction(bundle.manifest), markdown_text)
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
    lines += ["", "**How the numbers are made**", ""] + [
        f"- {markdown_text(line)}" for line in method.how_numbers_are_made(bundle.manifest, bundle.images(), verdict)]
    lines += ladder_markdown(bundle)
    return "\n".join(lines) + "\n"


def ladder_markdown(bundle: Bundle) -> list[str]:
    """The ladder of each CLIP model as one Markdown table, under its reading."""
    lines = []
    keys = sorted({record.get("model_key") or tables.model_key(record) for record in bundle.approaches_of_kind("zeroshot")})
    for found in (diagnostics(bundle, f"ladder:{key}") for key in keys):
        if not found:
            continue
        table = ladder_panels.ladder_table(found).drop(columns=["approach"])
        lines += ["", f"**Where the points go ({markdown_text(found['model_key'])})**", "",
                  ladder_panels.read_ladder(found), "",
                  "| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
        lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in table.itertuples(index=False)]
    return lines
