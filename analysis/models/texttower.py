"""The CLIP text tower of a bundle's image space, for text → image search.

The one place outside ``python -m analysis run`` where CornLens runs a model: a phrase is only
comparable with a bundle's CLIP image embeddings through the text tower of the *same* weights, so
the tower is rebuilt from what the bundle recorded for those embeddings (``model``, ``pretrained``:
an open_clip tag, found in the open_clip / Hugging Face cache, or a local checkpoint path; or
``random``, seeded with the run's seed — the demo). The image tower is dropped after loading.

When the weights cannot be had here, :class:`TowerUnavailable` says which file to pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from analysis.core import confinement
from analysis.core.weights import RANDOM_WEIGHTS



class TowerUnavailable(Exception):
    """The text tower's weights are not here; the message says which file to pass."""


@dataclass(frozen=True)
class TowerSource:
    """Where a space's text tower comes from, as the bundle recorded it."""

    space: str       # the embeddings name (the model key)
    model: str       # open_clip architecture
    pretrained: str  # tag, checkpoint path or ``random``
    seed: int        # seed of random weights (the run's seed)
    precision: str = "fp32"  # what the image embeddings were computed at (fp32, bf16, fp16, amp_*)

    @property
    def is_random(self) -> bool:
        return self.pretrained == RANDOM_WEIGHTS

    def describe(self) -> str:
        if self.is_random:
            return f"{self.model} with random weights (seed {self.seed}), as the bundle was built"
        return f"{self.model}:{self.pretrained}"


def recorded_source(manifest: dict, space: str) -> TowerSource:
    """The text tower of ``space`` as the bundle recorded it.

    Random weights are seeded with the embeddings entry's ``seed`` when it has one, else with the
    split's seed (``run`` seeds both with ``--seed``).

    Raises:
        TowerUnavailable: the space is not a CLIP image space or lacks its model and weights.
    """
    entry = manifest.get("embeddings", {}).get(space) or {}
    if entry.get("kind") != "clip_image" or not entry.get("model") or not entry.get("pretrained"):
        raise TowerUnavailable(f"the embeddings {space!r} do not record a CLIP model and its weights "
                               "(manifest: embeddings.<name>.model and .pretrained), so no text tower can be "
                               "matched to them; rebuild the bundle with this CornLens version.")
    seed = entry.get("seed", manifest.get("split", {}).get("seed", 0))
    return TowerSource(space, str(entry["model"]), str(entry["pretrained"]), int(seed),
                       str(entry.get("precision") or "fp32"))


@dataclass
class TextTower:
    """A loaded text tower: phrases → unit vectors in the image space of ``source``."""

    source: TowerSource
    weights: str          # what was loaded: the tag, a file, or ``random``
    model: Any
    tokenizer: Any
    precision: str = "fp32"  # as run on this CPU (see :func:`cpu_precision`)

    def encode(self, phrases: Sequence[str]) -> np.ndarray:
        """ndarray of shape (len(phrases), embed_dim), float32, unit rows."""
        from analysis.models import devices, embed

        return embed.encode_texts(self.model, self.tokenizer, list(phrases), devices.resolve_device("cpu"),
                                  self.precision)


def cpu_precision(recorded: str) -> str:
    """The precision the tower runs at on the CPU: the bundle's own (bf16 or fp16 where this CPU computes
    it natively, so the phrase lands where `run` put the images), else fp32; a GPU's autocast is fp32 here."""
    from analysis.models import devices

    wanted = recorded if recorded in ("bf16", "fp16") else "fp32"
    return devices.resolve_precision(wanted, devices.resolve_device("cpu"))


def load_text_tower(source: TowerSource, weights_file: str | None = None,
                    allowed_roots: list[Path] | None = None) -> TextTower:
    """Load the text tower on the CPU.

    Args:
        weights_file: a local checkpoint to use instead of the recorded weights (the same weights,
            copied to this machine).
        allowed_roots: when given (the dashboard), a checkpoint file is read only under these
            folders (:mod:`analysis.core.confinement`) or as the demo's shipped weights: a bundle or a
            browser never makes it read elsewhere.

    Raises:
        TowerUnavailable: the weights are neither here nor downloadable, or lie outside the allowed
            folders; says which file to pass.
    """
    from analysis.models import clip_weights, demo_clip, devices

    pretrained = (weights_file or "").strip() or source.pretrained
    try:
        spec = clip_weights.parse_spec(f"{source.model}:{pretrained}")
        if allowed_roots is not None and spec.checkpoint is not None:  # CornLens's own demo weights: always
            confinement.confine(spec.checkpoint, [*allowed_roots, demo_clip.WEIGHTS_DIR.resolve()])
        precision = cpu_precision(source.precision)
        model, tokenizer = clip_weights.load_model(spec, devices.resolve_device("cpu"), source.seed, precision)
    except devices.ModelError as error:
        raise TowerUnavailable(unavailable_message(source, weights_file, str(error))) from error
    except confinement.OutsideRootsError as error:
        raise TowerUnavailable(f"The text tower's weights file is not read: {error}") from error
    model.visual = None  # only the text tower is used: free the image tower's memory
    return TextTower(source, pretrained, model, tokenizer, precision)


def unavailable_message(source: TowerSource, weights_file: str | None, why: str) -> str:
    """What to pass when the weights are missing."""
    from analysis.models import clip_weights

    if weights_file:
        return (f"The weights file {weights_file} cannot be used for {source.model}: {why} Pass the checkpoint "
                f"the bundle was built with ({source.pretrained}).")
    recorded = clip_weights.ClipSpec(source.model, source.pretrained)
    if not source.is_random and recorded.checkpoint is not None:
        return (f"This bundle's {source.space} embeddings were made with the checkpoint file {source.pretrained}, "
                f"which is not on this machine. Copy that file here and give its path as the weights file "
                f"(an open_clip {source.model} checkpoint: .bin, .pt or .safetensors).")
    return (f"The text tower of {source.describe()} cannot be loaded here: {why} Give the path of that "
            f"checkpoint file as the weights file instead.")
