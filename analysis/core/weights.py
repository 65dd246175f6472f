"""Is this a real model? The one answer every reading consults before it names a cause.

A sentence about what CLIP's text tower knows, how its tokenizer cuts a word or what a network has
learnt is a finding only when the weights were learnt from real data. A bundle records where each
model's weights came from (``pretrained`` on its approach records and embedding entries; ``weights``
on a fine-tuned network); this module reads that once and gives every page, reading and report the
same answer:

- ``pretrained``: a published tag or a checkpoint file — readings may speak about the model;
- ``random``: random weights (``pretrained = "random"``: the demo, tests, machines without weights);
- ``scratch``: a network trained from random initialisation on this bundle's training part only;
- ``synthetic``: trained on synthetic kernels and their captions (the demo's CornLens-Tiny,
  :mod:`analysis.models.demo_clip`, recorded as ``weights = "synthetic-captions"``; ``pretrained`` or
  ``trained_on`` may say the same): it has learnt the planted captions, not language.

Under random or scratch weights a reading describes the mechanics ("with random weights, prompts
and images are nearly orthogonal") and never a cause about CLIP, its tokenizer or language
(:func:`learnt` is false); weights trained on synthetic captions may show the causes their captions
planted (:func:`learnt` is true), but every page still says the model is not CLIP (:func:`caveat`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from analysis.core.escape import markdown_text

PRETRAINED, RANDOM, SCRATCH, SYNTHETIC = "pretrained", "random", "scratch", "synthetic"
# The ``pretrained`` tag that asks a loader for random weights (a CLIP or its text tower): the one spelling.
RANDOM_WEIGHTS = "random"
# What a bundle records (``pretrained``, ``weights`` or ``trained_on``) → the kind of weights.
SYNTHETIC_CAPTIONS = "synthetic-captions"  # the demo's CLIP records it as ``weights`` (analysis.models.demo_clip)
RECORDED = {RANDOM_WEIGHTS: RANDOM, "scratch": SCRATCH, SYNTHETIC_CAPTIONS: SYNTHETIC, "synthetic captions": SYNTHETIC}
# How each kind is said, after the model's name.
SAID = {RANDOM: "has random weights", SCRATCH: "was trained from scratch (no pretrained weights)",
        SYNTHETIC: "was trained on synthetic kernels and their captions only"}
# Embedding kinds that are a model's own space, and which family each belongs to.
FAMILY = {"clip_image": "CLIP", "clip_features": "CLIP", "convnext": "ConvNeXt"}


def weights_kind(entry: Mapping) -> str:
    """The kind of weights of one approach record or embedding entry (baselines: ``pretrained``,
    meaning nothing to warn about)."""
    for field in ("trained_on", "weights", "pretrained"):
        value = entry.get(field)
        if value is not None and str(value).strip().lower() in RECORDED:
            return RECORDED[str(value).strip().lower()]
    return PRETRAINED


@dataclass(frozen=True)
class ModelWeights:
    """One model of a bundle and where its weights came from."""

    model_key: str
    family: str  # "CLIP" or "ConvNeXt"
    kind: str    # PRETRAINED | RANDOM | SCRATCH | SYNTHETIC

    @property
    def real(self) -> bool:
        """Pretrained weights: a reading may name a cause about this model."""
        return self.kind == PRETRAINED

    @property
    def learnt(self) -> bool:
        """Weights learnt from images and texts (pretrained, or on synthetic captions): a reading may
        name a cause on this model's text side (a word it never saw, its prompts pointing astray)."""
        return self.kind in (PRETRAINED, SYNTHETIC)

    @property
    def name(self) -> str:
        return f"{self.family} {self.model_key}"

    def sentence(self) -> str:
        """``CLIP CornLens-Tiny:random has random weights`` ("" for pretrained weights)."""
        return "" if self.real else f"{self.name} {SAID[self.kind]}"


def _family(entry: Mapping) -> str | None:
    if entry.get("kind") in FAMILY:
        return FAMILY[entry["kind"]]
    if entry.get("kind") == "finetune":
        return "ConvNeXt"
    if entry.get("kind") and entry.get("kind") != "baseline":
        return "CLIP"
    return None


def models(manifest: Mapping) -> list[ModelWeights]:
    """Every model of the bundle (its embedding spaces and the approaches' models), once each, CLIP first."""
    found: dict[str, ModelWeights] = {}
    entries = [*(manifest.get("embeddings") or {}).values(), *(manifest.get("approaches") or [])]
    for entry in entries:
        key, family = entry.get("model_key") or entry.get("model"), _family(entry)
        if not key or family is None:
            continue
        kind = weights_kind(entry)
        if key not in found or (found[key].real and kind != PRETRAINED):
            found[key] = ModelWeights(str(key), family, kind)
    return sorted(found.values(), key=lambda model: (model.family != "CLIP", model.model_key))


def of_model(manifest: Mapping, model_key: str | None) -> ModelWeights | None:
    """The weights of one model, by its model key or the name of one of its embedding spaces (None
    when the bundle does not know it)."""
    space = (manifest.get("embeddings") or {}).get(model_key) or {}
    keys = {model_key, space.get("model_key")} - {None}
    return next((model for model in models(manifest) if model.model_key in keys), None)


def learnt(manifest: Mapping, model_key: str | None) -> bool:
    """Whether ``model_key``'s weights were learnt from images and texts (:attr:`ModelWeights.learnt`);
    a model the bundle does not describe counts as learnt (nothing recorded to warn about)."""
    found = of_model(manifest, model_key)
    return found is None or found.learnt


def untrained(manifest: Mapping) -> list[ModelWeights]:
    """The models whose weights are not pretrained ones."""
    return [model for model in models(manifest) if not model.real]


def caveat(manifest: Mapping) -> str:
    """One plain sentence for the top of every page and the report ("" when every model is pretrained):
    which models have random weights or were trained from scratch, and what the readings then describe."""
    found = untrained(manifest)
    if not found:
        return ""
    said = [model.sentence() for model in found]
    listed = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"
    clip = [model for model in found if model.family == "CLIP"]
    if clip and all(model.kind == SYNTHETIC for model in clip):
        named = " and ".join(model.model_key for model in clip)
        return (f"{listed[0].upper()}{listed[1:]}. {named} {'is' if len(clip) == 1 else 'are'} not a real CLIP: any "
                "cause a reading names comes from its training captions, not from what CLIP knows about these images.")
    if clip:
        return (f"{listed[0].upper()}{listed[1:]}: the readings describe how the tool behaves on this data, not "
                "what CLIP knows; none names a cause about CLIP, its tokenizer or language.")
    return (f"{listed[0].upper()}{listed[1:]}: its numbers say little about what fine-tuning a pretrained network "
            "would give.")


def banner(manifest: Mapping) -> str:
    """The warning at the top of every page and of the report (Markdown; "" for a real bundle of
    pretrained models): a demo bundle says so, and every bundle names its untrained models."""
    made_by = manifest.get("generated_by")
    demo = ("**Demo bundle** — synthetic images" + (f" ({markdown_text(made_by)})" if made_by else "") + ". "
            if manifest.get("demo") else "")
    said = markdown_text(caveat(manifest))  # model names come from the bundle
    if demo and not said:
        return demo + "The numbers show how CornLens works; they say nothing about CLIP."
    return demo + (f"**Not pretrained:** {said}" if said else "")
