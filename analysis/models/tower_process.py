"""The CLIP text tower in a process of its own, for the dashboard's server.

Loading a tower imports torch and open_clip: several seconds of a core, most of them holding Python's
global interpreter lock. In a thread of the server that lock is the one every page run needs, so a
click made while the tower loaded waited for it (on 2 cores a confusion-matrix click took 0.8 s
instead of 0.4 s). Here the tower loads and runs in a child process started with the lowest
scheduling priority: the server keeps its interpreter, a person's pages keep the cores, and only
phrases and their unit vectors cross the pipe. What the child says is JSON and raw float32 bytes,
never a pickle, so a child subverted by what it loaded cannot make the server unpickle anything. The child ends
with the server (its end of the pipe closes, or it sees its parent gone while still loading) or when
the :class:`RemoteTower` is closed or dropped. Windows passes no descriptors to a child: there the
tower loads in the server, as before.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Sequence

import numpy as np

from analysis.models import texttower

log = logging.getLogger(__name__)
NICENESS = 19  # the lowest priority: the tower takes a core only when the server and browser leave it idle
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding ``analysis``, for the child's imports
MESSAGE_BYTES = 64 * 2**20  # the longest message the server reads from the child (a batch of vectors is ~1 MB)
EXIT_WAIT_S = 10  # how long a tower's process may take to exit once told to, before it is killed


@dataclass
class RemoteTower:
    """A text tower loaded by :func:`start`: ``source``, ``weights``, ``precision`` and ``encode`` as
    :class:`texttower.TextTower`; one phrase batch at a time crosses the pipe."""

    source: texttower.TowerSource
    weights: str
    precision: str
    process: subprocess.Popen = field(repr=False)
    connection: Connection = field(repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, phrases: Sequence[str]) -> np.ndarray:
        """ndarray of shape (len(phrases), embed_dim), float32, unit rows.

        Raises:
            texttower.TowerUnavailable: the tower's process has stopped (killed for memory, say).
        """
        if not len(phrases):
            return np.zeros((0, 0), np.float32)  # as the tower loaded in the server answers
        with self.lock:
            try:
                self.connection.send([str(phrase) for phrase in phrases])
                said, payload = read_message(self.connection)
            except (EOFError, OSError) as error:
                raise texttower.TowerUnavailable(f"The text tower's process has stopped (exit code "
                                                 f"{self.process.poll()}); load it again.") from error
        if said.get("kind") != "vectors":
            log.error("the text tower failed to encode %d phrase(s):\n%s", len(phrases), said.get("message"))
            raise texttower.TowerUnavailable("The text tower failed to encode the phrase (the server's log says why).")
        return vectors(said, payload, len(phrases))

    def close(self) -> None:
        """End the tower's process (it exits when its pipe closes) and wait for it."""
        with self.lock:
            self.connection.close()
        end(self.process)


