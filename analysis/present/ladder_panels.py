"""The ladder, the alignment table and the verdict as figures, tables and readings.

Each function takes the ``ladder:{model key}`` or ``verdict`` diagnostics (plain dicts) and returns
a plotly figure, a DataFrame or Markdown text, so the dashboard and the report show the same
thing. Every sentence states only numbers of the bundle, and each claim about the image features
names the rung that supports it.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go

from analysis.core import escape
from analysis.ladder import attribution_text, verdict
from analysis.stats import wording
from analysis.present import untrained
from analysis.present.figure_style import KIND_COLOURS, layout, reference_lines, wrap
from analysis.ladder.names import RUNG_NAMES
from analysis.core import numbers

STEP_COLOURS = {"above": "#117733", "below": "#CC3311", "level": "#BBBBBB"}
SMALL_COLOUR = "#A6D4B0"  # a part clearly above 0 but too small a share of the gap to be a cause
RUNG_COLOURS = {name: KIND_COLOURS[name] for name in ("zeroshot", "zeroshot-calibrated", "zeroshot-worded",
                                                      "zeroshot-worded-calibrated", "centroid", "knn", "probe",
                                                      "finetune")}


# --- the waterfall --------------------------------------------------------------------------------

def waterfall_figure(found: dict) -> go.Figure:
    """"Where the points go": each rung's held-out accuracy (95% interval), and each step as a
    floating bar from the rung it starts at to the rung it reaches, labelled with what it measures and
    where it starts (the bias, wording and alignment steps all start at zero-shot and may recover the
    same images: they are not to be added; :func:`attribution_figure` counts each point once)."""
    rungs = {row["rung"]: row for row in found.get("rungs", [])}
    labels = {name: row.get("label") or RUNG_NAMES[name] for name, row in rungs.items()}
    figure = go.Figure()
    for step in found.get("steps", []):
        direction = verdict.clearly(step)
        top = max(rungs[step["from"]]["accuracy"], rungs[step["to"]]["accuracy"])
        high = (rungs[step["to"]].get("accuracy_ci") or [top, top])[1]
        figure.add_annotation(x=labels[step["to"]], y=max(top, high) + 0.01, yanchor="bottom", showarrow=False,
                              text=(f"<b>{numbers.signed_points(step['difference'])} pts</b><br>{wrap(step['measures'], 18)}"
                                    f"<br><i>from {escape.html_text(labels[step['from']])}</i>"),  # steps overlap: each says its start
                              font=dict(size=11, color="#333333"))
        figure.add_trace(go.Bar(
            x=[labels[step["to"]]], base=[rungs[step["from"]]["accuracy"]], y=[step["difference"]],
            marker=dict(color=STEP_COLOURS[direction], opacity=0.55), width=0.5, showlegend=False,
            hovertemplate=(f"{step['measures']}: {labels[step['from']]} → {labels[step['to']]}<br>"
                           f"{numbers.signed_points(step['difference'])} points "
                           f"({verdict.level_text(step.get('level', 0.95))} paired interval "
                           f"{numbers.signed_points(step['ci'][0])} to {numbers.signed_points(step['ci'][1])})<extra></extra>")))
    for direction, name in (("above", "step: a clear gain"), ("below", "step: a clear loss"),
                            ("level", "step: within its paired interval")):
        figure.add_trace(go.Bar(x=[None], y=[None], marker=dict(color=STEP_COLOURS[direction], opacity=0.55),
                                name=name))
    names = list(rungs)
    lows = [rungs[n]["accuracy"] - (rungs[n].get("accuracy_ci") or [rungs[n]["accuracy"]] * 2)[0] for n in names]
    highs = [(rungs[n].get("accuracy_ci") or [rungs[n]["accuracy"]] * 2)[1] - rungs[n]["accuracy"] for n in names]
    figure.add_trace(go.Scatter(
        x=[labels[n] for n in names], y=[rungs[n]["accuracy"] for n in names], mode="markers",
        marker=dict(size=13, color=[RUNG_COLOURS[n] for n in names], line=dict(color="#333333", width=1)),
        error_y=dict(type="data", symmetric=False, array=highs, arrayminus=lows, color="#555555"),
        name="held-out accuracy (95% interval)",
        customdata=[rungs[n]["choice"] for n in names],
        hovertemplate="%{x}: %{y:.1%}<br>chosen on train: %{customdata}<extra></extra>"))
    choice = found.get("prompt_choice", {})
    if choice.get("oracle_prompt_set") and choice["oracle_prompt_set"] != choice.get("prompt_set") \
            and "zeroshot" in rungs:
        figure.add_trace(go.Scatter(
            x=[labels["zeroshot"]], y=[choice["oracle_accuracy"]], mode="markers",
            marker=dict(size=11, symbol="diamond-open", color=RUNG_COLOURS["zeroshot"]),
            name=f"oracle: prompt set {choice['oracle_prompt_set']} (chosen on the held-out images — not a fair score)",
            hovertemplate="oracle %{y:.1%}<extra></extra>"))
    reference_lines(figure, found.get("majority_rate"), found.get("uniform_rate"))
    ceiling = max([(row.get("accuracy_ci") or [0, row["accuracy"]])[1] for row in rungs.values()] + [0.0])
    figure.update_yaxes(title="accuracy (held-out images)", tickformat=".0%", range=[0, min(1.0, ceiling + 0.15)])
    figure.update_xaxes(categoryorder="array", categoryarray=[labels[n] for n in names])
    return layout(figure, "Where the points go", height=460, barmode="overlay")


def attribution_figure(found: dict) -> go.Figure:
    """"Why zero-shot fails, each point once": every part of the gap (accuracy points, 95% paired
    interval) as a bar, the gap itself below them; green where a part is a cause (clearly above 0 and
    at least ``min_share`` of the gap), pale green where it is only small."""
    names = attribution_text.SHORT_NAMES | {"features": "the image features (a shortcut)"}
    parts = [part for part in found["parts"] if part["points"] is not None]
    labels = [names[part["cause"]] + (" (shortcut)" if part.get("shortcut") else "")
              + (" (small)" if part.get("small") else "") for part in parts]
    labels.append(f"gap: {RUNG_NAMES.get(found['from'], 'always the majority class')} → {RUNG_NAMES[found['to']]}")
    values = [part["points"] for part in parts] + [found["gap"]]
    cis = [part["ci"] for part in parts] + [found["gap_ci"]]
    causes = {cause["cause"] for cause in attribution_text.named(found)}  # green only for a named cause
    colours = [STEP_COLOURS[part["direction"]] if part["direction"] != "above" or part["cause"] in causes
               else SMALL_COLOUR for part in parts] + ["#555555"]
    figure = go.Figure(go.Bar(
        y=labels, x=values, orientation="h", marker=dict(color=colours, opacity=0.75),
        error_x=dict(type="data", symmetric=False, array=[high - value for value, (_, high) in zip(values, cis)],
                     arrayminus=[value - low for value, (low, _) in zip(values, cis)], color="#333333"),
        customdata=[f"{attribution_text.signed(low)} to {attribution_text.signed(high)}" for low, high in cis],
        hovertemplate="%{y}: %{x:+.1f} points (95% paired interval %{customdata})<extra></extra>", showlegend=False))
    figure.add_vline(x=0, line=dict(color="#999999", width=1))
    figure.update_xaxes(title="accuracy points (held-out images)")
    figure.update_yaxes(autorange="reversed")
    return layout(figure, "Why zero-shot fails, each point counted once", height=120 + 40 * len(labels))


def read_attribution(found: dict) -> str:
    """The method beside the attribution chart."""
    method = escape.markdown_text(found["method"])  # the bundle's words: inert in Markdown
    if found.get("min_share") is None:  # a bundle from before the minimum share
        return (f"Method: {method}. Green bars are causes (interval above 0); grey bars are within noise; "
                "the parts add up to the gap.")
    share, base = attribution_text.min_share(found), attribution_text.SHARE_BASE
    text = (f"Method: {method}. Green bars are causes (interval above 0 and at least {share} of {base}); "
            f"pale green bars are parts above 0 that are not causes (under {share} of it, or no failure to "
            "attribute); grey bars are within noise; the parts add up to the gap.")
    if not attribution_text.trails(found):
        text += " Zero-shot does not clearly trail the rungs that read the images here, so no bar is a cause."
    return text


def read_ladder(found: dict, learnt: bool = True) -> str:
    """The ladder in numbers: what each cause costs, and what the features can do. With random
    weights (``learnt`` false) no step is read as a cause about the prompts."""
    rungs = {row["rung"]: row for row in found.get("rungs", [])}
    steps = {step["step"]: step for step in found.get("steps", [])}
    if "zeroshot" not in rungs:
        return ""
    if found.get("attribution"):  # each point counted once (analysis.ladder.attribution)
        if not learnt:
            return ("With random weights neither the prompts nor the image features are CLIP's: the parts in the "
                    "chart describe this random network, and none is read as a cause.")
        return attribution_text.reading(found["attribution"])  # rebuilt from the numbers, names made inert
    parts = []
    gains = {key: steps[key]["difference"] for key in ("bias", "wording", "alignment") if key in steps}
    # A bundle from before the attribution: each step is measured from zero-shot, and steps that
    # recover the same images each show them, so no sum of them is stated.
    lead = "Measured each from zero-shot (steps may recover the same images), "
    pieces = []
    if "bias" in gains:  # a gain is said only when the verdict calls it clear (its interval above 0)
        pieces.append(f"{numbers.points(gains['bias'])} come back by correcting the class bias alone (calibrated rung)"
                      if verdict.clearly(steps["bias"]) == "above" else
                      f"correcting the class bias alone {_within_noise(steps['bias'], 'calibrated', plural=False)}")
    if "wording" in gains:
        pieces.append(f"{numbers.points(gains['wording'])} by better words (worded rung)"
                      if verdict.clearly(steps["wording"]) == "above" else
                      f"better words {_within_noise(steps['wording'], 'worded', plural=True)}")
    if pieces:
        parts.append(lead + " and ".join(pieces) + ".")
    if "alignment" in gains:
        alignment = steps["alignment"]
        if verdict.clearly(alignment) == "above":
            text = f"Image prototypes recover {numbers.points(gains['alignment'])} (centroid rung)"
            if not learnt:
                text += ": with random weights the prompts point nowhere in particular, so any labelled prototype wins"
            elif max(gains.get("bias", 0), gains.get("wording", 0)) < 0.5 * gains["alignment"]:
                text += ": the prompts point to the wrong place"
            parts.append(text + ".")
        else:
            low, high = alignment["ci"]
            parts.append(f"One image prototype per class is {wording.than(verdict.clearly(alignment))} the prompts "
                         f"({numbers.signed_points(gains['alignment'])} points, 95% paired interval {numbers.signed_points(low)} to "
                         f"{numbers.signed_points(high)}, centroid rung).")
    separable = found.get("separable_by") or []
    majority = found.get("majority_rate")
    if separable:
        best = max(separable, key=lambda name: rungs[name]["accuracy"])
        parts.append(f"The features do separate the classes: the {RUNG_NAMES[best]} reaches "
                     f"{numbers.percent(rungs[best]['accuracy'])} against {numbers.percent(majority)} for the majority class, beyond its "
                     "interval.")
    elif any(name in rungs for name in ("centroid", "knn", "probe")):
        parts.append(f"No rung that reads the image features (centroid, kNN, probe) beats the {numbers.percent(majority)} of "
                     "the majority class beyond its interval: on this evidence the features do not separate the classes.")
    if "features" in steps and verdict.clearly(steps["features"]) != "level":
        finetune = rungs.get("finetune", {}).get("label", RUNG_NAMES["finetune"])
        parts.append(f"The {finetune} is {wording.than(verdict.clearly(steps['features']))} the probe "
                     f"({numbers.signed_points(steps['features']['difference'])} points, ConvNeXt rung).")
    return " ".join(parts)


def _within_noise(step: dict, rung: str, plural: bool) -> str:
    """What a ladder step that is not clearly a gain does, as its verdict says: a loss, or within noise."""
    if verdict.clearly(step) == "below":
        return f"{'lose' if plural else 'loses'} {numbers.points(step['difference'])} ({rung} rung)"
    return (f"{'stay' if plural else 'stays'} within noise ({numbers.signed_points(step['difference'])} points, "
            f"{rung} rung)")


def ladder_table(found: dict) -> pd.DataFrame:
    """One row per rung: accuracy with its interval, the paired difference with the majority class,
    and what the rung chose on the training part."""
    rows = []
    for row in found.get("rungs", []):
        low, high = row.get("accuracy_ci") or [None, None]
        versus = row["versus_majority"]
        rows.append({"rung": row["label"], "accuracy": numbers.percent(row["accuracy"]),
                     "95% interval": f"{numbers.percent(low)}–{numbers.percent(high)}",
                     "vs majority (paired)": f"{numbers.signed_points(versus['difference'])} "
                                             f"[{numbers.signed_points(versus['ci'][0])}, {numbers.signed_points(versus['ci'][1])}]",
                     "chosen on the training part": row["choice"], "approach": row["approach_id"]})
    return pd.DataFrame(rows)


# --- alignment ------------------------------------------------------------------------------------

def alignment_frame(rows: Sequence[dict], classes: Sequence[str]) -> pd.DataFrame:
    """The alignment table: one row per class prompt, one cosine column per image class."""
    table = []
    for row in rows:
        entry = {"class": row["class"], "wording": row["wording"]}
        entry.update({f"cos · {name} images": round(row["cosine"][name], 3) if row["cosine"].get(name) is not None
                      else None for name in classes})
        entry.update({"own rank": row["own_rank"], "tokens": " | ".join(" + ".join(word) for word in row["tokens"]),
                      "flags": "; ".join(row["flags"]).replace("*", "")})
        table.append(entry)
    return pd.DataFrame(table)


def read_alignment(rows: Sequence[dict], learnt: bool = True) -> str:
    """Which prompts point at another class's images, and which names the tokenizer cuts up. With
    random weights (``learnt`` false) the mechanics only: the cosines' range, no cause about words."""
    if not rows:
        return ""
    if not learnt:
        return untrained.read_alignment([value for row in rows for value in row["cosine"].values() if value is not None])
    astray = [row for row in rows if row["own_rank"] > 1]
    text = (f"{len(rows) - len(astray)} of {len(rows)} class prompts are closest to their own class's images."
            if astray else f"Every class prompt is closest to its own class's images (cosine up to "
                           f"{max(row['own_cosine'] for row in rows):.2f}).")
    if astray:
        text += " " + "; ".join(f"*{escape.markdown_text(row['class'])}* points closer to the "
                                f"*{escape.markdown_text(row['closest_class'])}* images "
                                f"(its own rank {row['own_rank']})" for row in astray) + "."
    cut = [row for row in rows if any(len(word) > 1 for word in row["tokens"])]
    if cut:
        text += " The tokenizer cuts " + ", ".join(
            f"*{escape.markdown_text(row['class'])}* into "
            f"{escape.markdown_text(' + '.join(piece for word in row['tokens'] for piece in word))}" for row in cut) + \
            ": the text tower reads each as these pieces, never as one token."
    return text


