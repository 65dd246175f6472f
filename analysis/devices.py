"""Devices and numeric precision: where a model runs and in which float format.

``--device auto`` picks cuda, then mps, then cpu. :func:`precision_for` is the precision the
models run at on a device; :func:`autocast` applies it around a forward pass.
"""

from __future__ import annotations

import contextlib

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


class ModelError(Exception):
    """A model cannot be loaded or run; the message names the model and says what to do."""


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks cuda, then mps, then cpu; an explicit device that is absent is an error."""
    if name not in DEVICES:
        raise ModelError(f"--device {name!r}: choose one of {', '.join(DEVICES)}.")
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: no CUDA device is visible to torch; use --device cpu (or auto).")
    if name == "mps" and not has_mps:
        raise ModelError("--device mps: Apple's Metal backend is not available here; use --device cpu (or auto).")
    return torch.device(name)


def precision_for(device: torch.device) -> str:
    """Mixed precision on CUDA (bfloat16 where supported), full precision elsewhere."""
    if device.type == "cuda":
        return "amp_bfloat16" if torch.cuda.is_bf16_supported() else "amp_float16"
    return "fp32"


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    if precision.startswith("amp_"):
        return torch.autocast(device.type, dtype=getattr(torch, precision.removeprefix("amp_")))
    return contextlib.nullcontext()
