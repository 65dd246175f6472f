"""Load and validate a dataset folder (Kaggle "It's Corn" layout or ImageFolder layout).

Every problem is reported with the file, row or column that caused it. Bad rows are skipped and
counted, never silently; a dataset with nothing usable raises :class:`DatasetError`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from analysis.core.escape import listed
from analysis.core.confinement import IMAGE_SUFFIXES, safe_relative_path  # noqa: F401 (re-exported)
from analysis.data.dataset_files import UNKNOWN_VIEW, DatasetError, read_csv  # noqa: F401 (re-exported)
from analysis.data.problems import Problem, ProblemList, counts_of, summary_lines
from analysis.core.progress import progress

log = logging.getLogger(__name__)

TRAIN_CSV = "train.csv"
TEST_CSV = "test.csv"
SAMPLE_SUBMISSION_CSV = "sample_submission.csv"
TRAIN_COLUMNS = ("seed_id", "view", "image", "label")
TEST_COLUMNS = ("seed_id", "view", "image")
SUBMISSION_COLUMNS = ("seed_id", "label")
# The light background of the corn photos: transparent pixels are composited onto it.
BACKGROUND_RGB = (255, 255, 255)
MAX_IMAGE_BYTES = 512 * 2**20  # image files larger than this are skipped unread
CHECK_BATCH = 1024  # rows checked per batch of the thread pool
# open_image checks the claimed size itself and reports it per file; PIL's warning would only repeat it.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)



@dataclass
class Dataset:
    """A validated dataset: usable images plus every problem found on the way.

    ``images`` has one row per usable image with the columns ``image_id``, ``path`` (relative
    to ``root``), ``seed_id``, ``view``, ``label`` (None for unlabelled competition test images),
    ``source`` (``train`` or ``test``), ``width``, ``height``, ``mode``, ``content_hash``.
    """

    root: Path
    layout: str
    classes: list[str]
    images: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    sample_submission: str | None = None
    thumbnails: dict[str, bytes] = field(default_factory=dict)

    @property
    def labelled(self) -> pd.DataFrame:
        return self.images[self.images["source"] == "train"]

    @property
    def unlabelled(self) -> pd.DataFrame:
        return self.images[self.images["source"] == "test"]

    def problem_counts(self) -> dict[str, int]:
        """Problems per kind, all of them (``problems`` keeps the first few of each kind)."""
        return counts_of(self.problems)

    def fingerprint(self) -> str:
        """A short hash of the image list (paths, labels, contents): equal data, equal fingerprint."""
        digest = hashlib.sha1()
        for row in self.images[["path", "label", "content_hash"]].itertuples(index=False):
            digest.update(f"{row.path}\t{row.label}\t{row.content_hash}\n".encode())
        return digest.hexdigest()[:16]


# --- images ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    mode: str
    content_hash: str
    thumbnail: bytes | None = None


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL image (grayscale, RGBA, palette, CMYK, 16-bit, float) to 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return Image.fromarray(np.clip(np.round(values / top * 255.0), 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, BACKGROUND_RGB + (255,))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image


class ImageTooLarge(OSError):
    """An image whose header claims more pixels than PIL's ``MAX_IMAGE_PIXELS``: never decoded."""


@contextmanager
def open_image(source: str | Path | io.BytesIO) -> Iterator[Image.Image]:
    """``PIL.Image.open`` with the size its header claims checked before anything is decoded.

    A decompression bomb (a small file that decodes to, say, 30,000 × 30,000 pixels) or a header that
    claims an absurd size raises :class:`ImageTooLarge` instead of filling the memory. The limit is
    PIL's ``Image.MAX_IMAGE_PIXELS`` (about 89 million pixels; set it to None to lift it).
    """
    try:
        image = Image.open(source)
    except Image.DecompressionBombError as error:  # PIL's own refusal, above twice the limit
        raise ImageTooLarge(f"{error} Not decoded.") from error
    with image:
        width, height = image.size
        limit = Image.MAX_IMAGE_PIXELS
        if limit and width * height > limit:
            raise ImageTooLarge(f"the image claims {width} × {height} pixels ({width * height / 1e6:,.0f} million), "
                                f"more than the limit of {limit / 1e6:,.0f} million (PIL.Image.MAX_IMAGE_PIXELS): a "
                                "decompression bomb or a damaged header. Not decoded.")
        yield image


