"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Each file is written to a temporary file beside it and renamed over it. Inside :func:`transaction`
the renames wait until every file of the step is written, so a write that fails midway (a full
disk, a read-only folder) leaves every file of the step as it was: a bundle is the old one or the
new one. Failures raise :class:`WriteError`, whose message names the folder.

While a bundle is being written (:func:`writing_bundle`, held by `run` with its lock), a file whose
path lies inside the bundle is written only when its folder, symbolic links resolved, is inside it
too: a bundle received from someone whose ``submissions/`` or ``checkpoints/`` is a link to
elsewhere makes `run` refuse, naming the link, instead of writing there.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

_pending: ContextVar[list[tuple[Path, Path]] | None] = ContextVar("pending_renames", default=None)
_bundle_root: ContextVar[Path | None] = ContextVar("bundle_root", default=None)


class WriteError(OSError):
    """A file could not be written; the message names the folder and says what to check."""


def write_error(folder: Path, error: OSError) -> WriteError:
    """The :class:`WriteError` for ``error`` met while writing into ``folder``."""
    why = error.strerror or str(error)
    return WriteError(f"{folder}: cannot write here ({why}). Nothing of this step was changed; check that the "
                      "folder is writable and the disk has free space, then run the same command again.")


class LinkOutError(WriteError):
    """A path inside the bundle being written leads outside it through a symbolic link."""


@contextmanager
def writing_bundle(root: Path) -> Iterator[None]:
    """Within the block, every write to a path inside ``root`` stays inside it (see the module's docstring)."""
    token = _bundle_root.set(Path(os.path.abspath(root)))
    try:
        yield
    finally:
        _bundle_root.reset(token)


def check_inside_bundle(path: Path) -> None:
    """Raise :class:`LinkOutError` naming the link when ``path`` lies inside the bundle being written
    (:func:`writing_bundle`) but a folder on the way, or the file itself, is a symbolic link leading out."""
    root = _bundle_root.get()
    absolute = Path(os.path.abspath(path))
    if root is None or not absolute.is_relative_to(root) or absolute == root:
        return
    real_root = root.resolve()
    relative = absolute.relative_to(root)
    for step in [*reversed(relative.parents[:-1]), relative]:  # each folder on the way, then the file
        place = root / step
        if place.is_symlink() and not place.resolve().is_relative_to(real_root):
            raise LinkOutError(f"{place}: a symbolic link to {os.readlink(place)}, outside the bundle {root}; nothing "
                               "is written through it. A bundle holds only its own files: remove the link, or write "
                               "to another --out folder.")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one rename
    (at the end of the enclosing :func:`transaction`, when there is one). Inside a bundle being
    written, a path that leads out of it through a link raises :class:`LinkOutError` first."""
    path = Path(path)
    check_inside_bundle(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
    except WriteError:
        raise
    except OSError as error:
        raise write_error(path.parent, error) from error
    pending = _pending.get()
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; bundles are meant to be shared
        if pending is not None:
            pending.append((Path(temporary), path))
            temporary = None
        else:
            os.replace(temporary, path)
    except WriteError:
        raise
    except OSError as error:
        raise write_error(path.parent, error) from error
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)


@contextmanager
def transaction() -> Iterator[None]:
    """Defer the renames of every :func:`atomic_path` inside the block to its end, in write order.

    When anything in the block fails, the temporary files are removed and no target is touched.
    Renames within one file system need no space, so a full disk fails before the first rename.
    Nested transactions join the outermost one.
    """
    if _pending.get() is not None:
        yield
        return
    pending: list[tuple[Path, Path]] = []
    token = _pending.set(pending)
    try:
        yield
        for temporary, target in pending:
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise write_error(target.parent, error) from error
    finally:
        _pending.reset(token)
        for temporary, _ in pending:
            if temporary.exists():
                temporary.unlink()