# --- evidence for other readings ------------------------------------------------------------------

def separation_evidence(approaches: Sequence[dict], majority_rate: float | None,
                        model_key: str | None = None) -> dict | None:
    """The strongest rung that reads the image features (centroid, kNN, probe) and beats the
    majority rate beyond its 95% interval, or None: what a reading about the features must cite."""
    if majority_rate is None:
        return None
    found = [record for record in approaches if record.get("kind") in ("centroid", "knn", "probe")
             and (model_key is None or record.get("model_key") == model_key)
             and (record["metrics"].get("accuracy_ci") or [0])[0] > majority_rate]
    best = max(found, key=lambda record: record["metrics"]["accuracy"], default=None)
    if best is None:
        return None
    return {"rung": RUNG_NAMES[best["kind"]], "approach_id": best["id"], "accuracy": best["metrics"]["accuracy"],
            "accuracy_ci": best["metrics"]["accuracy_ci"], "majority_rate": majority_rate}


# --- the verdict ----------------------------------------------------------------------------------

ZEROSHOT_ROW = "zero-shot vs majority"


def _zeroshot_diagnosis(found: dict, stored: str) -> str:
    """The zero-shot row's "why", rebuilt from the verdict's attribution by this version's rule (a bundle
    written before it may name a cause the reading no longer names); the stored words when there is no
    attribution to rebuild from, or when they say the weights are random."""
    attribution = found.get("attribution")
    if not isinstance(attribution, dict) or stored.startswith("With random weights"):
        return stored
    try:
        return attribution_text.diagnosis(attribution)
    except (KeyError, TypeError, IndexError):  # an attribution of another shape: the stored words
        return stored