def load_rgb(path: str | Path) -> Image.Image:
    """Open an image file fully decoded as 8-bit RGB (the one loader every module uses).
    Raises OSError (:class:`ImageTooLarge` for a decompression bomb) when it cannot."""
    with open_image(path) as image:
        image.load()
        return to_rgb(image)


def make_thumbnail(image: Image.Image, size: int = 96) -> bytes:
    """A JPEG thumbnail whose longer side is ``size`` pixels."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    thumb.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def inspect_image(path: Path, thumbnail_size: int | None = None) -> ImageInfo | Problem:
    """Read one image file completely; return its facts or the problem that makes it unusable."""
    where = str(path)
    if not path.is_file():
        return Problem("missing_file", where, "image file is missing")
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return Problem("too_large", where, f"file is {size / 2**20:,.0f} MiB, more than "
                       f"{MAX_IMAGE_BYTES / 2**20:,.0f} MiB; not read")
    data = path.read_bytes()
    if not data:
        return Problem("zero_byte", where, "image file is empty (0 bytes)")
    try:
        with open_image(io.BytesIO(data)) as image:
            image.load()
            mode = image.mode
            rgb = to_rgb(image)
    except ImageTooLarge as error:
        return Problem("too_large", where, str(error))
    except UnidentifiedImageError:
        return Problem("not_an_image", where, "file is not an image PIL can read")
    except (OSError, SyntaxError, ValueError) as error:
        kind = "truncated" if "truncated" in str(error).lower() else "unreadable"
        return Problem(kind, where, f"image cannot be decoded ({error})")
    thumbnail = make_thumbnail(rgb, thumbnail_size) if thumbnail_size else None
    return ImageInfo(rgb.width, rgb.height, mode, hashlib.sha1(data).hexdigest(), thumbnail)


# --- rows -----------------------------------------------------------------------------------------


def kaggle_rows(root: Path, classes: list[str] | None) -> tuple[pd.DataFrame, list[Problem], str | None]:
    """Rows of ``train.csv`` (+ ``test.csv`` when present), with per-row problems."""
    problems = ProblemList()
    frames = []
    for csv_name, required, source in ((TRAIN_CSV, TRAIN_COLUMNS, "train"), (TEST_CSV, TEST_COLUMNS, "test")):
        csv_path = root / csv_name
        if not csv_path.exists():
            continue
        frame = read_csv(csv_path, required)
        frame = frame.assign(
            source=source,
            row=[f"{csv_name} row {index + 2}" for index in range(len(frame))],  # +2: header, 1-based
            label=frame["label"].str.strip() if source == "train" else None,
        )
        frames.append(frame[["seed_id", "view", "image", "label", "source", "row"]])
    rows = pd.concat(frames, ignore_index=True)
    keep = np.ones(len(rows), dtype=bool)
    normalised = []
    for index, row in enumerate(rows.itertuples(index=False)):
        relative = safe_relative_path(row.image)
        normalised.append(relative)
        if relative is None:
            problems.append(Problem("bad_path", row.row, f"column 'image' value {row.image!r} is empty, "
                                    "absolute or outside the dataset folder"))
            keep[index] = False
            continue
        if row.source == "train":
            if not row.label:
                problems.append(Problem("empty_label", row.row, f"column 'label' is empty for {relative}"))
                keep[index] = False
            elif classes is not None and row.label not in classes:
                problems.append(Problem("unknown_label", row.row, f"label {row.label!r} of {relative} is not one "
                                        f"of the expected classes {listed(classes)}"))
                keep[index] = False
    rows = rows.assign(image=normalised)[keep]
    duplicated = rows.duplicated("image", keep="first")
    for row in rows[duplicated].itertuples(index=False):
        problems.append(Problem("duplicate_row", row.row, f"image {row.image} is listed more than once; "
                                "only the first row is used"))
    rows = rows[~duplicated].rename(columns={"image": "path"})
    rows["seed_id"] = rows["seed_id"].str.strip()
    rows["view"] = rows["view"].str.strip().replace("", UNKNOWN_VIEW)
    sample = SAMPLE_SUBMISSION_CSV if (root / SAMPLE_SUBMISSION_CSV).exists() else None
    if sample is not None:
        try:
            read_csv(root / sample, SUBMISSION_COLUMNS)
        except DatasetError as error:
            problems.append(Problem("bad_sample_submission", sample, f"{error} Submissions are disabled."))
            sample = None
    return rows.reset_index(drop=True), problems, sample


def imagefolder_rows(root: Path, classes: list[str] | None) -> tuple[pd.DataFrame, list[Problem]]:
    """Rows of an ImageFolder layout: one sub-folder per class; the file stem is the seed_id."""
    problems = ProblemList()
    records = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        if classes is not None and folder.name not in classes:
            problems.append(Problem("unknown_label", f"{folder}/", f"folder {folder.name!r} is not one of the "
                                    f"expected classes {listed(classes)}; skipped"))
            continue
        files = sorted(path for path in folder.rglob("*") if path.is_file() and not path.name.startswith("."))
        if not files:
            problems.append(Problem("empty_class", f"{folder}/", f"class folder {folder.name!r} has no files"))
        for path in files:
            relative = path.relative_to(root).as_posix()
            records.append({"seed_id": path.stem, "view": UNKNOWN_VIEW, "path": relative,
                            "label": folder.name, "source": "train", "row": relative})
    columns = ["seed_id", "view", "path", "label", "source", "row"]
    return pd.DataFrame.from_records(records, columns=columns), problems


def detect_layout(root: Path) -> str:
    """``csv`` for a CSV file (:mod:`analysis.data.csvlayout`), ``kaggle`` when ``train.csv`` exists,
    ``imagefolder`` when there are class sub-folders."""
    if root.suffix.lower() == ".csv" and root.is_file():
        return "csv"
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder does not exist.")
    if (root / TRAIN_CSV).is_file():
        return "kaggle"
    if any(path.is_dir() and not path.name.startswith(".") for path in root.iterdir()):
        return "imagefolder"
    raise DatasetError(
        f"{root}: neither a Kaggle layout (train.csv with seed_id,view,image,label) nor an ImageFolder "
        "layout (one sub-folder of images per class); a CSV of path,label rows is given as --data FILE.csv."
    )


def order_classes(labels: pd.Series) -> list[str]:
    """Class names from the data: most frequent first, ties alphabetical."""
    counts = labels.value_counts()
    return sorted(counts.index, key=lambda name: (-counts[name], name))


def check_row(root: Path, relative: str, thumbnail_size: int | None) -> ImageInfo | Problem:
    """:func:`inspect_image` of ``root / relative``, after checking that it stays inside ``root``
    (a symbolic link may point elsewhere). A missing file costs one ``stat``."""
    full = root / relative
    if not full.is_file():
        return Problem("missing_file", str(full), "image file is missing")
    if not full.resolve().is_relative_to(root):
        return Problem("bad_path", str(full), f"image path {relative} leaves the dataset folder")
    return inspect_image(full, thumbnail_size)


def load_dataset(
    root: str | Path,
    classes: list[str] | None = None,
    thumbnail_size: int | None = None,
    workers: int = 4,
    show_progress: bool = True,
) -> Dataset:
    """Load, check and describe a dataset folder.

    Args:
        root: the dataset folder.
        classes: expected class names; labels outside them are reported and skipped. ``None``
            takes the classes from the data.
        thumbnail_size: when set, make a JPEG thumbnail of each image on the same read.
        workers: threads decoding images.
        show_progress: draw a progress bar on stderr.

    Returns:
        The usable images and every problem found. Raises :class:`DatasetError` when nothing
        labelled is usable or a required CSV column is missing.
    """
    root = Path(root).expanduser().resolve()
    layout = detect_layout(root)
    if layout == "csv":
        from analysis.data.csvlayout import csv_rows  # it builds on this module's Problem and read_csv

        csv_path, root, sample = root, root.parent, None
        rows, problems = csv_rows(csv_path, classes)
    elif layout == "kaggle":
        rows, problems, sample = kaggle_rows(root, classes)
    else:
        rows, problems = imagefolder_rows(root, classes)
        sample = None
    keep: list[int] = []
    thumbnails: dict[str, bytes] = {}
    facts: dict[str, list] = {"width": [], "height": [], "mode": [], "content_hash": []}
    relatives, wheres = rows["path"].tolist(), rows["row"].tolist()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, \
            progress(None, total=len(rows), desc="checking images", unit="img", disable=not show_progress) as bar:
        for start in range(0, len(rows), CHECK_BATCH):  # a batch at a time: memory does not grow with the rows
            batch = range(start, min(start + CHECK_BATCH, len(rows)))
            results = pool.map(lambda index: check_row(root, relatives[index], thumbnail_size), batch)
            for index, info in zip(batch, results):
                bar.update(1)
                if isinstance(info, Problem):
                    problems.append(Problem(info.kind, f"{wheres[index]} ({relatives[index]})", info.message))
                    continue
                keep.append(index)
                for name in facts:
                    facts[name].append(getattr(info, name))
                if info.thumbnail is not None:
                    thumbnails[relatives[index]] = info.thumbnail
    images = rows.iloc[keep].drop(columns=["row"]).reset_index(drop=True)
    images.insert(0, "image_id", images["path"])
    for name, values in facts.items():
        images[name] = pd.Series(values, dtype="int64" if name in ("width", "height") else "object")
    labelled = images[images["source"] == "train"]
    if labelled.empty:
        raise DatasetError("\n".join([f"{root}: no usable labelled image; {problems.total()} problem(s) found:",
                                      *summary_lines(problems, max_listed=5)]))
    found = order_classes(labelled["label"])
    if classes is not None:
        for name in classes:
            if name not in found:
                problems.append(Problem("empty_class", f"class {name!r}", "no usable image has this label"))
        found = [name for name in classes if name in found]
    if len(found) < 2:
        raise DatasetError(f"{root}: only one usable class ({listed(found)}); a classifier needs at least two.")
    return Dataset(root, layout, found, images, problems, sample, thumbnails)


# --- duplicates -----------------------------------------------------------------------------------

def duplicate_groups(images: pd.DataFrame) -> pd.DataFrame:
    """Byte-identical images: one row per content hash that occurs more than once.

    Columns: ``content_hash``, ``image_ids`` (list), ``labels`` (list of the labelled copies),
    ``conflicting`` (labelled copies disagree), ``leak`` (copies in both the labelled and the
    unlabelled competition test set).
    """
    repeated = images[images.duplicated("content_hash", keep=False)]
    records = []
    for content_hash, group in repeated.groupby("content_hash", sort=True):
        labels = [label for label in group["label"] if isinstance(label, str)]
        records.append({
            "content_hash": content_hash,
            "image_ids": list(group["image_id"]),
            "labels": labels,
            "conflicting": len(set(labels)) > 1,
            "leak": set(group["source"]) == {"train", "test"},
        })
    return pd.DataFrame.from_records(
        records, columns=["content_hash", "image_ids", "labels", "conflicting", "leak"])


def describe(dataset: Dataset, max_listed: int = 10) -> str:
    """A readable report: classes, counts per class and view, problems, duplicates and leaks."""
    labelled, lines = dataset.labelled, []
    lines.append(f"Dataset {dataset.root} ({dataset.layout} layout)")
    lines.append(f"  {len(labelled)} labelled images, {len(dataset.unlabelled)} unlabelled test images, "
                 f"{len(dataset.classes)} classes")
    table = pd.crosstab(labelled["label"], labelled["view"], margins=True, margins_name="total")
    table = table.reindex(dataset.classes + ["total"])
    shares = (table["total"] / len(labelled) * 100).round(1).astype(str) + "%"
    lines.append("\n" + table.assign(share=shares).to_string() + "\n")
    counts = dataset.problem_counts()
    skipped = sum(count for kind, count in counts.items() if kind not in ("empty_class", "bad_sample_submission"))
    lines.append(f"Problems: {sum(counts.values())} found, {skipped} row(s) skipped" if counts
                 else "Problems: none found")
    lines += summary_lines(dataset.problems, max_listed)
    groups = duplicate_groups(dataset.images)
    lines.append(f"Byte-identical images: {len(groups)} group(s), {int(groups['conflicting'].sum())} with "
                 f"conflicting labels, {int(groups['leak'].sum())} shared between train and test (leaks)")
    for group in groups[groups["conflicting"] | groups["leak"]].head(max_listed).itertuples(index=False):
        what = "conflicting labels " + listed(group.labels, separator="/") if group.conflicting else "train/test leak"
        lines.append(f"    - {listed(group.image_ids)}: {what}")
    return "\n".join(lines)
