"""Script time of every dashboard page on a large bundle (targets: under 3 s on a first visit, 1 s warm).

Builds (or reuses) the fake bundle of ``large_bundle.py`` (five approaches and two baselines, a map
per model) and runs each page under ``streamlit.testing.v1.AppTest``: the first visit with empty
caches (cold: the page reads its bundle files) and the median of the following reruns (warm: what a
user waits for after each click), then the process's peak memory. Script time only: the browser's
drawing is in ``bench_dashboard_browser.py``.

    python benchmarks/bench_dashboard.py [--bundle /tmp/cornlens-large] [--images 15000] [--reruns 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from large_bundle import write_large_bundle  # noqa: E402

PAGES = ("views/home.py", "views/autopsy.py", "views/probe.py", "views/convnext.py", "views/compare.py",
         "views/embedding_map.py", "views/gallery.py", "views/report.py")
TARGET_S = 1.0


def timed_run(app) -> float:
    """Seconds one script run takes; fails when the page raised or showed an error instead of content."""
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"page raised: {app.exception[0].value}")
    if app.error:
        raise RuntimeError(f"page shows an error: {app.error[0].value}")
    return elapsed


def shown(app) -> str:
    """What the page put on screen, in counts (to see that the timed page really rendered)."""
    charts = len(app.get("plotly_chart"))
    return f"{charts} figures, {len(app.image)} images, {len(app.dataframe)} tables"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=Path("/tmp/cornlens-large"), help="bundle folder (made when absent)")
    parser.add_argument("--images", type=int, default=15_000, help="images in a newly made bundle (default 15000)")
    parser.add_argument("--reruns", type=int, default=3, help="warm reruns per page (default 3)")
    args = parser.parse_args(argv)
    if not (args.bundle / "manifest.json").is_file():
        started = time.perf_counter()
        write_large_bundle(args.bundle, args.images, baselines=True)
        print(f"made {args.bundle} ({args.images} images) in {time.perf_counter() - started:.1f} s")
    os.environ["CORNLENS_BUNDLE"] = str(args.bundle)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "dashboard" / "navigation.py"), default_timeout=120)
    start_up = timed_run(app)
    print(f"bundle {args.bundle}: first start (imports + Home) {start_up:.2f} s\n")
    print(f"{'page':28s} {'cold visit':>12s} {'warm rerun':>12s}   shown")
    worst = 0.0
    for page in PAGES:
        st.cache_data.clear()  # a cold first visit: this page reads its bundle files itself
        st.cache_resource.clear()
        app.switch_page(page)
        first = timed_run(app)
        warm = statistics.median(timed_run(app) for _ in range(args.reruns))
        worst = max(worst, warm)
        flag = "" if warm < TARGET_S else "  (over target)"
        print(f"{page:28s} {first:10.2f} s {warm:10.2f} s   {shown(app)}{flag}")
    print(f"\nslowest warm page: {worst:.2f} s (target < {TARGET_S:.0f} s)")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (target < 2 GB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
