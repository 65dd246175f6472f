"""The reproduction block that opens every report: how to make these numbers again.

It states the command(s) that made the bundle (or says they were not recorded), the weights of every
model (random weights and training from scratch said plainly), the linear probe's and ConvNeXt's
hyper-parameters, the seed and split, the data and the CornLens version. Everything comes from the
manifest; nothing is inferred. A report is shared, so the author's folders are shortened to their last
part (``/home/ana/data/corn`` → ``…/corn``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from markupsafe import Markup

from analysis.core import runfile
from analysis.core.weights import SYNTHETIC_CAPTIONS
from analysis.core.escape import one_line
from analysis.data import split as split_module

UNTRAINED_WEIGHTS = {"random": "random weights (not pretrained)",
                     "scratch": "trained from scratch (random initialisation)"}
PROBE_KEYS = ("C", "C_grid", "cv", "standardized", "solver", "max_iter", "features")
CONVNEXT_KEYS = ("epochs", "epochs_run", "best_epoch", "image_size", "batch_size", "optimizer", "learning_rate",
                 "weight_decay", "schedule", "drop_path_rate", "augmentation", "early_stopping", "tta", "precision")


@dataclass(frozen=True)
class Reproduction:
    """``commands`` in the order they ran (empty when not recorded); ``facts``: (what, text) pairs."""

    commands: list[str]
    facts: list[tuple[str, str]]


ABSOLUTE_PATH = re.compile(r"(?<![\w.~])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\"]+[/\\])*([^\s/\\'\"]+)")
SHORTENED = "folders are shortened to their last part (…/name): put yours in their place"


def hide_folders(text: str) -> str:
    """``text`` with every absolute path cut to its last part: a shared report does not reveal the author's folders."""
    return ABSOLUTE_PATH.sub(lambda match: f"…/{match.group(1)}", text)


SYNTHETIC_DEMO_WEIGHTS = "a tiny CLIP trained on synthetic captions (the demo's weights, not a real CLIP)"


def weights_text(pretrained: str | None, weights: str | None = None) -> str:
    """The weights of a model as a reader needs them: a tag, a file, random, from scratch, or synthetic captions."""
    if weights == SYNTHETIC_CAPTIONS:
        return f"{SYNTHETIC_DEMO_WEIGHTS}: {pretrained}" if pretrained else SYNTHETIC_DEMO_WEIGHTS
    if not pretrained:
        return "weights not recorded"
    return UNTRAINED_WEIGHTS.get(str(pretrained), str(pretrained))


def _parameters(params: dict, keys: tuple[str, ...]) -> str:
    return ", ".join(f"{key} {params[key]}" for key in keys if params.get(key) not in (None, ""))


def model_facts(approaches: list[dict]) -> list[tuple[str, str]]:
    """One line per CLIP model (zero-shot and probe share its weights) and per ConvNeXt, with its settings."""
    facts: list[tuple[str, str]] = []
    clip = {}
    for record in approaches:
        if record.get("kind") in ("zeroshot", "probe"):
            clip.setdefault((record.get("model"), record.get("pretrained"), record.get("weights")),
                            set()).add(record.get("prompt_set"))
    for (model, pretrained, weights), prompt_sets in clip.items():
        named = sorted(name for name in prompt_sets if name)
        facts.append(("CLIP model", f"{model}, {weights_text(pretrained, weights)}"
                      + (f"; prompt sets {', '.join(named)}" if named else "")))
    for record in approaches:
        if record.get("kind") == "probe":
            facts.append(("linear probe", f"{record.get('model')}: {_parameters(record.get('params', {}), PROBE_KEYS)}"))
    for record in approaches:
        if record.get("kind") == "finetune":
            facts.append(("ConvNeXt", f"{record.get('model')}, {weights_text(record.get('pretrained'))}: "
                          + _parameters(record.get("params", {}), CONVNEXT_KEYS)))
    return facts


def reproduction(manifest: dict) -> Reproduction:
    """What it takes to make this bundle again, from its manifest."""
    dataset, split = manifest.get("dataset", {}), manifest.get("split", {})
    counts = split.get("counts", {})
    facts = [
        ("CornLens", str(manifest.get("tool_version", "?"))),
        ("seed", f"{split.get('seed', '?')} (split and every approach)"),
        ("split", f"{counts.get('eval', '?')} held-out images ({split_module.method_text(split)}), "
                  f"{counts.get('train', '?')} for training in {split.get('n_folds', '?')} folds, grouped by "
                  f"{', '.join(split.get('grouped_by', [])) or '-'}"),
        ("data", f"{dataset.get('root', '?')} ({dataset.get('layout', '?')} layout), "
                 f"{dataset.get('n_labelled', '?')} labelled images, fingerprint {dataset.get('fingerprint', '?')}"),
        *model_facts(manifest.get("approaches", [])),
    ]
    commands = [entry["command"] for entry in runfile.runs(manifest)]
    shown = [hide_folders(command) for command in commands]
    facts = [(what, hide_folders(text)) for what, text in facts]
    if shown != commands:
        facts.append(("note", SHORTENED))
    return Reproduction(shown, facts)


NOT_RECORDED = "The command that made this bundle was not recorded (made before CornLens recorded its commands)."


def markdown(block: Reproduction, escape: Callable[[str], str] = str) -> list[str]:
    """The block as Markdown lines: the command(s) in a shell block, then one bullet per fact
    (``escape`` makes text from the data inert, e.g. :func:`analysis.present.report.markdown_text`)."""
    lines = ["**Reproduce**", ""]
    lines += ["```bash", *map(one_line, block.commands), "```", ""] if block.commands else [NOT_RECORDED, ""]
    lines += [f"- {what}: {escape(text)}" for what, text in block.facts]
    return lines + [""]


def html(block: Reproduction) -> Markup:
    """The block as an HTML ``<section>`` (every text escaped)."""
    commands = (Markup('<pre style="background:#f1f3f6;padding:10px 12px;border-radius:6px;white-space:pre-wrap">'
                "<code>{}</code></pre>").format("\n".join(block.commands)) if block.commands
                else Markup("<p>{}</p>").format(NOT_RECORDED))
    rows = Markup("").join(Markup("<tr><th>{}</th><td>{}</td></tr>").format(what, text) for what, text in block.facts)
    return Markup('<section id="reproduce"><h2>Reproduce</h2>{}<table class="reproduce">{}</table></section>').format(
        commands, rows)
