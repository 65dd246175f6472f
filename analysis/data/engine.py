"""Where per-image work runs when it outgrows one machine: a Ray cluster (``run --ray [ADDRESS]``).

The work is always a list of *batches* of image files, formed on this machine exactly as a local run
forms them. Each batch becomes one row of a Ray Data dataset; a reader (``read``) turns its files
into arrays, and, for a model, ``map_batches`` sends those rows to an actor pool in which each actor
builds the model once (``model``: a picklable factory) and runs it on one batch at a time. Because
a batch holds the same images as locally and each actor runs the same code, the numbers are the
local run's. Ray retries a batch whose worker died (actors restart); results stream back here, in
any order, under one progress bar. Nothing is written on the workers: the caller stores results on
this machine (the embedding cache, the bundle).

Ray is optional (``pip install "cornlens[ray]"``); this module imports it only when used.
"""

from __future__ import annotations

import logging
import math
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from analysis.core.progress import progress

log = logging.getLogger(__name__)

INSTALL = 'Ray is not installed; install the extra with: pip install "cornlens[ray]"'
LOCAL = "local"          # --ray with no address: start a Ray instance on this machine
AUTO = "auto"            # the cluster this machine belongs to (RAY_ADDRESS, or the one `ray start` made)
CONNECT_SECONDS = 8.0    # an unreachable address fails within this (plus Ray's own start-up)
Arrays = dict[str, np.ndarray]


class EngineError(Exception):
    """Ray is missing, or the cluster cannot be reached or used; the message says what to do."""


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (ray[data]: pyarrow and pandas, already dependencies)
    except ImportError as error:
        raise EngineError(INSTALL) from error
    return ray


