"""What a report says about a bundle in plain sentences: its approaches in story order, the key
findings, and the line that replaces a part the bundle lacks. Plain text: callers escape it."""

from __future__ import annotations

import logging
import math

from analysis.stats import approach_agreement, choices
from analysis.present import explain
from analysis.core import tables, weights
from analysis.core.bundle import Bundle, BundleError
from analysis.core.records import best_per_model, choice_accuracy, headline_approach

log = logging.getLogger(__name__)

KIND_ORDER = {"baseline": 0, "zeroshot": 1, "zeroshot-calibrated": 2, "zeroshot-worded": 3,
              "zeroshot-worded-calibrated": 4, "centroid": 5, "knn": 6, "probe": 7, "finetune": 8}


def diagnostics(bundle: Bundle, name: str) -> dict:
    """The named diagnostics, or an empty dict when the bundle has none (or they cannot be read)."""
    if not bundle.has_diagnostics(name):
        return {}
    try:
        return bundle.diagnostics(name)
    except BundleError as error:
        log.warning("report: %s", error)
        return {}


def ordered_approaches(bundle: Bundle) -> list[dict]:
    """The bundle's approaches in story order: baselines, zero-shot, probe, fine-tuned; within a kind,
    the run chosen on the training part first (:func:`~analysis.core.records.choice_accuracy`), never
    ordered by held-out score."""
    return sorted(bundle.approaches, key=lambda record: (KIND_ORDER.get(record["kind"], 9), -choice_accuracy(record)))


def chosen_of_kind(bundle: Bundle, kind: str) -> dict | None:
    """The approach of one kind chosen on the training part (:func:`~analysis.core.records.best_per_model`,
    then across models by :func:`~analysis.core.records.choice_accuracy`), never the held-out winner; or None."""
    return max(best_per_model(bundle.approaches, kind).values(), key=choice_accuracy, default=None)


def key_findings(bundle: Bundle) -> list[str]:
    """A few plain sentences that read the headline numbers (plain text; callers escape them)."""
    labels = tables.approach_labels(bundle.approaches)
    reference = bundle.manifest.get("reference", {})
    majority = reference.get("majority_rate")
    verdict = bundle.diagnostics("verdict") if bundle.has_diagnostics("verdict") else None
    findings = []
    best, rule = headline_approach(bundle.approaches)
    if best:
        scores = best["metrics"]
        interval = scores.get("accuracy_ci") or [math.nan, math.nan]
        shown = "" if any(math.isnan(end) for end in interval) else f" (95% interval {interval[0]:.3f}–{interval[1]:.3f})"
        findings.append(f"Best approach by a rule fixed before scoring: {labels[best['id']]} at "
                        f"{scores['accuracy']:.3f}{shown} on "
                        f"{scores.get('n', '?')} held-out images. The rule: {rule}.")
    zeroshot = chosen_of_kind(bundle, "zeroshot")
    if zeroshot and majority is not None:
        accuracy = zeroshot["metrics"]["accuracy"]
        word = explain.versus_majority(zeroshot["id"], accuracy, majority, zeroshot["metrics"].get("accuracy_ci"), verdict)
        findings.append(f"The zero-shot run chosen on the training images ({labels[zeroshot['id']]}) scores "
                        f"{accuracy:.3f}, "
                        f"{word} the "
                        f"majority-class rate of {majority:.3f} "
                        f"(always answering \u201c{reference.get('majority_class', '?')}\u201d).")
    probe = chosen_of_kind(bundle, "probe")
    if probe and zeroshot:
        findings.append(f"The linear probe ({labels[probe['id']]}) scores {probe['metrics']['accuracy']:.3f}, "
                        f"{explain.difference(probe['metrics']['accuracy'], zeroshot['metrics']['accuracy'])} "
                        "the zero-shot run chosen on the training images.")
    finetune = chosen_of_kind(bundle, "finetune")
    if finetune and probe:
        trained = "Fine-tuning" if weights.weights_kind(finetune) == weights.PRETRAINED else "Training from scratch"
        findings.append(f"{trained} ({labels[finetune['id']]}) scores {finetune['metrics']['accuracy']:.3f}, "
                        f"{explain.difference(finetune['metrics']['accuracy'], probe['metrics']['accuracy'])} "
                        "the linear probe.")
    stats = next((record for record in bundle.approaches if record["id"] == "baseline:image-stats"), None)
    if stats and zeroshot:
        findings.append(f"Simple image statistics (size, view, colour) alone score "
                        f"{stats['metrics']['accuracy']:.3f}, against {zeroshot['metrics']['accuracy']:.3f} "
                        "for the zero-shot run chosen on the training images.")
    probe_diagnostics = diagnostics(bundle, probe["id"]) if probe else {}
    shots = probe_diagnostics.get("effective_shots")
    if probe_diagnostics.get("effective_shots_range"):
        phrase = choices.shots_phrase(probe_diagnostics["effective_shots_range"])
        findings.append("The probe never clearly overtakes zero-shot in this bundle." if phrase == "never clearly"
                        else f"The probe clearly overtakes zero-shot with {phrase} labelled images per class.")
    elif isinstance(shots, (int, float)):
        at_most = probe_diagnostics.get("effective_shots_bound") == "at_most"
        findings.append(f"The probe matches zero-shot with {'at most' if at_most else 'about'} "
                        f"{tables.shots_text(shots)} labelled images per class.")
    elif probe_diagnostics.get("effective_shots_bound") == "never":
        findings.append("The probe never reaches zero-shot within the labelled images of this bundle.")
    agreement = diagnostics(bundle, "agreement")
    n_eval = bundle.approaches[0]["metrics"].get("n") if bundle.approaches else None
    if agreement.get("all_wrong") is not None and n_eval:
        named = [labels.get(approach_id, approach_id) for approach_id in agreement.get("approaches", [])]
        findings.append(f"{approach_agreement.missed_sentence(len(agreement['all_wrong']), named)}: "
                        f"{len(agreement['all_wrong']) / n_eval:.0%} of the held-out images, candidates for label "
                        "problems.")
    return findings


def missing_line(bundle: Bundle, part: str) -> str:
    """One line saying what is missing and the command that produces it (plain text).

    The command names the data and the bundle by placeholders: a report is made to be shared, and
    the author's folder names are nobody else's business (nor any use on another machine).
    """
    manifest = {**bundle.manifest, "dataset": {**bundle.manifest.get("dataset", {}), "root": "DATA_DIR"}}
    text = explain.missing_part(manifest, "BUNDLE", part)
    sentence, _, rest = text.partition("```bash\n")
    command = rest.split("\n```", 1)[0]
    return " ".join(f"{sentence.strip()} {command}".split())
