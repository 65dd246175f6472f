"""Compile UMAP's numba functions into the on-disk cache ($NUMBA_CACHE_DIR) on a small random map, so that a
`run` started alongside (benchmarks/gpu_seed_table.sh) finds them compiled. Prints its time."""

import time
import warnings

import numpy as np

started = time.perf_counter()
import umap  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    points = np.random.default_rng(0).normal(size=(400, 64)).astype(np.float32)
    reducer = umap.UMAP(n_components=2, n_neighbors=15, metric="cosine", random_state=0, transform_seed=0)
    reducer.fit_transform(points)
    reducer.transform(points[:8])
print(f"UMAP compiled and ran in {time.perf_counter() - started:.1f} s")
