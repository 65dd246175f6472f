"""The text tower of a bundle's CLIP space: rebuilt from what the bundle recorded, or a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.core import bundle
from analysis.stats import neighbours
from analysis.models import texttower

SPACE = "CornLens-Tiny:random"


def test_the_demo_bundle_rebuilds_its_own_text_tower(demo_bundle):
    """The page's tower gives the same class texts as `run` did: their cosine matrix, as the
    autopsy stored it, is reproduced (another seed or other weights would not)."""
    opened = bundle.open_bundle(demo_bundle)
    source = texttower.recorded_source(opened.manifest, SPACE)
    assert (source.model, source.pretrained, source.seed) == ("CornLens-Tiny", "random", 0)
    tower = texttower.load_text_tower(source)
    record = next(r for r in opened.approaches if r["id"] == f"zeroshot:{SPACE}:classname")
    templates, names = record["params"]["templates"], record["params"]["classnames"]
    classes = np.stack([neighbours.unit_rows(tower.encode([t.format(names[c]) for t in templates]).mean(0)[None])[0]
                        for c in opened.classes])
    stored = opened.diagnostics(f"autopsy:{SPACE}")["text_similarity_by_prompt_set"]["classname"]
    np.testing.assert_allclose(classes @ classes.T, stored, atol=1e-5)
    other = texttower.load_text_tower(texttower.TowerSource(SPACE, "CornLens-Tiny", "random", 1))
    assert not np.allclose(other.encode(["a broken corn kernel"]), tower.encode(["a broken corn kernel"]))


def test_a_phrase_ranks_the_image_whose_embedding_it_equals_first(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    index = neighbours.build_index(SPACE, opened.embeddings(SPACE), opened.images())
    tower = texttower.load_text_tower(texttower.recorded_source(opened.manifest, SPACE))
    text = tower.encode(["a broken corn kernel"])[0]
    planted = index.vectors.copy()
    planted[17] = text  # an image constructed to look exactly like the phrase
    ranked = neighbours.rank_by_vector(neighbours.NeighbourIndex(SPACE, planted, index.image_ids, index.labels,
                                                                 index.splits, index.candidates), text, top=5)
    assert ranked["image_id"].iloc[0] == index.image_ids[17]
    assert ranked["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-5)


def test_missing_weights_say_which_file_to_pass(demo_bundle, tmp_path):
    missing = tmp_path / "vit-b-32.safetensors"
    source = texttower.TowerSource("ViT-B-32:vit-b-32", "ViT-B-32", str(missing), 0)
    with pytest.raises(texttower.TowerUnavailable, match=f"checkpoint file {missing}, which is not on this machine"):
        texttower.load_text_tower(source)
    tagged = texttower.TowerSource("ViT-B-32-quickgelu:laion400m_e32", "ViT-B-32-quickgelu", "laion400m_e32", 0)
    with pytest.raises(texttower.TowerUnavailable, match="HF_HUB_OFFLINE.*Give the path of that checkpoint file"):
        texttower.load_text_tower(tagged)
    wrong = tmp_path / "not-a-checkpoint.pt"
    wrong.write_bytes(b"not weights")
    with pytest.raises(texttower.TowerUnavailable, match="not-a-checkpoint.pt cannot be used"):
        texttower.load_text_tower(tagged, str(wrong))


def test_a_space_without_its_model_is_named(demo_bundle):
    manifest = json.loads((demo_bundle / "manifest.json").read_text())
    with pytest.raises(texttower.TowerUnavailable, match="convnext_atto"):
        texttower.recorded_source(manifest, "convnext_atto")


def test_the_dashboard_reads_the_demos_shipped_weights_wherever_the_bundle_lies(tmp_path):
    """The demo bundle (`python -m analysis demo`) records CornLens's own weights file, inside the
    package: text search on the demo works from any results folder."""
    from analysis.models import demo_clip

    source = texttower.TowerSource("CornLens-Tiny:CornLens-Tiny-demo", "CornLens-Tiny", str(demo_clip.WEIGHTS), 0)
    tower = texttower.load_text_tower(source, allowed_roots=[tmp_path / "results"])
    assert tower.encode(["a broken corn kernel"]).shape[0] == 1


@pytest.mark.parametrize("where", ["here", "in its own process"])
def test_the_dashboard_reads_no_checkpoint_outside_its_folders(tmp_path, where):
    from analysis.models import tower_process

    load = texttower.load_text_tower if where == "here" else tower_process.start
    outside = tmp_path / "elsewhere" / "tiny.pt"
    outside.parent.mkdir()
    outside.write_bytes(b"weights?")
    source = texttower.TowerSource("CornLens-Tiny:tiny", "CornLens-Tiny", str(outside), 0)
    with pytest.raises(texttower.TowerUnavailable, match="outside the folders this dashboard may open"):
        load(source, allowed_roots=[tmp_path / "results"])


def test_the_dashboards_tower_runs_in_a_child_process_at_the_lowest_priority(demo_bundle):
    """The dashboard's tower (``tower_process``) loads in a process of its own, niced, and gives the
    vectors the tower loaded here gives; closing it ends the process; weights that cannot be had say
    which file to pass, as here."""
    import os

    from analysis.models import tower_process

    source = texttower.recorded_source(bundle.open_bundle(demo_bundle).manifest, SPACE)
    remote = tower_process.start(source)
    try:
        assert remote.process.pid != os.getpid() and remote.process.poll() is None
        assert os.getpriority(os.PRIO_PROCESS, remote.process.pid) == tower_process.NICENESS
        assert (remote.weights, remote.source) == ("random", source)
        phrases = ["a broken corn kernel", "silk cut"]
        np.testing.assert_allclose(remote.encode(phrases), texttower.load_text_tower(source).encode(phrases), atol=1e-6)
    finally:
        remote.close()
    assert remote.process.returncode == 0
    with pytest.raises(texttower.TowerUnavailable, match="process has stopped"):
        remote.encode(["a phrase after the end"])
    missing = texttower.TowerSource("ViT-B-32:vit-b-32", "ViT-B-32", "/nowhere/vit-b-32.pt", 0)
    with pytest.raises(texttower.TowerUnavailable, match="checkpoint file /nowhere/vit-b-32.pt, which is not on this"):
        tower_process.start(missing)


def test_the_server_never_unpickles_what_the_towers_process_says(tmp_path):
    """A child subverted by what it loaded can send anything down the pipe: the server reads JSON and
    raw float32 bytes only, so a pickle that would run code is refused as not CornLens's, and vectors
    whose bytes disagree with their stated shape are refused."""
    import pickle
    from multiprocessing import Pipe

    from analysis.models import tower_process

    class Runs:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "ran",))

    class Running:  # the process a RemoteTower watches: still there
        def poll(self) -> None:
            return None

    server, child = Pipe()
    tower = tower_process.RemoteTower(None, "random", "fp32", Running(), server)
    child.send(("vectors", Runs()))  # what the old protocol's recv() would have unpickled
    with pytest.raises(texttower.TowerUnavailable, match="not CornLens's"):
        tower.encode(["a broken corn kernel"])
    assert child.recv() == ["a broken corn kernel"]  # the phrase went out; the answer was refused unread
    child.send_bytes(b"[" * 100_000)  # JSON nested past Python's stack: refused, not a RecursionError
    with pytest.raises(texttower.TowerUnavailable, match="not CornLens's"):
        tower.encode(["a silk cut"])
    assert not (tmp_path / "ran").exists()
    assert tower.encode([]).shape == (0, 0)  # nothing to ask: no message, as the tower in the server answers
    pickle.loads(pickle.dumps(Runs()))  # the payload does run when unpickled: the check above can fail
    assert (tmp_path / "ran").exists()

    tower_process.send_message(child, "vectors", np.ones((2, 3), "<f4").tobytes(), shape=[2, 3])
    said, payload = tower_process.read_message(server)
    np.testing.assert_array_equal(tower_process.vectors(said, payload, 2), np.ones((2, 3), np.float32))
    tower_process.send_message(child, "vectors", np.ones((2, 3), "<f4").tobytes(), shape=[2, 4])
    with pytest.raises(texttower.TowerUnavailable, match="wrong shape"):
        tower_process.vectors(*tower_process.read_message(server), 2)


ORPHAN = """
import os, sys, threading, time
from pathlib import Path
from analysis.core import bundle
from analysis.models import texttower, tower_process
source = texttower.recorded_source(bundle.open_bundle(sys.argv[1]).manifest, sys.argv[2])
threading.Thread(target=tower_process.start, args=(source,), daemon=True).start()

def children():
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            if stat.read_text().rsplit(')', 1)[1].split()[1] == str(os.getpid()):
                found.append(stat.parent)
        except OSError:  # ended meanwhile
            pass
    return found

while True:  # the tower's process once it is importing torch (its libraries mapped), not yet loaded
    for child in children():
        try:
            if 'libtorch' in (child / 'maps').read_text():
                print(child.name, flush=True)
                os._exit(0)  # the server ends abruptly
        except OSError:
            pass
    time.sleep(0.02)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_tower_still_loading_ends_with_the_server_that_started_it(demo_bundle):
    """A server stopped while its tower's process imports torch leaves no process behind to take a core
    from the next one: it ends within 3 s (it checks 4 times a second), before its load would have finished."""
    import subprocess
    import sys
    import time

    done = subprocess.run([sys.executable, "-c", ORPHAN, str(demo_bundle), SPACE], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parent.parent)
    child = Path(f"/proc/{int(done.stdout.split()[0])}/stat")
    deadline = time.monotonic() + 3
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(child), "the tower's process outlived its server"


def running(stat: Path) -> bool:
    """Whether the process of /proc/PID/stat still runs (not ended, not a zombie)."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
