"""Devices and numeric precision: where a model runs and in which float format.

``--device auto`` picks cuda, then mps, then cpu. ``--precision`` (:data:`PRECISIONS`) is resolved
per device by :func:`resolve_precision` into what the model really runs at: ``fp32``; ``bf16`` or
``fp16`` (the weights cast, for inference); ``amp_bfloat16`` or ``amp_float16`` (fp32 weights under
:func:`autocast`, CUDA). ``auto`` means bfloat16 weights on a CPU that computes in bfloat16 natively
(AVX512-BF16 or AMX), autocast on CUDA and fp32 elsewhere. Training uses :func:`precision_for`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from pathlib import Path

import torch

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CPUINFO = Path("/proc/cpuinfo")
NATIVE_FLAGS = {"bf16": ("avx512_bf16", "amx_bf16"), "fp16": ("avx512_fp16", "amx_fp16")}


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


AUTOCAST_DTYPES = {"amp_bfloat16": torch.bfloat16, "amp_float16": torch.float16,
                   "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """``torch.autocast`` at a resolved precision's 16-bit dtype (nothing at ``fp32``).

    Under ``amp_*`` the fp32 weights are cast per operation. Under ``bf16``/``fp16`` the weights are
    already 16-bit and autocast lets a float32 activation meet them in a matmul, so a model can keep
    its running sums in float32: the ViT image tower does (:func:`analysis.models.embed.encode_batch`).
    """
    dtype = AUTOCAST_DTYPES.get(precision)
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def cpu_flags() -> set[str] | None:
    """The CPU's feature flags (``/proc/cpuinfo``), or None where that file cannot be read (not Linux)."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return None
    return {flag for line in text.splitlines() if line.startswith("flags") for flag in line.partition(":")[2].split()}


def cpu_computes_natively(precision: str) -> bool:
    """True when this CPU has instructions for ``bf16`` or ``fp16`` arithmetic (AVX512/AMX): the kernel's
    flags on Linux, torch's own capability checks elsewhere."""
    flags = cpu_flags()
    if flags is not None:
        return any(flag in flags for flag in NATIVE_FLAGS[precision])
    checks = {"bf16": ("_is_avx512_bf16_supported", "_is_amx_tile_supported"), "fp16": ("_is_amx_fp16_supported",)}
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks[precision])


@functools.cache
def warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time only (one warning per process, not one per model)."""
    log.warning(message)


def resolve_precision(requested: str, device: torch.device) -> str:
    """What a model runs at on ``device`` for ``--precision requested`` (see the module docstring).

    A low precision the device cannot compute in natively falls back to ``fp32`` with one warning.

    Raises:
        ModelError: ``requested`` is not one of :data:`PRECISIONS`.
    """
    if requested not in PRECISIONS:
        raise ModelError(f"--precision {requested!r}: choose one of {', '.join(PRECISIONS)}.")
    if requested == "fp32":
        return "fp32"
    if device.type == "cuda":
        if requested == "auto":
            return precision_for(device)
        if requested == "bf16" and not torch.cuda.is_bf16_supported():
            warn_once("--precision bf16: this GPU has no bfloat16; running in fp32 instead.")
            return "fp32"
        return requested
    if device.type != "cpu":
        return "fp32" if requested == "auto" else requested
    if cpu_computes_natively("bf16" if requested == "auto" else requested):
        return "bf16" if requested == "auto" else requested
    if requested != "auto":
        warn_once(f"--precision {requested}: this CPU has no native {requested} instructions "
                  f"({' or '.join(NATIVE_FLAGS[requested])}); running in fp32 instead.")
    return "fp32"


def weights_dtype(precision: str) -> torch.dtype:
    """The dtype of the weights, and so of the inputs, at a resolved precision (float32 under autocast)."""
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
