"""Faults while writing: a read-only bundle folder or a write that fails midway (a full disk) gives a
clear error naming the folder, and the bundle stays as it was: readable and byte for byte unchanged."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from analysis.core import atomic, bundle, lock
from analysis.cli import commands
from analysis.stages import runner
from analysis.stages.context import NoOptions, RunContext, Stage


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != lock.LOCK_FILE}


def store_always_first(context: RunContext, options: NoOptions, unit: None) -> None:
    """Store one approach through the real writing path: always the first class."""
    rows = context.rows("eval")
    proba = np.tile(np.eye(len(context.classes))[0], (len(rows), 1))
    context.save_approach("baseline", rows["image_id"], proba, model_key="always-first")


always_pure = Stage("always-first", "a test approach: always the first class", NoOptions, store_always_first)


@pytest.fixture
def built(synthetic_data, tmp_path) -> Path:
    folder = tmp_path / "bundle"
    runner.run(runner.RunOptions(data=synthetic_data, out=folder, show_progress=False, workers=1),
                 stages=[always_pure])
    return folder


def disk_full_after(monkeypatch, module, name: str, successes: int) -> list[int]:
    """Make ``module.name`` (a writer) write half its file and raise ENOSPC after ``successes`` calls."""
    real, calls = getattr(module, name), []

    def writer(*args, **kwargs):
        calls.append(1)
        if len(calls) <= successes:
            return real(*args, **kwargs)
        target = next(arg for arg in args if isinstance(arg, (str, Path)))
        Path(target).write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module, name, writer)
    return calls


def test_a_run_whose_write_fails_midway_leaves_the_previous_bundle_unchanged(built, synthetic_data, monkeypatch):
    before = snapshot(built)
    calls = disk_full_after(monkeypatch, pq, "write_table", successes=1)  # images.parquet yes, thumbnails no
    options = runner.RunOptions(data=synthetic_data, out=built, show_progress=False, workers=1, force=True)
    with pytest.raises(atomic.WriteError) as failed:
        runner.run(options, stages=[always_pure])
    assert len(calls) == 2
    assert str(built) in str(failed.value) and "No space left on device" in str(failed.value)
    assert snapshot(built) == before  # not a byte changed, no temporary file left
    opened = bundle.open_bundle(built)
    assert len(opened.predictions("baseline:always-first")) == len(opened.images().query("split == 'eval'"))


def test_an_approach_whose_manifest_write_fails_leaves_no_half_of_it(built, monkeypatch):
    before = snapshot(built)
    opened = bundle.open_bundle(built)
    ids = opened.images().query("split == 'eval'")["image_id"]
    real_write_text, failed = Path.write_text, []

    def write_text(self, text, *args, **kwargs):
        if self.name.startswith(f".{bundle.MANIFEST}."):  # the manifest comes last: the disk is full by then
            failed.append(self)
            real_write_text(self, text[: len(text) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    proba = np.full((len(ids), len(opened.classes)), 1 / len(opened.classes))
    record = {**opened.approach("baseline:always-first"), "metrics": {"accuracy": 0.0}}
    with pytest.raises(atomic.WriteError, match=f"{built}: cannot write here"):
        bundle.save_approach(built, record, bundle.predictions_frame(ids, proba, opened.classes), {"x": 1})
    monkeypatch.undo()
    assert failed and snapshot(built) == before  # predictions and diagnostics were not replaced without the manifest
    kept = bundle.open_bundle(built).predictions("baseline:always-first")
    assert kept[f"prob_{opened.classes[0]}"].eq(1.0).all()  # the old answers, not the failed run's


def test_the_cli_names_the_folder_it_cannot_write(built, synthetic_data, monkeypatch, capsys):
    before = snapshot(built)

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    code = commands.main(["run", "--data", str(synthetic_data), "--out", str(built), "--no-baselines", "-q", "--force"])
    message = capsys.readouterr().err
    assert code == 1 and "Traceback" not in message
    assert f"error: {built}: cannot write here (Permission denied)" in message
    assert snapshot(built) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_bundle_folder_is_named(built, synthetic_data, capsys):
    before = snapshot(built)
    built.chmod(0o555)
    try:
        code = commands.main(["run", "--data", str(synthetic_data), "--out", str(built), "--no-baselines", "-q"])
    finally:
        built.chmod(0o755)
    message = capsys.readouterr().err
    assert code == 1 and str(built) in message and "Permission denied" in message
    assert snapshot(built) == before


def test_a_transaction_renames_nothing_when_a_later_file_fails(tmp_path):
    (tmp_path / "a.txt").write_text("old a")
    with pytest.raises(RuntimeError):
        with atomic.transaction():
            with atomic.atomic_path(tmp_path / "a.txt") as temporary:
                temporary.write_text("new a")
            raise RuntimeError("the second file fails")
    assert (tmp_path / "a.txt").read_text() == "old a" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    with atomic.transaction():
        with atomic.atomic_path(tmp_path / "a.txt") as temporary:
            temporary.write_text("new a")
        assert (tmp_path / "a.txt").read_text() == "old a"  # renamed at the end, together
    assert (tmp_path / "a.txt").read_text() == "new a"
