"""--precision: what auto chooses (CPU detection mocked), one warning on a fallback, precision in the
cache key and the manifest, and bfloat16 embeddings and ConvNeXt outputs close to fp32's."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from analysis.core import bundle, tables
from analysis.models import clip_weights, devices, embed, projection
from analysis.stages import finetune, runner, zeroshot

TINY = clip_weights.TINY_MODEL
CPU = torch.device("cpu")
# Stated parity of bfloat16 weights (open_clip precision="bf16") with fp32, per image; measured on a
# random ViT-B-32: see README ("Scale") and benchmarks/bench_precision.py.
BF16_MIN_COSINE = 0.999
# The same for the pooled ViT features after subtracting fp32's mean over the images: 0.98 on 128
# synthetic kernels with the residual stream in fp32 (analysis.models.embed.encode_batch), 0.93 with it in bf16.
BF16_MIN_CENTRED_COSINE = 0.97


@pytest.fixture
def cpu_with(monkeypatch):
    """Pretend the CPU's /proc/cpuinfo flags are the given ones (None: the file cannot be read)."""
    def pretend(*flags: str | None) -> None:
        monkeypatch.setattr(devices, "cpu_flags", lambda: None if flags == (None,) else set(flags))
        devices.warn_once.cache_clear()
    yield pretend
    devices.warn_once.cache_clear()


def test_auto_chooses_bf16_only_on_a_cpu_with_native_bfloat16(cpu_with, monkeypatch):
    cpu_with("sse4_2", "avx2", "avx512f")
    assert devices.resolve_precision("auto", CPU) == "fp32"
    cpu_with("avx2", "avx512f", "avx512_bf16")
    assert devices.resolve_precision("auto", CPU) == "bf16"
    cpu_with("amx_tile", "amx_bf16")
    assert devices.resolve_precision("auto", CPU) == "bf16"
    assert devices.resolve_precision("fp32", CPU) == "fp32"
    cpu_with(None)  # no /proc/cpuinfo: torch's own capability checks decide
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert devices.resolve_precision("auto", CPU) == "fp32"
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert devices.resolve_precision("auto", CPU) == "bf16"
    with pytest.raises(devices.ModelError, match="--precision 'bf32': choose one of auto, fp32, bf16, fp16"):
        devices.resolve_precision("bf32", CPU)


def test_bf16_on_a_cpu_without_it_falls_back_to_fp32_with_one_warning(cpu_with, caplog):
    cpu_with("avx2")
    with caplog.at_level(logging.WARNING, logger="analysis.models.devices"):
        assert devices.resolve_precision("bf16", CPU) == "fp32"
        assert devices.resolve_precision("bf16", CPU) == "fp32"
        clip = embed.ClipModel.from_text(f"{TINY}:random", "cpu", precision="bf16")
        assert clip.precision == "fp32"
        assert devices.resolve_precision("auto", CPU) == "fp32"  # auto falls back silently
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "no native bf16" in warnings[0] and "avx512_bf16" in warnings[0]


