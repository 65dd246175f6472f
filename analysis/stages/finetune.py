"""Fine-tuning a timm ConvNeXt on the shared split.

``--convnext NAME`` (any timm name, e.g. ``convnext_tiny`` or ``convnext_tiny.fb_in22k``) trains on
the ``train`` part, stops early on one of its cross-validation folds, and is scored on the
held-out images like every other approach. Where its starting weights come from is always
recorded (manifest ``pretrained``, diagnostics ``weights``):

- ``NAME`` — ImageNet weights from the Hugging Face hub when they are cached or can be downloaded,
  otherwise from scratch with a warning that says how to supply a file (the check takes seconds:
  no minute of hub retries);
- ``NAME:/path/to/checkpoint`` — a local file (``.safetensors``, ``.pth``, ``.bin``; a timm/ImageNet
  checkpoint, whose classifier is replaced, or a state dict of the same architecture);
- ``NAME:imagenet`` — ImageNet weights or an error; ``NAME:scratch`` — random initialisation.

Training: flips and 90° rotations, AdamW, a warm-up then cosine learning rate, mixed precision on
CUDA, early stopping, a checkpoint after every epoch (state dicts only, read back with
``weights_only=True``) from which an interrupted run resumes exactly. Afterwards the best epoch's
weights predict the eval and kaggle_test images (optionally averaged over the eight flips and
rotations, ``--tta``) and give every image a penultimate-layer feature vector, stored as an
embedding (``kind`` = ``convnext``) with its 2-D map.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, ContextManager, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from analysis.core import bundle, jsonfile, records
from analysis.data import loading, split
from analysis.data.engine import RayEngine, from_options
from analysis.stats import knn
from analysis.models import convnext_images, devices, image_batches, projection
from analysis.models.convnext_images import KernelImages, dihedral  # noqa: F401  (the stage's names)
from analysis.stages.context import RunContext, Stage, data_inputs
from analysis.models.convnext_weights import WEIGHT_SOURCES, ConvNextSpec, ModelError, parse_spec, resolve_weights  # noqa: F401
from analysis.core.progress import progress

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
# Peak learning rates of AdamW: fine-tuning pretrained weights wants small steps, random ones larger.
LEARNING_RATE = {"imagenet": 2e-4, "checkpoint": 2e-4, "scratch": 2e-3}
WEIGHT_DECAY = 0.05
DROP_PATH = 0.1
PATIENCE = 3        # epochs without a better validation score before stopping
VALIDATION_FOLD = 0  # the fold of `train` that early stopping watches


def build_model(spec: ConvNextSpec, n_classes: int, source: str, seed: int = 0) -> torch.nn.Module:
    """The timm model with ``n_classes`` outputs and the starting weights of ``source``.

    A checkpoint goes through timm's own loader (safetensors or ``torch.load(weights_only=True)``);
    its classifier is dropped when its class count differs, as for ImageNet weights.
    """
    import timm

    torch.manual_seed(seed)  # the new head (and everything, from scratch) starts the same every run
    kwargs = {"num_classes": n_classes, "drop_path_rate": DROP_PATH}
    try:
        if source == "scratch":
            return timm.create_model(spec.name, pretrained=False, **kwargs)
        if source == "checkpoint":
            return timm.create_model(spec.name, pretrained=True, pretrained_cfg_overlay={"file": str(spec.checkpoint)},
                                     **kwargs)
        return timm.create_model(spec.name, pretrained=True, **kwargs)
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        where = spec.checkpoint if source == "checkpoint" else "the hub"
        raise ModelError(f"cannot load {spec.name} weights from {where}: {error}. Pass a checkpoint of this "
                         f"architecture, or train from scratch with --convnext {spec.name}:scratch.") from error


# --- images ---------------------------------------------------------------------------------------

def data_config(model: torch.nn.Module) -> dict:
    """Normalisation constants of the model's pretraining (timm's data config)."""
    from timm.data import resolve_data_config

    config = resolve_data_config({}, model=model)
    return {"mean": [float(v) for v in config["mean"]], "std": [float(v) for v in config["std"]]}


def _loader(dataset: KernelImages, batch_size: int, workers: int, shuffle: bool = False,
            seed: int = 0) -> torch.utils.data.DataLoader:
    generator = torch.Generator().manual_seed(seed)  # shuffling and worker seeds: same epoch, same batches
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                                       generator=generator, drop_last=False,
                                       persistent_workers=False, pin_memory=torch.cuda.is_available())


# --- training -------------------------------------------------------------------------------------

@dataclass
class TrainConfig:
    """Everything that decides the training run; a checkpoint resumes only under the same config."""

    name: str
    weights: str
    classes: list[str]
    image_size: int = 224
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = WEIGHT_DECAY
    patience: int = PATIENCE
    seed: int = 0
    train_digest: str = ""

    def identity(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    history: list[dict]
    best_epoch: int
    best_state: dict
    resumed_from: int | None
    stopped_early: bool
    precision: str = "fp32"


def learning_rate(step: int, total_steps: int, peak: float, warmup_steps: int) -> float:
    """Linear warm-up to ``peak``, then a cosine decay to zero at ``total_steps``."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress_ = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress_)))


