"""CLIP loading and embedding extraction: same numbers as open_clip, a cache that spares every model
call on a second run, a resumed run identical to an uninterrupted one, and a fast clear failure
when the hub cannot be reached. Random weights throughout (no downloads)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import open_clip
import pandas as pd
import pytest
import torch

from analysis.core import bundle
from analysis.cli import commands
from analysis.models import clip_weights, devices, embed, projection
from analysis.stages import runner, zeroshot
from analysis.data.loading import load_rgb
from tests.conftest import PROJECT_ROOT

TINY = clip_weights.TINY_MODEL


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A random CornLens-Tiny saved as a checkpoint file, as an air-gapped user would pass one."""
    torch.manual_seed(123)
    model = open_clip.create_model(TINY)
    path = tmp_path_factory.mktemp("weights") / "tiny-ckpt.pt"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def calls(monkeypatch) -> dict:
    """Counts image-model batches and model loads."""
    counted = {"encode": 0, "load": 0}
    encode, load = embed.encode_batch, embed.load_model

    def counting_encode(*args, **kwargs):
        counted["encode"] += 1
        return encode(*args, **kwargs)

    def counting_load(*args, **kwargs):
        counted["load"] += 1
        return load(*args, **kwargs)

    monkeypatch.setattr(embed, "encode_batch", counting_encode)
    monkeypatch.setattr(embed, "load_model", counting_load)
    return counted


@pytest.fixture
def quick_map(monkeypatch):
    """These tests are about embeddings: a PCA plane instead of UMAP keeps them fast."""
    monkeypatch.setattr(projection, "MIN_IMAGES_FOR_UMAP", 10**9)


def reference_logits(checkpoint: Path, paths: list[Path], classnames: list[str], templates: list[str]) -> np.ndarray:
    """open_clip's own recipe: build_zero_shot_classifier + encode_image, its own preprocessing."""
    model, _, preprocess = open_clip.create_model_and_transforms(TINY, pretrained=str(checkpoint))
    model.eval()
    tokenizer = open_clip.get_tokenizer(TINY)
    with torch.no_grad():
        weights = open_clip.build_zero_shot_classifier(model, tokenizer, classnames, templates)
        images = torch.stack([preprocess(load_rgb(path)) for path in paths])
        features = model.encode_image(images, normalize=True)
        return (model.logit_scale.exp() * features @ weights).numpy()


def run_options(data: Path, out: Path, cache: Path, clip: str, **extra) -> runner.RunOptions:
    return runner.RunOptions(data=data, out=out, clip=[clip], cache_dir=cache, show_progress=False,
                               baselines=False, device="cpu", batch_size=16, workers=2, **extra)


# --- naming and loading ---------------------------------------------------------------------------

def test_spec_parsing_and_model_keys(tiny_checkpoint):
    assert clip_weights.parse_spec("ViT-B-32-quickgelu:laion400m_e32").key == "ViT-B-32-quickgelu:laion400m_e32"
    spec = clip_weights.parse_spec(f"{TINY}:{tiny_checkpoint}")
    assert spec.checkpoint == tiny_checkpoint and spec.key == f"{TINY}:tiny-ckpt"
    assert clip_weights.parse_spec(f"{TINY}:random").checkpoint is None
    with pytest.raises(devices.ModelError, match="did you mean ViT-B-32"):
        clip_weights.parse_spec("ViT-B-23:openai")
    with pytest.raises(devices.ModelError, match="neither a pretrained tag of ViT-B-32 .*openai"):
        clip_weights.parse_spec("ViT-B-32:/no/such/file.pt")
    with pytest.raises(devices.ModelError, match="expected MODEL:PRETRAINED"):
        clip_weights.parse_spec("ViT-B-32")
    with pytest.raises(devices.ModelError, match="download the repository's open_clip_pytorch_model.bin"):
        clip_weights.parse_spec("hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K")


def test_devices():
    assert devices.resolve_device("cpu").type == "cpu"
    assert devices.resolve_device("auto").type in ("cpu", "cuda", "mps")
    assert devices.precision_for(torch.device("cpu")) == "fp32"
    if not torch.cuda.is_available():
        with pytest.raises(devices.ModelError, match="no CUDA device"):
            devices.resolve_device("cuda")