def verdict_markdown(found: dict, warnings: bool = True) -> str:
    """The verdict as Markdown: warnings first (unless ``warnings`` is false: a panel shows them
    as its warning), then one bullet per row with its diagnosis."""
    lines = [line for warning in found.get("warnings", [])
             for line in (f"> ⚠ {escape.markdown_text(warning)}", "")] if warnings else []
    kept = escape.markdown_emphasis  # the texts were written by `run` with emphasis, but they come from the bundle
    for row in found.get("rows", []):
        if not row["available"]:
            continue
        marker = {"above": "▲", "below": "▼", "level": "≈"}[row["direction"]]
        diagnosis = kept(row["diagnosis"]) if row["diagnosis"] else ""
        if row["row"] == ZEROSHOT_ROW and diagnosis:
            diagnosis = _zeroshot_diagnosis(found, diagnosis)
        lines.append(f"- {marker} {kept(row['text'])}." + (f" {diagnosis}" if diagnosis else ""))
    missing = [row["row"] for row in found.get("rows", []) if not row["available"]]
    if missing:
        lines.append(f"- Not in this bundle: {escape.markdown_text(', '.join(map(str, missing)))}.")
    if found.get("multiplicity"):
        lines += ["", found["multiplicity"]]
    return "\n".join(lines)
