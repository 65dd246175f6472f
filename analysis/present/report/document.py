"""The HTML report as one self-contained page: head, table of contents, sections, footer.

The page makes no network request: plotly's JavaScript is inlined once in the head, every figure
is a ``<div>`` plus the small script that draws it, thumbnails are ``data:`` URIs, and a
Content-Security-Policy forbids the browser to fetch anything from elsewhere. The page's style
and script are package files (``report.css``, ``report.js``) inlined as they are.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import plotly.offline
from markupsafe import Markup

from analysis.present import demo_story, reproduce
from analysis.present.report.findings import diagnostics
from analysis.core import weights
from analysis.core.bundle import Bundle, now
from analysis.present.report.html import inline_markdown
from analysis.present.report.sections import ReportBuilder

# The browser may load nothing from anywhere: inline scripts and styles, images from data: URIs.
# plotly.js compiles a few functions at run time, hence 'unsafe-eval'.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
                           "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'")

PAGE = """<!DOCTYPE html>
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
{reproduction}
<nav><ol>{contents}</ol></nav>
</header>
<main>{body}</main>
<footer><p>Every approach is scored on the same held-out images of the bundle's split; intervals are
bootstrap intervals that resample whole groups of images (see How the numbers are made). Explore the bundle interactively with <code>streamlit run dashboard/Home.py</code>.</p></footer>
<script>{script}</script>
</body>
</html>
"""


@cache
def package_text(name: str) -> str:
    """A text file shipped inside this package (``report.css``, ``report.js``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def plotly_js() -> str:
    """plotly.js, to be inlined once; checked so that it cannot end its own <script> element."""
    source = plotly.offline.get_plotlyjs()
    if "</script" in source.lower():
        raise ValueError("plotly.js contains '</script' and cannot be inlined safely")
    return source


def demo_banner(bundle: Bundle) -> Markup | str:
    """The warning at the top of the report ("" for real data of pretrained models): a demo bundle,
    and every model that is not pretrained (:func:`analysis.core.weights.banner`); a demo whose CLIP was
    trained on planted captions adds each planted cause and whether the verdict found it."""
    text = weights.banner(bundle.manifest)
    told = demo_story.bundle_lines(bundle.manifest, lambda name: diagnostics(bundle, name))
    if not text and not told:
        return ""
    items = Markup("").join(Markup("<li>{}</li>").format(line) for line in told[1:])
    return Markup('<div class="banner" role="alert">{}{}{}</div>').format(
        inline_markdown(text), Markup(" {}").format(told[0]) if told else "",
        Markup("<ul>{}</ul>").format(items) if told[1:] else "")


def render_html(bundle: Bundle) -> str:
    """The whole report as one self-contained HTML page.

    Args:
        bundle: an opened bundle.

    Returns:
        HTML text; it loads nothing from the network (plotly.js and thumbnails are inlined).
    """
    sections = ReportBuilder(bundle).sections()
    contents = Markup("").join(Markup('<li><a href="#{}">{}</a></li>').format(s.anchor, s.title) for s in sections)
    body = Markup("").join(Markup('<section id="{}"><h2>{}</h2>{}</section>').format(s.anchor, s.title, s.body)
                           for s in sections)
    page = Markup(PAGE).format(
        csp=CONTENT_SECURITY_POLICY, name=bundle.path.name, style=Markup(package_text("report.css")),
        plotly=Markup(plotly_js()), created=bundle.manifest.get("created", "?"), written=now(),
        version=bundle.manifest.get("tool_version", "?"), banner=demo_banner(bundle), contents=contents, body=body,
        reproduction=reproduce.html(reproduce.reproduction(bundle.manifest)),
        script=Markup(package_text("report.js")))
    return str(page)
