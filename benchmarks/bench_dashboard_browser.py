"""Every dashboard page on a large bundle, as a person waits for it in a real browser (chromium).

For each page: the **first visit** on a freshly started dashboard in a fresh browser (every server
cache cold: the page reads its bundle files; the median of three rounds over the pages, ``--repeat``, as
this shared machine's speed moves from minute to minute), the **first visit from the sidebar** (a fresh server, Home
open, then a click on the page's link: what a person waits for on every page after the first), the
median of three **reruns**, and **Streamlit alone** (a page of one small chart, the same chart drawn as
the dashboard draws its figures, and one of plotly's map of every point of the bundle: the floors of a
first visit on this machine), each timed from
navigation until the script has finished, every chart is drawn and every thumbnail is decoded. The
process's peak memory (resident set size, from /proc) is read at the end. On the Embedding map it
reads how many points its canvas drew and times a box selection until the selected images are on
screen.

    python benchmarks/bench_dashboard_browser.py [--sizes 17801 100000] [--folder /tmp] [--port 8632]
        [--pages map gallery] [--screenshots /tmp/shots]

Prints one Markdown table (the README's "Scale" table) with the budget beside every figure (issue 26):
a first visit ≤ 2.5 s (the Embedding map's ≤ 2 s at 100,000 points), a rerun ≤ 1 s, a confusion-matrix
cell → its images ≤ 0.5 s, a box over the whole map → the first page of images ≤ 1 s, the server
≤ 1.5 GB after visiting every page; and the load average, since on a shared machine it moves every
figure. Nothing is asserted: timings belong in a benchmark, not in the tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from large_bundle import write_large_bundle  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# Software WebGL (SwiftShader): the map's scattergl trace needs a WebGL context even without a GPU.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
PAGES = {"home": "", "autopsy": "autopsy", "probe": "probe", "convnext": "convnext", "compare": "compare",
         "map": "embedding_map", "gallery": "gallery", "problems": "label_problems", "search": "search",
         "report": "report"}
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
      // plotly's charts (Streamlit's element, the report's frame); the map's canvas and the charts the
      // cartesian bundle draws (dashboard/chart.py) say when they are drawn
      const c = [...doc.querySelectorAll('.js-plotly-plot:not(.cl-chart)')], m = [...doc.querySelectorAll('.cl-map')];
      const k = [...doc.querySelectorAll('.cl-chart')];  // a chart that failed to draw never counts as drawn
      const i = [...doc.querySelectorAll('img')];
      charts += c.length + m.length + k.length;
      drawn += c.filter(p => p._fullLayout && p.querySelector('.main-svg')).length + m.filter(p => p.dataset.drawn).length
               + k.filter(p => p.dataset.drawn === '1' && p.querySelector('.main-svg')).length;
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
  const map = document.querySelector('[data-testid=stMain] .cl-map');
  return {points: Number(map.dataset.drawn), canvases: map.querySelectorAll('canvas').length};
}"""


# Streamlit's own floor: the least a page with one chart costs on this machine (no CornLens code).
FLOOR_SCRIPT = """import streamlit as st
import plotly.graph_objects as go
st.title("One chart")
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
"""
# ... the same chart drawn as the dashboard draws its figures (``dashboard/chart.py``: plotly.js's
# cartesian bundle, served by the dashboard's own server, as ``dashboard/Home.py`` serves it) ...
CHART_FLOOR_PAGE = """import sys
sys.path.insert(0, ROOT)
import plotly.graph_objects as go
import streamlit as st
from dashboard import chart
st.title("One chart")
chart.figure(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
"""
CHART_FLOOR_APP = """import sys
from pathlib import Path
sys.path.insert(0, ROOT)
import streamlit as st
from streamlit import config
from dashboard import chart
chart.serve()
app = st.App(Path(__file__).with_name("one_chart_page.py"),
             routes=[chart.asset_route(config.get_option("server.baseUrlPath"))])
"""
CHART_FLOOR_DRAWN = """() => document.querySelectorAll('.cl-chart[data-drawn="1"] .main-svg').length > 0
  && !performance.getEntriesByType('resource').some(entry => entry.name.includes('PlotlyChart'))"""
