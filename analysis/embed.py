"""CLIP image and text embeddings: model loading, batched extraction and a resumable on-disk cache.

A CLIP model is named by a spec, ``MODEL:PRETRAINED``: an open_clip architecture and either a
pretrained tag (``ViT-B-32-quickgelu:laion400m_e32``), a local checkpoint file
(``ViT-B-32:/models/vit-b-32.safetensors``, for machines without internet) or ``random`` (random
weights, seeded: the demo and the tests). ``CornLens-Tiny`` is a tiny registered architecture
(``analysis/model_configs``) that keeps the demo and the tests fast through the same code path.

Embeddings are cached on disk (``$CORNLENS_CACHE``, default ``~/.cache/cornlens``), keyed by the
model, its weights, the preprocessing, the numeric precision and each image's content hash. Images
are computed in fixed chunks and every finished chunk is written at once, so an interrupted run
resumes from the last finished chunk and ends with exactly the embeddings of an uninterrupted one,
and a second run makes no model call at all (the model is not even loaded).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlparse

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_dict

from analysis import bundle
from analysis.data import load_rgb
from analysis.progress import progress

log = logging.getLogger(__name__)

CACHE_ENV = "CORNLENS_CACHE"
DEFAULT_CACHE = Path("~/.cache/cornlens")
CONFIG_DIR = Path(__file__).with_name("model_configs")
TINY_MODEL = "CornLens-Tiny"
RANDOM_WEIGHTS = "random"
DEVICES = ("auto", "cpu", "cuda", "mps")
HUB_PROBE_SECONDS = 3.0
CACHE_FORMAT = 1  # bump when the meaning of cached arrays changes
CHUNK_IMAGES = 256  # images per cache chunk: the most work an interrupted run can lose


class ModelError(Exception):
    """A CLIP model cannot be loaded or run; the message names the model and says what to do."""


def register_model_configs() -> None:
    """Make the architectures in ``analysis/model_configs`` (``CornLens-Tiny``) known to open_clip."""
    if TINY_MODEL not in open_clip.list_models():
        open_clip.add_model_config(CONFIG_DIR)


register_model_configs()


# --- naming models --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipSpec:
    """What ``--clip`` names: an open_clip architecture and where its weights come from.

    ``pretrained`` is a pretrained tag, a checkpoint path, or ``random``.
    """

    model: str
    pretrained: str

    @property
    def checkpoint(self) -> Path | None:
        """The local checkpoint file, when the weights come from one."""
        if self.pretrained == RANDOM_WEIGHTS or open_clip.get_pretrained_cfg(self.model, self.pretrained):
            return None
        return Path(self.pretrained).expanduser()

    @property
    def key(self) -> str:
        """The model key of the bundle: ``model:tag`` or ``model:checkpoint stem``."""
        checkpoint = self.checkpoint
        return f"{self.model}:{checkpoint.stem if checkpoint else self.pretrained}"


def parse_spec(text: str) -> ClipSpec:
    """Parse ``MODEL:PRETRAINED`` (a tag, a checkpoint path or ``random``) and check that it can exist.

    Raises:
        ModelError: unknown architecture, unknown tag, or a checkpoint file that is missing.
    """
    if text.startswith(("hf-hub:", "local-dir:")):
        raise ModelError(f"--clip {text!r}: hub repositories and folders are not taken directly; download the "
                         "repository's open_clip_pytorch_model.bin (or .safetensors) and pass "
                         "--clip ARCHITECTURE:/path/to/that/file, ARCHITECTURE as in its open_clip_config.json.")
    model, separator, pretrained = text.strip().partition(":")
    if not separator or not model or not pretrained:
        raise ModelError(f"--clip {text!r}: expected MODEL:PRETRAINED, e.g. ViT-B-32-quickgelu:laion400m_e32, "
                         f"MODEL:/path/to/checkpoint.pt for a local file, or MODEL:{RANDOM_WEIGHTS} for random "
                         "weights. `python -c \"import open_clip; print(open_clip.list_pretrained())\"` lists pairs.")
    if model not in open_clip.list_models():
        close = difflib.get_close_matches(model, open_clip.list_models(), n=3)
        raise ModelError(f"--clip {text!r}: open_clip has no architecture {model!r}"
                         + (f"; did you mean {', '.join(close)}?" if close else "."))
    spec = ClipSpec(model, pretrained)
    checkpoint = spec.checkpoint
    if checkpoint is not None and not checkpoint.is_file():
        tags = open_clip.list_pretrained_tags_by_model(model)
        raise ModelError(f"--clip {text!r}: {pretrained!r} is neither a pretrained tag of {model} "
                         f"({', '.join(tags) or 'it has none'}) nor an existing checkpoint file.")
    return spec


# --- devices --------------------------------------------------------------------------------------

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


# --- weights and preprocessing --------------------------------------------------------------------

def preprocess_config(spec: ClipSpec) -> dict:
    """The inference preprocessing open_clip uses for this model and weights, without loading them.

    Defaults, overridden by the pretrained tag's own (mean, std, interpolation, resize mode), sized
    to the architecture's input — the same merge as ``open_clip.create_model``.
    """
    config = asdict(PreprocessCfg())
    tag = open_clip.get_pretrained_cfg(spec.model, spec.pretrained)
    if tag:
        config = merge_preprocess_dict(config, tag)
    size = open_clip.get_model_config(spec.model)["vision_cfg"].get("image_size", config["size"])
    config["size"] = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in config.items()}


def image_transform(spec: ClipSpec):
    """The torchvision transform of :func:`preprocess_config` (PIL image → normalised tensor)."""
    config = {key: tuple(value) if isinstance(value, list) else value
              for key, value in preprocess_config(spec).items()}
    return image_transform_v2(PreprocessCfg(**config), is_train=False)


def weights_identity(spec: ClipSpec, seed: int = 0) -> dict:
    """What identifies the weights in the cache key: the tag, the checkpoint file, or the seed."""
    checkpoint = spec.checkpoint
    if checkpoint is not None:
        stat = checkpoint.resolve().stat()
        return {"checkpoint": str(checkpoint.resolve()), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if spec.pretrained == RANDOM_WEIGHTS:
        return {"random_seed": seed, "open_clip": open_clip.__version__, "torch": torch.__version__}
    return {"tag": spec.pretrained}


def _hub_files(spec: ClipSpec) -> tuple[str, list[str]] | None:
    """(repo id, candidate file names) of a tag's weights on the Hugging Face hub, if it has them there."""
    hub = open_clip.get_pretrained_cfg(spec.model, spec.pretrained).get("hf_hub", "")
    if not hub:
        return None
    repo_id, filename = os.path.split(hub)  # "org/repo/" names the repo's default file
    filename = filename or open_clip.pretrained.HF_WEIGHTS_NAME
    safe = getattr(open_clip.pretrained, "_get_safe_alternatives", lambda name: [])
    return repo_id, [*safe(filename), filename]


