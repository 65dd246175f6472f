"""One or two sentences that read each figure for the user, and what to run for a missing part.

Each ``read_*`` function takes the same data as its figure in :mod:`analysis.present.figures` and returns
Markdown text (class names in *italics*, escaped by :mod:`analysis.core.escape`), so the dashboard and the
report say the same thing."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from analysis.core.escape import markdown_text as _text, one_line
from analysis.present import run_facts, untrained
from analysis.stats import wording
from analysis.stats.wording import difference, versus, versus_majority  # noqa: F401  (readings' words)
from analysis.stats.choices import COLLAPSE_SHARE, collapse_phrase, collapsed_templates, shots_phrase
from analysis.core.records import ZEROSHOT, best_per_model, choice_accuracy, headline_approach
from analysis.core.tables import SOURCE_BUNDLE, approach_label, as_frame, duration_text, model_key, shots_text
from analysis.core import numbers

DEFAULT_CLIP = "ViT-B-32-quickgelu:laion400m_e32"
DEFAULT_CONVNEXT = "convnext_tiny"


# --- what to run ----------------------------------------------------------------------------------

def run_command(manifest: dict, bundle_path: str | Path, *extra: str) -> str:
    """The command that adds parts to this bundle: ``demo`` for a demo bundle, else ``run`` on its data
    (the ``--data`` of the last recorded run: a CSV dataset's file, not only its folder)."""
    out = shlex.quote(str(bundle_path))
    if manifest.get("demo") and not manifest.get("generated_by"):
        return one_line(f"python -m analysis demo --out {out}")
    recorded = [entry["config"]["data"] for entry in manifest.get("runs") or []
                if isinstance(entry, dict) and isinstance(entry.get("config"), dict) and entry["config"].get("data")]
    root = shlex.quote(str(recorded[-1] if recorded else manifest.get("dataset", {}).get("root", "DIR")))
    return one_line(" ".join([f"python -m analysis run --data {root} --out {out}", *extra]))


def _clip_options(manifest: dict) -> list[str]:
    keys = sorted({key for record in manifest.get("approaches", []) if record.get("kind") == "zeroshot"
                   and (key := model_key(record))}) or [DEFAULT_CLIP]
    return [f"--clip {shlex.quote(key)}" for key in keys]


PART_NAMES = {"zeroshot": "zero-shot CLIP", "autopsy": "zero-shot autopsy", "probe": "linear probe",
              "finetune": "fine-tuned ConvNeXt", "projections": "embedding maps", "agreement": "agreement table",
              "confounders": "image-statistics baseline", "approaches": "approaches", "ladder": "ladder of fixes"}


def _part_options(manifest: dict, part: str) -> list[str]:
    if part == "finetune":
        return [f"--convnext {DEFAULT_CONVNEXT}"]
    if part == "confounders":
        return []
    return _clip_options(manifest) + (["--force"] if part == "autopsy" else [])


def missing_parts(manifest: dict, bundle_path: str | Path, parts: Sequence[str]) -> str:
    """One sentence and one command for several missing parts (see ``missing_part``)."""
    if len(parts) == 1:
        return missing_part(manifest, bundle_path, parts[0])
    options = list(dict.fromkeys(option for part in parts for option in _part_options(manifest, part)))
    names = [PART_NAMES[part] for part in parts]
    return (f"Not in this bundle yet: {', '.join(names[:-1])} and {names[-1]}. Add them with\n\n"
            f"```bash\n{run_command(manifest, bundle_path, *options)}\n```\n\n"
            "Finished approaches are kept; only the missing parts are computed.")


def missing_part(manifest: dict, bundle_path: str | Path, part: str) -> str:
    """A sentence that says what is missing and the exact command that adds it.

    Args:
        part: ``zeroshot``, ``autopsy``, ``probe``, ``finetune``, ``projections``, ``agreement``,
            ``confounders``, ``approaches`` or ``ladder``.
    """
    needs = {
        "zeroshot": "This bundle has no zero-shot CLIP approach yet.",
        "autopsy": "This bundle has zero-shot predictions but no autopsy diagnostics for this model; recompute them with",
        "probe": "This bundle has no linear probe yet (it is trained on the CLIP image embeddings).",
        "finetune": "This bundle has no fine-tuned ConvNeXt yet.",
        "projections": "This bundle has no embedding map yet (the maps are made from the CLIP and ConvNeXt embeddings).",
        "agreement": "This bundle has no agreement table yet (it is written after the approaches).",
        "confounders": "This bundle has no image-statistics baseline yet (it is on unless `--no-baselines`).",
        "approaches": "This bundle has no approaches yet, only its images and split.",
        "ladder": "This bundle has no ladder for this model yet (calibrated and worded zero-shot, class centroids, "
                  "kNN: the rungs between zero-shot and the probe).",
    }
    sentence = needs[part]
    command = run_command(manifest, bundle_path, *_part_options(manifest, part))
    lead = "" if sentence.endswith(" with") else " Add it with"
    return f"{sentence}{lead}\n\n```bash\n{command}\n```\n\nFinished approaches are kept; only the missing part is computed."


# --- headline -------------------------------------------------------------------------------------

def read_headline(table: pd.DataFrame, reference: dict, approaches: Sequence[dict] = (),
                  verdict: dict | None = None) -> str:
    """The approach named best by the rule fixed on the training part (``records.headline_approach``, said on the
    page; never the held-out maximum), and the zero-shot run chosen on train against the majority class."""
    ours = table[(table["source"] == SOURCE_BUNDLE) & table["accuracy"].notna()]
    if ours.empty:
        return "No approach has been run on this bundle yet."
    headline, rule = headline_approach(approaches)
    majority = reference.get("majority_rate")
    parts = [f"Best here by a rule fixed before scoring: **{_text(row.approach)}** with {numbers.short_percent(row.accuracy)} held-out "
             "accuracy" + (f" (95% interval {numbers.short_percent(row.ci_low)}–{numbers.short_percent(row.ci_high)})" if pd.notna(row.ci_low) else "")
             + f". The rule: {rule}." for row in ours[ours["id"] == (headline or {}).get("id")].itertuples()]
    chosen = max(best_per_model(approaches, ZEROSHOT).values(), key=choice_accuracy, default=None)
    zeroshot = ours[ours["id"] == chosen["id"]] if chosen else ours.iloc[:0]
    if len(zeroshot) and majority is not None:
        top = zeroshot.iloc[0]
        verb = versus_majority(chosen["id"], top["accuracy"], majority, [top.get("ci_low"), top.get("ci_high")],
                               verdict)
        parts.append(f"The zero-shot run chosen on the training images reaches {numbers.short_percent(top['accuracy'])}, {verb} the "
                     f"{numbers.short_percent(majority)} of always answering *{_text(reference.get('majority_class'))}*.")
    return " ".join(parts)


# --- zero-shot autopsy ----------------------------------------------------------------------------

def read_prompt_ladder(autopsy: dict, majority_rate: float | None = None, learnt: bool = True,
                       verdict: dict | None = None) -> str:
    """The prompt set chosen on the training images (``best_prompt_set``; else the first listed) and
    its held-out accuracy; the held-out winner is named only as an oracle, when it differs."""
    sets = as_frame(autopsy.get("prompt_sets"))
    if sets.empty:
        return "No prompt sets were evaluated."
    named = sets[sets["name"] == autopsy.get("best_prompt_set")]
    chosen = (named if len(named) else sets).iloc[0]
    oracle, worst = sets.loc[sets["accuracy"].idxmax()], sets.loc[sets["accuracy"].idxmin()]
    text = f"The prompt set chosen on the training images, *{_text(chosen['name'])}*, reaches {numbers.short_percent(chosen['accuracy'])}"
    if majority_rate is not None:
        verb = versus_majority(chosen.get("approach_id"), chosen["accuracy"], majority_rate, chosen.get("accuracy_ci"), verdict)
        text += f" — {verb} the {numbers.short_percent(majority_rate)} of the majority class"
    if oracle["name"] != chosen["name"] and oracle["accuracy"] > chosen["accuracy"]:
        text += f"; the held-out oracle, *{_text(oracle['name'])}*, {numbers.short_percent(oracle['accuracy'])} (picked on the held-out images)"
    text += "." if worst["name"] == chosen["name"] else f"; the worst, *{_text(worst['name'])}*, {numbers.short_percent(worst['accuracy'])}."
    templates = as_frame(autopsy.get("templates"))
    if len(templates) > 1:
        text += " " + read_templates(autopsy.get("templates") or [], autopsy.get("true_distribution") or {}, learnt)
    return text


def read_templates(templates: Sequence[dict], true_distribution: dict[str, int], learnt: bool = True) -> str:
    """How far single templates move accuracy — not counting templates that give (almost) one answer to every
    image (``choices.collapsed_templates``, from their stored answers): they measure a collapse, not wording."""
    scored = [row for row in templates if row.get("accuracy") is not None]
    if len(scored) < 2:
        return ""
    low, high = min(row["accuracy"] for row in scored), max(row["accuracy"] for row in scored)
    if not learnt:
        return untrained.read_templates(low, high)
    collapsed = collapsed_templates(scored, true_distribution)
    if not collapsed:
        return (f"Single templates range from {numbers.short_percent(low)} to {numbers.short_percent(high)}: the wording alone moves accuracy by "
                f"{numbers.points(high - low)}.")
    text = (f"Single templates range from {numbers.short_percent(low)} to {numbers.short_percent(high)}, but {len(collapsed)} of {len(scored)} "
            f"{collapse_phrase([{**row, 'onto': _text(row['onto'])} for row in collapsed])}, so much of the spread "
            "is the answer collapsing onto different classes, not better wording.")
    collapsed_ids = {(row.get("prompt_set"), row.get("template")) for row in collapsed}
    kept = [row["accuracy"] for row in scored if (row.get("prompt_set"), row.get("template")) not in collapsed_ids]
    if len(kept) > 1:
        text += f" The other templates range from {numbers.short_percent(min(kept))} to {numbers.short_percent(max(kept))}."
    return text


def read_distribution(true_counts: dict[str, int], predicted_counts: dict[str, dict[str, int]],
                      prompt_set: str | None = None) -> str:
    """What one prompt set (default: the first) answers, against what is there."""
    if not predicted_counts:
        return ""
    name = prompt_set if prompt_set in predicted_counts else next(iter(predicted_counts))
    counts = predicted_counts[name]
    total_pred, total_true = sum(counts.values()) or 1, sum(true_counts.values()) or 1
    top = max(counts, key=counts.get)
    text = (f"With the *{_text(name)}* prompts the model answers *{_text(top)}* for {numbers.short_percent(counts[top] / total_pred)} of the images, "
            f"while *{_text(top)}* is {numbers.short_percent(true_counts.get(top, 0) / total_true)} of the data.")
    never = [c for c in true_counts if counts.get(c, 0) == 0 and true_counts[c] > 0]
    if never:
        text += f" It never answers {', '.join(f'*{_text(c)}*' for c in never)}."
    collapsed = [set_name for set_name, set_counts in predicted_counts.items()
                 if max(set_counts.values(), default=0) >= COLLAPSE_SHARE * (sum(set_counts.values()) or 1)]
    if len(collapsed) > 1:
        text += f" {len(collapsed)} of {len(predicted_counts)} prompt sets give (almost) one answer to every image."
    return text


def read_modality_gap(gap: dict, learnt: bool = True) -> str:
    """How far images and class prompts sit apart (``learnt`` false: :mod:`analysis.present.untrained`)."""
    overall = gap.get("overall")
    per_class = gap.get("per_class") or {}
    if overall is None:
        return ""
    cosine = {name: value for name, value in (gap.get("image_text_cosine") or {}).items() if value is not None}
    if not learnt:
        return untrained.read_modality_gap(overall, cosine)
    measure = f" — {gap['measure']}" if gap.get("measure") else ""
    text = (f"Image and text embeddings sit apart (overall gap {overall:.2f}{measure}): a class prompt is not near its "
            "images, so zero-shot rests on small differences between far-away points.")
    if per_class:
        widest = max(per_class, key=per_class.get)
        text += f" The gap is widest for *{_text(widest)}* ({per_class[widest]:.2f})."
    if cosine:
        text += f" The cosine between an image class and its own prompt is at most {max(cosine.values()):.2f}."
    return text


def read_similarity(text_similarity: Sequence[Sequence[float]], image_similarity: Sequence[Sequence[float]],
                    classes: Sequence[str], evidence: dict | None = None, learnt: bool = True) -> str:
    """Compare how alike the class prompts are with how alike the image classes are.

    ``evidence`` (``ladder_panels.separation_evidence``): a rung on the same features that beats the
    majority rate beyond its interval; then close centroids are never read as inseparable classes.
    ``learnt`` false: :mod:`analysis.present.untrained`."""
    text, image = np.asarray(text_similarity, dtype=float), np.asarray(image_similarity, dtype=float)
    upper = np.triu_indices(len(classes), k=1)
    if not len(upper[0]):
        return ""
    text_pairs, image_pairs = text[upper], image[upper]
    i, j = int(np.argmax(text_pairs)), int(np.argmax(image_pairs))
    a, b = classes[upper[0][i]], classes[upper[1][i]]
    c, d = classes[upper[0][j]], classes[upper[1][j]]
    closest_text, closest_image = float(text_pairs[i]), float(image_pairs[j])
    if not learnt:
        return untrained.read_similarity(text_pairs, image_pairs)
    if closest_text > closest_image:
        above = int((text_pairs > closest_image).sum())
        text_out = (f"The prompts for *{_text(a)}* and *{_text(b)}* are closer to each other (cosine {closest_text:.2f}) than any two "
                    f"image classes are (at most {closest_image:.2f})")
        text_out += (f"; so are {above - 1} other prompt pair(s)." if above > 1 else ".")
        return text_out + " The text side barely tells the classes apart, whatever the images show."
    if closest_image > 0.95 and evidence:
        return (f"The image class centroids are very close (cosine up to {closest_image:.2f}, *{_text(c)}* and *{_text(d)}*), yet the "
                f"{evidence['rung']} on the same features reaches {evidence['accuracy']:.1%} against "
                f"{evidence['majority_rate']:.1%} for the majority class, beyond its interval: the classes differ in "
                "directions that a class mean hides, so close centroids do not make them inseparable.")
    if closest_image > 0.95:
        return (f"The image classes are almost indistinguishable (centroid cosine up to {closest_image:.2f}, *{_text(c)}* and "
                f"*{_text(d)}*), closer than the closest prompts (*{_text(a)}* and *{_text(b)}*, {closest_text:.2f}): this image encoder does "
                "not separate the classes, so no wording of the prompts can.")
    return (f"The closest prompts, *{_text(a)}* and *{_text(b)}* (cosine {closest_text:.2f}), are no closer than the closest image "
            f"classes, *{_text(c)}* and *{_text(d)}* ({closest_image:.2f}): the prompts separate the classes at least as well as "
            "the images do.")


def read_margins(margins: dict) -> str:
    correct, wrong = np.asarray(margins.get("correct") or []), np.asarray(margins.get("wrong") or [])
    if not len(wrong):
        return "No wrong answers among the held-out images."
    if not len(correct):
        return f"Every answer is wrong; the median margin is still {np.median(wrong):.2f}."
    c, w = float(np.median(correct)), float(np.median(wrong))
    if w >= 0.8 * c:
        return (f"Wrong answers are given with about the same margin as right ones (median {w:.2f} vs {c:.2f}): "
                "the model does not know when it is wrong, so its confidence cannot be used to flag mistakes.")
    return (f"Wrong answers have smaller margins than right ones (median {w:.2f} vs {c:.2f}): a low margin is a useful "
            "warning sign.")


def read_reliability(reliability: dict) -> str:
    ece = reliability.get("ece")
    bins = [(c, a, n) for c, a, n in zip(reliability.get("bin_confidence") or [], reliability.get("bin_accuracy") or [],
                                         reliability.get("bin_count") or []) if c is not None and a is not None and n]
    if ece is None or not bins:
        return ""
    c, a, n = max(bins, key=lambda item: item[2])
    direction = "overconfident" if c > a + 0.05 else "underconfident" if a > c + 0.05 else "about right"
    if len(bins) == 1:
        return (f"Every answer ({n}) is given with about {numbers.short_percent(c)} confidence and {numbers.short_percent(a)} of them are right: one "
                f"bin, so this plot cannot show how confidence tracks accuracy (ECE {ece:.3f}).")
    return (f"Expected calibration error {ece:.3f}. Most answers ({n}) are given with about {numbers.short_percent(c)} confidence and are "
            f"right {numbers.short_percent(a)} of the time: the model is {direction} there.")


def read_confusion(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> str:
    counts = np.asarray(matrix, dtype=float)
    if counts.sum() == 0:
        return ""
    off = counts.copy()
    np.fill_diagonal(off, 0)
    if off.sum() == 0:
        return "Every held-out image is classified correctly."
    t, p = np.unravel_index(int(np.argmax(off)), off.shape)
    share = off[t, p] / max(counts[t].sum(), 1)
    recall = np.divide(np.diag(counts), counts.sum(axis=1), out=np.zeros(len(classes)), where=counts.sum(axis=1) > 0)
    lowest = recall[counts.sum(axis=1) > 0].min()
    hardest = [name for i, name in enumerate(classes) if counts[i].sum() > 0 and np.isclose(recall[i], lowest)]
    tied = list(zip(*np.nonzero(off == off[t, p])))
    mistake = (f"The most frequent mistake: *{_text(classes[t])}* taken for *{_text(classes[p])}* ({int(off[t, p])} images, "
               f"{numbers.short_percent(share)} of *{_text(classes[t])}*)" if len(tied) == 1 else
               f"The most frequent mistakes ({int(off[t, p])} images each): "
               + ", ".join(f"*{_text(classes[a])}* taken for *{_text(classes[b])}*" for a, b in tied))
    if len(hardest) == 1:
        return f"{mistake}. The hardest class is *{_text(hardest[0])}* (recall {numbers.short_percent(lowest)})."
    return f"{mistake}. The hardest classes, tied at recall {numbers.short_percent(lowest)}, are {wording.listed(hardest)}."


def read_projection(points: pd.DataFrame) -> str:
    """How well the classes separate in a map (nearest-centroid agreement) and where the prompts sit."""
    images = points[(points["kind"] == "image") & (points["label"] != "unlabelled")]
    if images["label"].nunique() < 2:
        return ""
    centroids = images.groupby("label")[["x", "y"]].mean()
    xy = images[["x", "y"]].to_numpy()
    nearest = centroids.index.to_numpy()[np.argmin(((xy[:, None, :] - centroids.to_numpy()[None]) ** 2).sum(-1), axis=1)]
    purity = float((nearest == images["label"].to_numpy()).mean())
    text = (f"{numbers.short_percent(purity)} of the labelled images lie closest to the centre of their own class "
            f"({'clearly separated' if purity > 0.8 else 'partly mixed' if purity > 0.5 else 'largely mixed'} classes).")
    prompts = points[points["kind"] == "text"]
    if len(prompts):
        spread = float(np.ptp(images[["x", "y"]].to_numpy(), axis=0).max()) or 1.0
        distance = np.sqrt(((prompts[["x", "y"]].to_numpy()[:, None] - xy[None]) ** 2).sum(-1)).min(axis=1)
        if distance.mean() > 0.1 * spread:
            text += " The class prompts (stars) sit away from the images in this map."
        else:  # the map places each prompt beside its most similar images: the gap cannot show here
            text += (" The class prompts (stars) are placed beside the images most similar to them, so this map "
                     "cannot show how far text and images are apart; the modality gap chart measures that.")
    return text


# --- linear probe and ConvNeXt --------------------------------------------------------------------

def read_c_sweep(c_sweep, best_c: float | None) -> str:
    frame = as_frame(c_sweep)
    if frame.empty:
        return ""
    top = frame.loc[frame["cv_accuracy_mean"].idxmax()]
    low = frame["cv_accuracy_mean"].min()
    text = (f"Cross-validated accuracy peaks at C = {top['C']:g} ({numbers.short_percent(top['cv_accuracy_mean'])}); across the sweep it "
            f"moves by {numbers.points(top['cv_accuracy_mean'] - low)}.")
    if best_c is None:
        return text
    if best_c == top["C"]:
        return f"{text} The probe uses C = {best_c:g}."
    return (f"{text} The probe uses C = {best_c:g}, the strongest regularisation within one standard error of the "
            "peak: scores that close are a tie.")


def read_kshot(probe: dict) -> str:
    frame = as_frame(probe.get("kshot"))
    if frame.empty:
        return ""
    shots = probe.get("effective_shots")
    zeroshot = probe.get("zeroshot_accuracy")
    last = frame.sort_values("k").iloc[-1]
    if "all" in frame and bool(last.get("all")) and pd.notna(last.get("n_train")):
        text = f"With all {int(last['n_train'])} training images the probe reaches {numbers.short_percent(last['mean'])}."
    else:
        text = f"With {int(last['k'])} labelled images per class the probe reaches {numbers.short_percent(last['mean'])}."
    found = probe.get("effective_shots_range")
    if found and zeroshot is not None:
        phrase = shots_phrase(found)
        if found["how"] == "never_clearly":
            below = last["mean"] < zeroshot
            return text + (f" It never clearly overtakes zero-shot ({numbers.short_percent(zeroshot)}): "
                           + ("it stays below it." if below else "where the curve meets the zero-shot line it stays "
                              "within the uncertainty of that line, so no number of labels can be read off."))
        if found["how"] == "at_most":
            return text + (f" It is clearly above zero-shot ({numbers.short_percent(zeroshot)}) with {phrase} labelled images per class."
                           if not found.get("high_is_all") else
                           f" It is clearly above zero-shot ({numbers.short_percent(zeroshot)}) {phrase}.")
        return text + (f" It clearly overtakes zero-shot ({numbers.short_percent(zeroshot)}) with {phrase} labelled images per class "
                       "(points closer than their uncertainty count as level): that is all zero-shot is worth here.")
    if shots is not None and zeroshot is not None:
        text += (f" It overtakes zero-shot ({numbers.short_percent(zeroshot)}) at about **{shots_text(shots)} labelled images per class**: "
                 "that is all zero-shot is worth here.")
    elif zeroshot is not None:
        text += f" It never reaches zero-shot ({numbers.short_percent(zeroshot)}) in this range."
    return text


def read_blend(blend, alpha: float | None = None) -> str:
    """The blend at the weight chosen on the training folds (``alpha``, from ``probe.blend_alpha``);
    bundles without it fall back to reading the held-out curve."""
    frame = as_frame(blend)
    if frame.empty:
        return ""
    if alpha is not None and "train_accuracy" in frame:
        chosen = frame.loc[(frame["alpha"] - alpha).abs().idxmin()]
        probe_only = frame.loc[frame["alpha"].idxmin(), "accuracy"]
        if alpha <= frame["alpha"].min() + 1e-9:
            text = (f"On the training folds mixing in zero-shot does not help (α = 0 chosen): the probe alone scores "
                    f"{numbers.short_percent(probe_only)} on the held-out images.")
        else:
            text = (f"The blend weight chosen on the training folds gives zero-shot α = {alpha:.2f}; on the held-out "
                    f"images it scores {numbers.short_percent(chosen['accuracy'])} against {numbers.short_percent(probe_only)} for the probe alone.")
        oracle = frame.loc[frame["accuracy"].idxmax()]
        if oracle["accuracy"] - chosen["accuracy"] >= 0.005:
            text += (f" The best α on the held-out images ({oracle['alpha']:.2f}, {numbers.short_percent(oracle['accuracy'])}) is an "
                     "oracle, not a score: it was picked on the test images.")
        return text
    best = frame.loc[frame["accuracy"].idxmax()]
    probe_only = frame.loc[frame["alpha"].idxmin(), "accuracy"]
    if best["alpha"] <= frame["alpha"].min() + 1e-9 or best["accuracy"] - probe_only < 0.005:
        return (f"Mixing in zero-shot does not help: the probe alone ({numbers.short_percent(probe_only)}) is as good as any blend.")
    return (f"The held-out oracle blend (its weight picked on the test images) gives zero-shot {best['alpha']:.2f} "
            f"and reaches {numbers.short_percent(best['accuracy'])}, {numbers.points(best['accuracy'] - probe_only)} above the probe alone.")


WEIGHTS = {"imagenet": "ImageNet weights, fine-tuned", "checkpoint": "a local checkpoint, fine-tuned",
           "scratch": "random initialisation, trained from scratch (no pretrained weights were available)"}
SCRATCH_WARNING = "Trained from scratch: expect far lower accuracy than with ImageNet weights."


def read_weights(finetune: dict) -> str:
    """Where a fine-tuned network started from, and whether predictions use test-time augmentation."""
    return (f"Started from **{_text(WEIGHTS.get(finetune.get('weights'), finetune.get('weights') or 'unknown weights'))}**"
            + (" · test-time augmentation on" if finetune.get("tta") else "") + ".")


def read_training(finetune: dict) -> str:
    frame = as_frame(finetune.get("epochs"))
    if frame.empty:
        return ""
    best_epoch = finetune.get("best_epoch") or int(frame.loc[frame["val_accuracy"].idxmax(), "epoch"])
    row = frame[frame["epoch"] == best_epoch].iloc[0] if (frame["epoch"] == best_epoch).any() else frame.iloc[-1]
    text = f"Best validation accuracy {numbers.short_percent(row['val_accuracy'])} at epoch {best_epoch} of {int(frame['epoch'].max())}."
    if run_facts.still_improving(finetune.get("epochs"), best_epoch):
        text += (" Training stopped while still improving: the best epoch is the last one, so more epochs would "
                 "likely help.")
    if "train_accuracy" in frame:
        gap = frame["train_accuracy"].iloc[-1] - frame["val_accuracy"].iloc[-1]
        if gap > 0.1:
            text += f" Training accuracy ends {numbers.points(gap)} higher: the network starts to memorise the training images."
    weights = finetune.get("weights")
    if weights == "scratch":
        text += " It was trained from scratch (no ImageNet weights were available), so it is weaker than it could be."
    return text


# --- comparisons ----------------------------------------------------------------------------------

def read_agreement(agreement: dict, n_images: int | None = None, chosen: bool = False) -> str:
    """Images right under, and missed by, every approach of the stored ``agreement`` (the count of
    Label problems and the report) or, with ``chosen``, of the approaches chosen on Compare."""
    patterns = agreement.get("patterns", [])
    total = n_images or sum(int(p.get("count", 0)) for p in patterns) or 1
    all_wrong = len(agreement.get("all_wrong", []))
    all_right = sum(int(p.get("count", 0)) for p in patterns if p.get("correct") and all(p["correct"].values()))
    every = f"every approach {'chosen here' if chosen else 'that looks at the image'}"
    return (f"{all_right} images ({numbers.short_percent(all_right / total)}) are right under {every} and {all_wrong} "
            f"({numbers.short_percent(all_wrong / total)}) are missed by {every} — the latter are the first place to look for "
            "label problems.")


def read_disagreement(rows: pd.DataFrame, first: str, second: str, labels: dict[str, str]) -> str:
    if rows.empty:
        return "The two approaches give the same answer on every held-out image."
    counts = rows["right"].value_counts()
    return (f"They disagree on {len(rows)} images: **{_text(labels.get(first, first))}** is right on {counts.get(first, 0)}, "
            f"**{_text(labels.get(second, second))}** on {counts.get(second, 0)}, neither on {counts.get('neither', 0)}.")


def read_shortcuts(shortcut_accuracy: dict[str, float], majority_rate: float | None,
                   details: dict[str, dict] | None = None) -> str:
    """Whether trivial image statistics (size, view, colour) beat the majority class; ``details``
    (``confounders.shortcuts``) adds the intervals that tell a real shortcut from noise."""
    if not shortcut_accuracy:
        return ""
    best = max(shortcut_accuracy, key=shortcut_accuracy.get)
    value = shortcut_accuracy[best]
    interval = (details or {}).get(best, {}).get("accuracy_ci")
    low = interval[0] if interval else value
    if majority_rate is not None and low > majority_rate:
        return (f"Trivial image statistics alone (*{_text(best)}*) reach {numbers.short_percent(value)}, clearly above the {numbers.short_percent(majority_rate)} "
                "majority rate: part of what any model learns here can be a shortcut rather than the kernel itself.")
    if majority_rate is not None and value > majority_rate:
        return (f"Trivial image statistics (*{_text(best)}*) reach {numbers.short_percent(value)}, a little above the {numbers.short_percent(majority_rate)} "
                "majority rate but within its uncertainty: at most a weak shortcut.")
    return (f"Trivial image statistics predict little (best: *{_text(best)}*, {numbers.short_percent(value)}), so a model that does well is "
            "looking at the kernels.")


def describe_approach(record: dict) -> str:
    """One line of facts about an approach: model, weights, time, device."""
    timed = record.get("wall_time_s") is not None
    return " · ".join([_text(approach_label(record))] + [
        f"{duration_text(record['wall_time_s'])} on {_text(record.get('device') or 'an unknown device')}"] * timed)
