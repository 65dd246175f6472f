"""Shareable reports of a bundle: one self-contained HTML file, or a Markdown summary to paste.

The package by concern:

- :mod:`~analysis.present.report.findings`: what the report says in plain sentences (key findings, missing parts);
- :mod:`~analysis.present.report.markdown`: the Markdown summary;
- :mod:`~analysis.present.report.html`: escaped HTML building blocks, and the adapter that draws
  :mod:`analysis.present.panels` (the figures and readings the dashboard shows too);
- :mod:`~analysis.present.report.sections`: the report's sections, in reading order;
- :mod:`~analysis.present.report.document`: the page around them, with ``report.css`` and ``report.js``.

Numbers, figures and the sentences that read them are the dashboard's (:mod:`analysis.core.tables`,
:mod:`analysis.present.figures`, :mod:`analysis.present.explain`, :mod:`analysis.present.panels`), so the report and the
dashboard say the same thing in the same class colours. A part the bundle lacks is replaced by one
line naming the command that produces it.
"""

from __future__ import annotations

from pathlib import Path

from analysis.core.bundle import Bundle, atomic_path, open_bundle
from analysis.present.report.document import render_html
from analysis.present.report.findings import chosen_of_kind, key_findings, missing_line, ordered_approaches
from analysis.present.report.html import figure_html, inline_markdown
from analysis.present.report.markdown import markdown_rows, markdown_text, render_markdown
from analysis.present.report.sections import ReportBuilder, Section

FORMATS = ("html", "md")
DEFAULT_NAMES = {"html": "report.html", "md": "report.md"}


def default_output(bundle_path: str | Path, form: str = "html") -> Path:
    """Where a report goes unless told otherwise: inside the bundle (``report.html``, ``report.md``)."""
    return Path(bundle_path) / DEFAULT_NAMES[form]


def write_report(bundle_path: str | Path | Bundle, out: str | Path | None = None, form: str = "html") -> Path:
    """Render the report of the bundle at ``bundle_path`` and write it atomically.

    Args:
        bundle_path: a bundle folder, or an opened bundle (e.g. several side by side, :mod:`analysis.core.side_by_side`).
        out: the file to write (default: ``report.html`` or ``report.md`` inside the bundle).
        form: ``html`` or ``md``.

    Returns:
        The path written.
    """
    if form not in FORMATS:
        raise ValueError(f"report format must be one of {', '.join(FORMATS)}, not {form!r}")
    opened = bundle_path if isinstance(bundle_path, Bundle) else open_bundle(bundle_path)
    text = render_html(opened) if form == "html" else render_markdown(opened)
    target = Path(out).expanduser() if out is not None else default_output(opened.path, form)
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target


__all__ = ["DEFAULT_NAMES", "FORMATS", "ReportBuilder", "Section", "chosen_of_kind", "default_output", "figure_html",
           "inline_markdown", "key_findings", "markdown_rows", "markdown_text", "missing_line", "ordered_approaches",
           "render_html", "render_markdown", "write_report"]