# ... and plotly's map of every point: POINTS random points in four WebGL traces, selectable, no
# controls: the least the Embedding map's first visit would cost here with Streamlit's plotly element
# (why the page draws its own canvas instead, ``dashboard/map_canvas.py``).
MAP_FLOOR_SCRIPT = """import numpy as np
import plotly.graph_objects as go
import streamlit as st
st.title("One map")
points = np.random.default_rng(0).normal(size=(POINTS, 2)).astype(np.float32)
traces = [go.Scattergl(x=part[:, 0], y=part[:, 1], mode="markers", hoverinfo="skip", marker=dict(size=5))
          for part in np.array_split(points, 4)]
st.plotly_chart(go.Figure(traces, layout=dict(height=520, dragmode="select")), key="map", theme=None,
                on_select="rerun", selection_mode=("box", "lasso"))
"""


def start_server(bundle_path: Path, port: int, results: Path | None = None,
                 script: Path = ROOT / "dashboard" / "Home.py") -> subprocess.Popen:
    """The dashboard (or another ``script``) on ``port`` opening ``bundle_path`` (``results``: its
    results folder), once it answers."""
    environment = os.environ | {"CORNLENS_BUNDLE": str(bundle_path), "HF_HUB_OFFLINE": "1"} | (
        {"CORNLENS_RESULTS": str(results)} if results else {})
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
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


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process started under it (the server's text tower, a build it started), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += parents.get(found[-1], [])
    return found


def memory_mb(process: subprocess.Popen, field: str) -> float:
    """``field`` of /proc/PID/status (VmRSS: resident now, VmHWM: its peak) summed over the server and
    the processes it started (its text tower runs in one), in MB."""
    total = 0.0
    for pid in process_tree(process.pid):
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) / 1024 for line in lines if line.startswith(f"{field}:"))
    return total


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
    overlay = page.locator("[data-testid=stMain] .cl-map-overlay").first
    overlay.scroll_into_view_if_needed()
    plot = overlay.bounding_box()
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


def stop(server: subprocess.Popen) -> None:
    """Stop a dashboard server: terminate, and kill it when it has not exited within a minute (a busy machine)."""
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def sidebar_visit(browser, base: str, path: str) -> float:
    """Seconds from a click on a page's link in the sidebar of an open dashboard (Home drawn, so the
    browser has Streamlit's code and the server its modules, as when a person moves between pages)
    until that page is drawn: the page's own data is still cold on this server."""
    page = visit(browser, base)[2]
    link = page.locator(f'[data-testid=stSidebarNav] a[href$="/{path}"]').first
    started = page.evaluate("([watch, args]) => { window.cornlensSettled = eval('(' + watch + ')')(args); "
                            "return performance.now(); }", [SETTLED_AT, [QUIET_MS, 0, 0, None]])
    link.click()
    at, charts, images, key = page.evaluate("() => window.cornlensSettled")
    state, shown = [at, key], (charts, images)
    while True:  # as visit(): a page that went quiet for a moment while the server was still busy
        page.wait_for_timeout(3000)
        again, shown, state = settled(page, shown, state)
        if again == at:
            break
        at = again
    page.close()
    return (at - started) / 1000


def click_matrix_cell(page, row: int, column: int) -> float:
    """Click a count of the gallery's confusion matrix (``row``: true class, ``column``: predicted);
    seconds until the gallery below it is drawn again with that cell's images."""
    cell = page.locator(f"[data-testid=stMain] .st-key-gallery_cell_{row}_{column} button").first
    return timed(page, cell.click)


