"""Small HTML marks shown inside markdown (``unsafe_allow_html``): class badges and right/wrong ticks.

The lowest dashboard module: the components, the dense gallery and the neighbours view all draw them.
"""

from __future__ import annotations


from analysis.core import escape
from analysis.present import figures
from analysis.core import tables

RIGHT_MARK = f"<span style='color:{figures.CORRECTNESS_COLOURS['correct']}'>{tables.RIGHT}</span>"
WRONG_MARK = f"<span style='color:{figures.CORRECTNESS_COLOURS['wrong']};font-weight:bold'>{tables.WRONG}</span>"


def class_badge(name: str, colours: dict[str, str]) -> str:
    """An HTML badge in the class colour (used inside markdown with unsafe_allow_html)."""
    colour = colours.get(name, "#777777")
    return (f"<span style='background:{colour};color:white;padding:1px 6px;border-radius:8px;"
            f"font-size:0.8em;white-space:nowrap'>{escape.markup_text(name)}</span>")  # never broken inside the name