def _cpu_state(module: torch.nn.Module) -> dict:
    return {key: value.detach().to("cpu", copy=True) for key, value in module.state_dict().items()}


def _load_checkpoint(path: Path, config: TrainConfig) -> dict | None:
    """The training checkpoint at ``path`` when it belongs to this configuration, else None."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 — a damaged checkpoint only costs the training done so far
        log.warning("%s: unreadable training checkpoint (%s); training starts again", path, error)
        return None
    if state.get("config") != config.identity():
        log.warning("%s: checkpoint of another configuration (model, split, size or epochs changed); training "
                    "starts again", path)
        return None
    return state


def _run_epoch(model, loader, device, precision, optimizer=None, scaler=None, schedule=None, step=0,
               desc: str = "", show_progress: bool = True) -> tuple[float, float, int]:
    """One pass over ``loader`` (training when ``optimizer`` is given): mean loss, accuracy, steps."""
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    bar = progress(loader, total=len(loader), desc=desc, unit="batch", disable=not show_progress)
    with image_batches.worker_errors(loading.DatasetError), torch.set_grad_enabled(training):
        for images, targets in bar:
            images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
            if training:
                for group in optimizer.param_groups:
                    group["lr"] = schedule(step)
            with devices.autocast(device, precision):
                logits = model(images)
                loss = F.cross_entropy(logits.float(), targets)
            if training:
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                step += 1
            total_loss += float(loss.detach()) * len(targets)
            correct += int((logits.argmax(dim=1) == targets).sum())
            seen += len(targets)
            if show_progress:
                bar.set_postfix(loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}")
    return total_loss / max(seen, 1), correct / max(seen, 1), step


def train(model: torch.nn.Module, train_set: KernelImages, val_set: KernelImages, config: TrainConfig,
          checkpoint_path: Path, device: torch.device, atomic_file: Callable[[Path], ContextManager[Path]],
          workers: int = 0, show_progress: bool = True,
          on_epoch_end: Callable[[int], None] | None = None) -> TrainResult:
    """Train with early stopping on ``val_set``, resuming from ``checkpoint_path`` when it holds an
    unfinished run of the same ``config``.

    Every epoch is seeded by (seed, epoch) — shuffling, augmentation, drop-path — so a resumed run
    gives the same weights as an uninterrupted one (bit for bit on CPU).

    Args:
        atomic_file: writes ``checkpoint_path`` atomically (the stage passes its run context's
            ``atomic_file``: a temporary path that replaces the file in one rename).
        on_epoch_end: called with the epoch number after its checkpoint is written (tests use it to
            interrupt a run).

    Returns:
        The history (``epoch``, ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``,
        ``lr``, ``seconds``), the best epoch and its weights (state dict on CPU).
    """
    model.to(device)
    precision = devices.precision_for(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=precision == "amp_float16")
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warmup = min(steps_per_epoch, max(1, total_steps // 10))

    def schedule(step: int) -> float:
        return learning_rate(step, total_steps, config.learning_rate, warmup)

    history: list[dict] = []
    best = {"epoch": 0, "key": (-1.0, -math.inf), "state": _cpu_state(model)}
    start_epoch, step, resumed_from, stopped = 1, 0, None, False
    state = _load_checkpoint(checkpoint_path, config)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        history, step, stopped = list(state["history"]), int(state["step"]), bool(state["stopped"])
        best = {"epoch": int(state["best_epoch"]), "key": tuple(state["best_key"]), "state": state["best_model"]}
        start_epoch = resumed_from = int(state["epoch"])
        start_epoch += 1
        log.info("%s: resuming after epoch %d of %d from %s", config.name, resumed_from, config.epochs,
                 checkpoint_path)
    for epoch in range(start_epoch, config.epochs + 1):
        if stopped:
            break
        started = time.perf_counter()
        torch.manual_seed(config.seed * 1000 + epoch)  # augmentation and drop-path of this epoch
        train_loss, train_accuracy, step = _run_epoch(
            model, _loader(train_set, config.batch_size, workers, True, config.seed * 1000 + epoch), device,
            precision, optimizer, scaler, schedule, step, f"{config.name} epoch {epoch}/{config.epochs}",
            show_progress)
        val_loss, val_accuracy, _ = _run_epoch(model, _loader(val_set, config.batch_size, workers), device,
                                               precision, desc=f"{config.name} validation", show_progress=show_progress)
        history.append({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy,
                        "val_loss": val_loss, "val_accuracy": val_accuracy, "lr": schedule(max(step - 1, 0)),
                        "seconds": round(time.perf_counter() - started, 3)})
        key = (val_accuracy, -val_loss)  # accuracy first; the lower loss breaks ties
        if key > best["key"]:
            best = {"epoch": epoch, "key": key, "state": _cpu_state(model)}
        stopped = epoch - best["epoch"] >= config.patience and epoch < config.epochs
        log.info("%s epoch %d/%d: train loss %.3f acc %.3f | validation loss %.3f acc %.3f%s", config.name, epoch,
                 config.epochs, train_loss, train_accuracy, val_loss, val_accuracy,
                 " | early stop" if stopped else "")
        with atomic_file(checkpoint_path) as temporary:
            torch.save({
                "config": config.identity(), "epoch": epoch, "step": step, "stopped": stopped, "history": history,
                "model": _cpu_state(model), "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                "best_epoch": best["epoch"], "best_key": list(best["key"]), "best_model": best["state"]},
                temporary)
        if on_epoch_end is not None:
            on_epoch_end(epoch)
    return TrainResult(history, best["epoch"], best["state"], resumed_from,
                       stopped or (bool(history) and history[-1]["epoch"] < config.epochs), precision)


def predict(model: torch.nn.Module, dataset: KernelImages, device: torch.device, batch_size: int = 64,
            workers: int = 0, tta: bool = False, show_progress: bool = True,
            desc: str = "predicting", precision: str | None = None,
            engine: RayEngine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate features and class probabilities of every image of ``dataset``, in order.

    ``precision`` is resolved (:func:`analysis.models.devices.resolve_precision`; default: the training
    precision of ``device``); ``bf16`` and ``fp16`` cast the model's weights in place. With ``engine``
    (``run --ray``) replicas of the model predict the same batches on the Ray cluster.

    Returns:
        features: ndarray of shape (n_images, num_features), float32 (the un-augmented image);
        proba: ndarray of shape (n_images, n_classes), averaged over the eight flips and rotations
        when ``tta``.
    """
    precision = precision or devices.precision_for(device)
    if engine is not None:
        outputs = convnext_images.predict_on_ray(engine, model, dataset, device, batch_size, tta, precision,
                                                 desc, show_progress)
    else:
        model.to(device, devices.weights_dtype(precision)).eval()
        batches = progress(_loader(dataset, batch_size, workers), desc=desc, unit="batch", disable=not show_progress)
        with image_batches.worker_errors(loading.DatasetError):
            outputs = [convnext_images.predict_batch(model, images, device, precision, tta) for images, _ in batches]
    return (np.concatenate([output["features"] for output in outputs]).astype(np.float32),
            np.concatenate([output["proba"] for output in outputs]).astype(np.float64))