def measure(bundle: Path, port: int, pages: list[str], screenshots: Path | None,
            repeat: int = 3) -> dict[str, float | str]:
    """Every step of the table on one bundle: a fresh server per page (every cache cold), its first
    visit, the map's box over every point and a confusion-matrix click in the gallery, each the median
    of ``repeat`` rounds over the pages, and the median of three reruns; then one server visiting every
    page in turn, for its memory."""
    from playwright.sync_api import sync_playwright

    results = bundle.parent / f"{bundle.name}-results"
    results.mkdir(exist_ok=True)
    found: dict[str, float | str] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        with tempfile.TemporaryDirectory() as folder:  # Streamlit alone: one small chart; one map of every point
            root = repr(str(ROOT))
            floors = {"floor": {"one_chart.py": FLOOR_SCRIPT},
                      "chart floor": {"one_chart.py": CHART_FLOOR_APP.replace("ROOT", root),
                                      "one_chart_page.py": CHART_FLOOR_PAGE.replace("ROOT", root)}}
            if "map" in pages:
                floors["map floor"] = {"one_chart.py": MAP_FLOOR_SCRIPT.replace("POINTS", str(len(pd.read_parquet(
                    bundle / "images.parquet", columns=["image_id"]))))}
            for key, files in floors.items():
                for file_name, code in files.items():
                    (Path(folder) / file_name).write_text(code)
                script = Path(folder) / "one_chart.py"
                seconds = []
                for _ in range(3):
                    server = start_server(bundle, port, script=script)
                    try:
                        took, _, page = visit(browser, f"http://127.0.0.1:{port}/")
                        if key == "chart floor" and not page.evaluate(CHART_FLOOR_DRAWN):
                            raise RuntimeError("the chart floor's page did not draw its chart with the cartesian bundle")
                        seconds.append(took)
                        page.close()
                    finally:
                        stop(server)
                found[key] = statistics.median(seconds)
        for name in pages:
            if name == "home":
                continue
            server = start_server(bundle, port, results)  # a fresh server, Home open in a fresh tab
            try:
                found[f"{name}: from the sidebar"] = sidebar_visit(browser, f"http://127.0.0.1:{port}/", PAGES[name])
            finally:
                stop(server)
        timings: dict[str, list[float]] = {}  # step -> one figure per round, the median kept
        for round_ in range(repeat):  # the pages in turn, then again: a slow minute of the machine hits one round
            for name in pages:
                started = time.perf_counter()
                server = start_server(bundle, port, results)  # a fresh server: every cache cold
                found.setdefault("server start", time.perf_counter() - started)
                try:
                    url = f"http://127.0.0.1:{port}/{PAGES[name]}"
                    took, shown, page = visit(browser, url)
                    timings.setdefault(f"{name}: first visit", []).append(took)
                    if round_ == 0:
                        found[f"{name}: rerun"] = statistics.median(rerun(page) for _ in range(3))
                        found[f"{name}: drawn"] = f"{shown[0]} charts, {shown[1]} images"
                        if screenshots:
                            page.screenshot(path=str(screenshots / f"{bundle.name}-{name}.png"), full_page=name != "report")
                    if name == "map":
                        if round_ == 0:
                            facts = page.evaluate(MAP_FACTS)
                            found["map: drawn"] += f", {facts['points']} points on {facts['canvases']} canvases"
                        took, found["map: selected"] = box_select(page, 0.01, 0.01, 0.99, 0.99)
                        timings.setdefault("map: box over every point", []).append(took)
                        if screenshots and round_ == 0:
                            page.screenshot(path=str(screenshots / f"{bundle.name}-map-selection.png"), full_page=True)
                    if name == "gallery":
                        timings.setdefault("gallery: confusion cell", []).append(click_matrix_cell(page, 1, 0))
                    page.close()
                finally:
                    stop(server)
        found.update({step: statistics.median(values) for step, values in timings.items()})
        server = start_server(bundle, port, results)
        try:
            for name in pages:
                visit(browser, f"http://127.0.0.1:{port}/{PAGES[name]}")[2].close()
            found["memory after every page"] = memory_mb(server, "VmRSS")
            found["peak memory"] = memory_mb(server, "VmHWM")
        finally:
            stop(server)
        browser.close()
    return found


