"""Size and build time of the HTML report for a competition-size bundle.

Target (issue 6): the report of a 15,000-image bundle with 4 approaches stays under 15 MB and
builds in under 30 s. The bundle comes from ``benchmarks/large_bundle.py`` (fake numbers in
well-formed files). Prints the figures and where the bytes go; asserts nothing.

    OMP_NUM_THREADS=1 python benchmarks/bench_report.py [--images 15000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
sys.path.insert(0, str(Path(__file__).resolve().parent))

import large_bundle  # noqa: E402

from analysis.present import report  # noqa: E402

TARGET_MB, TARGET_S = 15.0, 30.0


def size_breakdown(text: str) -> dict[str, float]:
    """MB of plotly.js, figure scripts, thumbnails and the rest of the page."""
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, flags=re.S)
    plotly_js = max((len(body) for body in scripts), default=0)
    figure_scripts = sum(len(body) for body in scripts) - plotly_js
    thumbnails = sum(len(uri) for uri in re.findall(r'src="(data:image/[^"]+)"', text))
    total = len(text.encode("utf-8"))
    return {"plotly.js": plotly_js / 1e6, "figures": figure_scripts / 1e6, "thumbnails": thumbnails / 1e6,
            "rest": (total - plotly_js - figure_scripts - thumbnails) / 1e6, "total": total / 1e6}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=15_000, help="images in the bundle (default 15000)")
    parser.add_argument("--baselines", action="store_true", help="also store the two baselines (6 approaches)")
    parser.add_argument("--keep", type=Path, help="write the bundle and report here instead of a temporary folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.keep or Path(temporary) / "bundle"
        started = time.perf_counter()
        opened = large_bundle.write_large_bundle(folder, args.images, baselines=args.baselines)
        print(f"bundle: {args.images} images, {len(opened.approaches)} approaches, "
              f"written in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        path = report.write_report(folder)
        html_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report.write_report(folder, form="md")
        markdown_seconds = time.perf_counter() - started

        breakdown = size_breakdown(path.read_text(encoding="utf-8"))
        print(f"HTML report: {breakdown['total']:.1f} MB (target < {TARGET_MB:.0f} MB), built and written in "
              f"{html_seconds:.1f} s (target < {TARGET_S:.0f} s)")
        print("  where the bytes go: " + ", ".join(f"{name} {size:.2f} MB" for name, size in breakdown.items()
                                                  if name != "total"))
        print(f"Markdown summary: {markdown_seconds:.2f} s")
        verdict = breakdown["total"] < TARGET_MB and html_seconds < TARGET_S
        print("within target" if verdict else "OUTSIDE TARGET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
