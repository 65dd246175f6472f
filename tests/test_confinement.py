"""Paths from outside: folders a browser asks for are confined to the allowed roots, and a bundle is
untrusted data (every path it names stays inside the bundle or its dataset folder)."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle, confinement
from analysis.stages import submission

CLASSES = ["pure", "broken"]


def crafted_bundle(folder, image_paths=("a.png", "b.png", "c.png"), root=None):
    """A small valid bundle whose images.parquet ``path`` column is ``image_paths``."""
    data = folder.parent / f"{folder.name}-data"
    data.mkdir(parents=True, exist_ok=True)
    images = pd.DataFrame({"image_id": ["a", "b", "c"], "path": list(image_paths), "seed_id": ["1", "2", "3"],
                           "view": ["top"] * 3, "label": ["pure", "broken", "pure"],
                           "split": ["train", "eval", "eval"], "fold": [0, -1, -1], "content_hash": ["", "", ""]})
    manifest = {"classes": CLASSES, "dataset": {"root": str(root or data), "fingerprint": "f"}, "split": {"seed": 0}}
    bundle.create_bundle(folder, manifest, images)
    bundle.save_approach(folder, {"id": "zs:x", "kind": "zeroshot", "model_key": "x", "prompt_set": "p",
                                  "metrics": {"accuracy": 0.5}},
                         bundle.predictions_frame(["b", "c"], np.array([[0.9, 0.1], [0.3, 0.7]]), CLASSES))
    bundle.save_embeddings(folder, "m", np.eye(3, 4, dtype=np.float32))
    return folder


def write_raw(folder, images=None, **manifest_changes):
    """Rewrite a bundle's files by hand, as someone crafting a hostile bundle would (no checks)."""
    if images is not None:
        images.to_parquet(folder / bundle.IMAGES, index=False)
    manifest = json.loads((folder / bundle.MANIFEST).read_text())
    for change in manifest_changes.values():
        change(manifest)
    (folder / bundle.MANIFEST).write_text(json.dumps(manifest))


# --- folders asked for from the browser ------------------------------------------------------------

def test_only_folders_under_the_allowed_roots_are_opened(tmp_path):
    results, extra, elsewhere = tmp_path / "results", tmp_path / "extra", tmp_path / "elsewhere"
    for folder in (results / "one", extra / "two", elsewhere / "three"):
        folder.mkdir(parents=True)
    roots = confinement.allowed_roots(results, {"CORNLENS_ROOTS": f"{extra}{os.pathsep}  ",
                                          "CORNLENS_BUNDLE": str(elsewhere / "three")})
    assert confinement.confine(results / "one", roots) == (results / "one").resolve()
    assert confinement.confine(extra / "two", roots) == (extra / "two").resolve()
    assert confinement.confine(elsewhere / "three", roots) == (elsewhere / "three").resolve()
    with pytest.raises(confinement.OutsideRootsError, match="listed in CORNLENS_ROOTS"):
        confinement.confine(elsewhere, roots)
    with pytest.raises(confinement.OutsideRootsError, match="CORNLENS_ROOTS="):
        confinement.confine(results / ".." / "elsewhere" / "three" / "..", confinement.allowed_roots(results, {}))


def test_a_link_inside_the_results_folder_to_elsewhere_is_refused(tmp_path):
    results, secret = tmp_path / "results", tmp_path / "secret"
    results.mkdir()
    secret.mkdir()
    (results / "innocent").symlink_to(secret, target_is_directory=True)
    with pytest.raises(confinement.OutsideRootsError, match="outside the folders this dashboard may open"):
        confinement.confine(results / "innocent", confinement.allowed_roots(results, {}))


