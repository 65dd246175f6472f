"""Long commands run as child processes, so that the dashboard never runs a model itself.

The dashboard starts ``python -m analysis demo`` with :func:`start_demo`, keeps the returned
:class:`BackgroundRun`, and shows :meth:`BackgroundRun.progress_lines` while the page stays usable.
The child's output (log lines and progress bars) goes to a log file next to the bundle.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from analysis.core.paths import IN_CLONE, PROJECT_ROOT


@dataclass
class BackgroundRun:
    """A child process and the file its output goes to."""

    command: list[str]
    log_path: Path
    process: subprocess.Popen
    started: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def succeeded(self) -> bool:
        return self.process.poll() == 0

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def progress_lines(self, count: int = 8) -> list[str]:
        """The last ``count`` lines of output; a progress bar's latest state counts as one line."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        lines = [line.rsplit("\r", 1)[-1].strip() for line in text.replace("\r\n", "\n").split("\n")]
        return [line for line in lines if line][-count:]

    def stop(self) -> None:
        """End the child (a finished step stays in the bundle; running the demo again continues it)."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def demo_command(out: Path) -> list[str]:
    """The command that builds the demo bundle at ``out``."""
    return [sys.executable, "-m", "analysis", "demo", "--out", str(out)]


def start(command: list[str], log_path: Path) -> BackgroundRun:
    """Start ``command`` (in the clone's folder when run from one), its output (stdout and stderr) into
    ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:  # the child keeps its own handle
        process = subprocess.Popen(command, cwd=PROJECT_ROOT if IN_CLONE else None, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    return BackgroundRun(command, log_path, process)


def start_demo(out: Path) -> BackgroundRun:
    """Start building the demo bundle at ``out``; output goes to ``<out>.log`` next to it."""
    out = Path(out)
    return start(demo_command(out), out.with_name(out.name + ".log"))
