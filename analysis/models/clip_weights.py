"""CLIP models by name: the ``MODEL:PRETRAINED`` spec, its preprocessing, where its weights are, loading it.

A CLIP model is named by a spec, ``MODEL:PRETRAINED``: an open_clip architecture and either a
pretrained tag (``ViT-B-32-quickgelu:laion400m_e32``), a local checkpoint file
(``ViT-B-32:/models/vit-b-32.safetensors``, for machines without internet) or ``random`` (random
weights, seeded: the demo and the tests). ``CornLens-Tiny`` is a tiny registered architecture
(``analysis/models/model_configs``) that keeps the demo and the tests fast through the same code path.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

import open_clip
import torch
from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_dict

from analysis.core import weights as core_weights
from analysis.core.weights import RANDOM_WEIGHTS
from analysis.models.devices import ModelError
from analysis.models.hub import download_problems

CONFIG_DIR = Path(__file__).with_name("model_configs")
TINY_MODEL = "CornLens-Tiny"
# open_clip's own precision modes for weights cast to 16 bits. "bf16" casts the linear, convolution
# and attention weights and keeps LayerNorm, embeddings and the logit scale in fp32; "pure_bf16"
# casts everything, ~10% faster here at the same embedding parity, but rounds the learned
# temperature by up to 1.5% (zero-shot probabilities and calibration): benchmarks/bench_precision.py.
OPEN_CLIP_PRECISION = {"bf16": "bf16", "fp16": "fp16"}


def register_model_configs() -> None:
    """Make the architectures in ``analysis/models/model_configs`` (``CornLens-Tiny``) known to open_clip."""
    if TINY_MODEL not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_DIR)


register_model_configs()


# --- naming models --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipSpec:
    """What ``--clip`` names: an open_clip architecture and where its weights come from.

    ``pretrained`` is a pretrained tag, a checkpoint path, or ``random``.
    """

    model: str
    pretrained: str

    @property
    def checkpoint(self) -> Path | None:
        """The local checkpoint file, when the weights come from one."""
        if self.pretrained == RANDOM_WEIGHTS or open_clip.get_pretrained_cfg(self.model, self.pretrained):
            return None
        return Path(self.pretrained).expanduser()

    @property
    def key(self) -> str:
        """The model key of the bundle: ``model:tag`` or ``model:checkpoint stem``."""
        checkpoint = self.checkpoint
        return f"{self.model}:{checkpoint.stem if checkpoint else self.pretrained}"


def parse_spec(text: str) -> ClipSpec:
    """Parse ``MODEL:PRETRAINED`` (a tag, a checkpoint path or ``random``) and check that it can exist.

    Raises:
        ModelError: unknown architecture, unknown tag, or a checkpoint file that is missing.
    """
    if text.startswith(("hf-hub:", "local-dir:")):
        raise ModelError(f"--clip {text!r}: hub repositories and folders are not taken directly; download the "
                         "repository's open_clip_pytorch_model.bin (or .safetensors) and pass "
                         "--clip ARCHITECTURE:/path/to/that/file, ARCHITECTURE as in its open_clip_config.json.")
    model, separator, pretrained = text.strip().partition(":")
    if not separator or not model or not pretrained:
        raise ModelError(f"--clip {text!r}: expected MODEL:PRETRAINED, e.g. ViT-B-32-quickgelu:laion400m_e32, "
                         f"MODEL:/path/to/checkpoint.pt for a local file, or MODEL:{RANDOM_WEIGHTS} for random "
                         "weights. `python -c \"import open_clip; print(open_clip.list_pretrained())\"` lists pairs.")
    if model not in open_clip.list_models():
        close = difflib.get_close_matches(model, open_clip.list_models(), n=3)
        raise ModelError(f"--clip {text!r}: open_clip has no architecture {model!r}"
                         + (f"; did you mean {', '.join(close)}?" if close else "."))
    spec = ClipSpec(model, pretrained)
    checkpoint = spec.checkpoint
    if checkpoint is not None and not checkpoint.is_file():
        tags = open_clip.list_pretrained_tags_by_model(model)
        raise ModelError(f"--clip {text!r}: {pretrained!r} is neither a pretrained tag of {model} "
                         f"({', '.join(tags) or 'it has none'}) nor an existing checkpoint file.")
    return spec


# --- weights and preprocessing --------------------------------------------------------------------

def preprocess_config(spec: ClipSpec) -> dict:
    """The inference preprocessing open_clip uses for this model and weights, without loading them.

    Defaults, overridden by the pretrained tag's own (mean, std, interpolation, resize mode), sized
    to the architecture's input — the same merge as ``open_clip.create_model``.
    """
    config = asdict(PreprocessCfg())
    tag = open_clip.get_pretrained_cfg(spec.model, spec.pretrained)
    if tag:
        config = merge_preprocess_dict(config, tag)
    size = open_clip.get_model_config(spec.model)["vision_cfg"].get("image_size", config["size"])
    config["size"] = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}


def image_transform(spec: ClipSpec):
    """The torchvision transform of :func:`preprocess_config` (PIL image → normalised tensor)."""
    config = {key: tuple(value) if isinstance(value, list) else value
              for key, value in preprocess_config(spec).items()}
    return image_transform_v2(PreprocessCfg(**config), is_train=False)


def weights_identity(spec: ClipSpec, seed: int = 0) -> dict:
    """What identifies the weights in the cache key: the tag, the checkpoint file, or the seed."""
    checkpoint = spec.checkpoint
    if checkpoint is not None:
        stat = checkpoint.resolve().stat()
        return {"checkpoint": str(checkpoint.resolve()), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if spec.pretrained == RANDOM_WEIGHTS:
        return {"random_seed": seed, "open_clip": open_clip.__version__, "torch": torch.__version__}
    return {"tag": spec.pretrained}


# What the weights are, recorded beside ``pretrained`` (field ``weights``) in the words of
# analysis.core.weights (``random``, ``synthetic-captions``; ``pretrained`` and ``checkpoint`` read as pretrained).
SYNTHETIC_CAPTIONS = core_weights.SYNTHETIC_CAPTIONS
WEIGHTS_METADATA_KEY = "cornlens_weights"  # a safetensors metadata entry: SYNTHETIC_CAPTIONS for the demo's


def weights_kind(spec: ClipSpec) -> str:
    """What the weights are, plainly: ``pretrained`` (a tag), ``checkpoint`` (a local file), ``random``, or
    ``synthetic-captions`` (a checkpoint whose safetensors metadata says it was trained on synthetic
    kernels and their captions: the demo's, :mod:`analysis.models.demo_clip`)."""
    if spec.pretrained == RANDOM_WEIGHTS:
        return RANDOM_WEIGHTS
    checkpoint = spec.checkpoint
    if checkpoint is None:
        return "pretrained"
    if checkpoint.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(checkpoint), "pt") as opened:
                said = (opened.metadata() or {}).get(WEIGHTS_METADATA_KEY)
        except (OSError, SafetensorError):  # not readable as safetensors: loading says why
            said = None
        if said == SYNTHETIC_CAPTIONS:
            return SYNTHETIC_CAPTIONS
    return "checkpoint"