def cached_weights(spec: ClipSpec) -> Path | None:
    """The tag's weights file when it is already downloaded (hub cache or open_clip's URL cache)."""
    from huggingface_hub import try_to_load_from_cache

    hub = _hub_files(spec)
    if hub is not None:
        repo_id, names = hub
        for name in names:
            found = try_to_load_from_cache(repo_id, name)
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
    url = open_clip.get_pretrained_cfg(spec.model, spec.pretrained).get("url", "")
    if url:
        target = Path("~/.cache/clip").expanduser() / os.path.basename(url)
        if target.is_file():
            return target
    return None


def download_problems(urls: Sequence[str], timeout: float = HUB_PROBE_SECONDS) -> list[str | None]:
    """For each URL, why its file cannot be downloaded now, or None when a HEAD request succeeds.

    One request per file, all at once, with a timeout and no retries (a hub client retries for
    about a minute before giving up). It asks for the file itself, since a proxy or sandbox may
    answer for any host. Threads, because name resolution ignores socket timeouts.
    """
    outcomes: dict[int, str | None] = {}

    def probe(index: int, url: str) -> None:
        host = urlparse(url).hostname
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                outcomes[index] = None
        except urllib.error.HTTPError as error:
            outcomes[index] = f"{host} answered HTTP {error.code} ({error.reason})"
        except (OSError, ValueError) as error:
            outcomes[index] = f"{host} cannot be reached ({getattr(error, 'reason', error)})"

    threads = [threading.Thread(target=probe, args=(index, url), daemon=True) for index, url in enumerate(urls)]
    deadline = time.monotonic() + timeout + 0.5
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [outcomes[index] if index in outcomes else
            f"{urlparse(url).hostname} did not answer within {timeout:.0f} s" for index, url in enumerate(urls)]


def _unreachable_message(spec: ClipSpec, why: str) -> str:
    hub = _hub_files(spec)
    where = f"https://huggingface.co/{hub[0]} ({' or '.join(hub[1])})" if hub else \
        open_clip.get_pretrained_cfg(spec.model, spec.pretrained).get("url", "the open_clip release page")
    return (f"cannot load CLIP weights {spec.model}:{spec.pretrained}: {why}, and they are not in the local "
            f"cache. Without internet, download the checkpoint on another machine from {where}, copy it "
            f"here and pass it as --clip {spec.model}:/path/to/checkpoint (a .bin, .pt or .safetensors file).")