# --- the pipeline stage ---------------------------------------------------------------------------

def checkpoint_paths(bundle_path: Path, name: str) -> tuple[Path, Path]:
    """(training checkpoint for resuming, final weights) of one model under the bundle."""
    stem = bundle.file_stem(name)
    folder = Path(bundle_path) / CHECKPOINTS
    return folder / f"{stem}.training.pt", folder / f"{stem}.pt"


@dataclass(frozen=True)
class FineTuneOptions:
    convnext: list[str]
    epochs: int
    image_size: int
    batch_size: int
    device: str
    precision: str
    seed: int
    workers: int
    tta: bool
    show_progress: bool
    ray: str | None = None
    ray_actors: int | None = None
    ray_gpus: float | None = None


def check_options(options: FineTuneOptions) -> None:
    """Fail in seconds, before the data is read: unknown timm names, missing checkpoint files,
    ``NAME:imagenet`` without reachable weights, an absent device."""
    if not options.convnext:
        return
    if options.epochs < 1:
        raise ModelError(f"--epochs {options.epochs}: ConvNeXt needs at least one training epoch.")
    if options.image_size < 32:
        raise ModelError(f"--image-size {options.image_size}: ConvNeXt halves the image five times; give at "
                         "least 32 px (224 is its usual size).")
    devices.resolve_precision(options.precision, devices.resolve_device(options.device))
    for text in options.convnext:
        spec = parse_spec(text)
        if spec.weights == "imagenet":
            resolve_weights(spec)


