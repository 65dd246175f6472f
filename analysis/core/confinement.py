"""Paths that come from outside: folders a browser asks for, and paths written inside a bundle.

A results bundle is data received from someone, never a reason to read elsewhere: every path taken
from it must stay inside the bundle (its own files) or inside its dataset folder (the images), after
symbolic links are resolved. Folders typed in the dashboard or passed as ``?bundle=`` are opened only
under the roots the person who started the dashboard allowed (:func:`allowed_roots`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Iterable

RESULTS_VARIABLE = "CORNLENS_RESULTS"  # folder of bundles the dashboard lists
BUNDLE_VARIABLE = "CORNLENS_BUNDLE"    # the bundle the dashboard opens first
ROOTS_VARIABLE = "CORNLENS_ROOTS"      # more folders whose bundles the dashboard may open (os.pathsep-separated)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


class OutsideRootsError(ValueError):
    """A folder asked for from the browser lies outside every allowed root."""


def safe_relative_path(value: object) -> str | None:
    """The normalised relative path, or None when it is empty, absolute or climbs out with ``..``.

    A purely textual check (no file system access); :func:`resolve_inside` adds symbolic links.
    """
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return None
    text = value.strip().replace("\\", "/")
    posix = PurePosixPath(text)
    if posix.is_absolute() or ".." in posix.parts or (len(text) > 1 and text[1] == ":"):
        return None
    return posix.as_posix()


def is_within(path: Path, root: Path) -> bool:
    """True when ``path`` is ``root`` or lies below it, both resolved (symbolic links followed)."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def resolve_inside(base: Path, value: object) -> Path | None:
    """``base / value`` resolved, or None when ``value`` is not a safe relative path or the result
    (symbolic links followed) leaves ``base``."""
    relative = safe_relative_path(value)
    if relative is None:
        return None
    full = (Path(base) / relative).resolve()
    return full if full.is_relative_to(Path(base).resolve()) else None


def plainly_safe(value: object) -> bool:
    """A quick sufficient test for :func:`safe_relative_path` (a bundle of 100,000 paths is checked in
    a blink): a string with no surrounding space, NUL, backslash, leading ``/``, drive colon or ``..``
    at all. A value that fails it gets the full check."""
    return (isinstance(value, str) and value != "" and value == value.strip() and not value.startswith("/")
            and value[1:2] != ":" and ".." not in value and "\\" not in value and "\x00" not in value)


def unsafe_rows(values: Iterable[object]) -> list[int]:
    """Positions of the values that are not safe relative paths (textual check, see :func:`safe_relative_path`)."""
    return [index for index, value in enumerate(values)
            if not plainly_safe(value) and safe_relative_path(value) is None]


# --- folders asked for from the browser ----------------------------------------------------------

def allowed_roots(results: Path, environment: dict[str, str] | None = None) -> list[Path]:
    """The folders whose bundles the dashboard may open, resolved: the results folder, the bundle
    named at start (``$CORNLENS_BUNDLE``) and every folder of ``$CORNLENS_ROOTS``."""
    environment = os.environ if environment is None else environment
    roots = [Path(results)]
    if environment.get(BUNDLE_VARIABLE):
        roots.append(Path(environment[BUNDLE_VARIABLE]))
    roots += [Path(part) for part in environment.get(ROOTS_VARIABLE, "").split(os.pathsep) if part.strip()]
    return [root.expanduser().resolve() for root in roots]


def confine(path: str | Path, roots: list[Path]) -> Path:
    """``path`` resolved when it lies under one of ``roots``; otherwise :class:`OutsideRootsError`
    with one message naming the variables that allow more (no ``$``: Streamlit's markdown reads it as
    mathematics). Checked before anything is read there."""
    resolved = Path(path).expanduser().resolve()
    if any(resolved.is_relative_to(root) for root in roots):
        return resolved
    raise OutsideRootsError(
        f"{path} is outside the folders this dashboard may open. It opens bundles under the results folder "
        f"({RESULTS_VARIABLE}), the bundle it was started with ({BUNDLE_VARIABLE}) and the folders listed in "
        f"{ROOTS_VARIABLE}. To open this one, start the dashboard with {ROOTS_VARIABLE}={Path(str(path)).parent} "
        "(several folders separated by '" + os.pathsep + "'), or move the bundle into the results folder.")


# --- files a bundle points to ---------------------------------------------------------------------

class UnsafePathError(ValueError):
    """A path taken from a bundle leads outside the bundle or its dataset folder."""


def regular_file(path: Path, where: str) -> Path:
    """``path`` when it is a regular file or absent; :class:`UnsafePathError` naming ``where`` when it
    is a FIFO, a device, a socket or a folder. Checked with ``stat`` before anything opens it: opening
    a FIFO would block the reader (a dashboard page) for ever."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # absent, or unreadable: the reader says so
        return path
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else
                "not a file")
        raise UnsafePathError(f"{where}: is {kind}, not a regular file; it is not opened.")
    return path


def file_inside(base: Path, relative: str, where: str) -> Path:
    """``base / relative`` resolved, when it stays inside ``base`` (symbolic links followed) and is a
    regular file or absent; otherwise :class:`UnsafePathError` naming ``where``. For the files a
    bundle holds by fixed name (``manifest.json``, ``tags.csv``)."""
    full = resolve_inside(base, relative)
    if full is None:
        raise UnsafePathError(f"{where}: a link to somewhere outside {base}; it is not opened.")
    return regular_file(full, where)


def dataset_root(bundle: Path, root: object) -> Path | None:
    """The dataset folder a bundle names in ``dataset.root``: an absolute path as `run` writes it, or a
    folder inside the bundle (a bundle shipped with its images); None for anything else."""
    if not isinstance(root, str) or not root.strip() or "\x00" in root:
        return None
    if Path(root).is_absolute():
        return Path(root).resolve()
    return resolve_inside(bundle, root)


def file_sha1(path: Path, block: int = 1 << 20) -> str:
    """The sha1 of a file's bytes, read in blocks (``images.parquet`` ``content_hash``)."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_image(root: Path, relative: object, content_hash: str | None, where: str) -> Path | None:
    """The image file of one ``images.parquet`` row, when it is safe to show.

    Returns None when the file is not there, is not an image file name, the row has no ``content_hash``,
    or the file's bytes differ from it (it is not the image that was analysed: with an absolute
    ``dataset.root`` a crafted bundle could otherwise name any image on the machine). Raises
    :class:`UnsafePathError` naming ``where`` (the file and row) when the path leaves ``root``,
    symbolic links included.
    """
    full = resolve_inside(root, relative)
    if full is None:
        raise UnsafePathError(f"{where}: path {relative!r} leads outside the dataset folder {root} "
                              "(absolute, '..' or a link to elsewhere); the file is not opened.")
    if full.suffix.lower() not in IMAGE_SUFFIXES or not full.is_file():
        return None
    if not content_hash or file_sha1(full) != content_hash:
        return None
    return full