def test_preprocessing_follows_architecture_and_tag():
    _, _, reference = open_clip.create_model_and_transforms(TINY)
    assert repr(clip_weights.image_transform(clip_weights.parse_spec(f"{TINY}:random"))) == repr(reference)
    siglip = clip_weights.preprocess_config(clip_weights.parse_spec("ViT-B-16-SigLIP:webli"))
    assert siglip["mean"] == [0.5, 0.5, 0.5] and siglip["resize_mode"] == "squash" and siglip["size"] == [224, 224]


def test_split_forward_equals_encode_image():
    model, _ = clip_weights.load_model(clip_weights.parse_spec(f"{TINY}:random"), torch.device("cpu"))
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        embeddings, features = embed.encode_batch(model, images)
        expected = model.encode_image(images)
    assert features is not None and features.shape == (3, 64)
    torch.testing.assert_close(embeddings, expected, atol=1e-6, rtol=1e-5)


def test_random_weights_are_seeded():
    spec = clip_weights.parse_spec(f"{TINY}:random")
    first, _ = clip_weights.load_model(spec, torch.device("cpu"), seed=1)
    again, _ = clip_weights.load_model(spec, torch.device("cpu"), seed=1)
    other, _ = clip_weights.load_model(spec, torch.device("cpu"), seed=2)
    assert torch.equal(first.visual.proj, again.visual.proj)
    assert not torch.equal(first.visual.proj, other.visual.proj)


# --- zero-shot logits equal open_clip's, through the pipeline and a checkpoint --------------------

@pytest.mark.parametrize("prompt_set", ["a-photo-of", "simple-imagenet"])
def test_checkpoint_logits_equal_open_clip(tiny_checkpoint, synthetic_data, tmp_path, prompt_set):
    paths = sorted((synthetic_data / "train").glob("*.png"))[:12]
    clip = embed.ClipModel.from_text(f"{TINY}:{tiny_checkpoint}", "cpu", cache_dir=tmp_path)
    classes = ["pure", "broken", "discolored", "silkcut"]
    chosen = next(s for s in zeroshot.prompt_sets() if s.name == prompt_set)
    classifier = zeroshot.embed_prompts(clip, chosen, classes).classifier()
    ours = classifier.decision_function(clip.image_embeddings(paths, batch_size=5, show_progress=False).embeddings)
    expected = reference_logits(tiny_checkpoint, paths, classes, list(chosen.templates))
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_run_with_checkpoint_then_second_run_makes_no_model_call(tiny_checkpoint, synthetic_data, tmp_path,
                                                                  calls, quick_map):
    spec = f"{TINY}:{tiny_checkpoint}"
    # fp32: the numbers are compared with open_clip's fp32 (auto would pick bf16 on a bf16 CPU)
    assert commands.main(["run", "--data", str(synthetic_data), "--out", str(tmp_path / "first"), "--clip", spec,
                     "--no-baselines", "--cache-dir", str(tmp_path / "cache"), "--batch-size", "32",
                     "--precision", "fp32", "-q"]) == 0
    assert calls["load"] == 1 and calls["encode"] > 0
    first = bundle.open_bundle(tmp_path / "first")
    key = f"{TINY}:tiny-ckpt"
    approach = first.approach(f"zeroshot:{key}:a-photo-of")
    assert approach["pretrained"] == str(tiny_checkpoint) and approach["model"] == TINY
    predictions = first.predictions(approach["id"]).set_index("image_id")
    images = first.images()
    assert set(images.loc[images["split"].isin(["eval", "kaggle_test"]), "image_id"]) <= set(predictions.index)
    # The bundle's probabilities are open_clip's logits through a softmax.
    sample = images.iloc[:20]
    logits = reference_logits(tiny_checkpoint, [synthetic_data / p for p in sample["path"]],
                              first.classes, ["a photo of a {}."])
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    ours = predictions.loc[sample["image_id"], [f"prob_{name}" for name in first.classes]].to_numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    stored = first.embeddings(key)
    assert stored.shape == (len(images), 64) and np.allclose(np.linalg.norm(stored, axis=1), 1, atol=1e-5)
    assert first.embeddings(f"{key}:features").shape == (len(images), 64)
    assert first.manifest["embeddings"][key]["kind"] == "clip_image"
    assert first.manifest["embeddings"][f"{key}:features"]["kind"] == "clip_features"

    calls.update(encode=0, load=0)
    assert commands.main(["run", "--data", str(synthetic_data), "--out", str(tmp_path / "second"), "--clip", spec,
                     "--no-baselines", "--cache-dir", str(tmp_path / "cache"), "--precision", "fp32", "-q"]) == 0
    assert calls == {"encode": 0, "load": 0}  # images and texts from the cache; the model never loaded
    second = bundle.open_bundle(tmp_path / "second")
    for record in first.approaches_of_kind("zeroshot"):
        pd.testing.assert_frame_equal(first.predictions(record["id"]), second.predictions(record["id"]))
        assert second.approach(record["id"])["images_from_cache"] == images["content_hash"].nunique()


