"""The attribution of zero-shot's failure as sentences (Markdown; names from the data made inert).

Every sentence states a number of :func:`analysis.ladder.attribution.attribute`'s result; a
cause is named only when its part is clearly above 0 and at least its share of the gap
(``min_share``); a part above 0 but smaller is said to be small, a part within noise to be so.
"""

from __future__ import annotations

from analysis.core.escape import markdown_text
from analysis.core.numbers import short_percent
from analysis.ladder.names import RUNG_NAMES

CAUSE_NAMES = {"bias": "correcting the class bias (calibrated rung)",
               "wording": "better words (worded rung)",
               "alignment": "image prototypes instead of prompts",
               "directions": "the probe's trained directions, beyond one prototype per class",
               "features": "the image features"}
SHORT_NAMES = {"bias": "correcting the class bias", "wording": "better words",
               "alignment": "image prototypes", "directions": "the probe's directions"}
DIAGNOSIS_NAMES = {"bias": "its class bias (calibrated rung)", "wording": "its words (worded rung)",
                   "alignment": "prompts that point to the wrong place (image prototypes recover it)",
                   "directions": "what one vector per class cannot do (the probe recovers it)"}
SHORTCUT_NAME = "a shortcut in trivial image statistics (reading the images recovers no more than they give)"
PLURAL = {"wording", "alignment", "directions"}  # short names that take a plural verb: "better words stay"
COLLAPSED = 0.8  # a rung answering the majority class this often has found no ranking


def signed(points: float) -> str:
    """``+9.0``, ``−4.5`` (accuracy points)."""
    return f"{points:+.1f}".replace("-", "−")


def interval(part: dict) -> str:
    """``95% paired interval +7.1 to +10.9``."""
    low, high = part["ci"]
    return f"95% paired interval {signed(low)} to {signed(high)}"


def min_share(found: dict) -> str:
    """``5%``: the smallest share of the gap a part must reach to be named a cause."""
    return short_percent(found.get("min_share") or 0.0)


def trails(found: dict) -> bool:
    """Whether zero-shot clearly trails the top of the chain (the gap's paired interval above 0):
    only then is there a failure to attribute. Older bundles lack ``trails``: read from ``gap_ci``."""
    if "trails" in found:
        return bool(found["trails"])
    low = (found.get("gap_ci") or [None])[0]
    return low is not None and low > 0


SHARE_BASE = "the gap (or of the positive parts' sum, when larger)"  # what min_share is a share of


def named(found: dict) -> list[dict]:
    """The causes the reading, the verdict and the chart name: ``found["causes"]``, none of the text causes
    when zero-shot does not clearly trail (an older bundle may still list them), but the features'
    "no separation" always."""
    if trails(found) or ("trails" not in found and found.get("gap_ci") is None):  # nothing says it does not trail
        return list(found["causes"])
    return [cause for cause in found["causes"] if cause["cause"] == "features" and cause.get("why") == "no separation"]


def _verb(causes: list[str], singular: str, plural: str) -> str:
    """The verb agreeing with the short names of ``causes`` joined as one subject."""
    return singular if len(causes) == 1 and causes[0] not in PLURAL else plural


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cause_phrase(part: dict, prototype: str | None) -> str:
    name = CAUSE_NAMES[part["cause"]]
    if part.get("why") == "shortcut":
        name = ("reading the images directly, but no more than trivial image statistics (size, colour) give: "
                "a shortcut the image features carry, not prompts pointing to the wrong place")
    if part["cause"] == "alignment":
        name += f" ({RUNG_NAMES.get(prototype or 'centroid')} rung): the prompts point to the wrong place"
    return f"{signed(part['points'])} points come from {name} ({interval(part)})"


def _floor(found: dict) -> list[str]:
    """What zero-shot is counted from, and every text rung that only reached the majority rate."""
    majority, rungs = markdown_text(found["majority_class"]), found["rungs"]
    lines = []
    if found["from"] == "majority":
        lines.append(f"Zero-shot ({rungs['zeroshot']['accuracy']:.1%}) is not clearly above always answering "
                     f"*{majority}* ({found['majority_rate']:.1%}): reaching that rate needs no cause, so no rung is "
                     "credited for it.")
    for name in ("zeroshot-calibrated", "zeroshot-worded-calibrated"):
        rung = rungs.get(name)
        if rung and not rung["credited"] and (rung["majority_answers"] or 0) >= COLLAPSED:
            lines.append(f"The {RUNG_NAMES[name]} rung only learnt to answer *{majority}* "
                         f"({rung['majority_answers']:.0%} of its answers): it found no ranking to correct, so it "
                         "earns nothing.")
    return lines


def _interaction(found: dict) -> str:
    """The two text fixes recovering the same points (one cause, two cures) or only together."""
    interaction = found.get("interaction") or {}
    if not interaction.get("owner") or interaction["direction"] == "level":
        return ""
    owner, evidence = interaction["owner"], interaction.get("evidence") or {}
    if interaction["direction"] == "below":
        text = (f"Correcting the class bias alone and better words alone recover the same {-interaction['points']:.1f} "
                f"points ({interval({'ci': [-interaction['ci'][1], -interaction['ci'][0]]})}): one cause, two cures, "
                f"counted once, as {SHORT_NAMES[owner]}")
    else:
        text = (f"Correcting the class bias and better words win {interaction['points']:.1f} points together that "
                f"neither wins alone ({interval(interaction)}), counted as {SHORT_NAMES[owner]}")
    if owner == "wording" and evidence.get("class_index") is not None:
        name = markdown_text(found["classes"][evidence["class_index"]])
        return text + (f": the chosen words rank the *{name}* images far better than the prompt set did "
                       f"(one-vs-rest AUC {evidence['auc_before']:.2f} → {evidence['auc_after']:.2f} on the training "
                       "part), which no offset can do; calibration only moves where the decision falls.")
    return text + (": the prompts already ranked every class's images as well as the chosen words do (one-vs-rest "
                   "AUC on the training part); what they got wrong is where they decide.")


