"""How a number is written in a sentence, a table or a chart: accuracies as percentages, differences
in accuracy points. One place, so that every page, reading and report writes them alike."""

from __future__ import annotations

import math


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None, missing: str = "–") -> str:
    """``41.2%``: a rate to one decimal (``missing`` for None or NaN)."""
    return missing if _missing(value) else f"{value:.1%}"


def short_percent(value: float) -> str:
    """``41%`` in running text: whole percents from 10% up (or when whole), one decimal below."""
    return f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 or value >= 0.1 else f"{value:.1%}"


def points(value: float) -> str:
    """``12 points``: the size of a difference in accuracy points, rounded, without its sign."""
    return f"{abs(value) * 100:.0f} point{'s' if round(abs(value) * 100) != 1 else ''}"


def signed_points(value: float) -> str:
    """``+12.3`` or ``−4.0``: a signed difference in accuracy points, to one decimal."""
    return f"{value * 100:+.1f}".replace("-", "−")
