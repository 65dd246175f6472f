"""Exact k nearest neighbours by cosine as torch matrix products: on every CPU core, or on the GPU.

The same answer as scikit-learn's ``NearestNeighbors(metric="cosine", algorithm="brute")`` (tested):
unit rows, one matrix product per block of queries, the ``k`` largest similarities kept. It serves the
ladder's kNN rung and the neighbour graph of the UMAP maps (``search`` of
:func:`analysis.models.projection.project`), which nearest-neighbour descent otherwise builds on one
core after a long first compile (UMAP runs single-threaded when seeded).

Deterministic: for the same input and device the same neighbours in the same order (equal
similarities among those ``topk`` returns: the lower row first; which of more than ``k + 1`` exact
ties, such as identical images, are kept is ``torch.topk``'s own, repeatable, choice). A GPU's float sums may differ from a CPU's in the last bits, so a
near-tie can order differently there; each device repeats its own answer exactly.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import torch

# Similarities held at once per block of queries (float32). At 17,801 points a block is ~940 queries, a
# product as fast per query as one of 4 times the size (2.6 s for every point's 15 neighbours on 2 cores,
# either way); 256 MiB blocks, two of them alive at once, made the map the peak of `run`'s ConvNeXt stage.
BLOCK_BYTES = 64 * 2**20
# Exact neighbours of every point cost n² products: on a CPU up to this many points (17,800 on 2 cores:
# seconds, where UMAP's own search first compiles for a minute); beyond it an approximate search is
# faster there. On a GPU always exact.
EXACT_ON_CPU = 40_000
Search = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def unit(rows: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """float32 rows on ``device`` scaled to unit L2 norm (zero rows stay zero)."""
    tensor = torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float32)).to(device)
    return tensor / tensor.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)


def kneighbors(queries: np.ndarray, candidates: np.ndarray, k: int, device: str | torch.device = "cpu",
               skip_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` candidates nearest (cosine) to each query.

    Args:
        queries: ndarray of shape (n_queries, dim), any norm.
        candidates: ndarray of shape (n_candidates, dim), any norm.
        k: neighbours per query (at most ``n_candidates``, one fewer with ``skip_self``).
        device: where the products run (``cpu``, ``cuda``…).
        skip_self: ``queries`` are ``candidates``: a row is never its own neighbour.

    Returns:
        (indices, distances): int64 ndarray of shape (n_queries, k), candidate rows nearest first,
        and float32 cosine distances (1 − cosine similarity) beside them.
    """
    device = torch.device(device)
    k = min(k, len(candidates) - (1 if skip_self else 0))
    if k <= 0 or not len(queries):
        return np.zeros((len(queries), max(k, 0)), np.int64), np.zeros((len(queries), max(k, 0)), np.float32)
    bank = unit(candidates, device)
    block = max(1, BLOCK_BYTES // (4 * len(candidates)))
    indices, distances = [], []
    with torch.no_grad():
        for start in range(0, len(queries), block):
            rows = unit(queries[start:start + block], device)
            similarities = rows @ bank.T
            if skip_self:
                similarities[torch.arange(len(rows), device=device), torch.arange(start, start + len(rows), device=device)] = -torch.inf
            # one more than asked, so that a tie at the k-th place is seen and broken by row below
            top = torch.topk(similarities, min(k + 1, similarities.shape[1]), dim=1, sorted=True)
            indices.append(top.indices.cpu().numpy())
            distances.append(top.values.cpu().numpy())
            del similarities, top  # freed before the next block is built: one block held at a time, not two
    found, similarity = np.concatenate(indices), np.concatenate(distances)
    order = np.lexsort((found, -similarity), axis=1)[:, :k]  # by similarity, then the lower row
    found, similarity = np.take_along_axis(found, order, 1), np.take_along_axis(similarity, order, 1)
    return found.astype(np.int64), np.clip(1.0 - similarity, 0.0, 2.0).astype(np.float32)  # as scikit-learn clips


def search_for(device: str | torch.device, n_points: int) -> Search | None:
    """:func:`kneighbors` on ``device`` for a neighbour graph of ``n_points`` points; None on a CPU
    above :data:`EXACT_ON_CPU` points (the caller's approximate search is faster there)."""
    if torch.device(device).type == "cpu" and n_points > EXACT_ON_CPU:
        return None
    return functools.partial(kneighbors, device=torch.device(device))
