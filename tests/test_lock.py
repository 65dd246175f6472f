"""One writer per bundle: a second `run` refuses at once naming the running one, a lock left by a
process that is gone is taken over, and the CLIP embedding cache stays whole under two fillers."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.cli import commands
from analysis.core import lock
from analysis.stages import runner
from analysis.stages.context import NoOptions, RunContext, Stage

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOLDER = """
import sys
from analysis.core import lock
with lock.bundle_lock(sys.argv[1], command="python -m analysis run --out (the first run)"):
    print("locked", flush=True)
    sys.stdin.read()
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a bundle (the lock file aside) and its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != lock.LOCK_FILE}


def data_part(synthetic_data: Path, out: Path) -> None:
    runner.run(runner.RunOptions(data=synthetic_data, out=out, show_progress=False, workers=1), stages=[])


@pytest.fixture
def start_holder():
    """Start a real other process that holds the lock of a folder until its stdin is closed."""
    started = []

    def start(folder: Path) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], cwd=PROJECT_ROOT, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        started.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.stdin.close()
            process.wait(timeout=30)


def test_a_second_run_refuses_at_once_naming_the_running_one(synthetic_data, tmp_path, start_holder, capsys):
    folder = tmp_path / "bundle"
    data_part(synthetic_data, folder)
    before = snapshot(folder)
    holder = start_holder(folder)
    code = commands.main(["run", "--data", str(synthetic_data), "--out", str(folder), "--no-baselines", "-q"])
    message = capsys.readouterr().err
    assert code == 1 and "Traceback" not in message
    assert f"another `run` is writing this bundle: pid {holder.pid} on host {socket.gethostname()}" in message
    assert "(the first run)" in message and lock.LOCK_FILE in message
    assert snapshot(folder) == before  # the refused run wrote nothing; the bundle still opens
    holder.stdin.close()
    holder.wait(timeout=30)
    data_part(synthetic_data, folder)  # the lock is released with its holder
    assert not (folder / lock.LOCK_FILE).exists()


def test_a_second_lock_in_the_same_process_is_refused_too(synthetic_data, tmp_path):
    folder = tmp_path / "bundle"
    with lock.bundle_lock(folder):
        with pytest.raises(lock.BundleLockedError, match=f"pid {os.getpid()}"):
            data_part(synthetic_data, folder)
    assert not folder.exists()  # created for the lock, empty, removed with it


def test_a_lock_left_by_a_process_that_is_gone_is_taken_over(tmp_path, caplog):
    folder = tmp_path / "bundle"
    folder.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    assert not lock.pid_alive(dead_pid)
    (folder / lock.LOCK_FILE).write_text(json.dumps({"pid": dead_pid, "host": socket.gethostname()}))
    with caplog.at_level(logging.INFO, logger="analysis.core.lock"):
        with lock.bundle_lock(folder) as path:
            assert json.loads(path.read_text())["pid"] == os.getpid()
    assert f"stale lock of a run that is gone (pid {dead_pid}" in caplog.text
    assert not (folder / lock.LOCK_FILE).exists() and folder.is_dir()


def test_a_lock_killed_with_its_holder_is_released(tmp_path, start_holder):
    holder = start_holder(tmp_path / "bundle")
    holder.kill()
    holder.wait(timeout=30)
    assert (tmp_path / "bundle" / lock.LOCK_FILE).exists()  # left behind: the process had no time to clean up
    with lock.bundle_lock(tmp_path / "bundle"):
        pass


def test_run_holds_the_lock_while_its_stages_write(synthetic_data, tmp_path):
    seen = []

    def look(context: RunContext, options: NoOptions, unit: None) -> None:
        seen.append(json.loads((context.path / lock.LOCK_FILE).read_text()))

    runner.run(runner.RunOptions(data=synthetic_data, out=tmp_path / "b", show_progress=False, workers=1),
                 stages=[Stage("look", "reads the lock file", NoOptions, look)])
    assert seen[0]["pid"] == os.getpid() and seen[0]["host"] == socket.gethostname()
    assert not (tmp_path / "b" / lock.LOCK_FILE).exists()


def test_a_run_that_fails_before_writing_leaves_no_empty_folder(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        runner.run(runner.RunOptions(data=tmp_path / "no-data", out=tmp_path / "b", show_progress=False), [])
    assert not (tmp_path / "b").exists()


# --- the embedding cache under two fillers -----------------------------------------------------------

CHUNKS = 24


def chunk(number: int) -> tuple[list[str], dict[str, np.ndarray]]:
    """The keys and arrays of one cache chunk, the same in every process."""
    keys = [f"image-{number}-{row}" for row in range(16)]
    values = np.random.default_rng(number).standard_normal((16, 256)).astype(np.float32)
    return keys, {"embeddings": values, "features": values * 2}


def fill(folder: str, seed: int, rounds: int) -> None:
    from analysis.models.embedding_cache import EmbeddingCache

    cache = EmbeddingCache(Path(folder), {"model": "test"})
    order = np.random.default_rng(seed).permutation(CHUNKS)
    for _ in range(rounds):
        for number in order:
            cache.store("images", *chunk(int(number)))


def test_the_embedding_cache_stays_whole_under_two_concurrent_fillers(tmp_path, caplog):
    from analysis.models.embedding_cache import EmbeddingCache

    folder = tmp_path / "cache"
    context = multiprocessing.get_context("fork")
    fillers = [context.Process(target=fill, args=(str(folder), seed, 4)) for seed in (1, 2)]
    for process in fillers:
        process.start()
    expected = {}
    for number in range(CHUNKS):
        keys, arrays = chunk(number)
        expected.update({key: arrays["embeddings"][row] for row, key in enumerate(keys)})
    reads = 0
    with caplog.at_level(logging.WARNING):
        while any(process.is_alive() for process in fillers) or reads == 0:
            for key, row in EmbeddingCache(folder, {"model": "test"}).load("images").items():
                assert np.array_equal(row["embeddings"], expected[key])
                assert np.array_equal(row["features"], 2 * expected[key])
            reads += 1
    for process in fillers:
        process.join(timeout=60)
        assert process.exitcode == 0
    rows = EmbeddingCache(folder, {"model": "test"}).load("images")
    assert set(rows) == set(expected) and "damaged cache chunk" not in caplog.text
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind
