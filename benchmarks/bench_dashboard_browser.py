"""Every dashboard page on a large bundle, as a person waits for it in a real browser (chromium).

For each page: the **first visit** on a freshly started dashboard (every server cache cold: the page
reads its bundle files) and a **warm visit** (a second tab on the same server), each timed from
navigation until the script has finished, every chart is drawn and every thumbnail is decoded. The
process's peak memory (resident set size, from /proc) is read at the end. On the Embedding map it
checks that the map is drawn with WebGL (a ``scattergl`` trace drawn on a ``canvas``) and times a
box selection until the selected images are on screen, and a click on one point until its card is.

    python benchmarks/bench_dashboard_browser.py --bundle /tmp/scale-100k [--images 100000] [--port 8632]
        [--pages map gallery] [--screenshots /tmp/shots]

Timings only: no targets asserted (those are in the issue: under 3 s first visit, 1 s warm, 1 s
from selection to images).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from large_bundle import write_large_bundle  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# Software WebGL (SwiftShader): the map's scattergl trace needs a WebGL context even without a GPU.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
PAGES = {"home": "", "autopsy": "autopsy", "probe": "probe", "convnext": "convnext", "compare": "compare",
         "map": "embedding_map", "gallery": "gallery", "problems": "label_problems", "report": "report"}
TIMEOUT_MS = 300_000
QUIET_MS = 1500  # the page counts as drawn once nothing on it has changed for this long
# Resolves with performance.now() (ms since the navigation started) of the last change on the page
# before it went quiet: no rerun running, every chart drawn (an SVG or WebGL canvas in its plot div),
# every image decoded, the report's preview frame likewise.
SETTLED_AT = """async ([quietMs, leastCharts, leastImages, before]) => {
  const docs = () => [document, ...[...document.querySelectorAll('[data-testid=stMain] iframe')]
                                  .map(f => f.contentDocument).filter(Boolean)];
  const state = () => {
    const running = !!document.querySelector('[data-testid=stStatusWidget]');
    const main = document.querySelector('[data-testid=stMain]');
    let charts = 0, drawn = 0, images = 0, loaded = 0;
    for (const doc of docs()) {
      const c = [...doc.querySelectorAll('.js-plotly-plot')];
      const i = [...doc.querySelectorAll('img')];
      charts += c.length; drawn += c.filter(p => p._fullLayout && p.querySelector('.main-svg')).length;
      images += i.length; loaded += i.filter(x => x.complete && x.naturalWidth > 0).length;
    }
    const title = !!(main && main.querySelector('h1'));
    const spinner = !!document.querySelector('[data-testid=stSpinner]');
    const stale = document.querySelectorAll('[data-stale=true]').length;  // elements a rerun has not redrawn yet
    const ready = title && !running && !spinner && !stale && charts === drawn && images === loaded
                  && drawn >= leastCharts && loaded >= leastImages;
    return {ready, drawn, loaded, key: JSON.stringify([running, spinner, stale, charts, drawn, images, loaded,
                                        main ? main.querySelectorAll('*').length : 0, main ? main.innerText.length : 0])};
  };
  let key = state().key, last = before && before[1] === key ? before[0] : performance.now();
  while (true) {
    await new Promise(resolve => setTimeout(resolve, 50));
    const now = state();
    if (now.key !== key) { key = now.key; last = performance.now(); }
    else if (now.ready && performance.now() - last >= quietMs) return [last, now.drawn, now.loaded, key];
  }
}"""
MAP_FACTS = """() => {
  const plot = document.querySelector('[data-testid=stMain] .js-plotly-plot');
  const gl = plot.querySelectorAll('canvas');
  return {traces: plot._fullData.map(t => t.type), points: plot._fullData.reduce((n, t) => n + (t._length || 0), 0),
          canvases: gl.length};
}"""


def start_server(bundle_path: Path, port: int, results: Path | None = None) -> subprocess.Popen:
    """The dashboard on ``port`` opening ``bundle_path`` (``results``: its results folder), once it answers."""
    environment = os.environ | {"CORNLENS_BUNDLE": str(bundle_path), "HF_HUB_OFFLINE": "1"} | (
        {"CORNLENS_RESULTS": str(results)} if results else {})
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "Home.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the dashboard did not start")


def peak_memory_mb(process: subprocess.Popen) -> float:
    """Peak resident memory of the server process (VmHWM), in MB."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def settled(page, least: tuple[int, int] = (0, 0), before: list | None = None) -> tuple[float, tuple[int, int], list]:
    """(performance.now() in ms of the page's last change before it went quiet with at least
    ``least`` charts drawn and images decoded, (charts, images) then, the state to pass as ``before``
    to a later call, which then keeps that time when nothing changed since)."""
    at, charts, images, key = page.evaluate(SETTLED_AT, [QUIET_MS, *least, before])
    return at, (charts, images), [at, key]


