"""Precision modes of open_clip and timm on this CPU: speed of the model alone and parity with fp32.

Random weights, random 224-px inputs, batches of pre-made tensors (no decoding). For each mode,
images per second and the cosine of each image's output to fp32's, plain and centred (after
subtracting fp32's mean over the images), min and mean over images:

- open_clip ``ViT-B-32-quickgelu``, the pooled features before the projection (what the probe
  reads): ``fp32``; ``autocast`` (fp32 weights under ``torch.autocast`` bfloat16); ``bf16 (bf16
  sums)`` (open_clip's ``precision="bf16"``: weights in bfloat16, LayerNorm kept fp32, the residual
  stream bfloat16); ``bf16 (CornLens)`` (the same weights, the residual stream in fp32 under
  autocast: ``analysis.models.embed.encode_batch``); ``pure_bf16`` (open_clip's ``precision="pure_bf16"``);
- timm ``convnext_tiny``: ``fp32``; ``autocast``; ``cast`` (``model.to(torch.bfloat16)``, what timm's
  own ``validate.py --model-dtype bfloat16`` does; timm has no precision argument of its own).

``--probe-parity`` also builds the demo's data and runs zero-shot and the linear probe with the
demo's CLIP model at ``--precision fp32`` and ``bf16`` (the CLI, baselines off): held-out accuracies
side by side (target: the probe within one point).

    python benchmarks/bench_precision.py [--images 64] [--batch-size 32] [--skip-convnext] [--probe-parity]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from analysis.models import devices  # noqa: E402


def measure(forward: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int,
            autocast: bool = False) -> tuple[float, torch.Tensor]:
    """(images per second, outputs as float32) of ``forward`` over ``images`` in batches, after one warm-up."""
    context = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if autocast else contextlib.nullcontext
    with torch.inference_mode(), context():
        forward(images[:batch_size])
        started = time.perf_counter()
        outputs = [forward(images[start:start + batch_size]).float() for start in range(0, len(images), batch_size)]
        seconds = time.perf_counter() - started
    return len(images) / seconds, torch.cat(outputs)


def report(name: str, speed: float, outputs: torch.Tensor, reference: torch.Tensor, base_speed: float) -> None:
    """Speed, and two parities with fp32: the cosine of each image's output, and the cosine after
    subtracting fp32's mean over the images ("centred"). Random towers give every image a large
    shared component, so the plain cosine stays near 1 even when the per-image differences — what a
    standardised probe sees — are rounded away; the centred cosine shows them."""
    cosine = F.cosine_similarity(outputs, reference, dim=1)
    mean = reference.mean(dim=0, keepdim=True)
    centred = F.cosine_similarity(outputs - mean, reference - mean, dim=1)
    print(f"  {name:<16} {speed:7.1f} img/s  {speed / base_speed:4.2f}×   cosine to fp32: "
          f"min {cosine.min().item():.6f}, mean {cosine.mean().item():.6f}; centred: "
          f"min {centred.min().item():.4f}, mean {centred.mean().item():.4f}", flush=True)


def open_clip_modes(images: torch.Tensor, batch_size: int) -> None:
    """The pooled features before the projection (what the probe reads), per precision mode."""
    import open_clip

    from analysis.models import embed

    print("open_clip ViT-B-32-quickgelu (random weights), pooled image features, model alone")
    modes = {  # name: (open_clip precision, input dtype, autocast, residual stream in fp32)
        "fp32": ("fp32", torch.float32, False, False),
        "autocast": ("fp32", torch.float32, True, False),
        "bf16 (bf16 sums)": ("bf16", torch.bfloat16, False, False),
        "bf16 (CornLens)": ("bf16", torch.bfloat16, True, True),
        "pure_bf16": ("pure_bf16", torch.bfloat16, False, False),
    }
    reference, base = None, 0.0
    for name, (precision, dtype, autocast, fp32_sums) in modes.items():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None, precision=precision).eval()
        visual = model.visual

        def forward(batch: torch.Tensor) -> torch.Tensor:
            if fp32_sums:  # analysis.models.embed.encode_batch under analysis.models.devices.autocast
                return embed.encode_batch(model, batch.to(dtype))[1]
            return visual._pool(visual.transformer(visual._embeds(batch.to(dtype))))[0]

        speed, outputs = measure(forward, images, batch_size, autocast=autocast)
        if reference is None:
            reference, base = outputs, speed
        report(name, speed, outputs, reference, base)


def timm_modes(images: torch.Tensor, batch_size: int) -> None:
    import timm

    print("timm convnext_tiny (random weights), penultimate features, model alone")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = timm.create_model("convnext_tiny", pretrained=False, num_classes=4).eval()

    def features(batch: torch.Tensor) -> torch.Tensor:
        return model.forward_head(model.forward_features(batch), pre_logits=True)

    reference, base = None, 0.0
    for mode in ("fp32", "autocast", "cast"):
        dtype = torch.bfloat16 if mode == "cast" else torch.float32
        model.to(dtype)
        speed, outputs = measure(lambda batch: features(batch.to(dtype)), images, batch_size,
                                 autocast=mode == "autocast")
        if reference is None:
            reference, base = outputs, speed
        report(mode, speed, outputs, reference, base)


def probe_parity() -> None:
    import tempfile

    from analysis.core import bundle
    from analysis.cli import commands, demo
    from analysis.data import synthetic

    model = demo.DEMO_OPTIONS["clip"][0]
    print(f"demo data (600 + 150 synthetic images), {model}: held-out accuracy at fp32 and bf16")
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as temporary:
        folder = Path(temporary)
        synthetic.write_dataset(folder / "data", 600, 150, 0, show_progress=False)
        accuracy = {}
        for precision in ("fp32", "bf16"):
            out = folder / precision
            commands.main(["run", "--data", str(folder / "data"), "--out", str(out), "--clip", model, "--no-baselines",
                      "--eval-fraction", str(demo.DEMO_OPTIONS["eval_fraction"]), "--folds",
                      str(demo.DEMO_OPTIONS["folds"]), "--precision", precision, "--cache-dir",
                      str(folder / "cache"), "-q"])
            accuracy[precision] = {record["id"]: (record["metrics"]["accuracy"], chosen(record))
                                   for record in bundle.open_bundle(out).approaches}
    for approach, (fp32, fp32_choice) in accuracy["fp32"].items():
        bf16, bf16_choice = accuracy["bf16"].get(approach, (float("nan"), ""))
        print(f"  {approach:<40} fp32 {fp32:.3f}  bf16 {bf16:.3f}  difference {100 * (bf16 - fp32):+.1f} points"
              + (f"  (chosen on the training part: {fp32_choice} / {bf16_choice})" if fp32_choice else ""))


def chosen(record: dict) -> str:
    """The hyper-parameter an approach chose on the training part (C of the probe, k of kNN), or ''."""
    params = record.get("params") or {}
    return next((f"{name} = {params[name]:g}" for name in ("C", "k") if name in params), "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--skip-convnext", action="store_true")
    parser.add_argument("--probe-parity", action="store_true", help="also compare held-out accuracies on the demo")
    args = parser.parse_args()
    native = devices.cpu_computes_natively("bf16")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; native bfloat16 on this CPU: {native}; "
          f"{args.images} images, batch {args.batch_size}")
    images = torch.randn(args.images, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    open_clip_modes(images, args.batch_size)
    if not args.skip_convnext:
        timm_modes(images, args.batch_size)
    if args.probe_parity:
        probe_parity()


if __name__ == "__main__":
    main()
