"""CLIP-like embeddings with one known cause of zero-shot failure planted on purpose.

Shared by tests/test_attribution.py and benchmarks/bench_attribution.py. The geometry of CLIP's
space, kept small: every image leans on one shared image direction, every text on another (the
modality gap), and each class has its own direction that its images carry and an aligned prompt
points at; noise makes the classes overlap a little. Each scenario breaks one thing:

- ``bias``: silkcut's prompt also leans on the images' shared direction, so every image is a
  little closer to it (zero-shot answers silkcut); paraphrases lean the same way;
- ``wording``: silkcut's name is an unknown word (its prompt points nowhere); a description among
  the candidates points at its images;
- ``wording-lookalike``: as ``wording``, but silkcut kernels look like pure ones plus a cut, so
  only the words can find them (calibration cannot by exclusion);
- ``alignment``: every prompt points somewhere unrelated; the images separate well;
- ``features``: the images do not separate the classes (no class direction at all);
- ``shortcut``: the label lives only in a trivial image statistic (think brightness), which the
  embeddings carry along one direction and the image-statistics table carries as a column;
- ``bias+wording``: broken's prompt leans on the shared direction, and silkcut's word is unknown
  while its kernels look like pure ones plus a cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = ("pure", "broken", "discolored", "silkcut")
CORN = (0.41, 0.32, 0.17, 0.10)
BALANCED = (0.25, 0.25, 0.25, 0.25)
PLANTED = {"bias": {"bias"}, "wording": {"wording"}, "wording-lookalike": {"wording"}, "alignment": {"alignment"},
           "features": {"features"}, "shortcut": {"features"}, "bias+wording": {"bias", "wording"}}
NOISE = 3.0        # image noise norm against class directions of norm 1: the classes overlap a little
SHARED_IMAGE = 0.5  # every image's cosine with the shared image direction
SHARED_TEXT = 1.5   # every text's lean on the shared text direction
LEAN = 1.2          # how far a biased prompt leans on the shared image direction
SHORTCUT_STEP = 1.0  # how far apart the classes sit along the trivial statistic


@dataclass
class Planted:
    """One scenario's embeddings and everything ``attribute_failure`` takes."""

    images: np.ndarray
    labels: np.ndarray
    is_train: np.ndarray
    is_eval: np.ndarray
    folds: np.ndarray
    classes: list[str]
    prompt_sets: dict[str, np.ndarray]
    scale: float
    wordings: list[list[tuple[str, np.ndarray]]]
    image_stats: np.ndarray
    causes: set[str]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def planted(scenario: str, n: int = 1200, shares: tuple[float, ...] = CORN, seed: int = 0, dim: int = 64) -> Planted:
    """Embeddings with the cause named by ``scenario`` planted (see the module docstring)."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.normal(size=(dim, 16)))[0].T  # 16 orthonormal directions
    shared_image, shared_text, centres, cut, statistic, elsewhere = \
        basis[0], basis[1], basis[2:6].copy(), basis[6], basis[7], basis[8:16]
    if scenario in ("wording-lookalike", "bias+wording"):
        centres[3] = _unit(centres[0] + 1.2 * cut)
    label_index = rng.choice(len(CLASSES), size=n, p=shares)
    signal = centres[label_index]
    if scenario == "features":
        signal = np.zeros_like(signal)
    level = np.array([-1.5, -0.5, 0.5, 1.5])[label_index]
    if scenario == "shortcut":
        signal = SHORTCUT_STEP * level[:, None] * statistic
    rest = signal + NOISE * rng.normal(size=(n, dim)) / np.sqrt(dim)
    rest = _unit(rest - np.outer(rest @ shared_image, shared_image))
    # Every image at the same cosine with the shared direction (as CLIP images nearly are), so a
    # prompt leaning on it moves every image's score for that class by the same amount: a pure bias.
    images = SHARED_IMAGE * shared_image + np.sqrt(1 - SHARED_IMAGE ** 2) * rest
    # The trivial statistic as a table column (the label only where it is the shortcut), as noisy as the
    # embeddings carry it; plus two columns of nothing.
    stats_noise = NOISE / np.sqrt(dim) / SHORTCUT_STEP
    carried = level if scenario == "shortcut" else np.zeros(n)
    # the statistic's noise as the embeddings carry it (their class signal against noise of norm NOISE)
    image_stats = np.column_stack([carried + stats_noise * rng.normal(size=n), rng.normal(size=(n, 2))])

    aimed = centres.copy()  # where each class's prompt points
    if scenario == "alignment":
        aimed = elsewhere[:4].copy()
    if scenario in ("wording", "wording-lookalike", "bias+wording"):
        aimed[3] = elsewhere[4]  # an unknown word
    prompts = SHARED_TEXT * shared_text + aimed
    leaning = {"bias": 3, "bias+wording": 1}.get(scenario)
    if leaning is not None:  # the lean replaces part of the text direction: the class direction keeps its weight
        prompts[leaning] = np.sqrt(SHARED_TEXT ** 2 - LEAN ** 2) * shared_text + aimed[leaning] + LEAN * shared_image
    prompts = _unit(prompts)

    def paraphrase(vector: np.ndarray) -> np.ndarray:
        """Other words for the same thing: they differ only in directions no image carries."""
        return _unit(vector + 0.3 * rng.normal(size=3) @ elsewhere[5:8])

    wordings = [[(f"{name}, said otherwise {k}", paraphrase(prompts[c])) for k in range(2)]
                for c, name in enumerate(CLASSES)]
    if scenario in ("wording", "wording-lookalike", "bias+wording"):
        wordings[3].append(("a kernel with a thin cut on its side",
                            _unit(SHARED_TEXT * shared_text + centres[3])))
    is_train = rng.random(n) < 0.7
    folds = np.where(is_train, rng.integers(0, 5, size=n), -1)
    return Planted(images.astype(np.float32), np.asarray(CLASSES, dtype=object)[label_index], is_train, ~is_train,
                   folds, list(CLASSES), {"planted": prompts}, 100.0, wordings, image_stats, PLANTED[scenario])
