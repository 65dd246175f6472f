"""How `validate` copes with a huge CSV whose image files are all missing (issue 13: bounded memory,
problems summarised).

    python benchmarks/bench_missing_rows.py --rows 1000000

Writes a Kaggle-layout ``train.csv`` of ``--rows`` rows (no image files) into a temporary folder,
runs ``python -m analysis validate`` on it in a child process and reports the wall time, the CPU
time, the child's peak memory (max RSS) and how many lines it printed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LABELS = ("pure", "broken", "discolored", "silkcut")


def write_csv(folder: Path, rows: int) -> Path:
    """``train.csv`` with ``rows`` rows pointing at files that do not exist."""
    (folder / "train").mkdir(parents=True, exist_ok=True)
    with open(folder / "train.csv", "w") as handle:
        handle.write("seed_id,view,image,label\n")
        for index in range(rows):
            handle.write(f"{index},{'top' if index % 2 else 'bottom'},train/{index:07d}.png,{LABELS[index % 4]}\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = write_csv(Path(temporary), args.rows)
        started = time.perf_counter()
        answer = subprocess.run([sys.executable, "-m", "analysis", "validate", "--data", str(folder), "-q"],
                                cwd=PROJECT_ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = (answer.stdout + answer.stderr).splitlines()
    print(f"{args.rows:,} rows of missing files: exit {answer.returncode}, wall {wall:.1f} s, "
          f"CPU {usage.ru_utime + usage.ru_stime:.1f} s, peak memory {usage.ru_maxrss / 1024:.0f} MiB, "
          f"{len(output)} lines of output")
    print("\n".join(output[:12]))


if __name__ == "__main__":
    main()