def visit(browser, url: str, least: tuple[int, int] = (0, 0)) -> tuple[float, tuple[int, int], object]:
    """Seconds from navigation until the page was last changed before it went quiet, what it shows
    then (charts, images) and the open page. A page that goes quiet for a moment while the server is
    still busy is waited for again (its content changed within 3 s)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    at, shown, state = settled(page, least)
    while True:
        page.wait_for_timeout(3000)
        again, now, state = settled(page, shown, state)
        if again == at:
            return at / 1000, shown, page
        at, shown = again, now


def timed(page, action: Callable[[], None], least: tuple[int, int] = (0, 0)) -> float:
    """Seconds from ``action`` (a click, a key) until the page was last changed before it went quiet
    again: the watch starts before the action, so a quick rerun is not missed."""
    started = page.evaluate("([watch, args]) => { window.cornlensSettled = eval('(' + watch + ')')(args); "
                            "return performance.now(); }", [SETTLED_AT, [QUIET_MS, *least, None]])
    action()
    return (page.evaluate("() => window.cornlensSettled")[0] - started) / 1000


def box_select(page, left: float, top: float, right: float, bottom: float) -> tuple[float, str]:
    """Drag a box over the map (fractions of the plot area); seconds from releasing the mouse until
    the selected images are drawn, and how many the page says were selected."""
    plot = page.locator("[data-testid=stMain] .js-plotly-plot .nsewdrag").first.bounding_box()
    x, y, width, height = plot["x"], plot["y"], plot["width"], plot["height"]
    page.mouse.move(x + left * width, y + top * height)
    page.mouse.down()
    page.mouse.move(x + right * width, y + bottom * height, steps=8)
    seconds = timed(page, page.mouse.up, least=(1, 1))
    text = page.locator("[data-testid=stMain]").inner_text()
    return seconds, text.split(" images selected")[0].split("\n")[-1] if " images selected" in text else "?"


def rerun(page) -> float:
    """Seconds from pressing R (rerun the script) until the page is drawn again."""
    page.locator("[data-testid=stMain] h1").first.click()
    return timed(page, lambda: page.keyboard.press("r"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=Path("/tmp/scale-100k"), help="bundle (made when absent)")
    parser.add_argument("--images", type=int, default=100_000, help="images in a newly made bundle")
    parser.add_argument("--port", type=int, default=8632)
    parser.add_argument("--pages", nargs="*", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for a 1280-px PNG of each page")
    args = parser.parse_args(argv)
    if not (args.bundle / "manifest.json").is_file():
        write_large_bundle(args.bundle, args.images, baselines=True)
    results = args.bundle.parent / f"{args.bundle.name}-results"
    results.mkdir(exist_ok=True)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    print(f"bundle {args.bundle}; chromium at 1280×800; times until the script ends and every chart and image is drawn")
    print(f"{'page':10s} {'first visit':>12s} {'new tab':>9s} {'rerun':>8s}   drawn")
    peak = 0.0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for name in args.pages:
            server = start_server(args.bundle, args.port, results)  # a fresh server: every cache cold
            try:
                url = f"http://127.0.0.1:{args.port}/{PAGES[name]}"
                first, shown, page = visit(browser, url)
                page.close()
                warm, _, page = visit(browser, url, least=shown)
                again = statistics.median(rerun(page) for _ in range(3))
                print(f"{name:10s} {first:10.2f} s {warm:7.2f} s {again:6.2f} s   {shown[0]} charts, {shown[1]} images",
                      flush=True)
                if args.screenshots:
                    page.screenshot(path=str(args.screenshots / f"{name}.png"), full_page=name != "report")
                if name == "map":
                    facts = page.evaluate(MAP_FACTS)
                    print(f"  map: traces {sorted(set(facts['traces']))}, {facts['points']} points, "
                          f"{facts['canvases']} WebGL canvas(es)", flush=True)
                    for box in ((0.49, 0.49, 0.51, 0.52), (0.45, 0.45, 0.55, 0.55), (0.4, 0.35, 0.55, 0.6)):
                        seconds, selected = box_select(page, *box)
                        print(f"  map: box selection of {selected} images → cards drawn in {seconds:.2f} s", flush=True)
                    if args.screenshots:
                        page.screenshot(path=str(args.screenshots / "map-selection.png"), full_page=True)
                page.close()
                peak = max(peak, peak_memory_mb(server))
            finally:
                server.terminate()
                server.wait(timeout=20)
        browser.close()
    print(f"peak memory of a dashboard process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