def test_interrupted_run_resumes_to_identical_predictions(synthetic_data, tmp_path, monkeypatch, calls, quick_map):
    monkeypatch.setattr(embed, "CHUNK_IMAGES", 32)  # 200 images, 16 a batch: 7 chunks of 2 batches (the last 1)
    spec = f"{TINY}:random"
    runner.run(run_options(synthetic_data, tmp_path / "whole", tmp_path / "cache-whole", spec),
                 stages=[zeroshot.STAGE])
    total = calls["encode"]
    assert total == 13

    counting = embed.encode_batch

    def dies_after_five(*args, **kwargs):
        if calls["encode"] >= 5:
            raise KeyboardInterrupt  # Ctrl-C during the 6th batch: chunks 1 and 2 are finished
        return counting(*args, **kwargs)

    calls["encode"] = 0
    monkeypatch.setattr(embed, "encode_batch", dies_after_five)
    options = run_options(synthetic_data, tmp_path / "resumed", tmp_path / "cache-resumed", spec)
    with pytest.raises(KeyboardInterrupt):
        runner.run(options, stages=[zeroshot.STAGE])
    assert len(list((tmp_path / "cache-resumed").rglob("images-*.npz"))) == 2

    monkeypatch.setattr(embed, "encode_batch", counting)
    calls["encode"] = 0
    runner.run(options, stages=[zeroshot.STAGE])
    assert calls["encode"] == total - 4  # only the unfinished chunks were computed
    whole, resumed = bundle.open_bundle(tmp_path / "whole"), bundle.open_bundle(tmp_path / "resumed")
    key = f"{TINY}:random"
    assert np.array_equal(whole.embeddings(key), resumed.embeddings(key))
    for record in whole.approaches_of_kind("zeroshot"):
        pd.testing.assert_frame_equal(whole.predictions(record["id"]), resumed.predictions(record["id"]))


# --- the cache ------------------------------------------------------------------------------------

def test_cache_key_follows_weights_and_duplicates_are_computed_once(tiny_checkpoint, synthetic_data, tmp_path,
                                                                   calls):
    copy = tmp_path / "copy.pt"
    copy.write_bytes(tiny_checkpoint.read_bytes())
    original = embed.ClipModel.from_text(f"{TINY}:{tiny_checkpoint}", "cpu", cache_dir=tmp_path)
    other = embed.ClipModel.from_text(f"{TINY}:{copy}", "cpu", cache_dir=tmp_path)
    random = embed.ClipModel.from_text(f"{TINY}:random", "cpu", cache_dir=tmp_path)
    assert len({original.cache.folder, other.cache.folder, random.cache.folder}) == 3
    before = other.cache.folder
    os.utime(copy, ns=(time.time_ns(), time.time_ns() + 10**9))  # the file changed: a new cache
    assert other.cache.folder != before

    path = sorted((synthetic_data / "train").glob("*.png"))[0]
    result = random.image_embeddings([path, path, path], batch_size=4, show_progress=False)
    assert (result.n_computed, calls["encode"]) == (1, 1)
    assert np.array_equal(result.embeddings[0], result.embeddings[2])


def test_chunks_made_on_other_machines_merge(synthetic_data, tmp_path, calls):
    """Sharding as README describes it: each machine embeds a part into its own cache; the chunk
    files copied into one folder serve the whole list without a model call, same numbers."""
    import shutil

    paths = sorted((synthetic_data / "train").glob("*.png"))[:10]
    shards = [embed.ClipModel.from_text(f"{TINY}:random", "cpu", cache_dir=tmp_path / name) for name in "ab"]
    parts = [shards[0].image_embeddings(paths[:6], batch_size=4, show_progress=False),
             shards[1].image_embeddings(paths[6:], batch_size=4, show_progress=False)]
    merged = embed.ClipModel.from_text(f"{TINY}:random", "cpu", cache_dir=tmp_path / "merged")
    assert {shard.cache.folder.name for shard in shards} == {merged.cache.folder.name}
    for shard in shards:
        shutil.copytree(shard.cache.folder, merged.cache.folder, dirs_exist_ok=True)
    calls.update(encode=0, load=0)
    whole = merged.image_embeddings(paths, batch_size=4, show_progress=False)
    assert (whole.n_computed, calls["load"]) == (0, 0)
    assert np.array_equal(whole.embeddings, np.concatenate([part.embeddings for part in parts]))