def units(context: RunContext, options: FineTuneOptions) -> list[ConvNextSpec]:
    return [parse_spec(text) for text in options.convnext]


def is_done(context: RunContext, options: FineTuneOptions, spec: ConvNextSpec) -> bool:
    return context.has_approach(records.approach_id(records.FINETUNE, spec.name))


def inputs(context: RunContext, options: FineTuneOptions, spec: ConvNextSpec) -> dict:
    """The images, the split, the model and its weights, and the options that change the result."""
    return {**data_inputs(context), "model": {"convnext": spec.name, "weights": spec.weights,
                                                 "checkpoint": str(spec.checkpoint) if spec.checkpoint else None},
            "options": {"epochs": options.epochs, "image_size": options.image_size, "batch_size": options.batch_size,
                        "precision": options.precision, "seed": options.seed, "tta": options.tta}}


def finetune(context: RunContext, options: FineTuneOptions, spec: ConvNextSpec) -> dict:
    """Train, predict, and store approach, embeddings, map and diagnostics of one ConvNeXt."""
    images, classes = context.images, context.classes
    started = time.perf_counter()
    device = devices.resolve_device(options.device)
    workers = options.workers if device.type == "cuda" else 0  # on CPU the model needs every core
    source, detail = resolve_weights(spec)
    model = build_model(spec, len(classes), source, options.seed)
    normalise = data_config(model)
    train_rows = images[images["split"] == split.TRAIN]
    is_val = (train_rows["fold"] == VALIDATION_FOLD).to_numpy()
    fit_rows, val_rows = train_rows[~is_val], train_rows[is_val]
    targets = {name: index for index, name in enumerate(classes)}

    def dataset(rows, augment=False, labelled=True):
        return KernelImages(context.image_paths(rows), [targets[label] for label in rows["label"]] if labelled else None,
                            options.image_size, augment=augment, **normalise)

    config = TrainConfig(spec.name, source if source != "checkpoint" else f"checkpoint:{detail}", list(classes),
                         options.image_size, options.epochs, options.batch_size, LEARNING_RATE[source],
                         seed=options.seed, train_digest=jsonfile.digest([list(fit_rows["image_id"]),
                                                                          list(val_rows["image_id"])]))
    training_path, weights_path = checkpoint_paths(context.path, spec.name)
    result = train(model, dataset(fit_rows, augment=True), dataset(val_rows), config, training_path, device,
                   lambda path: context.atomic_file(path.relative_to(context.path)), workers, options.show_progress)
    model.load_state_dict(result.best_state)
    with context.atomic_file(weights_path.relative_to(context.path)) as temporary:
        torch.save(result.best_state, temporary)

    inference_precision = devices.resolve_precision(options.precision, device)
    features, proba = predict(model, dataset(images, labelled=False), device, options.batch_size, workers,
                              options.tta, options.show_progress, f"{spec.name} features", inference_precision,
                              from_options(options.ray, options.ray_actors, options.ray_gpus))
    predicted = images["split"].isin([split.EVAL, split.KAGGLE_TEST]).to_numpy()
    about = {"model_key": spec.name, "model": spec.name, "pretrained": detail if source != "scratch" else "scratch",
             "weights": source, "image_size": options.image_size, "precision": inference_precision}
    context.save_embeddings(spec.name, features, kind="convnext", normalized=False, **about)
    coordinates = projection.project(features, seed=options.seed, search=knn.search_for(device, len(features)))
    frame = projection.projection_frame(coordinates, images["image_id"].tolist(), images["label"].tolist())
    context.save_projection(spec.name, frame, model_key=spec.name, source="convnext",
                            method=projection.method(len(features)), seed=options.seed)
    diagnostics = {
        "model": spec.name, "epochs": result.history, "best_epoch": result.best_epoch, "weights": source,
        "weights_detail": detail, "tta": bool(options.tta), "stopped_early": result.stopped_early,
        "patience": config.patience, "resumed_from_epoch": result.resumed_from, "validation_fold": VALIDATION_FOLD,
        "n_train": int(len(fit_rows)), "n_val": int(len(val_rows)), "image_size": options.image_size,
        "device": str(device), "precision": result.precision, "inference_precision": inference_precision,
        "projection": spec.name,
        "embedding": spec.name, "checkpoint_file": str(weights_path.relative_to(context.path)),
    }
    params = {"epochs": options.epochs, "epochs_run": len(result.history), "best_epoch": result.best_epoch,
              "image_size": options.image_size, "batch_size": options.batch_size,
              "optimizer": "AdamW", "learning_rate": config.learning_rate, "weight_decay": config.weight_decay,
              "schedule": "linear warm-up, cosine decay (per step)", "drop_path_rate": DROP_PATH,
              "augmentation": "flips and 90° rotations", "early_stopping": f"patience {config.patience} on "
              f"validation accuracy (fold {VALIDATION_FOLD} of train)", "tta": bool(options.tta),
              "precision": result.precision, "inference_precision": inference_precision,
              "trained_on": split.TRAIN, "normalization": normalise}
    record = context.save_approach(
        records.FINETUNE, images.loc[predicted, "image_id"].tolist(), proba[predicted], model_key=spec.name,
        model=spec.name, pretrained=about["pretrained"], params=params, diagnostics=diagnostics,
        wall_time_s=round(time.perf_counter() - started, 3), device=str(device), weights=source, checkpoint_file=diagnostics["checkpoint_file"],
        precision=inference_precision, train_estimate=validation_accuracy(result.history, result.best_epoch))
    context.remove_file(training_path.relative_to(context.path))  # finished: the optimizer state is not needed
    return record



def validation_accuracy(history: Sequence[dict], best_epoch: int | None) -> float | None:
    """Accuracy on the validation fold (part of train) at the kept epoch: the training-part estimate
    of a fine-tuned network (:func:`analysis.core.records.training_estimate`)."""
    kept = [row.get("val_accuracy") for row in history if row.get("epoch") == best_epoch]
    return float(kept[0]) if kept and kept[0] is not None else None


STAGE = Stage("finetune", "every --convnext model: training, predictions, features, map", FineTuneOptions,
              finetune, units=units, done=is_done, inputs=inputs, check=check_options, describe=lambda spec: spec.name)
