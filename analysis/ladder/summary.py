"""The ladder and the verdict, computed from a bundle's stored predictions (no model).

``ladder:{model key}``: every rung of one CLIP model side by side (held-out accuracy with its
interval, what it chose on the training part, its paired difference with the majority class),
the steps between rungs with paired bootstrap intervals, the oracle prompt set, and the
alignment table. ``verdict``: the four rows of :mod:`analysis.ladder.verdict` and the weight warnings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import bundle, records, weights
from analysis.data import split
from analysis.ladder import attribution, rungs as ladder_rungs, verdict
from analysis.ladder.names import RUNG_NAMES
from analysis.stats import bootstrap, wording

# (step, from rung, to rung, what the difference measures)
STEPS = (
    ("bias", "zeroshot", "zeroshot-calibrated", "decision bias"),
    ("wording", "zeroshot", "zeroshot-worded", "wording"),
    ("alignment", "zeroshot", "centroid", "text–image alignment"),
    ("neighbours", "centroid", "knn", "one prototype per class vs every training image"),
    ("directions", "centroid", "probe", "one direction per class vs many"),
    ("features", "probe", "finetune", "the features themselves"),
)
SEPARATING_RUNGS = ("centroid", "knn", "probe")
SCRATCH_RUNG = "ConvNeXt trained from scratch"  # "fine-tuned" is said only of pretrained weights


def rung_label(name: str, record: dict) -> str:
    """The rung's name as a reader sees it: a ConvNeXt trained from scratch is not called fine-tuned."""
    if name == "finetune" and weights.weights_kind(record) != weights.PRETRAINED:
        return SCRATCH_RUNG
    return RUNG_NAMES[name]


def eval_answers(opened: bundle.Bundle, approach_id: str, images: pd.DataFrame) -> np.ndarray:
    """The approach's answer (a class name) for each image, in ``images`` order."""
    predicted = opened.predictions(approach_id).set_index("image_id")["pred_label"]
    return predicted.reindex(images["image_id"]).to_numpy()


def eval_correct(opened: bundle.Bundle, approach_id: str, images: pd.DataFrame) -> np.ndarray:
    """1 where the approach is right on each held-out image, in ``images`` order (eval rows)."""
    return (eval_answers(opened, approach_id, images) == images["label"].to_numpy()).astype(float)


def best_finetune(opened: bundle.Bundle) -> dict | None:
    """The fine-tuned model with the best validation accuracy (measured on a training fold)."""
    records = opened.approaches_of_kind("finetune")

    def validation(record: dict) -> float:
        found = opened.diagnostics(record["id"]) if opened.has_diagnostics(record["id"]) else {}
        return max((epoch.get("val_accuracy") or 0 for epoch in found.get("epochs", [])), default=0.0)

    return max(records, key=validation, default=None)


def rung_ids(opened: bundle.Bundle, model_key: str) -> dict[str, str]:
    """Rung name → approach id, for the rungs this bundle holds."""
    ids = {record["id"] for record in opened.approaches}
    climb = opened.diagnostics(f"climb:{model_key}")
    wanted = {"zeroshot": f"zeroshot:{model_key}:{climb['prompt_choice']['prompt_set']}",
              **{name: f"{name}:{model_key}" for name in (*ladder_rungs.COMPUTED_RUNGS, "probe")}}
    found = {name: approach for name, approach in wanted.items() if approach in ids}
    finetune = best_finetune(opened)
    if finetune is not None:
        found["finetune"] = finetune["id"]
    return found