def test_relative_paths_are_checked_as_text_and_after_links(tmp_path):
    for bad in ("", "  ", "/etc/passwd", "../x.png", "a/../../x.png", "C:\\x.png", "a\\..\\..\\x", None, 3, "a\x00b"):
        assert confinement.safe_relative_path(bad) is None, bad
    assert confinement.safe_relative_path(" train\\a.png ") == "train/a.png"
    base = tmp_path / "base"
    base.mkdir()
    (tmp_path / "outside.png").write_bytes(b"x")
    (base / "link.png").symlink_to(tmp_path / "outside.png")
    assert confinement.resolve_inside(base, "link.png") is None
    assert confinement.resolve_inside(base, "sub/ok.png") == (base / "sub" / "ok.png").resolve()
    assert confinement.unsafe_rows(["a.png", "../b.png", "/c.png", "d.png"]) == [1, 2]


def test_the_quick_path_check_never_passes_a_path_the_full_check_refuses():
    values = ["", "  ", "/etc/passwd", "../x.png", "a/../../x.png", "C:\\x.png", "c:x.png", "a\\..\\..\\x", None, 3,
              "a\x00b", " /abs.png", "x/..", "..", "\\\\server\\x.png", "train/a.png", "a...png", "./a.png", "a b.png",
              float("nan"), "\t../x.png"]
    for value in values:
        if confinement.plainly_safe(value):
            assert confinement.safe_relative_path(value) is not None, value
    expected = [index for index, value in enumerate(values) if confinement.safe_relative_path(value) is None]
    assert confinement.unsafe_rows(values) == expected
    assert confinement.plainly_safe("train/00001.png")  # the common case takes the quick path


# --- a bundle is untrusted data --------------------------------------------------------------------

@pytest.mark.parametrize("hostile", ["../../etc/passwd", "/etc/passwd", "sub/../../x.png"])
def test_a_bundle_with_image_paths_outside_its_dataset_is_refused(tmp_path, hostile):
    folder = crafted_bundle(tmp_path / "b")
    images = pd.read_parquet(folder / bundle.IMAGES)
    images.loc[1, "path"] = hostile
    write_raw(folder, images)
    with pytest.raises(bundle.BundleError) as refused:
        bundle.open_bundle(folder)
    message = str(refused.value)
    assert "images.parquet: row 2 (image_id 'b')" in message and repr(hostile) in message and "refused" in message


@pytest.mark.parametrize("section,hostile", [("predictions", "../../outside.parquet"),
                                             ("predictions", "/tmp/outside.parquet"),
                                             ("embeddings", "../outside.npy"),
                                             ("embeddings", "/etc/passwd")])
def test_a_bundle_naming_files_outside_itself_is_refused(tmp_path, section, hostile):
    folder = crafted_bundle(tmp_path / "b")
    if section == "predictions":
        write_raw(folder, change=lambda m: m["approaches"][0].__setitem__("predictions_file", hostile))
        expected = "predictions_file of 'zs:x'"
    else:
        write_raw(folder, change=lambda m: m["embeddings"]["m"].__setitem__("file", hostile))
        expected = "embeddings 'm'"
    with pytest.raises(bundle.BundleError, match="not a file inside the bundle folder") as refused:
        bundle.open_bundle(folder)
    assert "manifest.json" in str(refused.value) and expected in str(refused.value)


def test_a_bundle_file_that_is_a_link_to_elsewhere_is_refused(tmp_path):
    folder = crafted_bundle(tmp_path / "b")
    outside = tmp_path / "outside.parquet"
    (folder / "predictions" / "zs_x.parquet").rename(outside)
    (folder / "predictions" / "zs_x.parquet").symlink_to(outside)
    with pytest.raises(bundle.BundleError, match="predictions_file of 'zs:x'.*a link to elsewhere"):
        bundle.open_bundle(folder)
    (folder / "predictions" / "zs_x.parquet").unlink()
    outside.rename(folder / "predictions" / "zs_x.parquet")
    bundle.open_bundle(folder)
    (folder / "diagnostics").mkdir(exist_ok=True)
    (folder / "diagnostics" / "data.json").symlink_to(tmp_path / "anything.json")
    with pytest.raises(bundle.BundleError, match="data.json: a link to .*anything.json, outside the bundle folder"):
        bundle.open_bundle(folder)
    opened = bundle.Bundle(folder, json.loads((folder / bundle.MANIFEST).read_text()))
    with pytest.raises(bundle.BundleError, match="diagnostics 'data'"):
        opened.diagnostics("data")  # and where it is read, too


