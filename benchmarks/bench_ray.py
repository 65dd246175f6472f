"""Images per second of CLIP extraction and image statistics, local vs ``--ray``, on this machine.

The cost of Ray on one small machine: the same synthetic 224-px kernels and the same model
(``ViT-B-32-quickgelu:random``, a real architecture with random weights, fp32, CPU) through
``ClipModel.image_embeddings`` with an empty cache, once in this process (DataLoader workers decode)
and once on a Ray instance started here with one model replica per CPU (``run --ray``). Three
figures per engine:

- **start** — for Ray, ``ray.init`` (once per command); locally nothing;
- **CLIP** — wall time of the whole extraction, Ray's actors starting (each imports torch and loads
  the model) included, as a user waits for it; images per second;
- **image statistics** — :func:`analysis.data.imagestats.compute_table`, threads vs Ray tasks.

The embeddings of both are compared (bitwise equal on CPU fp32). On a shared 2-core machine the
figures move with the load, which is printed; what they show is Ray's fixed cost (seconds to start
replicas) against its per-image cost (none to speak of), not a cluster's speed-up.

    python benchmarks/bench_ray.py [--images 512] [--batch-size 64] [--cpus 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from analysis.data import engine, imagestats  # noqa: E402
from analysis.models import clip_weights, embed  # noqa: E402
from bench_extraction import MODEL, write_images  # noqa: E402


def timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs of the Ray instance (default all)")
    args = parser.parse_args()
    print(f"{MODEL}, {args.images} images of 224 px, batch {args.batch_size}, fp32 on CPU, torch "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as temporary:
        folder = Path(temporary)
        (folder / "images").mkdir()
        paths = write_images(folder / "images", args.images)
        spec = clip_weights.parse_spec(MODEL)

        def clip_run(cache: str, cluster: engine.RayEngine | None):
            clip = embed.ClipModel(spec, torch.device("cpu"), cache_dir=folder / cache, engine=cluster)
            return clip.image_embeddings(paths, batch_size=args.batch_size, workers=1, show_progress=False)

        local_clip_s, local = timed(lambda: clip_run("local", None))
        local_stats_s, local_stats = timed(lambda: imagestats.compute_table(paths, show_progress=False))

        import ray

        start_s, _ = timed(lambda: ray.init(num_cpus=args.cpus, include_dashboard=False,
                                            logging_level="WARNING", log_to_driver=False))
        cluster = engine.RayEngine(engine.LOCAL)
        cluster.connect()
        ray_clip_s, remote = timed(lambda: clip_run("ray", cluster))
        ray_stats_s, ray_stats = timed(lambda: imagestats.compute_table(paths, show_progress=False, engine=cluster))
        # a second extraction on the same instance: actors start again (one pipeline per model and run)
        ray_clip_again_s, _ = timed(lambda: clip_run("ray-again", cluster))
        ray.shutdown()

    print(f"{'':<22}{'local':>12}{'Ray':>12}")
    print(f"{'start (s)':<22}{0:>12.1f}{start_s:>12.1f}")
    for name, (here, there) in {"CLIP (s)": (local_clip_s, ray_clip_s),
                                "CLIP again (s)": (local_clip_s, ray_clip_again_s),
                                "image statistics (s)": (local_stats_s, ray_stats_s)}.items():
        print(f"{name:<22}{here:>12.1f}{there:>12.1f}")
    print(f"{'CLIP img/s':<22}{args.images / local_clip_s:>12.1f}{args.images / ray_clip_s:>12.1f}")
    print(f"{'statistics img/s':<22}{args.images / local_stats_s:>12.1f}{args.images / ray_stats_s:>12.1f}")
    print(f"embeddings bitwise equal: {np.array_equal(local.embeddings, remote.embeddings)}; "
          f"statistics equal: {local_stats.equals(ray_stats)}")


if __name__ == "__main__":
    main()