def choice_text(name: str, record: dict, climb: dict) -> str:
    """What a rung chose on the training part, in a few words."""
    params = record.get("params", {})
    if name == "zeroshot":
        return f"prompt set {climb['prompt_choice']['prompt_set']} (best on the training images)"
    if name in ("zeroshot-calibrated", "zeroshot-worded-calibrated") and params.get("temperature", 0) > 1e3:
        return "one offset per class; the logits carry no signal (temperature → ∞): it answers by class frequency"
    if name == "zeroshot-worded-calibrated":
        return "; ".join(f"{c}: “{w['text']}”" for c, w in params.get("wordings", {}).items()) + \
            f"; temperature {params.get('temperature', float('nan')):.3g} and one offset per class"
    if name == "zeroshot-calibrated":
        temperature = params.get("temperature", float("nan"))
        if temperature > 1e3:  # the fit flattened the logits: only the offsets (class frequencies) are left
            return "one offset per class; the logits carry no signal (temperature → ∞): it answers by class frequency"
        return f"temperature {temperature:.3g} and one offset per class"
    if name == "zeroshot-worded":
        return "; ".join(f"{c}: “{w['text']}”" for c, w in params.get("wordings", {}).items())
    if name == "knn":
        return f"k = {params.get('k')} (grouped cross-validation)"
    if name == "probe":
        return f"C = {params.get('C'):g} (grouped cross-validation)" if params.get("C") else ""
    if name == "finetune":
        return f"{record.get('model')}, weights: {record.get('weights') or record.get('pretrained')}"
    return "one mean per class" if name == "centroid" else ""


def summary(opened: bundle.Bundle, model_key: str) -> dict:
    """The ``ladder:{model key}`` diagnostics (see the module docstring and ``docs/bundle.md``)."""
    climb = opened.diagnostics(f"climb:{model_key}")
    images = opened.images()
    held_out = images[images["split"] == split.EVAL]
    reference = opened.manifest.get("reference", {})
    majority = (held_out["label"].to_numpy() == reference.get("majority_class")).astype(float)
    ids = rung_ids(opened, model_key)
    correct = {name: eval_correct(opened, approach, held_out) for name, approach in ids.items()}
    groups = split.interval_groups(held_out)
    # each family of comparisons holds together at 95% (simultaneous intervals, verdict.MULTIPLICITY)
    rung_level = bootstrap.simultaneous_level(0.95, len(correct))
    wanted = [step for step in STEPS if step[1] in correct and step[2] in correct]
    step_level = bootstrap.simultaneous_level(0.95, len(wanted))
    rungs = []
    for name in ladder_rungs.RUNGS:
        if name not in ids:
            continue
        record = opened.approach(ids[name])
        scores = record["metrics"]
        rungs.append({"rung": name, "label": rung_label(name, record), "approach_id": ids[name],
                      "accuracy": scores["accuracy"], "accuracy_ci": scores.get("accuracy_ci"),
                      "choice": choice_text(name, record, climb),
                      "versus_majority": verdict.paired_difference(correct[name], majority, level=rung_level,
                                                                   groups=groups)})
    steps = [{"step": step, "from": first, "to": second, "measures": measures,
              **verdict.paired_difference(correct[second], correct[first], level=step_level, groups=groups)}
             for step, first, second, measures in wanted]
    separable = [row["rung"] for row in rungs
                 if row["rung"] in SEPARATING_RUNGS and verdict.clearly(row["versus_majority"]) == "above"]
    return {"model_key": model_key, "n_eval": int(len(held_out)), "majority_rate": reference.get("majority_rate"),
            "uniform_rate": reference.get("uniform_rate"), "majority_class": reference.get("majority_class"),
            "prompt_choice": climb["prompt_choice"], "rungs": rungs, "steps": steps,
            "separable_by": separable, "alignment": climb.get("alignment", []),
            "attribution": attribution_of(opened, ids, held_out, climb)}


def train_accuracy(opened: bundle.Bundle, ids: dict[str, str], climb: dict) -> dict[str, float]:
    """Each rung's accuracy on the training part, as the attribution chooses by it: zero-shot's
    on the training images, the text rungs' in-sample, the centroid's, kNN's and the probe's
    cross-validated over the grouped folds."""
    found = {"zeroshot": climb["prompt_choice"]["train_accuracy"][climb["prompt_choice"]["prompt_set"]]}
    for name, approach in ids.items():
        record = opened.approach(approach)
        value = record.get("train_accuracy")
        if name == "centroid":
            value = (record.get("search") or {}).get("cv_accuracy", value)
        if name == "probe" and opened.has_diagnostics(approach):
            chosen = record.get("params", {}).get("C")
            value = next((row["cv_accuracy_mean"] for row in opened.diagnostics(approach).get("c_sweep", [])
                          if row["C"] == chosen), value)
        if value is not None and name != "zeroshot":
            found[name] = float(value)
    return found


