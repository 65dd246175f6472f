"""Tags a person puts on images ("label wrong", "ambiguous", "bad photo"), kept beside the bundle.

Tags live in ``<bundle>/tags.csv`` (columns ``image_id``, ``tag``, ``tagged``): the one file of a
bundle that belongs to its user. ``python -m analysis run`` never writes, replaces or deletes it,
so tags survive a rerun; every change rewrites it atomically (temporary file + rename), so a crash
leaves the old file or the new one, never half of one. A change is a transaction: it reads, changes
and writes the file while holding an exclusive ``flock`` on the bundle folder, so two sessions (two
browser tabs, two people) tagging at once never lose each other's tags. ``tags.csv`` is read only
when it is a regular file inside the bundle (a link to elsewhere or a FIFO is refused by name). The
export (``image_id,path,label,tag``) is what a relabelling tool wants; no cell of it starts a formula.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from analysis.core import confinement
from analysis.core.bundle import atomic_path, now
from analysis.core.escape import spreadsheet_csv

try:
    import fcntl
except ImportError:  # Windows: one process's sessions are still serialised by the thread lock
    fcntl = None  # type: ignore[assignment]

TAGS_FILE = "tags.csv"
TAGS = ("label wrong", "ambiguous", "bad photo")
COLUMNS = ("image_id", "tag", "tagged")
EXPORT_COLUMNS = ("image_id", "path", "label", "tag")


class TagError(Exception):
    """The tags file cannot be read or written; the message names the file and says what to do."""


def tags_path(bundle_path: str | Path) -> Path:
    return Path(bundle_path) / TAGS_FILE


def empty() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=str) for column in COLUMNS})


def read_tags(bundle_path: str | Path) -> pd.DataFrame:
    """Every tag of the bundle, one row per (image, tag); empty when nothing is tagged yet.

    Raises:
        TagError: the file exists but is not a tags CSV (it names the file and the missing column).
    """
    path = tags_path(bundle_path)
    try:
        confinement.file_inside(Path(bundle_path), TAGS_FILE, str(path))
    except confinement.UnsafePathError as error:
        raise TagError(f"{error} Tags are kept only in a regular tags.csv inside the bundle; remove it to start "
                       "again.") from error
    if not path.exists():
        return empty()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise TagError(f"{path}: cannot be read as a tags CSV ({error}); move it away to start again.") from error
    missing = [column for column in ("image_id", "tag") if column not in frame.columns]
    if missing:
        raise TagError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}.")
    if "tagged" not in frame.columns:
        frame["tagged"] = ""
    frame = frame[list(COLUMNS)]
    frame = frame[(frame["image_id"] != "") & (frame["tag"] != "")]
    return frame.drop_duplicates(["image_id", "tag"]).reset_index(drop=True)


def write_tags(bundle_path: str | Path, frame: pd.DataFrame) -> None:
    """Replace the tags file atomically with ``frame`` (``image_id``, ``tag``, ``tagged``)."""
    path = tags_path(bundle_path)
    frame = frame[list(COLUMNS)].drop_duplicates(["image_id", "tag"]).sort_values(["image_id", "tag"])
    try:
        with atomic_path(path) as temporary:
            frame.to_csv(temporary, index=False)
    except OSError as error:
        raise TagError(f"{path}: cannot be written ({error}); the tags were not changed.") from error


_in_process = threading.Lock()  # where flock is missing; cheap beside it


@contextmanager
def changing(bundle_path: str | Path) -> Iterator[None]:
    """Hold the bundle's tags for a read-modify-write: an exclusive ``flock`` on the bundle folder
    (released by the kernel if the holder dies), which other sessions and processes wait for."""
    with _in_process:
        if fcntl is None:
            yield
            return
        try:
            folder = os.open(bundle_path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as error:
            raise TagError(f"{bundle_path}: cannot be opened to change its tags ({error.strerror or error}).") from error
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)  # releases the lock


def set_tags(bundle_path: str | Path, image_id: str, tags: Iterable[str]) -> pd.DataFrame:
    """Make ``tags`` exactly the tags of ``image_id`` (an empty list removes them); returns every tag.

    Tags already there keep the time they were first given. Read, change and write happen in one
    transaction (:func:`changing`): another session's tags written meanwhile are kept.
    """
    wanted = list(dict.fromkeys(tag.strip() for tag in tags if tag and tag.strip()))
    with changing(bundle_path):
        current = read_tags(bundle_path)
        mine = current[current["image_id"] == image_id]
        kept = mine[mine["tag"].isin(wanted)]
        added = pd.DataFrame({"image_id": image_id, "tag": [tag for tag in wanted if tag not in set(kept["tag"])],
                              "tagged": now()}, columns=list(COLUMNS))
        updated = pd.concat([current[current["image_id"] != image_id], kept, added], ignore_index=True)
        write_tags(bundle_path, updated)
        return read_tags(bundle_path)


def add_tag(bundle_path: str | Path, image_ids: Iterable[str], tag: str) -> pd.DataFrame:
    """Give ``tag`` to every image of ``image_ids`` at once (a map selection), keeping their other
    tags and the time a tag was first given; one write. Returns every tag."""
    tag = tag.strip()
    if not tag:
        raise TagError("a tag cannot be empty.")
    current = read_tags(bundle_path)
    had = set(current.loc[current["tag"] == tag, "image_id"])
    new = [image_id for image_id in dict.fromkeys(map(str, image_ids)) if image_id not in had]
    added = pd.DataFrame({"image_id": new, "tag": tag, "tagged": now()}, columns=list(COLUMNS))
    write_tags(bundle_path, pd.concat([current, added], ignore_index=True))
    return read_tags(bundle_path)


def tags_of(frame: pd.DataFrame, image_id: str) -> list[str]:
    """The tags of one image, in the order of ``TAGS`` (other tags after)."""
    return tags_by_image(frame, [image_id]).get(image_id, [])


def tags_by_image(frame: pd.DataFrame, image_ids: Iterable[str]) -> dict[str, list[str]]:
    """image id → its tags (``tags_of``), for those of ``image_ids`` that have any: one pass over the
    tags for a page of cards, not one per card."""
    found = frame[frame["image_id"].isin(list(image_ids))]
    return {str(image_id): sorted(group, key=lambda tag: (TAGS.index(tag) if tag in TAGS else len(TAGS), tag))
            for image_id, group in found.groupby("image_id", sort=False)["tag"]}


def tagged_ids(frame: pd.DataFrame, wanted: Iterable[str]) -> set[str]:
    """Image ids carrying any of the ``wanted`` tags."""
    return set(frame.loc[frame["tag"].isin(list(wanted)), "image_id"])


def export_table(frame: pd.DataFrame, images: pd.DataFrame) -> pd.DataFrame:
    """``image_id, path, label, tag``, one row per tag, ready for relabelling.

    Tags of images no longer in the bundle (a rebuilt dataset) keep an empty path and label.
    """
    table = frame[["image_id", "tag"]].merge(images[["image_id", "path", "label"]], on="image_id", how="left")
    return table[list(EXPORT_COLUMNS)].fillna("").sort_values(["image_id", "tag"]).reset_index(drop=True)


def export_csv(frame: pd.DataFrame, images: pd.DataFrame) -> str:
    """``export_table`` as CSV text, safe to open in a spreadsheet: a cell that would start a formula
    (``=``, ``+``, ``-``, ``@``, tab, line break) starts with ``'`` (:func:`analysis.core.escape.spreadsheet_csv`)."""
    return spreadsheet_csv(export_table(frame, images))


def summary(frame: pd.DataFrame) -> dict[str, int]:
    """Images per tag (``TAGS`` order, then any other tag)."""
    counts = frame.groupby("tag")["image_id"].nunique().to_dict()
    ordered = [tag for tag in TAGS if tag in counts] + sorted(tag for tag in counts if tag not in TAGS)
    return {tag: int(counts[tag]) for tag in ordered}
