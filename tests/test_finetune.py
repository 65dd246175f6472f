"""ConvNeXt fine-tuning: weights resolved and recorded, an interrupted training resumes exactly from
its checkpoint, and the demo bundle holds a ConvNeXt comparable with zero-shot and the probe."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.core import bundle
from analysis.stages import finetune

TINY = "convnext_atto"


def kernel_sets(folder, n_images: int = 48, size: int = 32):
    """A training and a validation set from the synthetic dataset's first images."""
    rows = pd.read_csv(folder / "train.csv", dtype=str).head(n_images)
    classes = sorted(rows["label"].unique())
    paths = [folder / path for path in rows["image"]]
    targets = [classes.index(label) for label in rows["label"]]
    normalise = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    cut = n_images * 3 // 4
    return (classes, finetune.KernelImages(paths[:cut], targets[:cut], size, augment=True, **normalise),
            finetune.KernelImages(paths[cut:], targets[cut:], size, **normalise))


class Interrupt(Exception):
    pass


def test_interrupted_training_resumes_from_its_checkpoint(synthetic_data, tmp_path):
    classes, train_set, val_set = kernel_sets(synthetic_data)
    spec = finetune.parse_spec(f"{TINY}:scratch")
    config = finetune.TrainConfig(TINY, "scratch", classes, image_size=32, epochs=2, batch_size=16, seed=5)

    def run(path, **kwargs):
        model = finetune.build_model(spec, len(classes), "scratch", seed=5)
        return finetune.train(model, train_set, val_set, config, path, torch.device("cpu"), bundle.atomic_path,
                              show_progress=False,
                              **kwargs)

    whole = run(tmp_path / "whole.pt")
    assert [row["epoch"] for row in whole.history] == [1, 2] and whole.resumed_from is None

    def stop_after_first(epoch):
        if epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        run(tmp_path / "cut.pt", on_epoch_end=stop_after_first)
    saved = torch.load(tmp_path / "cut.pt", map_location="cpu", weights_only=True)  # state dicts only
    assert saved["epoch"] == 1 and len(saved["history"]) == 1

    resumed = run(tmp_path / "cut.pt")
    assert resumed.resumed_from == 1
    assert [row["epoch"] for row in resumed.history] == [1, 2]
    for mine, theirs in zip(resumed.history, whole.history):  # the same numbers as without the interruption
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-5)
        assert mine["val_accuracy"] == pytest.approx(theirs["val_accuracy"])
    assert resumed.best_epoch == whole.best_epoch
    for key, value in whole.best_state.items():
        assert torch.allclose(resumed.best_state[key].float(), value.float(), atol=1e-5), key

    # a checkpoint of another configuration is not resumed
    other = finetune.TrainConfig(TINY, "scratch", classes, image_size=32, epochs=3, batch_size=16, seed=5)
    assert finetune._load_checkpoint(tmp_path / "cut.pt", other) is None