def end(process: subprocess.Popen) -> int:
    """Wait for a tower's process told to exit (its pipe closed), killing it after :data:`EXIT_WAIT_S`;
    its exit code."""
    try:
        return process.wait(timeout=EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def send_message(connection: Connection, kind: str, payload: bytes = b"", **fields: object) -> None:
    """Send one message of the child: a line of JSON (``kind`` and ``fields``), then ``payload``'s bytes."""
    connection.send_bytes(json.dumps({"kind": kind, **fields}).encode() + b"\n" + payload)


def read_message(connection: Connection) -> tuple[dict, bytes]:
    """One message of the child (:func:`send_message`): its JSON fields and its payload. Never unpickles.

    Raises:
        EOFError, OSError: the pipe closed, or the message is longer than :data:`MESSAGE_BYTES`;
        texttower.TowerUnavailable: the message is not one of ours.
    """
    header, _, payload = connection.recv_bytes(maxlength=MESSAGE_BYTES).partition(b"\n")
    try:
        said = json.loads(header)
    except (ValueError, RecursionError):  # not JSON, not text, or nested past Python's stack
        said = None
    if not isinstance(said, dict):
        raise texttower.TowerUnavailable("The text tower's process sent a message that is not CornLens's.")
    return said, payload


def vectors(said: dict, payload: bytes, rows: int) -> np.ndarray:
    """The (rows, width) float32 matrix a "vectors" message carries, checked against its stated shape.

    Raises:
        texttower.TowerUnavailable: the shape or the byte count is not what was asked for.
    """
    shape = said.get("shape")
    if (not isinstance(shape, list) or len(shape) != 2 or shape[0] != rows or not isinstance(shape[1], int)
            or shape[1] < 1 or len(payload) != rows * shape[1] * 4):
        raise texttower.TowerUnavailable("The text tower's process sent vectors of the wrong shape.")
    return np.frombuffer(payload, dtype="<f4").reshape(rows, shape[1]).astype(np.float32)


def release(connection: Connection, process: subprocess.Popen) -> None:
    """What ends a dropped tower (the cache let it go): close its pipe, so it exits, and reap it."""
    connection.close()
    threading.Thread(target=process.wait, daemon=True, name="cornlens-text-tower-reaper").start()


def start(source: texttower.TowerSource, weights_file: str | None = None,
          allowed_roots: list[Path] | None = None) -> RemoteTower | texttower.TextTower:
    """Load ``source``'s text tower (:func:`texttower.load_text_tower`, same arguments) in a child
    process (``python -P -m analysis.models.tower_process``: a fresh interpreter, never a fork of the
    server's threads, which imports nothing from the server's working folder) and return it once
    loaded; on Windows, in this process.

    Raises:
        texttower.TowerUnavailable: as :func:`texttower.load_text_tower`, or the process stopped or failed.
    """
    if os.name == "nt":  # no descriptors can be passed to a child there
        return texttower.load_text_tower(source, weights_file, allowed_roots)
    ours, theirs = socket.socketpair()
    path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    with theirs:
        process = subprocess.Popen([sys.executable, "-P", "-m", __name__, str(theirs.fileno()), str(os.getpid())],
                                   pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                   env=os.environ | {"PYTHONPATH": path})
    connection = Connection(ours.detach())
    try:
        os.setpriority(os.PRIO_PROCESS, process.pid, NICENESS)  # from its interpreter's start, not once its module runs
        connection.send((source, weights_file, allowed_roots))
        said, _ = read_message(connection)
    except (EOFError, OSError, texttower.TowerUnavailable) as error:  # it ended at once, or said nonsense
        connection.close()
        stopped = f"The text tower's process stopped while loading (exit code {end(process)})."
        raise texttower.TowerUnavailable(str(error) if isinstance(error, texttower.TowerUnavailable)
                                         else stopped) from None
    if said.get("kind") == "ready":
        tower = RemoteTower(source, str(said.get("weights")), str(said.get("precision")), process, connection)
        weakref.finalize(tower, release, connection, process)
        return tower
    connection.close()
    end(process)
    if said.get("kind") == "unavailable":
        raise texttower.TowerUnavailable(str(said.get("message")))
    log.error("the text tower failed to load:\n%s", said.get("message"))
    raise texttower.TowerUnavailable("The text tower failed to load (the server's log says why).")


def serve(connection: Connection) -> None:
    """The child process (at the lowest priority, :func:`start` set it): receive what to load, load it,
    say so, then encode each phrase batch received until the pipe closes."""
    try:
        source, weights_file, allowed_roots = connection.recv()
        try:
            tower = texttower.load_text_tower(source, weights_file, allowed_roots)
        except texttower.TowerUnavailable as error:
            send_message(connection, "unavailable", message=str(error))
            return
        except Exception:  # a bug: the server logs it and the page says so
            send_message(connection, "error", message=traceback.format_exc())
            return
        send_message(connection, "ready", weights=str(tower.weights), precision=str(tower.precision))
        while True:
            phrases = connection.recv()
            try:
                encoded = np.ascontiguousarray(tower.encode(phrases), dtype="<f4")
            except Exception:
                send_message(connection, "error", message=traceback.format_exc())
                continue
            send_message(connection, "vectors", encoded.tobytes(), shape=list(encoded.shape))
    except (EOFError, OSError):  # the server closed the pipe or ended
        return


def end_with_parent(parent: int) -> None:
    """Exit as soon as ``parent`` (the server) has ended: its pipe closes at once, but a tower still
    importing torch would not see that for seconds (a stopped server's tower would take a core from
    the next one)."""
    while os.getppid() == parent:
        time.sleep(0.25)
    os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=end_with_parent, args=(int(sys.argv[2]),), daemon=True).start()
    serve(Connection(int(sys.argv[1])))