def test_damaged_chunk_is_recomputed(synthetic_data, tmp_path, calls):
    paths = sorted((synthetic_data / "train").glob("*.png"))[:6]
    clip = embed.ClipModel.from_text(f"{TINY}:random", "cpu", cache_dir=tmp_path)
    first = clip.image_embeddings(paths, batch_size=3, chunk_size=3, show_progress=False)
    chunk = sorted(clip.cache.folder.glob("images-*.npz"))[0]
    chunk.write_bytes(chunk.read_bytes()[:100])
    calls["encode"] = 0
    again = clip.image_embeddings(paths, batch_size=3, chunk_size=3, show_progress=False)
    assert calls["encode"] == 1 and again.n_cached == 3
    assert np.array_equal(first.embeddings, again.embeddings)


# --- no hub, no minute of waiting -----------------------------------------------------------------

def test_hub_switched_off_fails_at_once_with_the_way_out(synthetic_data, tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    started = time.perf_counter()
    code = commands.main(["run", "--data", str(synthetic_data), "--out", str(tmp_path / "b"), "--clip", "ViT-B-32:openai"])
    assert code == 1 and time.perf_counter() - started < 10
    error = capsys.readouterr().err
    assert "ViT-B-32:openai" in error and "HF_HUB_OFFLINE" in error
    assert "--clip ViT-B-32:/path/to/checkpoint" in error
    assert not (tmp_path / "b").exists()  # failed before reading the data


def test_hub_that_never_answers_fails_within_seconds(tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    released = threading.Event()

    def silent(*args, **kwargs):  # a network that swallows packets (until the test ends)
        released.wait(60)
        raise OSError("network unreachable")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(socket, "create_connection", silent)
    monkeypatch.setattr(socket, "getaddrinfo", silent)
    started = time.perf_counter()
    code = commands.main(["run", "--data", str(tmp_path), "--out", str(tmp_path / "b"), "--clip",
                     "ViT-B-32-quickgelu:laion400m_e32"])
    elapsed = time.perf_counter() - started
    released.set()
    assert code == 1 and elapsed < 10
    error = capsys.readouterr().err
    assert "ViT-B-32-quickgelu:laion400m_e32" in error and "did not answer" in error
    assert "pass it as --clip ViT-B-32-quickgelu:/path/to/checkpoint" in error


def test_cli_hub_unreachable_message_without_traceback(synthetic_data, tmp_path):
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        env = {key: value for key, value in os.environ.items() if key != "HF_HUB_OFFLINE"}
        env["HF_ENDPOINT"] = f"http://127.0.0.1:{server.getsockname()[1]}"
        result = subprocess.run([sys.executable, "-m", "analysis", "run", "--data", str(synthetic_data),
                                 "--out", str(tmp_path / "b"), "--clip", "ViT-B-32:openai"],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    assert "cannot load CLIP weights ViT-B-32:openai" in result.stderr and "Traceback" not in result.stderr
    assert "--clip ViT-B-32:/path/to/checkpoint" in result.stderr


def test_downloaded_weights_are_used_without_network(tmp_path, monkeypatch):
    from huggingface_hub import constants

    spec = clip_weights.parse_spec("ViT-B-32:openai")
    repo_id, names = clip_weights._hub_files(spec)
    folder = tmp_path / f"models--{repo_id.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc123")
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    weights = folder / "snapshots" / "abc123" / names[0]
    weights.write_bytes(b"weights")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert clip_weights.locate_weights(spec) == str(weights)


def test_image_gone_since_validation_is_named(synthetic_data, tmp_path):
    paths = sorted((synthetic_data / "train").glob("*.png"))[:4]
    gone = tmp_path / "gone.png"
    clip = embed.ClipModel.from_text(f"{TINY}:random", "cpu", cache_dir=tmp_path)
    with pytest.raises(devices.ModelError) as caught:
        clip.image_embeddings([*paths, gone], ["a", "b", "c", "d", "e"], batch_size=2, workers=2,
                              show_progress=False)
    assert str(gone) in str(caught.value) and "Traceback" not in str(caught.value)