def _small(found: dict, parts: list[dict]) -> str:
    """The parts clearly above 0 but under ``min_share`` of the gap: said with their numbers, not as causes."""
    each = [f"{SHORT_NAMES[part['cause']]} {signed(part['points'])} points ({interval(part)})" for part in parts]
    share = min_share(found)
    if len(parts) == 1:
        return f"A small part, clearly above 0 but under {share} of {SHARE_BASE}, so not a cause: {each[0]}."
    return f"Small parts, each clearly above 0 but under {share} of {SHARE_BASE}, so not causes: {_join(each)}."


def reading(found: dict) -> str:
    """The attribution in a few sentences: the floor, the causes with their points and intervals,
    the small parts, the parts within noise, any overlap, and a shortcut."""
    lines = _floor(found)
    rungs, top = found["rungs"], found["to"]
    majority = markdown_text(found["majority_class"])
    if not found["separates"]:
        text_free = found["text_free"]
        lines.append(f"No rung that reads the images without text beats always answering *{majority}* beyond its "
                     f"interval (the {RUNG_NAMES[text_free]} reaches {rungs[text_free]['accuracy']:.1%}): on this "
                     "evidence the image features do not separate the classes, so no text fix can be credited.")
        return " ".join(lines)
    start = "zero-shot" if found["from"] == "zeroshot" else f"always answering *{majority}*"
    if not trails(found) and found.get("gap") is not None:
        lines.append(f"{start.capitalize()} does not clearly trail the {RUNG_NAMES[top]} "
                     f"({signed(found['gap'])} points; {interval({'ci': found['gap_ci']})}): there is no failure "
                     "to attribute, so no part is named a cause.")
        return " ".join(lines)
    listed = found["causes"]
    noise = [part["cause"] for part in found["parts"] if part["direction"] == "level" and not part.get("shortcut")]
    small = [part for part in found["parts"] if part.get("small") and not part.get("shortcut")]
    losses = [part for part in found["parts"] if part["direction"] == "below" and not part.get("shortcut")]
    lead = (f"Of the {found['gap']:.1f} points between {start} and the {RUNG_NAMES[top]} "
            f"({rungs[top]['accuracy']:.1%}; {interval({'ci': found['gap_ci']})})")
    if listed:
        lines.append(lead + ", " + "; ".join(_cause_phrase(part, found.get("prototype")) for part in listed) + ".")
    elif small:
        lines.append(lead + f", no part is both clearly above 0 and at least {min_share(found)} of the gap.")
    else:
        lines.append(lead + ", no part is clearly above 0.")
    if small:
        lines.append(_small(found, small))
    if noise:
        lines.append(f"{_join([SHORT_NAMES[cause] for cause in noise]).capitalize()} "
                     f"{_verb(noise, 'stays', 'stay')} within noise (an interval that reaches 0: not a cause).")
    for part in losses:
        lines.append(f"{SHORT_NAMES[part['cause']].capitalize()} {_verb([part['cause']], 'costs', 'cost')} "
                     f"{signed(part['points'])} points ({interval(part)}).")
    if interaction := _interaction(found):
        lines.append(interaction)
    shortcut = found.get("shortcut")
    if any(part.get("shortcut") for part in found["parts"]) and shortcut:
        lines.append(f"The {RUNG_NAMES[found['text_free']]} is {signed(100 * shortcut['difference'])} points from the "
                     f"image-statistics baseline ({interval({'ci': [100 * c for c in shortcut['ci']]})}).")
    return " ".join(lines)


def diagnosis(found: dict) -> str:
    """The verdict's short line: the causes clearly above 0 with their points, or why none is."""
    causes = found["causes"]
    if any(cause["cause"] == "features" and cause.get("why") == "no separation" for cause in causes):
        return ("No rung that reads the images beats always answering the majority class beyond its interval: the "
                "image features do not separate the classes, so no text fix is credited.")
    if not trails(found) and found.get("gap") is not None:
        start = "Zero-shot" if found.get("from") != "majority" else "Always answering the majority class"
        return (f"{start} does not clearly trail the rungs that read the images ({signed(found['gap'])} points; "
                f"{interval({'ci': found['gap_ci']})}): there is no failure to attribute.")
    if not causes and any(part.get("small") for part in found.get("parts", [])):
        return f"No cause stands out: every part of the gap is within noise or under {min_share(found)} of it."
    if not causes:
        return "No cause stands clear of noise: every part of the gap has an interval that reaches 0."
    named = "; ".join(f"{DIAGNOSIS_NAMES[cause['cause']] if cause.get('why') != 'shortcut' else SHORTCUT_NAME} "
                      f"{signed(cause['points'])} points ({interval(cause)})" for cause in causes)
    return f"Why, each point counted once: {named}."
