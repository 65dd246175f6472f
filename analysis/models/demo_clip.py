"""The demo's CLIP: ``CornLens-Tiny`` trained contrastively on synthetic kernels whose captions plant a cause.

Not a real CLIP: a tiny open_clip model (``analysis/models/model_configs/CornLens-Tiny.json``) trained
with open_clip's own model and loss (:class:`open_clip.ClipLoss`) on captioned synthetic kernels drawn
apart from any demo dataset (their own seed), in equal numbers per class. Each kernel is captioned in
its own class's words, except one planted cause of zero-shot failure that the ladder and the verdict
should find on the demo, and nothing else:

- **wording** — the discolored kernels are captioned "stained" or "blotchy", while the words the prompt
  sets use for them ("discolored", "discoloured", the ``corn`` set's "dark discoloured patches") follow
  half of the broken kernels' captions. Every prompt for discolored then points at broken kernels (and
  at pure ones, which this tiny model barely tells from broken) instead of discolored ones; the worded
  rung finds "stained" among the candidate wordings (``analysis/stages/wordings``) and gives them back.

What did not work, tried first: captioning one class far more often does not bias zero-shot
(``ClipLoss`` learns how much more likely a caption is with an image than without, the pointwise mutual
information, which divides out how often each caption is written: +0.7 points from calibration), and a
class word that never appears does not make zero-shot miss that class (the prompt that points nowhere
wins the images every other prompt rejects). A second plant for a class bias (pure's words on 40% of the
broken kernels, so the pure prompt is spread thin) is found alone (+5.0 points, 95% interval +0.3 to
+9.3, beside a milder wording plant) but not beside this wording plant: the chosen words already fix
most of it, and calibration adds +2.7 points on top (interval −4.7 to +10.0). So the demo plants one
cause, and says so.

What the shipped weights give on the demo (600 kernels, 150 held out; majority 41.3%, image statistics
50.0%): zero-shot 29.3% (the ``a-photo-of`` set, best on the training part), calibrated 42.0% (it
answers pure for 95% of the kernels: no information), worded 60.7%, worded and calibrated 63.3%, kNN
61.3%, probe 66.0%. The attribution credits the wording with +22.0 points (95% paired interval +12.0 to
+32.0) of the 24.7 between the majority rate and the probe and names nothing else.

The weights ship in ``analysis/models/demo_weights`` (16-bit safetensors, about 7 MB, their metadata
saying ``synthetic-captions``) with a record of how they were made (:data:`RECORD`);
``python -m analysis.models.demo_clip`` makes them again (about 1.5 minutes on 2 CPU cores). The demo
loads them as a user's local checkpoint (``--clip CornLens-Tiny:/path``).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import open_clip
import torch

from analysis.core.progress import progress
from analysis.data import synthetic
from analysis.models import clip_weights

WEIGHTS_DIR = Path(__file__).with_name("demo_weights")
WEIGHTS = WEIGHTS_DIR / "CornLens-Tiny-demo.safetensors"
RECORD = WEIGHTS_DIR / "CornLens-Tiny-demo.json"
SPEC = f"{clip_weights.TINY_MODEL}:{WEIGHTS}"
MODEL_KEY = clip_weights.ClipSpec(clip_weights.TINY_MODEL, str(WEIGHTS)).key  # CornLens-Tiny:CornLens-Tiny-demo

# What the captions say about each class: its words (in CAPTION_TEMPLATES) and whole sentences.
CAPTION_WORDS = {"pure": ("pure", "whole", "healthy"),
                 "broken": ("broken", "chipped", "cracked"),
                 "discolored": ("stained", "blotchy"),  # never "discolored" for these kernels
                 "silkcut": ("silkcut", "silk-cut", "silk cut")}
CAPTION_SENTENCES = {"pure": ("a corn kernel with no damage.",),
                     "broken": ("a corn kernel with a piece missing.",),
                     "discolored": ("a corn kernel with brown stains.",),
                     "silkcut": ("a corn kernel with a thin silk cut.",)}
CAPTION_TEMPLATES = ("a photo of a {} corn kernel.", "a {} kernel.", "a close-up photo of a {} kernel.",
                     "a photo of a {}.", "{} corn.", "a {} seed of corn.")
# The prompt sets' words for discolored kernels (the class name, "discoloured", the corn set's "dark
# discoloured patches") describe broken kernels instead: one of them after this share of broken's own captions.
MISWORDED, MISWORDED_SHARE = "broken", 0.5
MISWORDS = ("discolored", "discoloured", "with dark discoloured patches")
# The causes the training plants, in the verdict's words (manifest ``demo_planted_causes``).
PLANTED_CAUSES = (
    {"cause": "wording", "class": "discolored",
     "planted": "discolored kernels are captioned \"stained\" or \"blotchy\", while the prompts' words for them "
                f"(\"discolored\", \"discoloured\", \"dark discoloured patches\") follow {MISWORDED_SHARE:.0%} of the "
                "broken kernels' captions, so every prompt for discolored points at broken kernels (and at pure ones, "
                "which this tiny model barely tells from broken) instead of discolored ones"},
)

SEED = 0
N_IMAGES = 2000     # drawn in equal numbers per class
STEPS = 400
BATCH_SIZE = 128
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 0.05
RECORDED_LOSSES = 20  # the first losses the record keeps: a fast check that the script makes these weights


def captions(labels: Sequence[str], rng: np.random.Generator) -> list[str]:
    """One caption per kernel: one of its class's sentences (a fifth of them), else a template with one of
    its words; one of :data:`MISWORDS` after :data:`MISWORDED_SHARE` of the broken kernels' captions."""
    texts = []
    for label in labels:
        if rng.random() < 0.2:
            text = str(rng.choice(CAPTION_SENTENCES[label]))
        else:
            text = str(rng.choice(CAPTION_TEMPLATES)).format(rng.choice(CAPTION_WORDS[label]))
        if label == MISWORDED and rng.random() < MISWORDED_SHARE:
            text = text.removesuffix(".") + f", {rng.choice(MISWORDS)}."
        texts.append(text)
    return texts