def attribution_of(opened: bundle.Bundle, ids: dict[str, str], held_out: pd.DataFrame, climb: dict) -> dict | None:
    """:func:`analysis.ladder.attribution.attribute` on the rungs' stored answers for the held-out
    images, resampling their groups as every other interval does (None without a rung that reads the
    images, or without a majority class)."""
    classes = list(opened.classes)
    majority = opened.manifest.get("reference", {}).get("majority_class")
    used = {name: approach for name, approach in ids.items() if name in attribution.TEXT_RUNGS.values()
            or name in attribution.TEXT_FREE_RUNGS}
    if majority not in classes or not any(name in used for name in attribution.TEXT_FREE_RUNGS) or not len(held_out):
        return None
    answers = {name: ladder_rungs.label_indices(eval_answers(opened, approach, held_out), classes)
               for name, approach in used.items()}
    if "baseline:image-stats" in {record["id"] for record in opened.approaches}:
        answers[attribution.SHORTCUT] = ladder_rungs.label_indices(
            eval_answers(opened, "baseline:image-stats", held_out), classes)
    return attribution.attribute(answers, ladder_rungs.label_indices(held_out["label"], classes), classes,
                                 classes.index(majority), train_accuracy(opened, used, climb), climb.get("ranking"),
                                 groups=split.interval_groups(held_out))  # the same cluster bootstrap as every interval


def _chosen_ladder(opened: bundle.Bundle) -> dict | None:
    """The ladder of the CLIP model whose chosen zero-shot is best on the training images."""
    ladders = [opened.diagnostics(name) for name in (f"ladder:{entry.get('model_key', key)}" for key, entry in
                                                     opened.manifest.get("embeddings", {}).items()
                                                     if entry.get("kind") == "clip_image")
               if opened.has_diagnostics(name)]

    def train_score(found: dict) -> float:
        choice = found["prompt_choice"]
        return choice["train_accuracy"][choice["prompt_set"]]

    return max(ladders, key=train_score, default=None)


