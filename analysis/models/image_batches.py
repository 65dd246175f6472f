"""Image files to tensors in DataLoader workers, and errors raised in those workers kept readable."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Sequence

import torch

from analysis.data.loading import load_rgb
from analysis.models.devices import ModelError


@contextlib.contextmanager
def worker_errors(*error_types: type[Exception]) -> Iterator[None]:
    """Keep the user's message of an error raised in a DataLoader worker.

    torch re-raises it in the main process with "Caught ... in DataLoader worker" and the worker's
    whole traceback as its message; this raises the same type with the original message alone.
    """
    try:
        yield
    except error_types as error:
        lines = str(error).strip().splitlines()
        if len(lines) < 2 or not lines[0].startswith("Caught "):
            raise  # raised in this process: the message is already the user's
        name = f"{type(error).__module__}.{type(error).__qualname__}: "
        raise type(error)(lines[-1].removeprefix(name)) from None


class ImageFiles(torch.utils.data.Dataset):
    """Decodes and preprocesses image files in DataLoader workers, overlapped with the model."""

    def __init__(self, paths: Sequence[Path], transform):
        self.paths = list(paths)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        try:
            return self.transform(load_rgb(self.paths[index]))
        except OSError as error:
            raise ModelError(f"{self.paths[index]}: cannot be read for embedding ({error}); it changed since "
                             "the dataset was validated. Run `python -m analysis validate`.") from error