def _hub_files(spec: ClipSpec) -> tuple[str, list[str]] | None:
    """(repo id, candidate file names) of a tag's weights on the Hugging Face hub, if it has them there."""
    hub = open_clip.get_pretrained_cfg(spec.model, spec.pretrained).get("hf_hub", "")
    if not hub:
        return None
    repo_id, filename = os.path.split(hub)  # "org/repo/" names the repo's default file
    filename = filename or open_clip.pretrained.HF_WEIGHTS_NAME
    safe = getattr(open_clip.pretrained, "_get_safe_alternatives", lambda name: [])
    return repo_id, [*safe(filename), filename]


def cached_weights(spec: ClipSpec) -> Path | None:
    """The tag's weights file when it is already downloaded (hub cache or open_clip's URL cache)."""
    from huggingface_hub import try_to_load_from_cache

    hub = _hub_files(spec)
    if hub is not None:
        repo_id, names = hub
        for name in names:
            found = try_to_load_from_cache(repo_id, name)
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
    url = open_clip.get_pretrained_cfg(spec.model, spec.pretrained).get("url", "")
    if url:
        target = Path("~/.cache/clip").expanduser() / os.path.basename(url)
        if target.is_file():
            return target
    return None


def _unreachable_message(spec: ClipSpec, why: str) -> str:
    hub = _hub_files(spec)
    where = f"https://huggingface.co/{hub[0]} ({' or '.join(hub[1])})" if hub else \
        open_clip.get_pretrained_cfg(spec.model, spec.pretrained).get("url", "the open_clip release page")
    return (f"cannot load CLIP weights {spec.model}:{spec.pretrained}: {why}, and they are not in the local "
            f"cache. Without internet, download the checkpoint on another machine from {where}, copy it "
            f"here and pass it as --clip {spec.model}:/path/to/checkpoint (a .bin, .pt or .safetensors file).")


