"""ConvNeXt's images and inference, one batch at a time: the same code here and in a Ray actor.

:class:`KernelImages` resizes and normalises image files (with a random flip or quarter turn for
training); :func:`predict_batch` gives one batch's penultimate features and class probabilities;
:func:`predict_on_ray` sends the same batches to model replicas on a Ray cluster (``run --ray``).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from analysis.data import loading
from analysis.data.engine import RayEngine
from analysis.models import devices


def dihedral(images: torch.Tensor, index: int) -> torch.Tensor:
    """One of the eight flips and quarter turns of a batch (index 0 is the identity)."""
    turned = torch.rot90(images, index % 4, dims=(-2, -1))
    return torch.flip(turned, dims=(-1,)) if index >= 4 else turned


class KernelImages(torch.utils.data.Dataset):
    """Images resized to a square and normalised; a random flip/rotation when ``augment``."""

    def __init__(self, paths: Sequence[Path], targets: Sequence[int] | None, image_size: int,
                 mean: Sequence[float], std: Sequence[float], augment: bool = False):
        self.paths, self.targets, self.size, self.augment = list(paths), targets, image_size, augment
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from torchvision.transforms.v2 import functional as TF

        try:
            image = loading.load_rgb(self.paths[index])
        except OSError as error:
            raise loading.DatasetError(f"{self.paths[index]}: cannot be read any more ({error}); it was readable "
                                    "when the bundle was made. Restore it or rebuild the bundle.") from error
        tensor = TF.resize(TF.pil_to_tensor(image), [self.size, self.size], antialias=True)
        tensor = (tensor.float() / 255.0 - self.mean) / self.std
        if self.augment:
            tensor = dihedral(tensor, int(torch.randint(0, 8, ()).item()))
        return tensor, -1 if self.targets is None else int(self.targets[index])


@torch.inference_mode()
def predict_batch(model: torch.nn.Module, images: torch.Tensor, device: torch.device, precision: str,
                  tta: bool = False) -> dict[str, np.ndarray]:
    """``features`` (batch, num_features) of the un-augmented images and ``proba`` (batch, n_classes),
    averaged over the eight flips and quarter turns when ``tta``; the model is on ``device`` already."""
    images = images.to(device, devices.weights_dtype(precision), non_blocking=True)
    views, features = [], None
    for index in range(8 if tta else 1):
        with devices.autocast(device, precision):
            pooled = model.forward_head(model.forward_features(dihedral(images, index)), pre_logits=True)
            logits = model.get_classifier()(pooled)
        if index == 0:
            features = pooled.float().cpu().numpy()
        views.append(torch.softmax(logits.float(), dim=1))
    return {"features": features, "proba": torch.stack(views).mean(dim=0).cpu().numpy()}


def read_kernels(image_size: int, mean: list[float], std: list[float], paths: list[str]) -> dict[str, np.ndarray]:
    """One batch of image files as :class:`KernelImages` gives them: ``images`` (batch, 3, size, size)."""
    files = KernelImages([Path(path) for path in paths], None, image_size, mean, std)
    return {"images": torch.stack([files[index][0] for index in range(len(files))]).numpy()}


class KernelTower:
    """One ConvNeXt replica in a Ray actor: put on its device once, then one batch per call."""

    def __init__(self, model: torch.nn.Module, device_type: str, precision: str, tta: bool, threads: int):
        self.device, self.precision, self.tta = torch.device(device_type), precision, tta
        if self.device.type == "cpu":
            torch.set_num_threads(threads)  # a small batch's sums depend on the thread count: the driver's
        self.model = model.to(self.device, devices.weights_dtype(precision)).eval()

    def __call__(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return predict_batch(self.model, torch.from_numpy(arrays["images"]), self.device, self.precision, self.tta)


def predict_on_ray(engine: RayEngine, model: torch.nn.Module, dataset: KernelImages, device: torch.device,
                   batch_size: int, tta: bool, precision: str, desc: str, show_progress: bool) -> list[dict]:
    """:func:`predict_batch` of every batch of ``dataset`` (in order) by replicas of ``model`` on Ray."""
    batches = [dataset.paths[start:start + batch_size] for start in range(0, len(dataset), batch_size)]
    read = functools.partial(read_kernels, dataset.size, dataset.mean.flatten().tolist(), dataset.std.flatten().tolist())
    threads = torch.get_num_threads()
    replica = functools.partial(KernelTower, copy.deepcopy(model).cpu(), device.type, precision, tta, threads)
    done = dict(engine.map_batches(batches, read, replica, on_gpu=device.type == "cuda", threads=threads, desc=desc,
                                   show_progress=show_progress))
    return [done[number] for number in range(len(batches))]
