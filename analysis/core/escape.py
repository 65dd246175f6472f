"""Text that came from outside (a bundle, a CSV, a URL) shown as text: the one place that escapes it.

Class names, splits, paths, prompt sets, tags, approach and model names are data someone else wrote.
Before they go into HTML, Markdown (Streamlit's ``st.markdown``, captions, notices, labels; the
Markdown report), a plotly figure (whose text is a small HTML) or a CSV a spreadsheet opens, they
pass through one of these functions, so that ``<img src=…>``, ``![b](http://…)``, ``:red[x]``,
``$x$`` or ``=HYPERLINK(…)`` read as the characters they are and never become an element, a
request, a link or a formula.
"""

from __future__ import annotations

import io
import re
import string
from typing import Iterable

import markupsafe
import pandas as pd

# Characters HTML gives a meaning to, as numeric references: understood by browsers, by Markdown
# (CommonMark character references) and by plotly's text, and holding no Markdown special of their own.
_HTML_REFERENCES = {"&": "&#38;", "<": "&#60;", ">": "&#62;"}
# Markdown characters that make links and images (``[``, ``]``), code, emphasis, tables,
# strikethrough, Streamlit's ``:colour[…]`` and ``$maths$``: backslash-escaped (CommonMark allows it
# for any ASCII punctuation). ``_`` between two letters or digits means nothing and stays as it is.
_MARKDOWN_SPECIALS = set("\\`*_[]$|~")
_PUNCTUATION = frozenset(string.punctuation)
# What starts a heading, a list or a quote at the beginning of a value.
# (A marker needs a space or the end after it: ``-1`` or ``0.25`` starts nothing.)
_BLOCK_START = re.compile(r"^(\s*)(#{1,6}|[+-]|\d{1,9}[.)])(?=\s|$)")
# GitHub-flavoured Markdown (Streamlit's) turns ``http://…``, ``www.…`` and ``a@b.c`` in plain text
# into links after escapes are resolved; an invisible word joiner inside each breaks the pattern.
_AUTOLINKS = (("://", ":\u2060//"), ("www.", "www\u2060."), ("WWW.", "WWW\u2060."), ("@", "@\u2060"))
# A cell a spreadsheet would read as a formula starts with one of these (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def html_text(value: object) -> str:
    """``value`` as text inside HTML (an element's content or a quoted attribute), or inside plotly
    text (titles, labels, hover): ``<``, ``>``, ``&`` and quotes escaped."""
    return str(markupsafe.escape(str(value)))


def markdown_text(value: object) -> str:
    """``value`` as literal text inside Markdown, also Markdown that allows HTML
    (``unsafe_allow_html``): ``<``, ``>`` and ``&`` as references, Markdown's specials
    backslash-escaped, line breaks as spaces and a leading ``#``, ``-``, ``+`` or ``1.`` escaped (a
    value never starts a heading, list or table row), and web and mail addresses kept from becoming
    links (a word joiner, U+2060, after ``:``, ``www`` and ``@``)."""
    text = " ".join(str(value).splitlines())
    for pattern, broken in _AUTOLINKS:
        text = text.replace(pattern, broken)
    out = []
    for index, character in enumerate(text):
        if character in _HTML_REFERENCES:
            out.append(_HTML_REFERENCES[character])
        elif character in _MARKDOWN_SPECIALS and not (character == "_" and 0 < index < len(text) - 1
                                                      and text[index - 1].isalnum() and text[index + 1].isalnum()):
            out.append("\\" + character)
        else:
            out.append(character)
    escaped = "".join(out)
    start = _BLOCK_START.match(escaped)
    if start:
        marker = start.group(2)
        escaped = start.group(1) + marker[:-1] + "\\" + marker[-1] + escaped[start.end():]
    return escaped


def markup_text(value: object) -> str:
    """``value`` as literal text inside an HTML element that Streamlit's Markdown shows
    (``unsafe_allow_html``), whether the element sits inline in a paragraph, where Markdown still
    reads its content, or starts an HTML block, where it does not (there a backslash escape would
    show): on one line, every ASCII punctuation character as a numeric character reference, which
    both Markdown and HTML read back as the character itself and neither as markup, and web and mail
    addresses broken as in :func:`markdown_text` (Streamlit finds links in the text read back)."""
    text = one_line(value)
    for pattern, broken in _AUTOLINKS:  # the text is read back before links are found: break addresses too
        text = text.replace(pattern, broken)
    return "".join(f"&#{ord(character)};" if character in _PUNCTUATION else character for character in text)


def markdown_emphasis(value: object) -> str:
    """Markdown stored in a bundle (a verdict's sentences, written by `run` with ``*emphasis*``) with
    only its emphasis kept: everything else as in :func:`markdown_text`. Emphasis loads and links nothing."""
    return markdown_text(value).replace("\\*", "*")


def markdown_code(value: object) -> str:
    """``value`` as a Markdown code span (a path, a command): nothing inside a code span is read as
    Markdown or HTML, so only the backticks need care: the fence is longer than any run of them."""
    text = one_line(value)
    longest = _longest_run(text, "`")
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def one_line(value: object) -> str:
    """``value`` with every line break and other control character as a space: a command or path
    inside a fenced code block can then never close the fence and go on as Markdown."""
    return "".join(" " if ord(character) < 32 or 0x7f <= ord(character) < 0xa0 or character in "\u2028\u2029"
                   else character for character in str(value))


def _longest_run(text: str, character: str) -> int:
    longest = current = 0
    for found in text:
        current = current + 1 if found == character else 0
        longest = max(longest, current)
    return longest


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    line break gets a leading ``'`` (OWASP's advice; the cell still reads as the same text). Numbers
    and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def listed(items: Iterable[object], limit: int = 10, separator: str = ", ") -> str:
    """The first ``limit`` items joined, then ``… and N more``: a list from data (classes, image ids,
    labels) stays one readable line at any size (10,000 classes, a group of 5,000 identical images)."""
    items = [str(item) for item in items]
    shown = separator.join(items[:limit])
    return shown + (f"{separator}… and {len(items) - limit} more" if len(items) > limit else "")


def spreadsheet_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text for a person to open in a spreadsheet: every text cell (and header)
    through :func:`spreadsheet_cell`. Not for files other programs read back as data (a Kaggle
    submission's labels must stay exactly the class names)."""
    safe = frame.rename(columns=lambda name: spreadsheet_cell(str(name)))
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_cell)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False)
    return buffer.getvalue()