def locate_weights(spec: ClipSpec) -> str | None:
    """The ``pretrained`` argument for open_clip: a local file when one exists, else the tag to download.

    Fails at once (no minute of retries) when the weights would have to come from a hub that is
    switched off (``HF_HUB_OFFLINE``) or cannot be reached.

    Raises:
        ModelError: the weights are not here and cannot be downloaded.
    """
    if spec.pretrained == RANDOM_WEIGHTS:
        return None
    if spec.checkpoint is not None:
        return str(spec.checkpoint)
    found = cached_weights(spec)
    if found is not None:
        return str(found)  # a file path: open_clip then makes no network call at all
    from huggingface_hub import constants, hf_hub_url

    hub = _hub_files(spec)
    if hub is not None:
        if constants.HF_HUB_OFFLINE:
            raise ModelError(_unreachable_message(spec, "the Hugging Face hub is switched off (HF_HUB_OFFLINE=1)"))
        urls = [hf_hub_url(hub[0], name) for name in hub[1]]
    else:
        urls = [open_clip.get_pretrained_cfg(spec.model, spec.pretrained)["url"]]
    problems = download_problems(urls)
    if None in problems:
        return spec.pretrained  # open_clip downloads the first file that exists
    raise ModelError(_unreachable_message(spec, problems[0]))


@contextlib.contextmanager
def _logging_disabled(level: int) -> Iterator[None]:
    previous = logging.root.manager.disable
    logging.disable(max(level, previous))
    try:
        yield
    finally:
        logging.disable(previous)


