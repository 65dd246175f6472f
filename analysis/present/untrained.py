"""What a reading says when a model's weights were not learnt (random weights: the demo, the tests,
machines without weights; :func:`analysis.core.weights.learnt` is false): the mechanics, never a
cause about CLIP, its tokenizer or language. Each function stands in for the reading of the same
figure in :mod:`analysis.present.explain` or :mod:`analysis.present.ladder_panels`."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from analysis.core import numbers


def read_modality_gap(overall: float, cosine: dict[str, float]) -> str:
    """The gap between two random towers: nearly orthogonal embeddings."""
    spread = (f"; cosines between a class's images and its prompt {min(cosine.values()):.2f} to "
              f"{max(cosine.values()):.2f}" if cosine else "")
    return (f"With random weights, prompts and images are nearly orthogonal (overall gap {overall:.2f}{spread}): two "
            "random towers place unrelated vectors apart, so this gap says nothing about CLIP, and differences "
            "between the classes here are chance.")


def read_similarity(text_pairs: np.ndarray, image_pairs: np.ndarray) -> str:
    """Prompt–prompt and centroid–centroid cosines of random towers (the upper triangles)."""
    return (f"With random weights every prompt embedding is a random direction: the prompts' cosines to each other "
            f"range from {text_pairs.min():.2f} to {text_pairs.max():.2f} and the image class centroids' from "
            f"{image_pairs.min():.2f} to {image_pairs.max():.2f}. Which pair is closest is chance here, not a sign "
            "of what the words or the images mean.")


def read_templates(low: float, high: float) -> str:
    return (f"Single templates range from {numbers.short_percent(low)} to {numbers.short_percent(high)}: with random weights each template is another "
            "random direction, so this spread is chance, not better or worse wording.")


def read_alignment(cosines: Sequence[float]) -> str:
    """The alignment table of random towers: the cosines' range, no cause about words or tokens."""
    spread = f": cosines from {min(cosines):.2f} to {max(cosines):.2f}" if cosines else ""
    return (f"With random weights, prompts and images are nearly orthogonal{spread}. Which class's images a prompt "
            "is closest to is chance at this scale, not a property of its words, and how the tokenizer splits a "
            "name cannot matter to a text tower that learnt nothing.")