def test_precision_is_part_of_the_cache_key_and_recorded(synthetic_data, tmp_path, cpu_with, monkeypatch):
    cpu_with("avx512_bf16")
    monkeypatch.setattr(projection, "MIN_IMAGES_FOR_UMAP", 10**9)  # about embeddings, not the map
    cache = tmp_path / "cache"

    def run(precision: str, name: str = "") -> bundle.Bundle:
        out = tmp_path / (name or precision)
        runner.run(runner.RunOptions(data=synthetic_data, out=out, clip=[f"{TINY}:random"], cache_dir=cache,
                                         show_progress=False, baselines=False, device="cpu", batch_size=32,
                                         workers=1, precision=precision), stages=[zeroshot.STAGE])
        return bundle.open_bundle(out)

    fp32, bf16 = run("fp32"), run("bf16")
    key = f"{TINY}:random"
    folders = sorted(path.parent for path in cache.rglob("identity.json"))
    assert len(folders) == 2 and {json.loads((folder / "identity.json").read_text())["precision"]
                                  for folder in folders} == {"fp32", "bf16"}
    n_unique = fp32.images()["content_hash"].nunique()
    for written, precision in ((fp32, "fp32"), (bf16, "bf16")):
        assert written.manifest["embeddings"][key]["precision"] == precision
        for record in written.approaches_of_kind("zeroshot"):
            assert record["precision"] == precision
            assert record["images_computed"] == n_unique  # bf16 did not reuse the fp32 chunks
    again = run("bf16", "bf16-again")
    assert all(record["images_from_cache"] == n_unique for record in again.approaches_of_kind("zeroshot"))
    cosine = np.sum(fp32.embeddings(key) * bf16.embeddings(key), axis=1)
    assert cosine.min() >= BF16_MIN_COSINE and not np.array_equal(fp32.embeddings(key), bf16.embeddings(key))


def test_bf16_vit_b_32_embeddings_within_stated_cosine_of_fp32(synthetic_data, tmp_path, cpu_with):
    cpu_with("avx512_bf16")
    paths = sorted((synthetic_data / "train").glob("*.png"))[:8]
    spec = clip_weights.parse_spec("ViT-B-32-quickgelu:random")
    results = {precision: embed.ClipModel(spec, CPU, cache_dir=tmp_path, requested_precision=precision)
               .image_embeddings(paths, batch_size=8, workers=0, show_progress=False)
               for precision in ("fp32", "bf16")}
    unit = {precision: embed.normalize(result.embeddings) for precision, result in results.items()}
    cosine = np.sum(unit["fp32"] * unit["bf16"], axis=1)
    assert cosine.min() >= BF16_MIN_COSINE
    assert not np.array_equal(unit["fp32"], unit["bf16"])  # bf16 really ran
    # what a standardised probe sees: the features' differences between images, after removing the
    # component every image of a random tower shares (its plain cosine hides the rounding of the rest)
    mean = results["fp32"].features.mean(axis=0)
    centred = {precision: embed.normalize(result.features - mean) for precision, result in results.items()}
    assert np.sum(centred["fp32"] * centred["bf16"], axis=1).min() >= BF16_MIN_CENTRED_COSINE


def test_convnext_inference_in_bf16_matches_fp32(synthetic_data):
    paths = sorted((synthetic_data / "train").glob("*.png"))[:6]
    images = finetune.KernelImages(paths, None, 64, mean=[0.5] * 3, std=[0.25] * 3)
    outputs = {}
    for precision in ("fp32", "bf16"):
        model = finetune.build_model(finetune.ConvNextSpec("convnext_atto", "scratch"), 4, "scratch", seed=0)
        outputs[precision] = finetune.predict(model, images, CPU, batch_size=3, show_progress=False,
                                              precision=precision)
        assert next(model.parameters()).dtype == devices.weights_dtype(precision)
    (features, proba), (features16, proba16) = outputs["fp32"], outputs["bf16"]
    cosine = np.sum(embed.normalize(features) * embed.normalize(features16), axis=1)
    assert cosine.min() >= 0.99 and np.abs(proba - proba16).max() < 0.05
    assert proba16.dtype == np.float64 and np.allclose(proba16.sum(axis=1), 1)


def test_precision_is_shown_where_the_approach_is_named():
    record = {"id": "zeroshot:ViT-B-32:openai:simple", "kind": "zeroshot", "model": "ViT-B-32",
              "pretrained": "openai", "prompt_set": "simple", "precision": "bf16"}
    assert tables.approach_label(record) == "zero-shot ViT-B-32 (openai, bf16) · simple"
    assert tables.approach_label(record | {"precision": "fp32"}) == "zero-shot ViT-B-32 (openai) · simple"
    assert tables.approach_label({k: v for k, v in record.items() if k != "precision"}) == \
        "zero-shot ViT-B-32 (openai) · simple"
