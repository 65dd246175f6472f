"""Text from a bundle, a CSV or a URL stays text: Markdown, HTML, plotly text, spreadsheet cells, long lists.
(The real rendering in a browser is checked by tests/test_browser_hostile.py.)"""

from __future__ import annotations

import html
import io
import re

import pandas as pd
import plotly.graph_objects as go

from analysis.core import escape
from analysis.present import figure_style
from analysis.present.report import html as report_html


def test_markdown_text_escapes_every_special_and_html():
    assert escape.markdown_text("pure") == "pure"
    assert escape.markdown_text("<img src=x>") == "&#60;img src=x&#62;"
    assert escape.markdown_text("![b](x.png)") == r"!\[b\](x.png)"
    assert escape.markdown_text(":red[x] $y$ `z`") == r":red\[x\] \$y\$ \`z\`"
    assert escape.markdown_text("**a** _b_ c_d |e| ~~f~~") == r"\*\*a\*\* \_b\_ c_d \|e\| \~\~f\~\~"
    assert escape.markdown_text("a & 'b' \"c\"") == "a &#38; 'b' \"c\""
    assert escape.markdown_text("# title\n- item") == r"\# title - item"  # never a heading or a list
    assert escape.markdown_text("- x") == r"\- x" and escape.markdown_text("12. x") == r"12\. x"
    assert escape.markdown_text("0.250") == "0.250" and escape.markdown_text("-1") == "-1"  # numbers start nothing
    assert escape.markdown_text(3) == "3"


def test_web_and_mail_addresses_do_not_become_links():
    joiner = "\u2060"
    assert escape.markdown_text("http://x") == f"http:{joiner}//x"
    assert escape.markdown_text("www.x.org") == f"www{joiner}.x.org"
    assert escape.markdown_text("a@b.c") == f"a@{joiner}b.c"


def test_code_spans_and_fenced_lines_cannot_be_left():
    assert escape.markdown_code("/a/b") == "`/a/b`"
    assert escape.markdown_code("a ``b`` c") == "```a ``b`` c```"
    assert escape.markdown_code("`x") == "`` `x ``"
    assert escape.one_line("a\n```\n![x](y)\r\x00z") == "a ``` ![x](y)  z"


def test_emphasis_alone_is_kept_from_stored_markdown():
    assert escape.markdown_emphasis("**zero-shot** vs *pure* <img>") == "**zero-shot** vs *pure* &#60;img&#62;"


def test_html_text():
    assert escape.html_text('<a href="x">&</a>') == "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;"


def test_spreadsheet_cells_never_start_a_formula():
    for formula in ("=HYPERLINK(\"http://x\")", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "\nx"):
        assert escape.spreadsheet_cell(formula) == "'" + formula
    assert escape.spreadsheet_cell("pure") == "pure" and escape.spreadsheet_cell(-1) == -1
    frame = pd.DataFrame({"tag": ["=cmd|' /C calc'!A0", "ok"], "n": [-1, 2], "=head": ["a", "b"]})
    read = pd.read_csv(io.StringIO(escape.spreadsheet_csv(frame)), keep_default_na=False)
    assert list(read.columns) == ["tag", "n", "'=head"]
    assert read["tag"].tolist() == ["'=cmd|' /C calc'!A0", "ok"] and read["n"].tolist() == [-1, 2]


def test_long_lists_are_summarised():
    assert escape.listed(["a", "b"]) == "a, b"
    names = [f"class{index}" for index in range(10_000)]
    assert escape.listed(names, 3) == "class0, class1, class2, … and 9997 more"
    assert len(escape.listed(names)) < 200


def test_figure_text_is_escaped_and_the_figures_own_markup_kept():
    name = '<a href="http://evil.test">x</a><img src=y>'
    figure = go.Figure(go.Bar(x=[name, "b"], y=[1, 2], name=name, text=["1<br>2", name], customdata=[[name], ["b"]],
                              hovertemplate="%{x}<br>" + name + "<extra></extra>"))
    figure.update_layout(title="<b>bold</b> " + name)
    safe = figure_style.text_only(figure).to_plotly_json()
    trace = safe["data"][0]
    assert list(trace["x"]) == [escape.html_text(name), "b"] and trace["name"] == escape.html_text(name)
    assert list(trace["text"]) == ["1<br>2", escape.html_text(name)]  # the figure's own line break stays
    assert trace["hovertemplate"] == "%{x}<br>" + escape.html_text(name) + "<extra></extra>"
    assert safe["layout"]["title"]["text"] == "<b>bold</b> " + escape.html_text(name)
    assert html.unescape(trace["customdata"][0][0]) == name  # a click gives back the original name
    assert "<a" not in str(safe) and "<img" not in str(safe)
    assert figure.data[0].name == name  # the figure itself (often a cached one) is not changed


def test_the_html_report_renders_escaped_markdown_as_the_text_it_was():
    text = f"The *{escape.markdown_text('<b>a_b</b>')}* class and `run --out {'<x>'}`"
    rendered = str(report_html.inline_markdown(text))
    assert rendered == "The <em>&lt;b&gt;a_b&lt;/b&gt;</em> class and <code>run --out &lt;x&gt;</code>"


def test_a_dashboard_table_escapes_its_cells_headings_and_row_labels():
    """st.table reads every cell, heading and index label as Markdown: a bundle's names in any of them stay text."""
    from streamlit.testing.v1 import AppTest

    def page():
        import pandas as pd

        from dashboard import components
        payload = "![i](http://evil.test/md.png)[l](http://evil.test/l)"
        components.markdown_table(pd.DataFrame({"approach": [payload], payload: [payload], "n": [3]}), index="approach")

    shown = AppTest.from_function(page, default_timeout=60).run().table[0].value
    texts = [*map(str, shown.index), str(shown.columns[0]), *(cell for cell in shown.iloc[0] if isinstance(cell, str))]
    assert len(texts) == 3 and all(r"!\[i\]" in text and "![i]" not in text for text in texts), texts
    assert shown.iloc[0, -1] == 3  # numbers stay numbers


def test_a_markdown_grid_keeps_a_bundles_names_as_text():
    import pandas as pd

    from dashboard import components
    payload = "![i](http://evil.test/md.png)|[l](http://evil.test/l)"
    grid = components.markdown_grid(pd.DataFrame({"class": [payload], payload: [payload], "all": [3]}))
    heading, rule, row = grid.splitlines()
    assert rule == "|---|---|---:|"  # the counts right-aligned
    assert "![i]" not in grid and r"!\[i\]" in heading and row.endswith("| 3 |")
    assert row.count(" | ") == 2  # the | inside a name does not open a fourth column


def test_markup_text_stays_text_inside_an_html_block_and_inline_html_alike():
    """Inside ``<div>…</div>`` Markdown is not read, so a backslash escape would show; a numeric
    reference reads back as its character in Markdown and HTML alike, is no markup in either, and no
    line break is left to end the block. (The browser check: tests/test_browser_hostile.py.)"""
    name = "![i](http://evil.test/x.png) [l](x) :red[r] $x$ <b>b</b> a_b 'q\" www.x @y\n\n# h"
    escaped = escape.markup_text(name)
    read_back = html.unescape(escaped)
    assert read_back.replace("\u2060", "") == name.replace("\n", " ")
    assert "://" not in read_back and "www." not in read_back and "@" not in read_back.replace("@\u2060", "")
    assert re.fullmatch(r"(?:[A-Za-z0-9 \u2060]|&#\d+;)*", escaped), escaped  # letters, digits, spaces, references
