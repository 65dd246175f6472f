"""HTML building blocks of the report, and its adapter for :mod:`analysis.present.panels`.

Every block is :class:`markupsafe.Markup`, whose ``format`` escapes every argument that is not
itself markup: text from the data (class names, image ids, approach ids, prompt sets) can never
become markup.
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd
from markupsafe import Markup

from analysis.present import figure_style, figures, panels
from analysis.core import tables
from analysis.core.bundle import BundleError
from analysis.present.panels import Panel, PanelSpec
from analysis.core import numbers

log = logging.getLogger(__name__)

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def figure_html(figure, reading: str = "") -> Markup:
    """A plotly figure as a ``<div>`` plus the script that draws it, and the sentences that read it.

    plotly escapes ``<`` and ``/`` in the figure JSON, so a label such as ``</script>`` cannot end
    the script early; the check keeps it that way should plotly ever change.
    """
    fragment = figure_style.text_only(figure).to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG,
                              default_height=f"{figure.layout.height or figures.HEIGHT}px")
    if fragment.lower().count("</script") != 1:
        raise ValueError("a plotly figure would close its <script> early; refusing to embed it")
    return Markup('<figure class="chart">{}{}</figure>').format(
        Markup(fragment), Markup("<figcaption>{}</figcaption>").format(inline_markdown(reading)) if reading else "")


_CODE = re.compile(r"```(?:bash)?\s*(.+?)\s*```|`([^`]+)`", flags=re.S)
# What :func:`analysis.core.escape.markdown_text` writes for a literal character: a backslash
# escape, or a numeric reference for HTML's characters.
_LITERAL = re.compile(r"\\([!-/:-@\[-`{-~])|&#(38|60|62);")


def inline_markdown(text: str) -> Markup:
    """The small Markdown of :mod:`analysis.present.explain` (``**bold**``, ``*italics*``, ```code```) as HTML.

    Code spans are taken as they are; elsewhere the literal characters of escaped names (``\\*``,
    ``&#60;``) are set aside, the rest escaped, and only then are the markers turned into tags, so
    nothing from the data can become markup.
    """
    parts, start = [], 0
    for code in _CODE.finditer(text):
        parts += [_emphasis(text[start:code.start()]), Markup("<code>{}</code>").format(code.group(1) or code.group(2))]
        start = code.end()
    parts.append(_emphasis(text[start:]))
    return Markup("").join(parts)


def _emphasis(text: str) -> Markup:
    literals: list[str] = []

    def set_aside(found: re.Match) -> str:
        literals.append(found.group(1) or chr(int(found.group(2))))
        return f"\x00{len(literals) - 1}\x00"

    escaped = str(Markup.escape(_LITERAL.sub(set_aside, text.replace("\x00", ""))))
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", escaped)
    return Markup(re.sub("\x00(\\d+)\x00", lambda found: str(Markup.escape(literals[int(found.group(1))])), escaped))


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
    """A collapsible block (the figures inside are resized when it opens; see ``report.js``)."""
    return Markup("<details{}><summary>{}</summary>{}</details>").format(
        Markup(" open") if open_ else "", summary, body)


def class_badge(name: str, colours: dict[str, str]) -> Markup:
    return Markup('<span class="badge" style="border-color:{}">{}</span>').format(
        colours.get(name, "#777777"), name)


def tick(cell: str) -> Markup:
    """A ``tables.RIGHT`` / ``tables.WRONG`` mark of the agreement table, coloured."""
    return Markup('<span class="{}">{}</span>').format("right" if cell == tables.RIGHT else "wrong", cell)


def number(value, digits: int = 3) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def percent(value) -> str:
    return numbers.percent(value, "—")


def cell(value) -> str:
    """A table cell of any value: floats to three decimals, None as a dash."""
    if isinstance(value, float):
        return number(value)
    return "—" if value is None else str(value)


# --- panels ---------------------------------------------------------------------------------------

def reading_html(text: str) -> Markup:
    """A words-only panel's reading: paragraphs, and ``- `` lines as a bulleted list."""
    items = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    prose = " ".join(line for line in text.splitlines() if line.strip() and not line.startswith("- "))
    parts = [Markup('<p class="reading">{}</p>').format(inline_markdown(prose))] if prose else []
    if items:
        parts.append(Markup('<ul class="reading">{}</ul>').format(
            Markup("").join(Markup("<li>{}</li>").format(inline_markdown(item)) for item in items)))
    return Markup("").join(parts)


def panel_html(panel: Panel, missing: Callable[[str], Markup]) -> Markup:
    """One built panel: a "missing part" line, or its warning, figure and reading."""
    if panel.missing:
        return missing(panel.missing)
    parts = [Markup('<p class="warning">{}</p>').format(inline_markdown(panel.warning))] if panel.warning else []
    if panel.figure is not None:
        parts.append(figure_html(panel.figure, panel.reading))
    elif panel.table is not None:
        parts.append(table_html(panel.table.columns, panel.table.itertuples(index=False), numeric_from=len(
            panel.table.columns)))
        if panel.reading:
            parts.append(Markup("<p class=\"caption\">{}</p>").format(inline_markdown(panel.reading)))
    elif panel.reading:
        parts.append(reading_html(panel.reading))
    return Markup('<div class="panel" data-panel="{}">{}</div>').format(panel.key, Markup("").join(parts))


def panels_html(specs: Sequence[PanelSpec], data: panels.PageData, missing: Callable[[str], Markup]) -> Markup:
    """A page's panels in order, as the dashboard draws them (``panels.rows``: a heading when it
    changes, half panels in pairs); a panel whose data has another shape becomes a note, the others
    are drawn."""
    parts = []
    for heading, row in panels.rows(_built(specs, data)):
        if heading:
            parts.append(Markup("<h4>{}</h4>").format(heading))
        blocks = Markup("").join(panel_html(panel, missing) for panel in row)
        parts.append(Markup('<div class="halves">{}</div>').format(blocks) if row[0].half else blocks)
    return Markup("").join(parts)


def _built(specs: Sequence[PanelSpec], data: panels.PageData) -> Iterator[Panel]:
    """Each panel that has data; one whose data has another shape as a warning panel."""
    for spec in specs:
        try:
            panel = panels.build(spec, data)
        except BundleError as error:  # data of another shape; a bug in CornLens is not caught
            log.warning("report: panel %s: %s", spec.key, error)
            panel = Panel(spec.key, spec.title, spec.heading, half=spec.half,
                          warning=f"The {spec.title} could not be drawn from the bundle's data: {error} "
                                  "Rebuilding the bundle with the current CornLens usually fixes it.")
        if panel is not None:
            yield panel
