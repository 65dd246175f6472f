"""CLIP image and text embeddings: batched extraction through a resumable on-disk cache.

Embeddings are cached on disk (:mod:`analysis.models.embedding_cache`), keyed by the model, its weights,
the preprocessing, the numeric precision and each image's content hash. Images are computed in
fixed chunks and every finished chunk is written at once, so an interrupted run resumes from the
last finished chunk and ends with exactly the embeddings of an uninterrupted one, and a second run
makes no model call at all (the model is not even loaded).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import open_clip
import torch
import torch.nn.functional as F

from analysis.core import bundle
from analysis.models.clip_weights import ClipSpec, image_transform, load_model, parse_spec, preprocess_config, \
    weights_identity
from analysis.models.devices import ModelError, autocast, resolve_device, resolve_precision, weights_dtype
from analysis.core.jsonfile import digest
from analysis.models.embedding_cache import CACHE_FORMAT, EmbeddingCache, default_cache_dir
from analysis.data.engine import RayEngine
from analysis.models.image_batches import ImageFiles, worker_errors
from analysis.core.progress import progress

log = logging.getLogger(__name__)

CHUNK_IMAGES = 256  # images per cache chunk: the most work an interrupted run can lose


def encode_batch(model: torch.nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Image embeddings of one batch and, for ViT towers, the pooled features before the projection.

    With 16-bit weights, call it under :func:`analysis.models.devices.autocast` (as
    :meth:`ClipModel.image_embeddings` does): the ViT's residual stream is float32 and meets the
    weights only through autocast.

    Returns:
        (embeddings of shape (batch, embed_dim) — ``model.encode_image`` —, features of shape
        (batch, width) or None when the tower has no separate projection).
    """
    visual = model.visual
    if (isinstance(visual, open_clip.transformer.VisionTransformer) and visual.proj is not None
            and not visual.output_tokens and hasattr(visual, "_embeds") and hasattr(visual, "_pool")):
        # VisionTransformer.forward split at the projection (tests check it equals encode_image).
        # The residual stream is float32 even with 16-bit weights: under analysis.models.devices.autocast each
        # block's matmuls still run in 16 bits, but the sums that carry the component every image shares
        # keep their precision. With the stream in bf16, the features' per-image differences (what a
        # standardised probe sees) lost twice as much: benchmarks/bench_precision.py.
        pooled, _ = visual._pool(visual.transformer(visual._embeds(images).float()))
        return pooled @ visual.proj, pooled
    return model.encode_image(images), None


