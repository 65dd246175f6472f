"""The results bundle: one folder, the only contract between the analysis and the dashboard.

Layout (see ``../shared/DESIGN.md``)::

    manifest.json                 schema_version, demo, classes, dataset, split, approaches, ...
    images.parquet                one row per image (image_id, path, seed_id, view, label, split, fold, ...)
    thumbnails.parquet            image_id, jpeg (small JPEG bytes)
    predictions/<approach>.parquet  image_id, pred_label, prob_<class>..., margin
    embeddings/<model>.npy        row order = images.parquet
    projections/<model>.parquet   2-D map of the images (and class texts)
    diagnostics/<name>.json       anything an approach wants to explain itself

Every file is written atomically (temporary file + rename) and the manifest last, so a reader
never sees half a bundle. Reading validates and raises :class:`BundleError`, whose message can be
shown to a user as it is. No pickle anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.core import column_types, confinement, jsonfile, records
from analysis.core.thumbnail_index import ThumbnailFileError, ThumbnailIndex
from analysis.core.thumbnail_index import WRITE_OPTIONS as THUMBNAIL_WRITE_OPTIONS
from analysis.core.version import __version__
from analysis.core.atomic import WriteError, atomic_path, transaction  # noqa: F401 (atomic_path, WriteError: re-exported)

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
IMAGES = "images.parquet"
THUMBNAILS = "thumbnails.parquet"
PREDICTIONS, EMBEDDINGS, PROJECTIONS, DIAGNOSTICS = "predictions", "embeddings", "projections", "diagnostics"
FEATURES = "features"
IMAGE_COLUMNS = ("image_id", "path", "seed_id", "view", "label", "split", "fold")
PREDICTION_COLUMNS = ("image_id", "pred_label")


class BundleError(Exception):
    """A bundle is missing, unreadable, incomplete or too new; the message says which file and why."""


class CheckedDiagnostics(dict):
    """A diagnostics dict as read from the bundle. Keys whose shape failed the check of
    :mod:`analysis.core.records` raise :class:`BundleError` (naming the file and key) when they are read,
    so a panel that uses one says so and the panels that do not still show."""

    def __init__(self, data: dict, problems: dict[str, str]):
        super().__init__(data)
        self.problems = problems

    def __getitem__(self, key: str) -> Any:
        if key in self.problems:
            raise BundleError(self.problems[key])
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default


# --- atomic writes --------------------------------------------------------------------------------

def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame, **options: Any) -> None:
    """``frame`` as Parquet at ``path``, atomically; ``options`` go to ``pyarrow.parquet.write_table``."""
    with atomic_path(path) as temporary:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), temporary, **options)


def write_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.save(handle, np.asarray(array), allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


def file_stem(name: str) -> str:
    """A file-system-safe stem for an approach or model name (``ViT-B-32:openai`` → ``ViT-B-32_openai``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "unnamed"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- the bundle -----------------------------------------------------------------------------------

class Bundle:
    """A validated bundle on disk. Tables are read lazily and kept once read."""

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest
        self._images: pd.DataFrame | None = None
        self._thumbnail_index: ThumbnailIndex | None = None
        self._thumbnail_lock = threading.Lock()  # built once, though a background thread may start it

    # manifest views
    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    @property
    def demo(self) -> bool:
        return bool(self.manifest.get("demo", False))

    @property
    def approaches(self) -> list[dict]:
        return list(self.manifest.get("approaches", []))

    def approach(self, approach_id: str) -> dict:
        for record in self.approaches:
            if record["id"] == approach_id:
                return record
        raise BundleError(f"{self.path}: no approach {approach_id!r}; it has "
                          f"{', '.join(r['id'] for r in self.approaches) or 'none yet'}.")

    def approaches_of_kind(self, kind: str) -> list[dict]:
        return [record for record in self.approaches if record["kind"] == kind]

    def file(self, relative: object, what: str) -> Path:
        """The bundle's file ``relative``; BundleError when it leaves the bundle (:func:`inside_bundle`)."""
        return inside_bundle(self.path, relative, what)

    # tables
    def images(self) -> pd.DataFrame:
        if self._images is None:
            self._images = _read_parquet(self.file(IMAGES, IMAGES))
        return self._images

    def thumbnails(self, image_ids: Iterable[str]) -> dict[str, bytes]:
        """image id → small JPEG bytes of the ``image_ids`` that have a thumbnail; only the row groups
        holding them are read (:mod:`analysis.core.thumbnail_index`). Empty when the bundle has none."""
        index = self.thumbnail_index()
        if index is None:
            return {}
        with _reading(index.path):
            return index.read(image_ids)

    def thumbnail_ids(self) -> list[str]:
        """The ids of the images that have a thumbnail, in file order."""
        index = self.thumbnail_index()
        return index.ids() if index is not None else []

    def thumbnail_index(self) -> ThumbnailIndex | None:
        """Where each thumbnail lies in ``thumbnails.parquet`` (built once); None when the file is absent."""
        with self._thumbnail_lock:
            if self._thumbnail_index is None:
                path = self.file(THUMBNAILS, THUMBNAILS)
                if not path.exists():
                    return None
                with _reading(path):
                    self._thumbnail_index = ThumbnailIndex(path)
        return self._thumbnail_index

    def predictions(self, approach_id: str) -> pd.DataFrame:
        record = self.approach(approach_id)
        return _read_parquet(self.file(record["predictions_file"], f"predictions_file of {approach_id!r}"))

    def embedding_names(self) -> list[str]:
        return sorted(self.manifest.get("embeddings", {}))

    def embeddings(self, name: str) -> np.ndarray:
        """ndarray of shape (n_images, dim), rows in ``images()`` order."""
        entry = self.manifest.get("embeddings", {}).get(name)
        if entry is None:
            raise BundleError(f"{self.path}: no embeddings named {name!r}.")
        path = self.file(entry["file"], f"embeddings {name!r}")
        try:
            return np.load(path, allow_pickle=False, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise BundleError(f"{path}: cannot be read as a .npy array ({error}).") from error

    def projection_names(self) -> list[str]:
        return sorted(self.manifest.get("projections", {}))

    def projection(self, name: str) -> pd.DataFrame:
        entry = self.manifest.get("projections", {}).get(name)
        if entry is None:
            raise BundleError(f"{self.path}: no projection named {name!r}.")
        return _read_parquet(self.file(entry["file"], f"projections {name!r}"))

    def has_diagnostics(self, name: str) -> bool:
        return (self.path / DIAGNOSTICS / f"{file_stem(name)}.json").exists()

    def diagnostics(self, name: str) -> dict:
        """The diagnostics called ``name``, checked against their type in :mod:`analysis.core.records`."""
        path = self.file(f"{DIAGNOSTICS}/{file_stem(name)}.json", f"diagnostics {name!r}")
        try:
            found = read_json(path)
        except FileNotFoundError as error:
            raise BundleError(f"{path}: no diagnostics named {name!r} in this bundle.") from error
        expected = records.diagnostics_type(name, self.approaches)
        if expected is None:
            return found
        problems = records.check_shape(found, expected, str(path))
        if "" in problems:
            raise BundleError(problems[""])
        return CheckedDiagnostics(found, problems) if problems else found


def inside_bundle(path: Path, relative: object, what: str) -> Path:
    """``path / relative`` resolved, when it stays inside the bundle folder (symbolic links followed).

    A bundle is data received from someone: a file name in it that is absolute, climbs out with
    ``..`` or is a link to elsewhere is refused with a BundleError naming the manifest entry; so is
    a FIFO, device or folder in the place of a file (reading it would block or fail).
    """
    full = confinement.resolve_inside(path, relative)
    if full is None:
        raise BundleError(f"{Path(path) / MANIFEST}: {what} names {relative!r}, which is not a file inside the "
                          "bundle folder (absolute, '..' or a link to elsewhere); this bundle is refused.")
    try:
        return confinement.regular_file(full, f"{full} ({what})")
    except confinement.UnsafePathError as error:
        raise BundleError(f"{error} This bundle is refused.") from error


def read_json(path: Path) -> Any:
    """The JSON file ``path`` of a bundle (:func:`analysis.core.jsonfile.read_json`: bounded in size and
    depth); BundleError naming it otherwise. FileNotFoundError passes through."""
    try:
        return jsonfile.read_json(path)
    except FileNotFoundError:
        raise
    except (OSError, jsonfile.JsonFileError) as error:
        raise BundleError(f"{path}: cannot be read as JSON ({error}).") from error

def check_image_paths(path: Path, manifest: dict) -> None:
    """Refuse a bundle whose ``dataset.root`` or an ``images.parquet`` ``path`` could lead outside the
    dataset folder: every path must be relative without ``..`` (links are checked where a file is read,
    :func:`analysis.core.confinement.dataset_image`)."""
    root = manifest["dataset"].get("root") if isinstance(manifest["dataset"], dict) else None
    if root is not None and confinement.dataset_root(path, root) is None:
        raise BundleError(f"{path / MANIFEST}: dataset.root {root!r} is neither an absolute folder nor a folder "
                          "inside the bundle; this bundle is refused.")
    try:
        table = pq.read_table(inside_bundle(path, IMAGES, IMAGES), columns=["image_id", "path"]).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise BundleError(f"{path / IMAGES}: cannot be read as Parquet ({error}); rebuild the bundle.") from error
    bad = confinement.unsafe_rows(table["path"])
    if bad:
        first = bad[0]
        raise BundleError(f"{path / IMAGES}: row {first + 1} (image_id {table['image_id'].iloc[first]!r}) has path "
                          f"{table['path'].iloc[first]!r}, which is absolute or climbs out of the dataset folder "
                          f"with '..' ({len(bad)} such row(s)); this bundle is refused.")


def check_no_links_out(path: Path) -> None:
    """Refuse a bundle holding a symbolic link that leads outside it (a diagnostics file, say), or a
    FIFO or device where a file belongs: the files read by name, not through the manifest, are
    checked here once."""
    root = path.resolve()
    entries = [path / THUMBNAILS, *(entry for folder in (DIAGNOSTICS, "features") if (path / folder).is_dir()
                                    for entry in (path / folder).iterdir())]
    for entry in entries:
        if entry.is_symlink() and not entry.resolve().is_relative_to(root):
            raise BundleError(f"{entry}: a link to {os.readlink(entry)}, outside the bundle folder; this bundle "
                              "is refused (a bundle may only hold its own files).")
        if not entry.is_dir():
            inside_bundle(path, entry.relative_to(path).as_posix(), "a file it holds")


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Faults of reading the Parquet file ``path`` as a BundleError naming it."""
    try:
        yield
    except FileNotFoundError as error:
        raise BundleError(f"{path}: file is missing from the bundle.") from error
    except (OSError, ThumbnailFileError, pa.ArrowException) as error:  # not any ValueError: a bug is not the bundle's
        raise BundleError(f"{path}: cannot be read as Parquet ({error}); rebuild the bundle.") from error


def _read_parquet(path: Path) -> pd.DataFrame:
    with _reading(path):
        return pq.read_table(path, memory_map=True).to_pandas()  # mapped, not read into a buffer first


def _check_parquet(path: Path, required: tuple[str, ...], text: tuple[str, ...] = (),
                   number_prefix: str | None = None) -> None:
    """The Parquet file has the ``required`` columns, the ``text`` ones hold text and every column
    starting with ``number_prefix`` (``prob_``) numbers; a BundleError names the file and column."""
    if not path.is_file():
        raise BundleError(f"{path}: file is missing from the bundle; rebuild it with `python -m analysis run`.")
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        raise BundleError(f"{path}: cannot be read as Parquet ({error}); the file is damaged or "
                          "truncated. Rebuild the bundle.") from error
    missing = [column for column in required if column not in schema.names]
    if missing:
        raise BundleError(f"{path}: missing column(s) {', '.join(missing)}.")
    for field in schema:
        kind = column_types.column_kind(field.type)
        if field.name in text and kind not in ("text", "null"):
            raise BundleError(f"{path}: column {field.name!r} holds {column_types.KIND_WORDS[kind]} ({field.type}), "
                              "expected text; this bundle is refused.")
        if number_prefix and field.name.startswith(number_prefix) and kind not in ("number", "null"):
            raise BundleError(f"{path}: column {field.name!r} holds {column_types.KIND_WORDS[kind]} ({field.type}), "
                              "expected numbers; this bundle is refused.")


def read_manifest(path: str | Path) -> dict:
    """The manifest of the bundle at ``path``, checked for presence, JSON and schema version."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if path.is_dir():
        try:
            confinement.file_inside(path, MANIFEST, str(manifest_path))
        except confinement.UnsafePathError as error:
            raise BundleError(f"{error} This bundle is refused (a bundle may only hold its own files).") from error
    if not path.is_dir():
        raise BundleError(f"{path}: no bundle folder here. Build one with `python -m analysis run` "
                          "or `python -m analysis demo`.")
    if not manifest_path.is_file():
        raise BundleError(f"{manifest_path}: not found; {path} is not a results bundle (or it was "
                          "interrupted before its first step finished).")
    manifest = read_json(manifest_path)
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleError(f"{manifest_path}: has no integer 'schema_version'; not a CornLens bundle.")
    if version > SCHEMA_VERSION:
        raise BundleError(f"{manifest_path}: schema_version {version} is newer than this CornLens "
                          f"understands ({SCHEMA_VERSION}); update CornLens to read it.")
    for key in ("classes", "dataset", "approaches"):
        if key not in manifest:
            raise BundleError(f"{manifest_path}: required key {key!r} is missing.")
    problems = records.check_shape(manifest, records.Manifest, str(manifest_path))
    if problems:
        raise BundleError("; ".join(problems.values()) + ". This bundle is refused.")
    return manifest


def open_bundle(path: str | Path) -> Bundle:
    """Open and validate a bundle: manifest, images table and every file the manifest names."""
    path = Path(path).expanduser()
    manifest = read_manifest(path)
    _check_parquet(inside_bundle(path, IMAGES, IMAGES), IMAGE_COLUMNS, text=("image_id", "path", "split"))
    check_image_paths(path, manifest)
    check_no_links_out(path)
    for index, record in enumerate(manifest["approaches"]):
        where = f"{path / MANIFEST}: approach {record.get('id', index) if isinstance(record, dict) else index!r}"
        problems = records.approach_problems(record, where)
        if problems:
            raise BundleError("; ".join(problems))
        _check_parquet(inside_bundle(path, record["predictions_file"], f"predictions_file of {record['id']!r}"),
                       PREDICTION_COLUMNS, text=PREDICTION_COLUMNS, number_prefix="prob_")
    for section in ("embeddings", "projections"):
        for name, entry in manifest.get(section, {}).items():
            if not inside_bundle(path, entry.get("file") if isinstance(entry, dict) else None,
                                 f"{section} {name!r}").is_file():
                raise BundleError(f"{path / entry['file']}: {section} {name!r} listed in the manifest "
                                  "but the file is missing.")
    return Bundle(path, manifest)


# --- writing --------------------------------------------------------------------------------------

def update_manifest(path: str | Path, change: Callable[[dict], None]) -> dict:
    """Read the manifest, apply ``change`` in place, write it back atomically."""
    path = Path(path)
    manifest = read_manifest(path)
    change(manifest)
    write_json(path / MANIFEST, manifest)
    return manifest


def create_bundle(path: str | Path, manifest: dict, images: pd.DataFrame,
                  thumbnails: pd.DataFrame | None = None) -> Bundle:
    """Write the data part of a bundle. ``manifest`` gets schema, tool and time fields added.

    An existing bundle at ``path`` keeps its approaches when its image list (the dataset
    fingerprint and the split) is unchanged; otherwise they are dropped, since they were
    scored on other images.
    """
    path = Path(path)
    missing = [column for column in IMAGE_COLUMNS if column not in images.columns]
    if missing:
        raise BundleError(f"images table lacks column(s) {', '.join(missing)}")
    kept: dict = {}
    try:
        old = read_manifest(path)
        if (old["dataset"].get("fingerprint") == manifest["dataset"].get("fingerprint")
                and old.get("split") == manifest.get("split")):
            kept = {key: old[key] for key in ("approaches", "embeddings", "projections", FEATURES, "runs", "inputs")
                    if key in old}
    except BundleError:
        pass
    full = {"schema_version": SCHEMA_VERSION, "tool": "cornlens", "tool_version": __version__,
            "created": now(), "demo": False, "approaches": [], "embeddings": {}, "projections": {}}
    full.update(manifest)
    full.update(kept)
    with transaction():  # all three files or none
        write_parquet(path / IMAGES, images)
        if thumbnails is not None:
            write_parquet(path / THUMBNAILS, thumbnails, **THUMBNAIL_WRITE_OPTIONS)
        write_json(path / MANIFEST, full)
    return open_bundle(path)


def predictions_frame(image_ids: list[str] | np.ndarray, proba: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """The prediction table of one approach.

    Args:
        image_ids: ids of the predicted images.
        proba: ndarray of shape (n_images, n_classes), rows summing to 1, ``classes`` order.

    Returns:
        DataFrame with ``image_id``, ``pred_label``, ``prob_<class>`` per class, ``margin``
        (top-1 minus top-2 probability).
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (len(image_ids), len(classes)):
        raise ValueError(f"proba has shape {proba.shape}, expected ({len(image_ids)}, {len(classes)})")
    top_two = np.sort(proba, axis=1)[:, ::-1][:, :2] if len(classes) > 1 else np.c_[proba, proba * 0]
    frame = pd.DataFrame({"image_id": list(image_ids),
                          "pred_label": np.asarray(classes)[np.argmax(proba, axis=1)]})
    for index, name in enumerate(classes):
        frame[f"prob_{name}"] = proba[:, index]
    frame["margin"] = top_two[:, 0] - top_two[:, 1]
    return frame


def save_approach(path: str | Path, record: dict, predictions: pd.DataFrame,
                  diagnostics: dict | None = None) -> dict:
    """Store one approach: its predictions, optional diagnostics, and its manifest entry
    (replacing an entry with the same ``id``)."""
    path = Path(path)
    stem = file_stem(str(record.get("id")))
    record = {"model": None, "pretrained": None, "prompt_set": None, **record,
              "predictions_file": f"{PREDICTIONS}/{stem}.parquet", "finished": now()}
    problems = records.approach_problems(record, "approach record")
    if problems:  # a writer's bug, not the user's: fail loudly
        raise ValueError("; ".join(problems))

    def upsert(manifest: dict) -> None:
        others = [entry for entry in manifest["approaches"] if entry["id"] != record["id"]]
        manifest["approaches"] = others + [record]

    with transaction():  # predictions, diagnostics and manifest entry together, or none of them
        write_parquet(path / record["predictions_file"], predictions)
        if diagnostics is not None:
            save_diagnostics(path, record["id"], diagnostics)
        update_manifest(path, upsert)
    return record


def save_diagnostics(path: str | Path, name: str, diagnostics: dict) -> None:
    write_json(Path(path) / DIAGNOSTICS / f"{file_stem(name)}.json", diagnostics)


def save_embeddings(path: str | Path, name: str, array: np.ndarray, **meta: Any) -> None:
    """Store an (n_images, dim) array under ``embeddings/`` and list it in the manifest."""
    entry = {"file": f"{EMBEDDINGS}/{file_stem(name)}.npy", "shape": list(np.shape(array)), **meta}
    with transaction():
        write_npy(Path(path) / entry["file"], array)
        update_manifest(path, lambda manifest: manifest.setdefault("embeddings", {}).__setitem__(name, entry))


def save_features(path: str | Path, name: str, frame: pd.DataFrame, **meta: Any) -> None:
    """Store a per-image table under ``features/`` and list it in the manifest (``features.<name>``)."""
    entry = {"file": f"{FEATURES}/{file_stem(name)}.parquet", **meta}
    with transaction():
        write_parquet(Path(path) / entry["file"], frame)
        update_manifest(path, lambda manifest: manifest.setdefault(FEATURES, {}).__setitem__(name, entry))


def save_projection(path: str | Path, name: str, frame: pd.DataFrame, **meta: Any) -> None:
    """Store a 2-D map (a table with at least ``x`` and ``y``) under ``projections/``."""
    entry = {"file": f"{PROJECTIONS}/{file_stem(name)}.parquet", **meta}
    with transaction():
        write_parquet(Path(path) / entry["file"], frame)
        update_manifest(path, lambda manifest: manifest.setdefault("projections", {}).__setitem__(name, entry))
