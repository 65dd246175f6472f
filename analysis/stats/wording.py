"""The comparative word from the interval the page shows: one place, so a sentence never says
"not clearly better" beside an interval that lies wholly below 0.

A difference (or an accuracy against a reference rate) is *clearly* above when its whole 95%
interval lies above the reference, *clearly* below when it lies wholly below, and level otherwise.
Every reading that compares two numbers takes its word from :func:`direction` and says it with
:func:`than` or :func:`relation`.
"""

from __future__ import annotations

from typing import Sequence
from analysis.core.escape import markdown_text

ABOVE, BELOW, LEVEL = "above", "below", "level"


def direction(interval: Sequence[float | None] | None, reference: float = 0.0) -> str:
    """``above``, ``below`` or ``level``: where ``interval`` ([low, high]) lies against ``reference``
    (a missing interval is ``level``: nothing can be said)."""
    if not interval or interval[0] is None or interval[1] is None:
        return LEVEL
    low, high = float(interval[0]), float(interval[1])
    return ABOVE if low > reference else BELOW if high < reference else LEVEL


def than(found: str, better: str = "better", worse: str = "worse") -> str:
    """``clearly better than``, ``clearly worse than`` or ``not clearly different from`` for a
    :func:`direction`."""
    return {ABOVE: f"clearly {better} than", BELOW: f"clearly {worse} than",
            LEVEL: "not clearly different from"}[found]


def relation(found: str) -> str:
    """``clearly above``, ``clearly below`` or ``level with (within its interval)`` for a :func:`direction`."""
    return {ABOVE: "clearly above", BELOW: "clearly below", LEVEL: "level with (within its interval)"}[found]


def listed(names: Sequence[str], emphasis: str = "*") -> str:
    """``*a*``, ``*a* and *b*``, ``*a*, *b* and *c*``: every name of a tie, never one picked by order."""
    said = [f"{emphasis}{markdown_text(name)}{emphasis}" for name in names]  # names from the bundle: escaped
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"


def versus(value: float, reference: float, interval: Sequence[float] | None = None) -> str:
    """``below``, ``level with`` (within half an accuracy point) or ``above`` ``reference``; with the
    ``interval`` the page shows for ``value``, the word comes from it (:func:`relation`)."""
    if interval is not None and len(interval) and interval[0] is not None and interval[0] == interval[0]:  # not NaN
        return relation(direction(interval, reference))
    if abs(value - reference) < 0.005:
        return "level with"
    return "below" if value < reference else "above"


def versus_majority(approach_id: str, value: float, majority: float, interval: Sequence[float] | None,
                    verdict: dict | None = None) -> str:
    """:func:`versus` for an approach against the majority-class rate. When the bundle's verdict
    compares this very approach with the majority class (its paired test, at the verdict's level for
    all its rows), its word is the bundle's one answer and every page says it; otherwise the word
    comes from the approach's own 95% interval."""
    rows = {row.get("row"): row for row in (verdict or {}).get("rows", [])}
    row = rows.get("zero-shot vs majority") or {}
    if row.get("available") and (verdict or {}).get("approaches", {}).get("zeroshot") == approach_id:
        return relation(row["direction"])
    return versus(value, majority, interval)


def difference(value: float, reference: float) -> str:
    """``12.0 points above``, ``3.3 points below`` or ``level with`` (in accuracy points)."""
    said = versus(value, reference)
    return said if said == "level with" else f"{abs(value - reference) * 100:.1f} points {said}"