def test_a_dataset_root_must_be_absolute_or_inside_the_bundle(tmp_path):
    folder = crafted_bundle(tmp_path / "b")
    write_raw(folder, change=lambda m: m["dataset"].__setitem__("root", "../../"))
    with pytest.raises(bundle.BundleError, match="dataset.root '../../'"):
        bundle.open_bundle(folder)
    write_raw(folder, change=lambda m: m["dataset"].__setitem__("root", "images"))
    assert confinement.dataset_root(folder, "images") == (folder / "images").resolve()
    bundle.open_bundle(folder)


def test_an_image_is_shown_only_inside_its_dataset_and_with_its_recorded_bytes(tmp_path):
    root, secret = tmp_path / "data", tmp_path / "secret.png"
    root.mkdir()
    (root / "a.png").write_bytes(b"image a")
    secret.write_bytes(b"secret")
    (root / "b.png").symlink_to(secret)
    recorded = hashlib.sha1(b"image a").hexdigest()
    assert confinement.dataset_image(root, "a.png", recorded, "row 1") == (root / "a.png").resolve()
    assert confinement.dataset_image(root, "a.png", hashlib.sha1(b"other").hexdigest(), "row 1") is None
    assert confinement.dataset_image(root, "missing.png", None, "row 1") is None
    assert confinement.dataset_image(root, "a.png", None, "row 1") is None  # no recorded hash: never served
    assert confinement.dataset_image(root, "a.png", "", "row 1") is None
    with pytest.raises(confinement.UnsafePathError, match=r"images.parquet row 2 \(image_id 'b'\): path 'b.png'"):
        confinement.dataset_image(root, "b.png", None, "images.parquet row 2 (image_id 'b')")


def test_the_sample_submission_named_by_a_bundle_stays_in_its_dataset(tmp_path):
    folder = crafted_bundle(tmp_path / "b")
    write_raw(folder, change=lambda m: m["dataset"].__setitem__("sample_submission", "../../etc/passwd"))
    with pytest.raises(submission.SubmissionError, match="not a file inside the dataset folder"):
        submission.sample_path(bundle.open_bundle(folder))


# --- `run` writes nothing through a link, and reads only regular files ------------------------------

def finishes(call, *args) -> object:
    """``call(*args)`` in a thread: its result or exception; fails when it does not return at all
    (opening a FIFO for reading would block for ever)."""
    import threading

    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = call(*args)
        except Exception as error:  # noqa: BLE001 (handed to the test)
            outcome["value"] = error

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), f"{call.__name__} blocked on a FIFO"
    return outcome["value"]


def test_run_refuses_a_lock_file_that_is_a_link_or_a_fifo(tmp_path):
    from analysis.core import atomic, lock

    folder, outside = tmp_path / "bundle", tmp_path / "yours.txt"
    folder.mkdir()
    outside.write_text("keep me")
    (folder / lock.LOCK_FILE).symlink_to(outside)
    with pytest.raises(atomic.LinkOutError, match=r"\.cornlens-run\.lock: the bundle's lock file is a symbolic link"):
        with lock.bundle_lock(folder):
            pass
    assert outside.read_text() == "keep me"
    (folder / lock.LOCK_FILE).unlink()
    os.mkfifo(folder / lock.LOCK_FILE)

    def take() -> None:
        with lock.bundle_lock(folder):
            pass

    refused = finishes(take)
    assert isinstance(refused, atomic.LinkOutError) and "not a regular file" in str(refused)


