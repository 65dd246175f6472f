"""Hostile input: a decompression bomb or an image claiming an absurd size is skipped with its name,
without decoding it; a huge CSV of missing files is summarised, not listed row by row."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.data import loading

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def png_claiming(path: Path, width: int, height: int, rows: int | None = None) -> Path:
    """A valid 1-bit PNG of ``width`` × ``height`` black pixels, compressed as it is streamed (a small
    file, a huge image); ``rows`` < height leaves it truncated (a header that claims more than there is)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor, body, row = zlib.compressobj(9), bytearray(), b"\x00" * (1 + (width + 7) // 8)
    for _ in range(height if rows is None else rows):
        body += compressor.compress(row)
    body += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """30,000 × 30,000 pixels (900 million; 2.7 GB as RGB) in about 100 kB."""
    return png_claiming(tmp_path_factory.mktemp("bomb") / "bomb.png", 30_000, 30_000)


def test_a_decompression_bomb_is_reported_not_decoded(bomb):
    assert bomb.stat().st_size < 1_000_000
    problem = loading.inspect_image(bomb)
    assert isinstance(problem, loading.Problem) and problem.kind == "too_large" and problem.where == str(bomb)
    with pytest.raises(loading.ImageTooLarge):  # an OSError: every reader of images already handles it
        loading.load_rgb(bomb)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width,height", [(100_000, 100_000), (10_000, 10_000), (2**20, 2**20)])
def test_an_image_claiming_an_absurd_size_is_reported(tmp_path, width, height):
    # 10,000² is over PIL's limit (89 million pixels) but under twice it, where PIL itself only warns.
    problem = loading.inspect_image(png_claiming(tmp_path / "liar.png", width, height, rows=2))
    assert isinstance(problem, loading.Problem) and problem.kind == "too_large"
    assert f"{width} × {height}" in problem.message or "decompression bomb" in problem.message


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc (Linux)")
def test_checking_a_bomb_uses_little_memory(bomb):
    # VmHWM: this process's peak resident memory (ru_maxrss would include the forking test process's)
    script = ("import pathlib, re, sys; from analysis.data import loading; "
              "problem = loading.inspect_image(pathlib.Path(sys.argv[1])); "
              "print(problem.kind, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))")
    answer = subprocess.run([sys.executable, "-c", script, str(bomb)], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, check=True)
    kind, peak_kib = answer.stdout.split()
    assert kind == "too_large" and int(peak_kib) < 400_000  # decoding would need 900 MB at 1 byte a pixel


def test_a_dataset_with_a_bomb_keeps_its_other_images(tmp_path, bomb):
    rng = np.random.default_rng(0)
    for label in ("pure", "broken"):
        (tmp_path / label).mkdir()
        for index in range(3):
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(tmp_path / label / f"{index}.png")
    (tmp_path / "pure" / "bomb.png").write_bytes(bomb.read_bytes())
    dataset = loading.load_dataset(tmp_path, show_progress=False, workers=2)
    assert len(dataset.images) == 6 and "pure/bomb.png" not in set(dataset.images["path"])
    [problem] = dataset.problems
    assert problem.kind == "too_large" and "pure/bomb.png" in problem.where
    assert "too_large: 1" in loading.describe(dataset)


def test_a_csv_of_many_missing_files_is_summarised_not_listed(tmp_path, capsys):
    from analysis.cli import commands
    from analysis.data import problems

    rng = np.random.default_rng(0)
    (tmp_path / "train").mkdir()
    lines = ["seed_id,view,image,label"]
    for index, label in enumerate(["pure", "broken"] * 3):  # six real images: the dataset stays usable
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(tmp_path / "train" / f"{index}.png")
        lines.append(f"{index},top,train/{index}.png,{label}")
    lines += [f"{index},top,train/missing-{index}.png,pure" for index in range(6, 20_006)]
    (tmp_path / "train.csv").write_text("\n".join(lines) + "\n")
    dataset = loading.load_dataset(tmp_path, show_progress=False, workers=2)
    assert len(dataset.images) == 6 and dataset.problem_counts() == {"missing_file": 20_000}
    assert len(dataset.problems) == problems.KEEP_PER_KIND  # the first examples kept, the rest counted
    assert str(dataset.problems[0]) == "train.csv row 8 (train/missing-6.png): image file is missing"
    assert commands.main(["validate", "--data", str(tmp_path), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "missing_file: 20000" in printed and "… and 19990 more" in printed
    assert len(printed.splitlines()) < 40

    (tmp_path / "train.csv").write_text("\n".join(lines[:1] + lines[7:]) + "\n")  # nothing usable at all
    with pytest.raises(loading.DatasetError) as unusable:
        loading.load_dataset(tmp_path, show_progress=False)
    message = str(unusable.value)
    assert "20000 problem(s) found" in message and "missing_file: 20000" in message and "… and 19995 more" in message
    assert len(message.splitlines()) < 12


# --- a bundle of the wrong shapes: a named problem, never a traceback -------------------------------

def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def wrong_embeddings(folder):
    from tests.test_confinement import write_raw

    write_raw(folder, change=lambda manifest: manifest.__setitem__("embeddings", ["m.npy"]))


def wrong_classes(folder):
    from tests.test_confinement import write_raw

    write_raw(folder, change=lambda manifest: manifest.__setitem__("classes", "pure,broken"))


def wrong_probabilities(folder):
    import pandas as pd

    path = folder / "predictions" / "zs_x.parquet"
    frame = pd.read_parquet(path)
    frame["prob_pure"] = frame["prob_pure"].map(lambda value: f"{value:.2f}")
    frame.to_parquet(path, index=False)


def deep_manifest(folder):
    (folder / "manifest.json").write_text(nested(200_000))


def huge_manifest(folder):
    (folder / "manifest.json").write_text('{"schema_version": 1, "pad": "' + "x" * 2_000_000 + '"}')


WRONG_SHAPES = {"embeddings as a list": (wrong_embeddings, "'embeddings': expected a mapping, found a list"),
                "classes as text": (wrong_classes, "'classes': expected a list, found text"),
                "probabilities as text": (wrong_probabilities, "column 'prob_pure' holds text"),
                "JSON nested 200,000 deep": (deep_manifest, "nested deeper than 64 levels"),
                "JSON too large": (huge_manifest, "larger than 1 MB")}


@pytest.fixture
def small_json_limit(monkeypatch):
    from analysis.core import jsonfile

    monkeypatch.setattr(jsonfile, "MAX_BYTES", 1024 * 1024)


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
def test_a_bundle_of_the_wrong_shape_is_a_named_problem(tmp_path, shape, small_json_limit):
    from analysis.core import bundle
    from tests.test_confinement import crafted_bundle

    folder = crafted_bundle(tmp_path / "b")
    damage, expected = WRONG_SHAPES[shape]
    damage(folder)
    with pytest.raises(bundle.BundleError) as refused:
        bundle.open_bundle(folder)
    assert expected in str(refused.value) and str(folder) in str(refused.value)


def test_diagnostics_nested_too_deep_are_a_named_problem(tmp_path):
    from analysis.core import bundle
    from tests.test_confinement import crafted_bundle

    folder = crafted_bundle(tmp_path / "b")
    (folder / "diagnostics").mkdir(exist_ok=True)
    (folder / "diagnostics" / "verdict.json").write_text(nested(200_000))
    (folder / "diagnostics" / "agreement.json").write_text('{"patterns": ' + nested(100) + "}")
    opened = bundle.open_bundle(folder)
    for name in ("verdict", "agreement"):
        with pytest.raises(bundle.BundleError, match=f"{name}.json: cannot be read as JSON \\(nested deeper"):
            opened.diagnostics(name)


@pytest.mark.slow
def test_the_dashboard_names_each_wrong_shape(tmp_path, monkeypatch, small_json_limit):
    from analysis.core import escape
    from tests.apptest import open_page
    from tests.test_confinement import crafted_bundle

    monkeypatch.setenv("CORNLENS_RESULTS", str(tmp_path / "results"))
    for shape, (damage, expected) in WRONG_SHAPES.items():
        folder = crafted_bundle(tmp_path / shape.replace(" ", "-").replace(",", ""))
        damage(folder)
        app = open_page(folder)  # fails on any exception the script raised
        errors = " ".join(element.value for element in app.error)
        assert "cannot be opened" in errors and escape.markdown_text(expected) in errors, (shape, errors)


def test_ten_thousand_identical_images_of_ten_thousand_classes_make_short_lines():
    import pandas as pd

    from analysis.data import loading

    classes = [f"class-{index:05d}" for index in range(10_000)]
    images = pd.DataFrame({"image_id": [f"img-{index}" for index in range(10_000)], "label": classes,
                           "view": "top", "content_hash": "same", "source": "train", "path": "x.png"})
    dataset = loading.Dataset(root=Path("/data"), layout="imagefolder", classes=classes, images=images)
    report = loading.describe(dataset)
    [line] = [line for line in report.splitlines() if "conflicting labels class-" in line]
    assert len(line) < 400 and "… and 9990 more" in line
