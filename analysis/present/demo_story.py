"""The demo's story: the causes its CLIP's captions planted, and whether the verdict found each.

The demo bundle records the causes its tiny CLIP's captions plant (manifest ``demo_planted_causes``,
:mod:`analysis.models.demo_clip`); the verdict names causes of its own (the attribution of
:func:`analysis.attribute_failure`, stored with the verdict's ladder). This module compares the two
and writes the lines that Home, every page's banner and the reports add below
:func:`analysis.core.weights.banner` (which already says what the model is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from analysis.ladder import attribution_text

PLANTED_KEY = "demo_planted_causes"
CAUSE_NAMES = {"bias": "class bias", "wording": "wording", "alignment": "alignment",
               "features": "image features"}
TEXT_CAUSES = ("bias", "wording", "alignment")


@dataclass(frozen=True)
class Story:
    """``planted``: each planted cause with ``found`` (bool); ``unplanted``: causes the verdict names that
    were not planted; ``verdict``: whether the bundle has a verdict to compare with."""

    planted: list[dict]
    unplanted: list[str]
    verdict: bool


def attribution_of(verdict: dict | None, ladder: dict | None = None) -> dict | None:
    """The stored attribution (``analysis.attribute_failure``'s answer) of the verdict or of its model's ladder."""
    for found in (verdict or {}, ladder or {}):
        attribution = found.get("attribution")
        if isinstance(attribution, dict) and isinstance(attribution.get("causes"), list):
            return attribution
    return None


def named_causes(verdict: dict | None, ladder: dict | None = None) -> list[str] | None:
    """The causes the verdict names: its attribution's ``causes`` when it has one, else (a verdict written
    before the attribution) every ladder step from zero-shot that is clearly above 0; None without a verdict."""
    if not verdict:
        return None
    attribution = attribution_of(verdict, ladder)
    if attribution is not None:
        try:  # what the verdict says by this version's rule (an older bundle may list causes it no longer names)
            return [str(cause["cause"]) for cause in attribution_text.named(attribution)]
        except (KeyError, TypeError):
            return [str(cause.get("cause")) for cause in attribution["causes"] if isinstance(cause, dict)]
    steps = (ladder or {}).get("steps", [])
    return [str(step["step"]) for step in steps
            if step.get("step") in TEXT_CAUSES and (step.get("ci") or [None])[0] is not None and step["ci"][0] > 0]


def story(manifest: dict, verdict: dict | None, ladder: dict | None = None) -> Story | None:
    """The planted causes against the verdict's; None for a bundle that planted none."""
    planted = manifest.get(PLANTED_KEY)
    if not isinstance(planted, list) or not planted:
        return None
    named = named_causes(verdict, ladder)
    causes = [cause for cause in planted if isinstance(cause, dict)]
    about = (verdict or {}).get("model_key")  # the verdict speaks of one model: a cause planted in another is not found
    found = [{**cause, "found": named is not None and cause.get("cause") in named
              and cause.get("model_key") in (None, about)} for cause in causes]
    planted_names = {cause.get("cause") for cause in causes}
    return Story(found, [name for name in dict.fromkeys(named or []) if name not in planted_names], named is not None)


def lines(manifest: dict, verdict: dict | None, ladder: dict | None = None) -> list[str]:
    """The demo's story as plain text lines (the bundle's words in them: make them inert where shown):
    one per planted cause, then whether the verdict names anything else; [] for a bundle that planted none."""
    told = story(manifest, verdict, ladder) if manifest.get("demo") else None
    if told is None:
        return []
    one = len(told.planted) == 1
    said = [f"The demo CLIP's captions plant {'a known cause' if one else 'known causes'} of zero-shot failure, to "
            f"show whether CornLens finds {'it' if one else 'them'}:"]
    for cause in told.planted:
        name = CAUSE_NAMES.get(str(cause.get("cause")), str(cause.get("cause")))
        outcome = ("the verdict finds it" if cause["found"] else
                   "the verdict does not find it" if told.verdict else "no verdict yet")
        said.append(f"planted {name} ({cause.get('class', '')}): {cause.get('planted', '')} — {outcome}.")
    if told.unplanted:
        said.append("The verdict also names " + ", ".join(CAUSE_NAMES.get(name, name) for name in told.unplanted)
                    + (", which was not planted." if len(told.unplanted) == 1 else ", which were not planted."))
    elif told.verdict and all(cause["found"] for cause in told.planted):
        said.append("The verdict names every planted cause and nothing else.")
    return said


def bundle_lines(manifest: dict, read: Callable[[str], dict | None]) -> list[str]:
    """:func:`lines` of a bundle; ``read(name)`` gives its diagnostics ``name`` or None. The verdict and
    its ladder are read only for a demo bundle that planted causes."""
    if not manifest.get("demo") or not manifest.get(PLANTED_KEY):
        return []
    verdict = read("verdict")
    key = (verdict or {}).get("model_key")
    return lines(manifest, verdict, read(f"ladder:{key}") if key else None)
