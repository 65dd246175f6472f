"""Everything `python -m analysis run` can be told, checked when it is made (before any image is read).

Light on purpose (standard library only): the command line imports it for every command.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar


def held_out_folds(eval_fraction: float) -> int:
    """The held-out part is one of this many grouped folds (``round(1 / eval_fraction)``).

    Raises:
        ValueError: a fraction outside (0, 1), or one above 2/3 that leaves nothing to train on.
    """
    if not 0 < eval_fraction < 1:
        raise ValueError(f"the share of labelled images held out must be between 0 and 1 (exclusive), "
                         f"e.g. 0.2; got {eval_fraction}")
    folds = round(1 / eval_fraction)
    if folds < 2:
        raise ValueError(f"holding out {eval_fraction:.0%} of the images leaves too little to train on; "
                         "give at most 0.5")
    return folds


def used_eval_fraction(eval_fraction: float) -> float:
    """The share actually held out for a requested ``eval_fraction``: 1 / :func:`held_out_folds`
    (0.4 → 0.5, 0.3 → 0.333…), since the held-out part is one grouped, stratified fold."""
    return 1 / held_out_folds(eval_fraction)


class OptionsError(ValueError):
    """An option value that cannot work; raised before any image is read. The message names the option."""


@dataclass
class RunOptions:
    """Everything `run` can be told (one field per command-line option). Each stage reads its own
    typed subset through :func:`stage_options`; the fields are checked when the options are made."""

    data: Path
    out: Path
    seed: int = 0
    eval_fraction: float = 0.2
    folds: int = 5
    classes: list[str] | None = None
    thumbnail_size: int = 160  # gallery thumbnails: longer side in px (smaller images keep their size)
    workers: int = 4
    demo: bool = False
    force: bool = False
    show_progress: bool = True
    baselines: bool = True
    clip: list[str] = field(default_factory=list)       # "MODEL:PRETRAINED" or "MODEL:/path/to/checkpoint"
    prompts: list[Path] = field(default_factory=list)   # user prompt-set JSON files
    wordings: list[Path] = field(default_factory=list)  # user wordings JSON files (class → phrases), the ladder
    device: str = "auto"
    precision: str = "auto"                             # auto, fp32, bf16, fp16: CLIP extraction, ConvNeXt inference
    batch_size: int = 64
    cache_dir: Path | None = None                       # CLIP embedding cache (default $CORNLENS_CACHE or ~/.cache/cornlens)
    convnext: list[str] = field(default_factory=list)   # timm names, e.g. convnext_tiny, NAME:scratch, NAME:/path/to/weights
    epochs: int = 10
    image_size: int = 224
    tta: bool = False                                   # ConvNeXt test-time augmentation (8 flips/rotations)
    ray: str | None = None          # --ray [ADDRESS]: extraction and inference on a Ray cluster ("local", "auto", HOST:PORT)
    ray_actors: int | None = None   # model replicas on the cluster (default: from its GPUs, else its CPUs)
    ray_gpus: float | None = None   # GPUs per replica (default 1; 0.5 puts two on a GPU)

    def __post_init__(self) -> None:
        try:
            held_out_folds(self.eval_fraction)
        except ValueError as error:
            raise OptionsError(f"--eval-fraction {self.eval_fraction}: {error}") from error
        if self.folds < 2:
            raise OptionsError(f"--folds {self.folds}: cross-validation needs at least 2 folds.")
        for name in ("workers", "batch_size", "thumbnail_size", "ray_actors"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise OptionsError(f"--{name.replace('_', '-')} {getattr(self, name)}: give at least 1.")
        if self.ray_gpus is not None and not 0 < self.ray_gpus:
            raise OptionsError(f"--ray-gpus {self.ray_gpus}: give a share of a GPU above 0 (e.g. 0.5 or 1).")


O = TypeVar("O")


@dataclass(frozen=True)
class NoOptions:
    """The options of a stage that reads only the bundle."""


def stage_options(options_type: type[O], options: RunOptions) -> O:
    """The typed options of one stage, taken by field name from the run's options."""
    return options_type(**{item.name: getattr(options, item.name) for item in dataclasses.fields(options_type)})
