"""`run --ray` (issue 27): extraction and inference on a real Ray cluster give the local run's bundle.

The cluster is Ray's own multi-node test cluster on 127.0.0.1 (``ray.cluster_utils.Cluster``): two
nodes of one CPU each, the honest stand-in for two machines. Starting it and its actors (each
imports torch) takes most of a minute on two cores, so the cluster is made once for the module and
the tests are marked ``slow`` and ``ray`` (``-m "not ray"`` leaves them out; CI runs them).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import commands, demo
from analysis.core import bundle, runfile
from analysis.core.options import RunOptions
from analysis.core.paths import demo_data_folder
from analysis.data import engine, imagestats, synthetic
from analysis.models import embed
from analysis.stages import runner

TINY_CLIP = "CornLens-Tiny:random"
OBJECT_STORE = 100 * 2**20  # bytes per node: the test images are small


@pytest.fixture(scope="module")
def cluster():
    """Two one-CPU Ray nodes on this machine, this process connected to them."""
    ray = pytest.importorskip("ray", reason='Ray is an extra: pip install -e ".[dev]" installs it')
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": OBJECT_STORE,
                                                          "include_dashboard": False})
    nodes.add_node(num_cpus=1, object_store_memory=OBJECT_STORE)
    nodes.wait_for_nodes()
    engine.RayEngine(nodes.address).connect()
    yield nodes.address
    ray.shutdown()
    nodes.shutdown()


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> Path:
    """150 synthetic images (120 labelled, 30 test)."""
    return synthetic.write_dataset(tmp_path_factory.mktemp("ray-data"), 120, 30, seed=5, show_progress=False)


def bundle_contents(path: Path) -> dict:
    """What a bundle holds, without what says when and how long: approaches' metrics, predictions,
    embeddings, image statistics."""
    opened = bundle.open_bundle(path)
    approaches = {record["id"]: record["metrics"] for record in opened.approaches}
    predictions = {approach: pd.read_parquet(path / "predictions" / f"{bundle.file_stem(approach)}.parquet")
                   for approach in approaches}
    embeddings = {name: opened.embeddings(name) for name in opened.embedding_names()}
    return {"approaches": approaches, "predictions": predictions, "embeddings": embeddings,
            "stats": pd.read_parquet(path / imagestats.TABLE_FILE)}


def assert_same(ray_bundle: dict, local_bundle: dict) -> None:
    assert ray_bundle["approaches"] == local_bundle["approaches"]
    for approach, frame in local_bundle["predictions"].items():
        pd.testing.assert_frame_equal(ray_bundle["predictions"][approach], frame, check_exact=True)
    assert sorted(ray_bundle["embeddings"]) == sorted(local_bundle["embeddings"])
    for name, array in local_bundle["embeddings"].items():
        assert np.array_equal(ray_bundle["embeddings"][name], array), name  # bitwise: CPU, fp32
    pd.testing.assert_frame_equal(ray_bundle["stats"], local_bundle["stats"], check_exact=True)


@pytest.mark.slow
@pytest.mark.ray
def test_a_ray_run_with_a_worker_killed_mid_run_gives_the_local_bundle(cluster, demo_bundle, embedding_cache, tmp_path,
                                                                       monkeypatch):
    """The suite's demo bundle (300 images, tiny CLIP, ConvNeXt, every stage; built locally) made again
    with --ray on the two-node cluster, a CLIP replica killed on its second batch: the same bundle."""
    killed = tmp_path / "killed"

    class KilledOnce(embed.ImageTower):
        """The CLIP replica whose process dies on its second batch, once in the whole run."""

        calls = 0

        def __call__(self, arrays):
            KilledOnce.calls += 1
            if KilledOnce.calls == 2 and not killed.exists():
                killed.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__call__(arrays)

    monkeypatch.setattr(embed, "ImageTower", KilledOnce)  # defined here, so Ray ships the class by value
    options = demo.DEMO_OPTIONS | demo.TEST_OVERRIDES
    remote = runner.run(RunOptions(data=demo_data_folder(demo_bundle), out=tmp_path / "ray", demo=True,
                                   cache_dir=tmp_path / "ray-cache", show_progress=False, ray=cluster, **options))
    assert killed.exists(), "no CLIP replica was killed: the test did not test the retry"
    local_contents, ray_contents = bundle_contents(demo_bundle), bundle_contents(remote.path)
    assert_same(ray_contents, local_contents)
    images = pd.read_parquet(demo_bundle / "images.parquet")
    assert len(images) == 300 and len(ray_contents["stats"]) == 300 and len(ray_contents["approaches"]) >= 8

    # the cache the Ray run filled is the local run's cache: a rerun without --ray computes nothing
    ray_cache = {path.relative_to(tmp_path / "ray-cache") for path in (tmp_path / "ray-cache").rglob("*.npz")}
    assert ray_cache and ray_cache <= {path.relative_to(embedding_cache) for path in embedding_cache.rglob("*.npz")}
    again = embed.ClipModel.from_text(options["clip"][0], "auto", cache_dir=tmp_path / "ray-cache",  # as the run
                                      precision="auto").image_embeddings(
        [demo_data_folder(demo_bundle) / path for path in images["path"]], images["content_hash"].tolist(),
        show_progress=False)
    assert again.n_computed == 0 and again.n_cached == images["content_hash"].nunique()


@pytest.mark.slow
@pytest.mark.ray
def test_fp32_clip_embeddings_and_image_statistics_on_two_nodes_equal_the_local_ones(cluster, kernels, tmp_path):
    paths = sorted(kernels.rglob("*.png"))
    on_ray = engine.RayEngine(cluster)
    stats = imagestats.compute_table(paths, show_progress=False, engine=on_ray)
    pd.testing.assert_frame_equal(stats, imagestats.compute_table(paths, show_progress=False), check_exact=True)

    def embeddings(cache: str, cluster: engine.RayEngine | None) -> embed.ImageEmbeddings:
        clip = embed.ClipModel.from_text(TINY_CLIP, "cpu", cache_dir=tmp_path / cache, precision="fp32", engine=cluster)
        return clip.image_embeddings(paths, batch_size=16, chunk_size=64, show_progress=False)

    local, remote = embeddings("local", None), embeddings("ray", on_ray)
    assert remote.n_computed == len(paths) == 150
    assert np.array_equal(remote.embeddings, local.embeddings)  # bitwise, the last batch of 6 included
    assert (remote.features is None) == (local.features is None)


@pytest.mark.ray
def test_an_unreachable_cluster_fails_in_seconds_naming_the_address(kernels, tmp_path, capsys):
    pytest.importorskip("ray")
    started = time.perf_counter()
    code = commands.main(["run", "--data", str(kernels), "--out", str(tmp_path / "b"), "--ray", "127.0.0.1:9",
                          "--clip", TINY_CLIP, "-q"])
    elapsed = time.perf_counter() - started
    error = capsys.readouterr().err
    assert code == 1 and "127.0.0.1:9" in error and "cannot be reached" in error
    assert elapsed < 10, elapsed  # the promise: seconds, not Ray's minute of retries
    assert not (tmp_path / "b").exists()  # failed before any image was read


def test_without_ray_installed_one_line_says_how_to_install_it(kernels, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = commands.main(["run", "--data", str(kernels), "--out", str(tmp_path / "b"), "--ray", "-q"])
    error = capsys.readouterr().err
    assert code == 1 and error == 'error: Ray is not installed; install the extra with: pip install "cornlens[ray]"\n'


def test_ray_in_a_run_file_and_on_the_command_line(tmp_path):
    parser = commands.build_parser()
    run = next(action for action in parser._actions if hasattr(action, "choices") and action.choices
               and "run" in action.choices).choices["run"]
    (tmp_path / "run.toml").write_text('ray = "auto"\nray_actors = 3\nray_gpus = 0.5\n')
    assert runfile.read_run_file(tmp_path / "run.toml", run) == {"ray": "auto", "ray_actors": 3, "ray_gpus": 0.5}
    args = parser.parse_args(["run", "--data", "d", "--out", "o", "--ray"])
    assert args.ray == engine.LOCAL and engine.from_options(args.ray) == engine.RayEngine(engine.LOCAL)
    assert parser.parse_args(["run", "--data", "d", "--out", "o"]).ray is None
    # how the run was executed is not what the bundle holds: the recorded command is the local one
    assert "ray" not in runfile.effective_config(run, parser.parse_args(
        ["run", "--data", "d", "--out", "o", "--ray", "10.0.0.5:6379"]))


def test_actors_follow_the_cluster_or_the_options(monkeypatch):
    resources = {"CPU": 16.0, "GPU": 4.0}

    class FakeRay:
        @staticmethod
        def cluster_resources():
            return resources

    monkeypatch.setattr(engine.RayEngine, "connect", lambda self: FakeRay)
    assert engine.RayEngine().placement(on_gpu=True) == (4, {"num_gpus": 1.0, "num_cpus": 1})
    assert engine.RayEngine(gpus_per_actor=0.5).placement(on_gpu=True) == (8, {"num_gpus": 0.5, "num_cpus": 1})
    assert engine.RayEngine(actors=2).placement(on_gpu=True) == (2, {"num_gpus": 1.0, "num_cpus": 1})
    assert engine.RayEngine().placement(on_gpu=False) == (16, {"num_cpus": 1})
    assert engine.RayEngine().placement(on_gpu=False, threads=4) == (4, {"num_cpus": 1})
    resources = {"CPU": 16.0}
    with pytest.raises(engine.EngineError, match="0 GPUs.*--device cpu"):
        engine.RayEngine().placement(on_gpu=True)
