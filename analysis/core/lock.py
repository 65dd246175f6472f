"""One writer per bundle: `run` holds a lock file in the bundle folder while it writes.

The lock file (``.cornlens-run.lock``) names its holder (pid, host, start time, command) so that a
second `run` on the same bundle refuses at once and says which run is writing. The lock itself is an
``flock`` on that file, which the kernel releases when the holder exits, however it exits: a lock
file left by a process that is gone is stale and is taken over. Where ``flock`` is not available the
holder's pid is checked instead (on the same host).

The lock file is opened without following a symbolic link and must be a regular file: a bundle
received from someone whose lock file is a link (to a file of yours) or a FIFO is refused by name,
and nothing outside the bundle is touched. While the lock is held, every write into the bundle stays
inside it (:func:`analysis.core.atomic.writing_bundle`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from analysis.core.atomic import LinkOutError, WriteError, writing_bundle
from analysis.core.bundle import BundleError

try:
    import fcntl
except ImportError:  # Windows: the pid check alone
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
LOCK_FILE = ".cornlens-run.lock"


class BundleLockedError(BundleError):
    """Another process is writing this bundle; the message names it."""


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists on this machine (always True on Windows, where
    ``os.kill(pid, 0)`` would send Ctrl-C: the message then says to delete the lock file)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def holder_text(holder: dict) -> str:
    """``pid 123 on host h since 2026-11-30 17:00 UTC (python -m analysis run …)``."""
    since = str(holder.get("started", "?"))[:16].replace("T", " ")
    command = f" ({holder['command']})" if holder.get("command") else ""
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} since {since} UTC{command}"


def read_holder(path: Path) -> dict:
    """What the lock file says about its holder (empty when it says nothing readable)."""
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _locked_message(folder: Path, holder: dict) -> str:
    return (f"{folder}: another `run` is writing this bundle: {holder_text(holder)}. Wait for it to finish or stop "
            f"it, or write to another --out folder. If that process is gone, delete {folder / LOCK_FILE}.")


def _open_lock_file(path: Path):
    """The lock file, created when absent, opened without following a link; a link or anything but
    a regular file raises :class:`~analysis.core.atomic.LinkOutError` naming it."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    if path.is_symlink():
        raise LinkOutError(f"{path}: the bundle's lock file is a symbolic link (to {os.readlink(path)}); `run` "
                           "refuses to open it. Delete the link, or write to another --out folder.")
    descriptor = os.open(path, flags, 0o644)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise LinkOutError(f"{path}: the bundle's lock file is not a regular file (a FIFO, device or folder); `run` "
                           "refuses it. Delete it, or write to another --out folder.")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "r+")


def _take(handle, folder: Path) -> bool:
    """Try the lock on the open lock file; False when someone alive holds it."""
    if fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError:  # a file system without flock: fall back to the pid check
            pass
    holder = read_holder(folder / LOCK_FILE)
    same_host = holder.get("host") == socket.gethostname()
    return not holder or (same_host and not pid_alive(int(holder.get("pid", -1))))


@contextmanager
def bundle_lock(folder: str | Path, command: str | None = None) -> Iterator[Path]:
    """Hold the lock of the bundle at ``folder`` (created if needed) for the duration of the block.

    Raises:
        BundleLockedError: another live process holds it; the message names pid, host and command.
        WriteError: the folder cannot be written (read-only, disk full); the message names it.
    """
    folder = Path(folder)
    path = folder / LOCK_FILE
    me = {"pid": os.getpid(), "host": socket.gethostname(),
          "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
          "command": (command if command is not None else " ".join(sys.argv))[:300]}
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            handle = _open_lock_file(path)
            if not _take(handle, folder):
                holder = read_holder(path)
                handle.close()
                raise BundleLockedError(_locked_message(folder, holder))
            try:  # the file we locked is still the lock file (not one its last holder just removed)
                if os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino:
                    break
            except FileNotFoundError:
                pass
            handle.close()
        previous = read_holder(path)
        if previous and previous.get("pid") != me["pid"]:
            log.info("%s: taking over a stale lock of a run that is gone (%s)", folder, holder_text(previous))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(me) + "\n")
        handle.flush()
    except LinkOutError:
        raise
    except OSError as error:
        raise WriteError(f"{folder}: cannot take the bundle's lock file ({error.strerror or error}); the folder "
                         "must be writable by you, on a disk with free space.") from error
    try:
        with writing_bundle(folder):
            yield path
    finally:
        try:
            path.unlink()  # while still holding the lock: nobody took it meanwhile
            if created and not any(folder.iterdir()):
                folder.rmdir()  # a run that failed before writing anything leaves no empty folder
        except OSError:
            pass
        handle.close()