def encode_texts(model: torch.nn.Module, tokenizer: Any, texts: Sequence[str], device: torch.device,
                 precision: str = "fp32", batch_size: int = 256) -> np.ndarray:
    """L2-normalised text embeddings, ndarray of shape (len(texts), embed_dim), float32."""
    out = []
    with torch.inference_mode(), autocast(device, precision):
        for start in range(0, len(texts), batch_size):
            tokens = tokenizer(list(texts[start:start + batch_size])).to(device)
            out.append(F.normalize(model.encode_text(tokens).float(), dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


# --- the model as used by the pipeline ----------------------------------------------------------

@dataclass
class ImageEmbeddings:
    """Embeddings of a list of images, rows in the order asked for.

    ``embeddings``: ndarray (n_images, embed_dim), float32, as ``encode_image`` returns them (not
    normalised). ``features``: ndarray (n_images, width) before the projection, or None.
    """

    embeddings: np.ndarray
    features: np.ndarray | None
    n_computed: int
    n_cached: int
    seconds: float


@dataclass
class ClipModel:
    """A CLIP model whose weights are loaded only when something is not in the cache."""

    spec: ClipSpec
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    cache_dir: Path | None = None
    requested_precision: str = "fp32"  # --precision: auto, fp32, bf16 or fp16 (see analysis.models.devices)
    engine: RayEngine | None = None    # --ray: image embeddings on a Ray cluster (same batches, same numbers)
    _loaded: tuple[torch.nn.Module, Any] | None = field(default=None, repr=False)

    @classmethod
    def from_text(cls, text: str, device: str = "auto", seed: int = 0, cache_dir: Path | None = None,
                  precision: str = "fp32", engine: RayEngine | None = None) -> "ClipModel":
        return cls(parse_spec(text), resolve_device(device), seed, cache_dir, precision, engine)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def precision(self) -> str:
        """What the image tower runs at here: ``fp32``, ``bf16``, ``fp16``, ``amp_bfloat16`` or ``amp_float16``."""
        return resolve_precision(self.requested_precision, self.device)

    def identity(self) -> dict:
        """Everything the cached numbers depend on."""
        identity = {"format": CACHE_FORMAT, "model": self.spec.model, "weights": weights_identity(self.spec, self.seed),
                    "preprocess": preprocess_config(self.spec), "precision": self.precision}
        # below fp32, ViT towers keep their residual stream in fp32 (encode_batch); earlier chunks did not
        return identity if self.precision == "fp32" else identity | {"stream": "fp32"}

    @property
    def cache(self) -> EmbeddingCache:
        identity = self.identity()
        root = (self.cache_dir or default_cache_dir()) / "clip"
        return EmbeddingCache(root / f"{bundle.file_stem(self.key)}-{digest(identity, 12)}", identity)

    def model(self) -> tuple[torch.nn.Module, Any]:
        """(open_clip model, tokenizer), loaded on first use."""
        if self._loaded is None:
            started = time.perf_counter()
            self._loaded = load_model(self.spec, self.device, self.seed, self.precision)
            log.info("%s: model loaded on %s (%s) in %.1f s", self.key, self.device, self.precision,
                     time.perf_counter() - started)
        return self._loaded

    def text_embeddings(self, texts: Sequence[str]) -> tuple[np.ndarray, float]:
        """L2-normalised embeddings of ``texts`` and the model's logit scale (exp of the learned
        temperature), both through the cache.

        Returns:
            (ndarray of shape (len(texts), embed_dim), float32; logit scale).
        """
        cache = self.cache
        keys = [hashlib.sha1(text.encode()).hexdigest() for text in texts]
        stored = cache.load("texts")
        scale = cache.load("scale").get("logit_scale")
        missing = {key: text for key, text in zip(keys, texts) if key not in stored}
        if missing or scale is None:
            model, tokenizer = self.model()
            if missing:
                computed = encode_texts(model, tokenizer, list(missing.values()), self.device, self.precision)
                cache.store("texts", list(missing), {"embeddings": computed})
                stored.update({key: {"embeddings": row} for key, row in zip(missing, computed)})
            if scale is None:
                scale = {"value": np.float64(model.logit_scale.exp().item())}
                cache.store("scale", ["logit_scale"], {"value": np.array([scale["value"]])})
        rows = [stored[key]["embeddings"] for key in keys]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 0), np.float32), float(scale["value"])

    def image_embeddings(self, paths: Sequence[Path], content_hashes: Sequence[str] | None = None, *,
                         batch_size: int = 64, workers: int = 4, chunk_size: int | None = None,
                         show_progress: bool = True) -> ImageEmbeddings:
        """Embeddings of image files, computed in chunks through the cache.

        Args:
            paths: image files.
            content_hashes: sha1 of each file's bytes (``images.parquet`` ``content_hash``); computed
                when omitted. Byte-identical images are computed once.
            chunk_size: images per cache chunk, rounded up to whole batches (default
                :data:`CHUNK_IMAGES`): an interrupted run loses at most one chunk of work.

        Returns:
            :class:`ImageEmbeddings`, rows in ``paths`` order.
        """
        started = time.perf_counter()
        paths = [Path(path) for path in paths]
        hashes = list(content_hashes) if content_hashes is not None else \
            [hashlib.sha1(path.read_bytes()).hexdigest() for path in paths]
        first_path: dict[str, Path] = {}
        for path, content in zip(paths, hashes):
            first_path.setdefault(content, path)
        unique = list(first_path)
        cache = self.cache
        stored = cache.load("images")
        missing = [content for content in unique if content not in stored]
        log.info("%s: %d images, %d from the cache, %d to compute", self.key, len(unique),
                 len(unique) - len(missing), len(missing))
        if missing:
            self._compute(cache, unique, set(missing), first_path, batch_size, workers, chunk_size or CHUNK_IMAGES,
                          show_progress)
            stored = cache.load("images")
        embeddings = np.stack([stored[content]["embeddings"] for content in hashes]).astype(np.float32)
        has_features = all("features" in stored[content] for content in unique)
        features = np.stack([stored[content]["features"] for content in hashes]).astype(np.float32) \
            if has_features and hashes else None
        return ImageEmbeddings(embeddings, features, len(missing), len(unique) - len(missing),
                               time.perf_counter() - started)

    def _compute(self, cache: EmbeddingCache, unique: list[str], missing: set[str], first_path: dict[str, Path],
                 batch_size: int, workers: int, chunk_size: int, show_progress: bool) -> None:
        # Chunks are fixed slices of the full image list, so a resumed run recomputes exactly the
        # chunks (and batches) an uninterrupted run would have: identical numbers, not just close.
        # A Ray run forms the same batches, so its numbers are the local run's too.
        chunk_size = max(batch_size, -(-chunk_size // batch_size) * batch_size)
        chunks = [[content for content in unique[start:start + chunk_size] if content in missing]
                  for start in range(0, len(unique), chunk_size)]
        chunks = [chunk for chunk in chunks if chunk]
        batches: list[list[Path]] = []
        batch_chunk: list[int] = []
        for number, chunk in enumerate(chunks):
            for start in range(0, len(chunk), batch_size):
                batches.append([first_path[content] for content in chunk[start:start + batch_size]])
                batch_chunk.append(number)
        results = self._on_ray(batches, show_progress) if self.engine is not None else \
            self._here(batches, workers, show_progress)
        waiting = {number: batch_chunk.count(number) for number in range(len(chunks))}
        done: dict[int, dict[int, dict[str, np.ndarray]]] = {number: {} for number in range(len(chunks))}
        for batch, arrays in results:  # a chunk is stored as soon as its last batch is in, in batch order
            number = batch_chunk[batch]
            done[number][batch] = arrays
            if len(done[number]) == waiting[number]:
                parts = [arrays for _, arrays in sorted(done.pop(number).items())]
                cache.store("images", chunks[number], {name: np.concatenate([part[name] for part in parts])
                                                       for name in parts[0]})

    def _here(self, batches: list[list[Path]], workers: int, show_progress: bool
              ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """(batch number, embeddings) of every batch, computed in this process (DataLoader workers decode)."""
        model, _ = self.model()
        files = ImageFiles([path for batch in batches for path in batch], image_transform(self.spec))
        offsets = np.cumsum([0] + [len(batch) for batch in batches])
        sampler = [list(range(offsets[number], offsets[number + 1])) for number in range(len(batches))]
        workers = min(workers, len(batches), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1)
        loader = torch.utils.data.DataLoader(files, batch_sampler=sampler, num_workers=workers,
                                             pin_memory=self.device.type == "cuda",
                                             persistent_workers=False, prefetch_factor=4 if workers else None)
        bar = progress(None, total=len(files), desc=f"{self.key} images", unit="img",  # type: ignore[arg-type]
                       disable=not show_progress)
        try:
            with worker_errors(ModelError):
                for number, batch in enumerate(loader):
                    yield number, embed_batch(model, batch, self.device, self.precision)
                    bar.update(len(batch))
        finally:
            bar.close()

    def _on_ray(self, batches: list[list[Path]], show_progress: bool) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """(batch number, embeddings) of every batch, computed by model replicas on the Ray cluster."""
        threads = torch.get_num_threads()
        tower = functools.partial(ImageTower, self.spec, self.seed, self.precision, self.device.type, threads)
        return self.engine.map_batches(batches, functools.partial(read_images, self.spec), tower,
                                       on_gpu=self.device.type == "cuda", threads=threads,
                                       desc=f"{self.key} images", show_progress=show_progress)


def embed_batch(model: torch.nn.Module, images: torch.Tensor, device: torch.device, precision: str
                ) -> dict[str, np.ndarray]:
    """``embeddings`` (and ``features`` for ViT towers) of one preprocessed batch, float32 arrays."""
    with torch.inference_mode(), autocast(device, precision):
        embeddings, features = encode_batch(model, images.to(device, weights_dtype(precision), non_blocking=True))
    arrays = {"embeddings": embeddings.float().cpu().numpy()}
    return arrays if features is None else arrays | {"features": features.float().cpu().numpy()}


def read_images(spec: ClipSpec, paths: list[str]) -> dict[str, np.ndarray]:
    """One batch of image files, preprocessed for ``spec``: ``images``, ndarray (batch, 3, H, W)."""
    files = ImageFiles([Path(path) for path in paths], image_transform(spec))
    return {"images": torch.stack([files[index] for index in range(len(files))]).numpy()}


class ImageTower:
    """The image tower of one CLIP model in a Ray actor: loaded once, then one batch per call."""

    def __init__(self, spec: ClipSpec, seed: int, precision: str, device_type: str, threads: int):
        self.device = torch.device(device_type)  # on a GPU actor Ray shows it its own GPU(s) only
        if self.device.type == "cpu":
            torch.set_num_threads(threads)  # a small batch's sums depend on the thread count: the driver's
        self.precision = precision
        self.model, _ = load_model(spec, self.device, seed, precision)

    def __call__(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return embed_batch(self.model, torch.from_numpy(arrays["images"]), self.device, self.precision)


def normalize(array: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    array = np.asarray(array, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.where(norms == 0, 1, norms)