def locate_weights(spec: ClipSpec) -> str | None:
    """The ``pretrained`` argument for open_clip: a local file when one exists, else the tag to download.

    Fails at once (no minute of retries) when the weights would have to come from a hub that is
    switched off (``HF_HUB_OFFLINE``) or cannot be reached.

    Raises:
        ModelError: the weights are not here and cannot be downloaded.
    """
    if spec.pretrained == RANDOM_WEIGHTS:
        return None
    if spec.checkpoint is not None:
        return str(spec.checkpoint)
    found = cached_weights(spec)
    if found is not None:
        return str(found)  # a file path: open_clip then makes no network call at all
    from huggingface_hub import constants, hf_hub_url

    hub = _hub_files(spec)
    if hub is not None:
        if constants.HF_HUB_OFFLINE:
            raise ModelError(_unreachable_message(spec, "the Hugging Face hub is switched off (HF_HUB_OFFLINE=1)"))
        urls = [hf_hub_url(hub[0], name) for name in hub[1]]
    else:
        urls = [open_clip.get_pretrained_cfg(spec.model, spec.pretrained)["url"]]
    problems = download_problems(urls)
    if None in problems:
        return spec.pretrained  # open_clip downloads the first file that exists
    raise ModelError(_unreachable_message(spec, problems[0]))


@contextlib.contextmanager
def _logging_disabled(level: int) -> Iterator[None]:
    previous = logging.root.manager.disable
    logging.disable(max(level, previous))
    try:
        yield
    finally:
        logging.disable(previous)


def load_model(spec: ClipSpec, device: torch.device, seed: int = 0,
               precision: str = "fp32") -> tuple[torch.nn.Module, Any]:
    """The open_clip model (eval mode, on ``device``, at a precision resolved by
    :func:`analysis.models.devices.resolve_precision`) and its tokenizer.

    Random weights are seeded, so ``MODEL:random`` is the same model in every run.

    Raises:
        ModelError: the weights or the tokenizer cannot be found, downloaded or read.
    """
    pretrained = locate_weights(spec)
    tag = open_clip.get_pretrained_cfg(spec.model, spec.pretrained)
    # open_clip only warns when a tag was trained with QuickGELU and the architecture lacks it
    # (ViT-B-32:openai): follow the weights, or the features are quietly wrong.
    quick_gelu = bool(tag.get("quick_gelu")) and not open_clip.get_model_config(spec.model).get("quick_gelu")
    # open_clip logs every step on the root logger; keep its warnings, except the expected one
    # ("initialized randomly") when random weights were asked for.
    quiet = logging.WARNING if spec.pretrained == RANDOM_WEIGHTS else logging.INFO
    try:
        with torch.random.fork_rng(devices=[]), _logging_disabled(quiet):
            torch.manual_seed(seed)
            model = open_clip.create_model(spec.model, pretrained=pretrained, device=device,
                                           precision=OPEN_CLIP_PRECISION.get(precision, "fp32"),
                                           force_quick_gelu=quick_gelu, pretrained_text=False)
        with _logging_disabled(logging.INFO):
            tokenizer = open_clip.get_tokenizer(spec.model)
    except ModelError:
        raise
    except Exception as error:  # open_clip raises RuntimeError, OSError, hub errors, KeyError for bad files
        raise ModelError(f"cannot load CLIP model {spec.model}:{spec.pretrained} ({type(error).__name__}: "
                         f"{error}). For a local checkpoint, pass --clip {spec.model}:/path/to/checkpoint; "
                         "it must match the architecture.") from error
    model.eval()
    return model, tokenizer