def test_weights_come_from_a_checkpoint_file_or_scratch(tmp_path, monkeypatch):
    import timm
    from safetensors.torch import save_file

    source = timm.create_model(TINY, pretrained=False)  # an "ImageNet" checkpoint: 1,000 classes
    state = {key: value.contiguous() for key, value in source.state_dict().items()}
    for suffix in (".safetensors", ".pth"):
        path = tmp_path / f"weights{suffix}"
        save_file(state, path) if suffix == ".safetensors" else torch.save(state, path)
        spec = finetune.parse_spec(f"{TINY}:{path}")
        assert finetune.resolve_weights(spec) == ("checkpoint", str(path.resolve()))
        model = finetune.build_model(spec, 4, "checkpoint")
        assert torch.equal(model.stem[0].weight, source.stem[0].weight)
        assert model.get_classifier().out_features == 4  # the 1,000-class head is replaced

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    started = time.perf_counter()
    source_, why = finetune.resolve_weights(finetune.parse_spec(TINY))  # auto: falls back at once
    assert source_ == "scratch" and "HF_HUB_OFFLINE" in why and time.perf_counter() - started < 5
    with pytest.raises(finetune.ModelError, match=f"--convnext {TINY}:/path/to/model.safetensors"):
        finetune.resolve_weights(finetune.parse_spec(f"{TINY}:imagenet"))
    with pytest.raises(finetune.ModelError, match="timm has no model 'convnext_tinny'"):
        finetune.parse_spec("convnext_tinny")
    with pytest.raises(finetune.ModelError, match="does not exist"):
        finetune.parse_spec(f"{TINY}:{tmp_path / 'missing.pt'}")
    from analysis.core.options import RunOptions  # checked before the data is read
    with pytest.raises(finetune.ModelError, match="at least 32 px"):
        finetune.STAGE.check(finetune.STAGE.typed_options(
            RunOptions(data=tmp_path, out=tmp_path, convnext=[TINY], image_size=16)))
    with pytest.raises(finetune.ModelError, match="NAME:scratch|convnext_atto:scratch"):
        finetune.STAGE.check(finetune.STAGE.typed_options(
            RunOptions(data=tmp_path, out=tmp_path, convnext=[f"{TINY}:imagenet"])))


def test_schedule_and_augmentations():
    rates = [finetune.learning_rate(step, 100, 1e-3, 10) for step in range(100)]
    assert rates[9] == pytest.approx(1e-3) and rates[0] == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:])) and rates[-1] < 1e-5
    image = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4)
    views = [finetune.dihedral(image, index) for index in range(8)]
    assert torch.equal(views[0], image)
    assert len({tuple(view.flatten().tolist()) for view in views}) == 8


def test_demo_bundle_compares_zeroshot_probe_and_convnext_on_the_same_images(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    images = opened.images()
    eval_ids = set(images.loc[images["split"] == "eval", "image_id"])
    kinds = {record["kind"] for record in opened.approaches}
    assert {"zeroshot", "probe", "finetune"} <= kinds
    for record in opened.approaches:
        predictions = opened.predictions(record["id"]).merge(images[["image_id", "split"]], on="image_id")
        assert set(predictions.loc[predictions["split"] == "eval", "image_id"]) == eval_ids, record["id"]
        assert record["metrics"]["n"] == len(eval_ids)
    record = opened.approach(f"finetune:{TINY}")
    assert record["pretrained"] == "scratch" and record["weights"] == "scratch"
    found = opened.diagnostics(f"finetune:{TINY}")
    assert found["weights"] == "scratch" and len(found["epochs"]) >= 1
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"} <= set(found["epochs"][0])
    entry = opened.manifest["embeddings"][TINY]
    assert entry["kind"] == "convnext" and opened.embeddings(TINY).shape == (len(images), 320)
    assert np.isfinite(opened.embeddings(TINY)).all()
    projected = opened.projection(TINY)
    assert set(projected["image_id"]) == set(images["image_id"])
    weights = demo_bundle / record["checkpoint_file"]
    assert weights.is_file() and not (demo_bundle / "checkpoints" / f"{TINY}.training.pt").exists()
    assert "head.fc.weight" in torch.load(weights, map_location="cpu", weights_only=True)


def test_image_gone_in_a_loader_worker_is_named_without_its_traceback(synthetic_data, tmp_path):
    classes, _, validation = kernel_sets(synthetic_data, n_images=8)
    gone = tmp_path / "gone.png"
    validation.paths[-1] = gone
    model = finetune.build_model(finetune.ConvNextSpec(TINY, "scratch"), len(classes), "scratch")
    with pytest.raises(finetune.loading.DatasetError) as caught:
        finetune.predict(model, validation, torch.device("cpu"), batch_size=1, workers=1, show_progress=False)
    assert str(caught.value).startswith(str(gone)) and "Traceback" not in str(caught.value)