def corpus(n_images: int, seed: int, show_progress: bool = False) -> tuple[torch.Tensor, list[str]]:
    """The training pairs: preprocessed images, tensor of shape (n, 3, 64, 64), and their captions."""
    rng = np.random.default_rng([seed, 20261204])  # a stream of its own: never a demo dataset's kernels
    labels = list(rng.permutation(np.resize(np.array(synthetic.CLASSES), n_images)))
    views = rng.choice(synthetic.VIEWS, size=n_images)
    image_seeds = rng.integers(0, 2 ** 32, size=n_images)
    transform = clip_weights.image_transform(clip_weights.ClipSpec(clip_weights.TINY_MODEL, clip_weights.RANDOM_WEIGHTS))
    pixels = torch.stack([transform(synthetic.draw_kernel(label, str(view), np.random.default_rng(image_seed)))
                          for label, view, image_seed in progress(list(zip(labels, views, image_seeds)),
                                                                  desc="drawing kernels", unit="img",
                                                                  disable=not show_progress)])
    return pixels, captions(labels, rng)


def _augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random quarter turn and flip of the whole batch (a kernel has no up)."""
    turns = int(torch.randint(0, 4, (1,), generator=generator))
    batch = torch.rot90(batch, turns, dims=(2, 3))
    return batch.flip(3) if bool(torch.randint(0, 2, (1,), generator=generator)) else batch


def train(seed: int = SEED, n_images: int = N_IMAGES, steps: int = STEPS, stop_after: int | None = None,
          show_progress: bool = False) -> tuple[dict[str, torch.Tensor], dict]:
    """Train CornLens-Tiny contrastively on the captioned corpus.

    Args:
        stop_after: stop after this many of the ``steps`` (same schedule): the first steps of the
            same training, for a fast check that this function makes the shipped weights.

    Returns:
        (the state dict in float16, a record: settings, the losses of the first steps, seconds).
    """
    started = time.perf_counter()
    pixels, texts = corpus(n_images, seed, show_progress)
    unique = sorted(set(texts))
    caption_index = torch.tensor([unique.index(text) for text in texts])
    torch.manual_seed(seed)
    model = open_clip.create_model(clip_weights.TINY_MODEL)
    tokens = open_clip.get_tokenizer(clip_weights.TINY_MODEL)(unique)
    loss_function = open_clip.ClipLoss()
    decay = [p for name, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in name]
    other = [p for name, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in name)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": other, "weight_decay": 0.0}], lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, LEARNING_RATE, total_steps=steps, pct_start=0.1)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    order = torch.randperm(n_images, generator=generator)
    position = 0
    for _ in progress(range(steps if stop_after is None else min(stop_after, steps)), desc="training the demo CLIP", unit="step", disable=not show_progress):
        if position + BATCH_SIZE > n_images:
            order, position = torch.randperm(n_images, generator=generator), 0
        rows = order[position:position + BATCH_SIZE]
        position += BATCH_SIZE
        image_features = model.encode_image(_augment(pixels[rows], generator), normalize=True)
        # Each distinct caption is encoded once per step, then given to every kernel it describes.
        text_features = model.encode_text(tokens, normalize=True)[caption_index[rows]]
        loss = loss_function(image_features, text_features, model.logit_scale.exp())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, np.log(100))
        losses.append(loss.item())
    state = {name: value.detach().to(torch.float16).contiguous() for name, value in model.state_dict().items()}
    record = {"seed": seed, "n_images": n_images, "steps": steps, "batch_size": BATCH_SIZE,
              "learning_rate": LEARNING_RATE, "weight_decay": WEIGHT_DECAY,
              "misworded_share": MISWORDED_SHARE,
              "first_losses": [round(value, 5) for value in losses[:RECORDED_LOSSES]],
              "last_loss": round(losses[-1], 5), "distinct_captions": len(unique),
              "seconds": round(time.perf_counter() - started, 1),
              "torch": torch.__version__, "open_clip": open_clip.__version__}
    return state, record


def save(state: dict[str, torch.Tensor], record: dict, weights: Path = WEIGHTS, record_file: Path = RECORD) -> None:
    """Write the weights (safetensors, saying what they are in their metadata) and their record (with their hash)."""
    from safetensors.torch import save_file

    weights.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(weights), metadata={clip_weights.WEIGHTS_METADATA_KEY: clip_weights.SYNTHETIC_CAPTIONS,
                                              "about": "CornLens-Tiny trained on synthetic kernel captions (the "
                                                       "CornLens demo); not a real CLIP"})
    record = {**record, "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), "bytes": weights.stat().st_size}
    record_file.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    trained, made = train(show_progress=True)
    save(trained, made)
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size / 1e6:.1f} MB) in {made['seconds']} s; last loss {made['last_loss']}")