# (row of the table, the measurement's key, its budget in s or MB, the budget at 100,000 images when stricter)
PAGE_TITLES = {"home": "Home", "autopsy": "Zero-shot autopsy", "probe": "Linear probe", "convnext": "ConvNeXt",
               "compare": "Compare", "map": "Embedding map (every point)", "gallery": "Gallery (48 thumbnails)",
               "problems": "Label problems", "search": "Text search", "report": "Report"}
TABLE = [("server start", "server start", None, None),
         ("Streamlit alone: a page with one small chart, first visit (median of 3)", "floor", None, None),
         ("the same page, its chart drawn as the dashboard draws its figures, first visit (median of 3)", "chart floor",
          None, None),
         ("Streamlit alone: a page with plotly's map of every point (WebGL), first visit (median of 3)", "map floor", None, None),
         *[(f"{title}, first visit", f"{name}: first visit", 2.5, 2.0 if name == "map" else None)
           for name, title in PAGE_TITLES.items()],
         *[(f"{title}, first visit from the sidebar", f"{name}: from the sidebar", 2.5, 2.0 if name == "map" else None)
           for name, title in PAGE_TITLES.items() if name != "home"],
         *[(f"{name} rerun", f"{name}: rerun", 1.0, None) for name in PAGES],
         ("confusion cell → gallery refreshed", "gallery: confusion cell", 0.5, None),
         ("box over the whole map → first page of images", "map: box over every point", 1.0, None),
         ("server memory after visiting every page (with the processes it started)", "memory after every page", 1536, None),
         ("server peak memory (each process's peak, summed)", "peak memory", None, None)]


def table(results: dict[int, dict], load: dict[int, str]) -> str:
    """The Markdown table: one row per step, the budget and each bundle size's figure (✔ within, ✘ over)."""
    sizes = sorted(results)
    lines = ["| step | budget | " + " | ".join(f"{size:,} images" for size in sizes) + " |",
             "|---|---|" + "---|" * len(sizes)]
    for label, key, budget, strict in TABLE:
        if not any(key in results[size] for size in sizes):
            continue
        unit = "MB" if "memory" in key else "s"
        cells = []
        for size in sizes:
            value = results[size].get(key)
            if value is None:
                cells.append("–")
                continue
            limit = strict if strict is not None and size >= 100_000 else budget
            mark = "" if limit is None else (" ✔" if value <= limit else " ✘")
            if unit == "MB":
                cells.append(f"{value:.0f} {unit}{mark}")
            elif value < 0.05:  # the rerun changed nothing on screen: the watch saw no change to time
                cells.append(f"< 0.05 s{mark}")
            else:
                cells.append(f"{value:.2f} {unit}{mark}")
        shown = "–" if budget is None else f"≤ {budget:g} {unit}" + (f" (≤ {strict:g} at 100k)" if strict else "")
        lines.append(f"| {label} | {shown} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{size:,} images: {results[size].get('map: selected', '?')} selected by the box; "
              f"load average {load[size]}" for size in sizes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[17_801, 100_000],
                        help="bundle sizes to measure (bundles made under --folder when absent)")
    parser.add_argument("--folder", type=Path, default=Path("/tmp"), help="where the bundles are (cornlens-bench-N)")
    parser.add_argument("--port", type=int, default=8632)
    parser.add_argument("--pages", nargs="*", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for a 1280-px PNG of each page")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds over the pages: each first visit, box and confusion click is their median")
    args = parser.parse_args(argv)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    results, load = {}, {}
    for size in args.sizes:
        bundle = args.folder / f"cornlens-bench-{size}"
        if not (bundle / "manifest.json").is_file():
            write_large_bundle(bundle, size, baselines=True)
        before = os.getloadavg()[0]
        results[size] = measure(bundle, args.port, args.pages, args.screenshots, args.repeat)
        load[size] = f"{before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)"
        for key, value in results[size].items():
            print(f"  {size}: {key}: {value if isinstance(value, str) else round(value, 2)}", flush=True)
    print("\nchromium at 1280×800; seconds from navigation (or the click) until the script has ended, every chart "
          f"is drawn and every image decoded; first visits, the box and the confusion click: median of {args.repeat} "
          "rounds over the pages, each on a fresh server\n")
    print(table(results, load))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