def load_model(spec: ClipSpec, device: torch.device, seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The open_clip model (eval mode, on ``device``) and its tokenizer.

    Random weights are seeded, so ``MODEL:random`` is the same model in every run.

    Raises:
        ModelError: the weights or the tokenizer cannot be found, downloaded or read.
    """
    pretrained = locate_weights(spec)
    tag = open_clip.get_pretrained_cfg(spec.model, spec.pretrained)
    # open_clip only warns when a tag was trained with QuickGELU and the architecture lacks it
    # (ViT-B-32:openai): follow the weights, or the features are quietly wrong.
    quick_gelu = bool(tag.get("quick_gelu")) and not open_clip.get_model_config(spec.model).get("quick_gelu")
    # open_clip logs every step on the root logger; keep its warnings, except the expected one
    # ("initialized randomly") when random weights were asked for.
    quiet = logging.WARNING if spec.pretrained == RANDOM_WEIGHTS else logging.INFO
    try:
        with torch.random.fork_rng(devices=[]), _logging_disabled(quiet):
            torch.manual_seed(seed)
            model = open_clip.create_model(spec.model, pretrained=pretrained, device=device,
                                           force_quick_gelu=quick_gelu, pretrained_text=False)
        with _logging_disabled(logging.INFO):
            tokenizer = open_clip.get_tokenizer(spec.model)
    except ModelError:
        raise
    except Exception as error:  # open_clip raises RuntimeError, OSError, hub errors, KeyError for bad files
        raise ModelError(f"cannot load CLIP model {spec.model}:{spec.pretrained} ({type(error).__name__}: "
                         f"{error}). For a local checkpoint, pass --clip {spec.model}:/path/to/checkpoint; "
                         "it must match the architecture.") from error
    model.eval()
    return model, tokenizer


# --- encoding -------------------------------------------------------------------------------------

def encode_batch(model: torch.nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Image embeddings of one batch and, for ViT towers, the pooled features before the projection.

    Returns:
        (embeddings of shape (batch, embed_dim) — ``model.encode_image`` —, features of shape
        (batch, width) or None when the tower has no separate projection).
    """
    visual = model.visual
    if (isinstance(visual, open_clip.transformer.VisionTransformer) and visual.proj is not None
            and not visual.output_tokens and hasattr(visual, "_embeds") and hasattr(visual, "_pool")):
        # VisionTransformer.forward split at the projection (tests check it equals encode_image).
        pooled, _ = visual._pool(visual.transformer(visual._embeds(images)))
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


# --- the cache ------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def _digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class EmbeddingCache:
    """One folder of ``.npz`` chunks for one model identity: content key → row of arrays.

    Chunks are written atomically and never modified, so a killed writer leaves only whole chunks.
    """

    def __init__(self, folder: Path, identity: dict):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "identity.json"
        if not meta.exists():
            bundle.write_json(meta, identity)

    def load(self, prefix: str) -> dict[str, dict[str, np.ndarray]]:
        """Every stored row of the chunks named ``prefix-*.npz``: key → {array name: row}."""
        rows: dict[str, dict[str, np.ndarray]] = {}
        for path in sorted(self.folder.glob(f"{prefix}-*.npz")):
            try:
                with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as chunk:
                    arrays = {name: chunk[name] for name in chunk.files if name != "keys"}
                    for index, key in enumerate(chunk["keys"].tolist()):
                        rows[key] = {name: array[index] for name, array in arrays.items()}
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
                log.warning("%s: damaged cache chunk ignored and recomputed (%s)", path, error)
        return rows

    def store(self, prefix: str, keys: Sequence[str], arrays: dict[str, np.ndarray]) -> None:
        path = self.folder / f"{prefix}-{_digest(list(keys))[:16]}.npz"
        with bundle.atomic_path(path) as temporary:
            with open(temporary, "wb") as handle:
                np.savez(handle, keys=np.asarray(keys, dtype=str), **arrays)


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
    _loaded: tuple[torch.nn.Module, Any] | None = field(default=None, repr=False)

    @classmethod
    def from_text(cls, text: str, device: str = "auto", seed: int = 0, cache_dir: Path | None = None) -> "ClipModel":
        return cls(parse_spec(text), resolve_device(device), seed, cache_dir)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def precision(self) -> str:
        return precision_for(self.device)

    def identity(self) -> dict:
        """Everything the cached numbers depend on."""
        return {"format": CACHE_FORMAT, "model": self.spec.model, "weights": weights_identity(self.spec, self.seed),
                "preprocess": preprocess_config(self.spec), "precision": self.precision}

    @property
    def cache(self) -> EmbeddingCache:
        identity = self.identity()
        root = (self.cache_dir or default_cache_dir()) / "clip"
        return EmbeddingCache(root / f"{bundle.file_stem(self.key)}-{_digest(identity)[:12]}", identity)

    def model(self) -> tuple[torch.nn.Module, Any]:
        """(open_clip model, tokenizer), loaded on first use."""
        if self._loaded is None:
            started = time.perf_counter()
            self._loaded = load_model(self.spec, self.device, self.seed)
            log.info("%s: model loaded on %s in %.1f s", self.key, self.device, time.perf_counter() - started)
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
        chunk_size = max(batch_size, -(-chunk_size // batch_size) * batch_size)
        chunks = [[content for content in unique[start:start + chunk_size] if content in missing]
                  for start in range(0, len(unique), chunk_size)]
        chunks = [chunk for chunk in chunks if chunk]
        todo = [content for chunk in chunks for content in chunk]
        batches, batch_chunk, offset = [], [], 0
        for number, chunk in enumerate(chunks):
            for start in range(0, len(chunk), batch_size):
                batches.append(list(range(offset + start, offset + min(start + batch_size, len(chunk)))))
                batch_chunk.append(number)
            offset += len(chunk)
        model, _ = self.model()
        files = ImageFiles([first_path[content] for content in todo], image_transform(self.spec))
        workers = min(workers, len(batches), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1)
        loader = torch.utils.data.DataLoader(files, batch_sampler=batches, num_workers=workers,
                                             pin_memory=self.device.type == "cuda",
                                             persistent_workers=False, prefetch_factor=4 if workers else None)
        parts: dict[str, list[np.ndarray]] = {"embeddings": [], "features": []}
        bar = progress(None, total=len(todo), desc=f"{self.key} images", unit="img",  # type: ignore[arg-type]
                       disable=not show_progress)
        try:
            with worker_errors(ModelError), torch.inference_mode(), autocast(self.device, self.precision):
                for number, batch in enumerate(loader):
                    embeddings, features = encode_batch(model, batch.to(self.device, non_blocking=True))
                    parts["embeddings"].append(embeddings.float().cpu().numpy())
                    if features is not None:
                        parts["features"].append(features.float().cpu().numpy())
                    bar.update(len(batch))
                    last_of_chunk = number + 1 == len(batches) or batch_chunk[number + 1] != batch_chunk[number]
                    if last_of_chunk:
                        chunk = chunks[batch_chunk[number]]
                        cache.store("images", chunk, {name: np.concatenate(arrays)
                                                      for name, arrays in parts.items() if arrays})
                        parts = {"embeddings": [], "features": []}
        finally:
            bar.close()


def normalize(array: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    array = np.asarray(array, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.where(norms == 0, 1, norms)