def test_writes_inside_a_bundle_never_go_through_a_link_out(tmp_path):
    from analysis.core import atomic, lock

    folder, outside = tmp_path / "bundle", tmp_path / "elsewhere"
    (folder / "checkpoints").mkdir(parents=True)
    outside.mkdir()
    (folder / "submissions").symlink_to(outside, target_is_directory=True)
    (folder / "checkpoints" / "last.pt").symlink_to(outside / "last.pt")
    (folder / "inner").symlink_to(folder / "checkpoints", target_is_directory=True)  # a link inside is fine
    with lock.bundle_lock(folder):
        for target, named in ((folder / "submissions" / "a.csv", "submissions"),
                              (folder / "checkpoints" / "last.pt", "last.pt")):
            with pytest.raises(atomic.LinkOutError, match=f"{named}: a symbolic link to .*outside the bundle"):
                bundle.write_json(target, {"x": 1})
        bundle.write_json(folder / "inner" / "ok.json", {"x": 1})
        bundle.write_json(tmp_path / "cache" / "chunk.json", {"x": 1})  # outside the bundle: not its business
    assert list(outside.iterdir()) == [] and (folder / "checkpoints" / "ok.json").is_file()


@pytest.mark.slow
def test_a_run_into_a_bundle_whose_submissions_folder_links_out_writes_nothing_there(synthetic_data, tmp_path):
    from analysis.core import atomic
    from analysis.stages import runner

    out, outside = tmp_path / "bundle", tmp_path / "elsewhere"
    out.mkdir()
    outside.mkdir()
    (out / "submissions").symlink_to(outside, target_is_directory=True)
    with pytest.raises(atomic.LinkOutError, match="submissions: a symbolic link"):
        runner.run(runner.RunOptions(data=synthetic_data, out=out, show_progress=False, workers=1))
    assert list(outside.iterdir()) == []
    assert not (out / ".cornlens-run.lock").exists()


def test_a_manifest_that_is_a_link_out_or_a_fifo_is_refused(tmp_path):
    folder = crafted_bundle(tmp_path / "b")
    outside = tmp_path / "outside.json"
    (folder / bundle.MANIFEST).rename(outside)
    (folder / bundle.MANIFEST).symlink_to(outside)
    with pytest.raises(bundle.BundleError, match=r"manifest.json: a link to somewhere outside"):
        bundle.open_bundle(folder)
    (folder / bundle.MANIFEST).unlink()
    os.mkfifo(folder / bundle.MANIFEST)
    refused = finishes(bundle.open_bundle, folder)
    assert isinstance(refused, bundle.BundleError) and "manifest.json: is a FIFO" in str(refused)


@pytest.mark.parametrize("relative", ["thumbnails.parquet", "diagnostics/verdict.json", "predictions/zs_x.parquet"])
def test_a_fifo_in_place_of_a_bundle_file_is_refused_without_blocking(tmp_path, relative):
    folder = crafted_bundle(tmp_path / "b")
    (folder / relative).parent.mkdir(exist_ok=True)
    (folder / relative).unlink(missing_ok=True)
    os.mkfifo(folder / relative)
    opened = bundle.Bundle(folder, json.loads((folder / bundle.MANIFEST).read_text()))
    read = {"thumbnails.parquet": lambda: opened.thumbnails(["a"]),
            "diagnostics/verdict.json": lambda: opened.diagnostics("verdict"),
            "predictions/zs_x.parquet": lambda: opened.predictions("zs:x")}[relative]
    refused = finishes(read)
    assert isinstance(refused, bundle.BundleError) and "is a FIFO, not a regular file" in str(refused)
    assert relative.split("/")[-1] in str(refused)


def test_a_bundle_holding_a_fifo_is_refused_when_opened(tmp_path):
    folder = crafted_bundle(tmp_path / "b")
    (folder / "diagnostics").mkdir(exist_ok=True)
    os.mkfifo(folder / "diagnostics" / "verdict.json")
    refused = finishes(bundle.open_bundle, folder)
    assert isinstance(refused, bundle.BundleError) and "diagnostics/verdict.json" in str(refused)
    assert "is a FIFO, not a regular file" in str(refused)
