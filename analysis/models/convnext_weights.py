"""Which ConvNeXt and which starting weights: ``--convnext`` parsed, ImageNet weights found or
explained, a local checkpoint, or training from scratch (said plainly)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from analysis.models import devices, hub

log = logging.getLogger("analysis.stages.finetune")  # the messages belong to fine-tuning

WEIGHT_SOURCES = ("imagenet", "checkpoint", "scratch")
HUB_FILES = ("model.safetensors", "pytorch_model.bin")


class ModelError(devices.ModelError):
    """A ConvNeXt cannot be built as asked; the message says why and what to do."""


# --- which model, which weights -------------------------------------------------------------------

@dataclass(frozen=True)
class ConvNextSpec:
    """``--convnext`` parsed: timm name and where the starting weights come from."""

    name: str
    weights: str = "auto"  # auto | imagenet | scratch | checkpoint
    checkpoint: Path | None = None


def parse_spec(text: str) -> ConvNextSpec:
    """``NAME``, ``NAME:imagenet``, ``NAME:scratch`` or ``NAME:/path/to/checkpoint``.

    Raises:
        ModelError: unknown timm name, or a checkpoint file that does not exist.
    """
    import timm

    name, _, weights = text.strip().partition(":")
    if not timm.is_model(name):
        close = timm.list_models(f"{name.split('.')[0].split('_')[0]}*")[:12]
        raise ModelError(f"--convnext {text!r}: timm has no model {name!r}"
                         + (f"; similar names: {', '.join(close)}." if close else "."))
    if weights in ("", "auto", "imagenet", "scratch"):
        return ConvNextSpec(name, weights or "auto")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ModelError(f"--convnext {text!r}: checkpoint file {path} does not exist (after the colon give "
                         "imagenet, scratch, or the path of a weights file).")
    return ConvNextSpec(name, "checkpoint", path.resolve())


def _hub_id(name: str) -> str | None:
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    return getattr(cfg, "hf_hub_id", None) if cfg is not None else None


def imagenet_weights_problem(name: str) -> str | None:
    """Why ImageNet weights for ``name`` cannot be had now, or None when they are cached or
    downloadable. A quick check: a cached file, ``HF_HUB_OFFLINE``, then one HEAD request."""
    from huggingface_hub import constants, hf_hub_url, try_to_load_from_cache

    hub_id = _hub_id(name)
    if not hub_id:
        return f"timm lists no pretrained weights for {name}"
    for filename in HUB_FILES:
        found = try_to_load_from_cache(hub_id, filename)
        if isinstance(found, str) and Path(found).is_file():
            return None
    if constants.HF_HUB_OFFLINE:
        return "the Hugging Face hub is switched off (HF_HUB_OFFLINE=1) and the weights are not cached"
    problems = hub.download_problems([hf_hub_url(hub_id, filename) for filename in HUB_FILES])
    return None if None in problems else problems[0]


def resolve_weights(spec: ConvNextSpec) -> tuple[str, str | None]:
    """``(source, detail)``: source in :data:`WEIGHT_SOURCES`; detail is the checkpoint path, the
    ImageNet tag, or why the model starts from scratch.

    Raises:
        ModelError: ``NAME:imagenet`` and the weights cannot be had.
    """
    if spec.weights == "checkpoint":
        return "checkpoint", str(spec.checkpoint)
    if spec.weights == "scratch":
        return "scratch", "asked for (NAME:scratch)"
    problem = imagenet_weights_problem(spec.name)
    if problem is None:
        from timm.models import get_pretrained_cfg
        return "imagenet", getattr(get_pretrained_cfg(spec.name), "tag", None) or "default"
    hub_id = _hub_id(spec.name) or spec.name
    advice = (f"download model.safetensors from https://huggingface.co/{hub_id} on a machine with internet and "
              f"pass --convnext {spec.name}:/path/to/model.safetensors")
    if spec.weights == "imagenet":
        raise ModelError(f"cannot load ImageNet weights for {spec.name}: {problem}. To train anyway, {advice}, "
                         f"or train from scratch with --convnext {spec.name}:scratch.")
    log.warning("%s: no ImageNet weights (%s); training from scratch, which is much weaker. To use them, %s.",
                spec.name, problem, advice)
    return "scratch", problem
