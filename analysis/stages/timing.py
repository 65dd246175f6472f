"""Where a `run` spends its time and memory: one row per stage, in the manifest and at the end of the log.

Peak memory is the process's resident-set high-water mark (``VmHWM``), reset at the start of each
stage where Linux allows it (writing ``5`` to ``/proc/self/clear_refs``), so each row holds that
stage's own peak; elsewhere it is the peak so far (``resource.getrusage``), which only grows.
Child processes (image-reading workers) are not counted.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from pathlib import Path
from typing import Iterator

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
MANIFEST_KEY = "stage_times"  # manifest: list of {"stage", "seconds", "peak_memory_mb" (MiB)}, in run order


def _reset_peak() -> bool:
    """Reset the process's peak resident memory; False where the system does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float:
    """The process's peak resident memory in MiB (since the last reset, where one was possible)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


@contextlib.contextmanager
def measured(stage: str, rows: list[dict]) -> Iterator[None]:
    """Append ``{"stage", "seconds", "peak_memory_mb"}`` for the block to ``rows`` (also when it raises)."""
    _reset_peak()
    started = time.perf_counter()
    try:
        yield
    finally:
        rows.append({"stage": stage, "seconds": round(time.perf_counter() - started, 2),
                     "peak_memory_mb": round(peak_memory_mb(), 1)})


def table_text(rows: list[dict]) -> str:
    """The rows as an aligned text table with a total line (time summed, memory the largest peak)."""
    width = max([len("total"), *(len(row["stage"]) for row in rows)])
    lines = [f"{'stage':{width}s} {'time':>9s} {'peak memory':>13s}"]
    lines += [f"{row['stage']:{width}s} {row['seconds']:8.1f}s {row['peak_memory_mb']:9.0f} MiB" for row in rows]
    total = sum(row["seconds"] for row in rows)
    peak = max((row["peak_memory_mb"] for row in rows), default=0.0)
    lines.append(f"{'total':{width}s} {total:8.1f}s {peak:9.0f} MiB")
    return "\n".join(lines)