def verdict_of(opened: bundle.Bundle) -> dict:
    """The ``verdict`` diagnostics: four rows and the weight warnings."""
    images = opened.images()
    held_out = images[images["split"] == split.EVAL]
    reference = opened.manifest.get("reference", {})
    majority = (held_out["label"].to_numpy() == reference.get("majority_class")).astype(float)
    found = _chosen_ladder(opened)
    ids = {row["rung"]: row["approach_id"] for row in (found or {}).get("rungs", [])}
    if "probe" not in ids and opened.approaches_of_kind("probe"):  # no ladder: the probe chosen on the training part
        ids["probe"] = max(records.best_per_model(opened.approaches, records.PROBE).values(),
                           key=records.choice_accuracy)["id"]
    if "finetune" not in ids and (finetune := best_finetune(opened)) is not None:
        ids["finetune"] = finetune["id"]
    known = {record["id"] for record in opened.approaches}
    if "baseline:image-stats" in known:
        ids["image-stats"] = "baseline:image-stats"
    correct = {name: eval_correct(opened, approach, held_out) for name, approach in ids.items()}
    groups = split.interval_groups(held_out)
    pairs = [("zeroshot", "majority"), ("probe", "zeroshot"), ("probe", "image-stats"), ("finetune", "probe")]

    def available(first: str, second: str) -> bool:
        return first in correct and (second == "majority" or second in correct)

    level = bootstrap.simultaneous_level(0.95, sum(available(first, second) for first, second in pairs))

    def compare(first: str, second: str) -> dict | None:
        if not available(first, second):
            return None
        return verdict.paired_difference(correct[first], majority if second == "majority" else correct[second],
                                         level=level, groups=groups)

    majority_name = f"always *{reference.get('majority_class')}*"
    zeroshot = compare("zeroshot", "majority")
    # the attribution speaks of the ladder's CLIP: a ConvNeXt trained from scratch beside it changes nothing
    random_weights = found is not None and not weights.learnt(opened.manifest, found.get("model_key"))
    rows = [verdict.verdict_row("zero-shot vs majority", zeroshot, "**zero-shot**", majority_name,
                                verdict.zeroshot_diagnosis(zeroshot, (found or {}).get("attribution"),
                                                           random_weights))]
    over_zeroshot, over_stats = compare("probe", "zeroshot"), compare("probe", "image-stats")
    clip_learnt = weights.learnt(opened.manifest, opened.approach(ids["probe"]).get("model_key")) \
        if "probe" in ids else True
    rows.append(verdict.verdict_row("probe vs zero-shot", over_zeroshot, "**linear probe**", "*zero-shot*",
                                    probe_diagnosis(over_zeroshot, over_stats, clip_learnt)))
    rows.append(verdict.verdict_row("probe vs image statistics", over_stats, "**linear probe**",
                                    "*image statistics*", ""))
    over_probe = compare("finetune", "probe")
    finetuned = weights.weights_kind(opened.approach(ids["finetune"])) == weights.PRETRAINED \
        if "finetune" in ids else True
    rows.append(verdict.verdict_row("ConvNeXt vs probe", over_probe,
                                    "**fine-tuned ConvNeXt**" if finetuned else f"**{SCRATCH_RUNG}**",
                                    "*linear probe*", finetune_diagnosis(over_probe, finetuned)))
    used = [opened.approach(approach) for approach in ids.values()]
    return {"rows": rows, "approaches": ids, "model_key": (found or {}).get("model_key"),
            "multiplicity": verdict.multiplicity_text(level, [row for row in rows if row["available"]]),
            "warnings": verdict.weight_warnings(used or opened.approaches), "n_eval": int(len(held_out))}


def probe_diagnosis(over_zeroshot: dict | None, over_stats: dict | None, learnt: bool = True) -> str:
    """What the probe's two comparisons say about the image features; with random CLIP weights
    (``learnt`` false: :func:`analysis.core.weights.learnt`) the mechanics only, never a cause on the text side."""
    parts = []
    if over_zeroshot is not None:
        found = verdict.clearly(over_zeroshot)
        if not learnt:
            parts.append({"above": "With random weights the prompts carry no learnt meaning, so a probe trained on the "
                                   "labels beats them: this measures the tool, not CLIP.",
                          "level": "The probe is not clearly different from zero-shot.",
                          "below": "The probe is clearly worse than zero-shot."}[found])
        else:
            parts.append({"above": "The image features hold what zero-shot misses: the failure is on the text side.",
                          "level": "The probe is not clearly different from zero-shot.",
                          "below": "The probe is clearly worse than zero-shot: too few labels for the features."}[found])
    if over_stats is not None and verdict.clearly(over_stats) != "above":
        parts.append(f"It is {wording.than(verdict.clearly(over_stats))} trivial image statistics (size, view, "
                     "colour)" + (": it may have learnt the same shortcuts." if verdict.clearly(over_stats) == "level"
                                  else "."))
    return " ".join(parts)


def finetune_diagnosis(over_probe: dict | None, finetuned: bool = True) -> str:
    """What the ConvNeXt row says; "fine-tuning" only for a network that started from pretrained weights."""
    if over_probe is None:
        return ""
    if not finetuned:
        return {"above": "Trained from scratch on the training part, it is clearly better than the probe.",
                "level": "Trained from scratch on the training part, it is not clearly different from the probe.",
                "below": "Trained from scratch on the training part, it is clearly worse than the probe."
                }[verdict.clearly(over_probe)]
    return {"above": "Fine-tuning changes the features themselves and gains beyond the probe.",
            "level": "Fine-tuning is not clearly different from the probe on these images.",
            "below": "Fine-tuning is clearly worse than the probe on frozen CLIP features."}[verdict.clearly(over_probe)]
