"""Gallery page change at 96 thumbnails, as a person waits for it in a real browser.

Starts the dashboard on the competition-size fake bundle of ``large_bundle.py`` (15,000 images),
whose thumbnails are replaced by distinct 160-px JPEGs (as `run` now writes them; distinct, so the
browser cannot reuse one it already has), opens the gallery in Debian's chromium at 1280×800, shows
every held-out image (not only the mistakes, for enough pages), 12 per row and 96 per page, then
clicks "next page" and times until the script has finished and all 96 new thumbnails are decoded on
screen. Also times the first visit.

    python benchmarks/bench_gallery_browser.py [--bundle /tmp/cornlens-large-160] [--port 8607] [--changes 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analysis.core import bundle  # noqa: E402
from bench_dashboard_browser import start_server  # noqa: E402
from large_bundle import write_large_bundle  # noqa: E402

THUMBNAIL_PX = 160
SETTLED = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
COUNTS = ("() => { const i = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')];"
          " return [i.length, i.filter(image => image.complete && image.naturalWidth > 0).length]; }")
LOADED = ("n => { const images = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')];"
          " return images.length >= n && images.every(image => image.complete && image.naturalWidth > 0); }")


def distinct_thumbnails(images: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One different 160-px JPEG per image (a kernel-like blob and the image's number)."""
    rng = np.random.default_rng(seed)
    jpegs = []
    for number, image_id in enumerate(images["image_id"]):
        picture = Image.new("RGB", (THUMBNAIL_PX, int(THUMBNAIL_PX * 0.8)), (246, 244, 238))
        draw = ImageDraw.Draw(picture)
        colour = tuple(int(c) for c in rng.integers(90, 240, size=3))
        draw.ellipse([20 + number % 17, 10, 140 - number % 13, 118], fill=colour)
        draw.text((8, 4), str(number), fill=(0, 0, 0))
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=85)
        jpegs.append(buffer.getvalue())
    return pd.DataFrame({"image_id": images["image_id"], "jpeg": jpegs})


def ensure_bundle(path: Path, n_images: int) -> None:
    """Make the bundle unless a valid one (for this CornLens version) is already there."""
    try:
        bundle.open_bundle(path)
        return
    except bundle.BundleError:
        pass
    started = time.perf_counter()
    written = write_large_bundle(path, n_images)
    bundle.write_parquet(path / bundle.THUMBNAILS, distinct_thumbnails(written.images()),
                         **bundle.THUMBNAIL_WRITE_OPTIONS)  # as run writes them: small row groups
    print(f"made {path} ({n_images} images, distinct {THUMBNAIL_PX}-px thumbnails) in "
          f"{time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=Path("/tmp/cornlens-large-160"))
    parser.add_argument("--images", type=int, default=15_000)
    parser.add_argument("--port", type=int, default=8607)
    parser.add_argument("--changes", type=int, default=5, help="page changes to time (default 5)")
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG of the 96-thumbnail page")
    args = parser.parse_args(argv)
    ensure_bundle(args.bundle, args.images)
    from playwright.sync_api import sync_playwright

    server = start_server(args.bundle, args.port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                 args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{args.port}/gallery")
            page.get_by_role("button", name="Details").first.wait_for(timeout=300_000)
            page.wait_for_function(SETTLED, timeout=300_000)
            page.wait_for_function(LOADED, arg=48, timeout=300_000)
            print(f"first visit of the gallery (48 thumbnails, server caches cold): "
                  f"{time.perf_counter() - started:.2f} s")
            page.get_by_text("Only misclassified").first.click()  # every held-out image: enough pages to step through
            page.wait_for_timeout(1000)
            page.wait_for_function(SETTLED, timeout=60_000)
            page.locator("[data-testid=stButtonGroup] button", has_text="12").first.click()
            page.wait_for_timeout(1000)  # the status widget appears only once the rerun has started
            page.wait_for_function(SETTLED, timeout=60_000)
            page.get_by_label("Per page").first.click()
            page.get_by_role("option", name="96").click()
            page.wait_for_timeout(1000)
            page.wait_for_function(SETTLED, timeout=60_000)
            page.wait_for_function(LOADED, arg=96, timeout=120_000)
            times = []
            for change in range(args.changes):
                first = page.locator("[data-testid=stMain] [data-testid=stImage] img").first.get_attribute("src")
                started = time.perf_counter()
                page.get_by_role("button", name="Next page").first.click()
                page.wait_for_timeout(50)
                page.wait_for_function(
                    "src => document.querySelector('[data-testid=stMain] [data-testid=stImage] img')?.src !== src",
                    arg=first, timeout=60_000)
                page.wait_for_function(SETTLED, timeout=60_000)
                try:
                    page.wait_for_function(LOADED, arg=96, timeout=60_000)
                except Exception:
                    print("not loaded:", page.evaluate(COUNTS))
                    raise
                times.append(time.perf_counter() - started)
            print(f"page change at 96 thumbnails (12 per row): median {statistics.median(times):.2f} s, "
                  f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} changes")
            if args.screenshot:
                page.screenshot(path=str(args.screenshot))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