def _check_reachable(address: str) -> None:
    """Fail in seconds when nothing listens at ``host:port`` (``ray.init`` would wait far longer)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--ray {address}: give a cluster address as HOST:PORT (e.g. 10.0.0.5:6379), "
                          "'auto' for the cluster this machine belongs to, or nothing to start one here.")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS / 2):
            pass
    except OSError as error:
        raise EngineError(f"--ray {address}: the Ray cluster at {address} cannot be reached ({error}). Is "
                          "`ray start --head` running there and is the port open from this machine?") from None


@dataclass(frozen=True)
class RayEngine:
    """A Ray cluster to run image batches on.

    ``address``: ``local`` (start Ray here), ``auto``, or ``HOST:PORT`` / ``ray://HOST:PORT``.
    ``actors``: model replicas (default: one per GPU share, else one per CPU). ``gpus_per_actor``:
    GPUs each replica holds when the model runs on CUDA (default 1; 0.5 puts two on a GPU).
    """

    address: str = LOCAL
    actors: int | None = None
    gpus_per_actor: float | None = None

    def connect(self) -> Any:
        """The ``ray`` module, connected (once per process; an already connected process is reused)."""
        ray = _import_ray()
        named = self.address not in (LOCAL, AUTO)
        if ray.is_initialized():
            if not named or ray.get_runtime_context().gcs_address == self.address.removeprefix("ray://"):
                return _quiet(ray)
            _check_reachable(self.address)  # another cluster than the one this process is connected to
            ray.shutdown()
        elif named:
            _check_reachable(self.address)
        started = time.perf_counter()
        try:
            if self.address == LOCAL:
                ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
            else:
                ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise EngineError(f"--ray {self.address}: cannot connect to the Ray cluster at {self.address} "
                              f"({error}).") from None
        log.info("Ray: connected to %s in %.1f s (%s)", self.address, time.perf_counter() - started,
                 ", ".join(f"{value:g} {name}" for name, value in sorted(ray.cluster_resources().items())
                           if name in ("CPU", "GPU")))
        return _quiet(ray)

    def placement(self, on_gpu: bool, threads: int = 1) -> tuple[int, dict[str, float]]:
        """(actors, resources of each actor) for a model on GPUs (``on_gpu``) or CPUs of the cluster;
        a CPU replica computing with ``threads`` threads counts for that many CPUs."""
        resources = self.connect().cluster_resources()
        if on_gpu:
            share = self.gpus_per_actor or 1.0
            fitting = math.floor(resources.get("GPU", 0) / share + 1e-9)
            if fitting < 1:
                raise EngineError(f"the model runs on CUDA but the Ray cluster at {self.address} has "
                                  f"{resources.get('GPU', 0):g} GPUs for actors of {share:g} GPU; add GPU "
                                  "nodes, or run with --device cpu.")
            return self.actors or fitting, {"num_gpus": share, "num_cpus": 1}
        return self.actors or max(1, int(resources.get("CPU", 1)) // max(1, threads)), {"num_cpus": 1}

    def map_batches(self, batches: Sequence[Sequence[str]], read: Callable[[list[str]], Arrays],
                    model: Callable[[], Callable[[Arrays], Arrays]] | None = None, *, on_gpu: bool = False,
                    threads: int = 1, desc: str = "images", show_progress: bool = True
                    ) -> Iterator[tuple[int, Arrays]]:
        """Run ``read`` (and ``model``) on every batch on the cluster; yield (batch number, arrays).

        Args:
            batches: image files per batch, as the local run batches them.
            read: files → arrays (e.g. ``{"images": ndarray (batch, 3, H, W)}``), run in Ray tasks.
            model: makes, once per actor, the function that turns ``read``'s arrays into results;
                ``None``: ``read``'s arrays are the results.
            on_gpu: the model runs on CUDA: each actor holds ``gpus_per_actor`` GPUs.
            threads: the threads a CPU replica computes with (fewer replicas for more threads).

        Yields:
            (index into ``batches``, arrays with one row per image), in the order batches finish.
        """
        ray = self.connect()
        rows = [{"batch": number, "paths": [str(path) for path in paths]} for number, paths in enumerate(batches)]
        if not rows:
            return
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map(_Reader(read))
        if model is not None:
            actors, resources = self.placement(on_gpu, threads)
            dataset = dataset.map_batches(_ModelActor, fn_constructor_args=(model,), batch_size=1,
                                          compute=ray.data.ActorPoolStrategy(size=min(actors, len(rows))),
                                          **resources)
        bar = progress(None, total=sum(map(len, batches)), desc=f"{desc} on Ray", unit="img",  # type: ignore[arg-type]
                       disable=not show_progress)
        try:
            for row in dataset.iter_rows():
                arrays = {name: np.asarray(value) for name, value in row.items() if name != "batch"}
                bar.update(len(batches[int(row["batch"])]))
                yield int(row["batch"]), arrays
        except ray.exceptions.RayError as error:
            raise _user_error(error) from None
        finally:
            bar.close()


def _quiet(ray: Any) -> Any:
    """``ray`` with Ray Data's own progress bars and INFO lines off: one bar for the whole cluster, ours."""
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


class _Reader:
    """A Ray Data row function: one batch row → its arrays (runs in Ray tasks, or fused into actors)."""

    def __init__(self, read: Callable[[list[str]], Arrays]):
        self.read = read

    def __call__(self, row: dict) -> dict:
        return {"batch": row["batch"], **self.read(list(row["paths"]))}


class _ModelActor:
    """A Ray Data actor: builds the model once, then maps batch rows (``batch_size=1``) through it."""

    def __init__(self, model: Callable[[], Callable[[Arrays], Arrays]]):
        self.run = model()

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inputs = {name: np.asarray(value[0]) for name, value in rows.items() if name != "batch"}
        return {"batch": rows["batch"], **{name: value[None] for name, value in self.run(inputs).items()}}


def _user_error(error: Exception) -> Exception:
    """The error raised in a worker (a ModelError naming an unreadable file, say), without Ray's wrapping."""
    cause = getattr(error, "cause", None)
    while cause is not None and getattr(cause, "cause", None) is not None:
        cause = cause.cause
    if isinstance(cause, Exception) and not type(cause).__module__.startswith("ray"):
        return cause
    return EngineError(f"the Ray run failed: {error}")


def from_options(address: str | None, actors: int | None = None, gpus_per_actor: float | None = None
                 ) -> RayEngine | None:
    """The engine of ``--ray [ADDRESS]`` / ``--ray-actors`` / ``--ray-gpus``; ``None`` for a local run."""
    if address is None:
        return None
    return RayEngine(address or LOCAL, actors, gpus_per_actor)
