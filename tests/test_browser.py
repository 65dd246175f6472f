"""The real dashboard server in a real browser: `streamlit run dashboard/Home.py` (the README's command:
the pages served by an st.App that prepares the server first) on a free port,
driven by Playwright through Debian's chromium (never `playwright install`). Screenshots of Home
and the gallery land in test-artifacts/ for a person to look at."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs_version

from dashboard import chart

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# --enable-unsafe-swiftshader: WebGL (the embedding map's scattergl) without a GPU; Playwright adds it
# itself only from about 1.49, and the oldest one pyproject.toml allows is 1.45
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--enable-unsafe-swiftshader"]
VIEWPORT = {"width": 1280, "height": 800}
START_TIMEOUT_S = 90

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                               "(apt-get install chromium)")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """The server's results folder (CORNLENS_RESULTS): empty; a test may put bundles there."""
    return tmp_path_factory.mktemp("results")


def dashboard_server(bundle: Path, results: Path, tmp_path_factory, base_path: str = ""):
    """Yield the URL of the dashboard on a free localhost port, opening ``bundle`` (CORNLENS_BUNDLE),
    under ``base_path`` (``server.baseUrlPath``, as behind a reverse proxy) when one is given."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if name != "CORNLENS_ROOTS"} | {
        "CORNLENS_BUNDLE": str(bundle), "CORNLENS_RESULTS": str(results), "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1"}
    log = open(tmp_path_factory.mktemp("server") / "streamlit.log", "w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "dashboard" / "Home.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         *(["--server.baseUrlPath", base_path] if base_path else [])],
        cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}" + (f"/{base_path}" if base_path else "")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the dashboard server did not start:\n{log.read()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def server(demo_bundle, results, tmp_path_factory):
    """The dashboard on a free localhost port, opening the demo bundle."""
    yield from dashboard_server(demo_bundle, results, tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def settle(page) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def screenshot(page, name: str) -> Path:
    """What a 1280×800 screen shows (``name.png``) and the whole page (``name-full.png``): Streamlit
    scrolls inside its main block, so the window is stretched to that block's height for the second."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 40, 12_000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"))
    page.set_viewport_size(VIEWPORT)
    return path


def test_home_and_gallery_in_chromium(server, page):
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    page.goto(server, wait_until="networkidle")
    page.get_by_role("heading", name="CornLens").wait_for(timeout=60_000)
    page.get_by_text("has random weights", exact=False).first.wait_for(timeout=30_000)
    page.locator("[data-testid='stTable']").first.wait_for(timeout=30_000)
    settle(page)
    # the headline chart, drawn by plotly.js's cartesian bundle from the dashboard's server (dashboard.chart),
    # where plotly's Python package expects that plotly.js (else by Streamlit's plotly element)
    if get_plotlyjs_version() == chart.BUNDLE_VERSION:
        page.locator(".cl-chart[data-drawn='1']").first.wait_for(timeout=30_000)
        assert page.locator(".cl-chart[data-drawn='1'] .main-svg .bars path").count() >= 4
        assert [url for url in scripts if "/cornlens-assets/plotly-cartesian-" in url]
        assert not [url for url in scripts if "PlotlyChart" in url]  # Streamlit's own plotly.js is never loaded
    assert page.get_by_text("published (Kaggle LB)").count() or page.locator("[data-testid='stTable']").count()
    assert screenshot(page, "home").stat().st_size > 20_000
    # a placeholder Streamlit draws while a chart's code loads does not shimmer (components.still_placeholders)
    assert page.evaluate("""() => { const box = document.createElement('div');
        box.setAttribute('data-testid', 'stSkeleton'); box.style.animationName = 'shimmer';
        box.style.animationDuration = '1s'; document.body.appendChild(box);
        const name = getComputedStyle(box).animationName; box.remove(); return name; }""") == "none"

    page.get_by_role("link", name="Misclassified gallery").first.click()
    heading = page.get_by_role("heading", name="Misclassified gallery")
    heading.wait_for(timeout=60_000)
    page.get_by_text("misclassified images", exact=False).first.wait_for(timeout=60_000)
    page.locator("img[src^='data:image/']").first.wait_for(timeout=30_000)  # a card's thumbnail (the card grid's data: URI)
    settle(page)
    thumbnails = page.locator("img[src^='data:image/']")
    assert thumbnails.count() >= 1
    # the thumbnail really loaded (waits for the decode: a loaded machine may still be fetching it)
    thumbnails.first.evaluate("image => image.complete ? null : new Promise(done => image.addEventListener('load', done))")
    assert thumbnails.first.evaluate("image => image.naturalWidth") > 0
    screenshot(page, "gallery")

    # Click a count of the confusion matrix: the gallery shows exactly that cell.
    before = page.get_by_role("heading", name="misclassified images").first.inner_text()
    # The cell in the second row (true: broken), first column (predicted: pure).
    page.locator(".st-key-gallery_cell_1_0 button").first.click()
    page.get_by_text("matching the filters", exact=False).first.wait_for(timeout=30_000)
    settle(page)
    after = page.get_by_role("heading", name="matching the filters").first.inner_text()
    assert after != before
    chosen = page.locator("[data-testid='stMultiSelect']")
    assert "broken" in chosen.nth(0).inner_text() and "pure" in chosen.nth(1).inner_text()
    screenshot(page, "gallery-cell")

    # Open one image's details (the image at full size, its answers, tags and neighbours).
    page.get_by_role("button", name="Details").first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    dialog.locator("img").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "gallery-full-size.png"))


def test_embedding_map_box_selection_shows_the_images(server, page):
    page.goto(f"{server}/embedding_map", wait_until="networkidle")
    page.get_by_text("Draw a box or a lasso").wait_for(timeout=60_000)
    page.locator(".cl-map[data-drawn]").wait_for(timeout=60_000)  # the canvas drew its points
    settle(page)
    drawn = int(page.locator(".cl-map").get_attribute("data-drawn"))
    blank = page.locator(".cl-map-overlay").evaluate("canvas => canvas.toDataURL()")  # no outline yet
    assert drawn > 0
    area = page.locator(".cl-map-overlay").bounding_box()
    assert area, "the map has no plotting area"
    start_x, start_y = area["x"] + area["width"] * 0.02, area["y"] + area["height"] * 0.02
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    for step in range(1, 11):  # a drag in steps, as a hand would make it, over the whole map
        page.mouse.move(start_x + area["width"] * 0.096 * step, start_y + area["height"] * 0.096 * step)
    page.mouse.up()
    selected = page.get_by_text("images selected", exact=False).first
    selected.wait_for(timeout=60_000)
    settle(page)
    assert int(selected.inner_text().split()[0]) == drawn  # every point lies inside the box
    assert "map_box=" in page.url  # the box is in the address, to share
    page.locator("[data-testid=stMain] img[src^='data:image/']").first.wait_for(timeout=60_000)  # the selected images' cards
    settle(page)
    screenshot(page, "embedding-map-selection")

    # Hover and click one point: its group shows, and the page shows that one image.
    area = page.locator(".cl-map-overlay").bounding_box()
    tip = page.locator(".cl-map-tip")
    spots = [(area["x"] + area["width"] * i / 30, area["y"] + area["height"] * j / 30)
             for i in range(1, 30) for j in range(1, 30)]
    spot = next((xy for xy in spots if page.mouse.move(*xy) or tip.is_visible()), None)
    assert spot, "no point answers the pointer"
    assert "click or select to see it" in tip.inner_text()
    page.mouse.down()
    page.mouse.up()
    page.get_by_text("1 images selected", exact=False).first.wait_for(timeout=60_000)
    assert "map_box=" not in page.url
    assert page.locator(".cl-map-overlay").evaluate("canvas => canvas.toDataURL()") != blank  # the point's ring

    # A click on empty space (the map's corner) drops the selection and its outline.
    page.mouse.click(area["x"] + 3, area["y"] + 3)
    page.get_by_text("Draw a box or a lasso").wait_for(timeout=60_000)
    settle(page)
    assert page.locator(".cl-map-overlay").evaluate("canvas => canvas.toDataURL()") == blank

    # Another colouring redraws the points and the legend.
    pixels = page.locator(".cl-map-points").evaluate("canvas => canvas.toDataURL()")
    page.locator("[data-testid='stRadio']").get_by_text("view", exact=True).click()
    page.locator(".cl-map-legend", has_text="top (").wait_for(timeout=60_000)
    settle(page)
    assert page.locator(".cl-map-points").evaluate("canvas => canvas.toDataURL()") != pixels


def test_a_query_bundle_outside_the_allowed_roots_is_refused(server, page, demo_bundle, tmp_path):
    elsewhere = tmp_path / "elsewhere"  # a real bundle, but not under CORNLENS_RESULTS, _BUNDLE or _ROOTS
    shutil.copytree(demo_bundle, elsewhere)
    page.goto(f"{server}/?bundle={urllib.parse.quote(str(elsewhere))}", wait_until="networkidle")
    refusal = page.locator("[data-testid='stAlert']", has_text="outside the folders this dashboard may open").first
    refusal.wait_for(timeout=60_000)
    settle(page)
    assert "CORNLENS_ROOTS" in refusal.inner_text()
    assert page.locator("[data-testid='stDataFrame'], [data-testid='stTable']").count() == 0  # nothing of it shown
    screenshot(page, "bundle-refused")


def choose_in_multiselect(page, index: int, option: str) -> None:
    """Pick ``option`` in the ``index``-th multiselect of the page, as a hand would."""
    page.locator("[data-testid='stMultiSelect']").nth(index).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_gallery_filter_survives_another_page(server, page):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{server}/gallery", wait_until="networkidle")
    page.get_by_role("heading", name="Misclassified gallery").wait_for(timeout=60_000)
    settle(page)
    # a page opened at its own address finds the server at once (dashboard.page_shell), not after a 404
    assert f"{server}/_stcore/health" in asked and not [url for url in asked if "/gallery/_stcore/" in url]
    choose_in_multiselect(page, 0, "silkcut")
    page.get_by_text("matching the filters", exact=False).first.wait_for(timeout=60_000)
    settle(page)
    assert "gallery_true=silkcut" in page.url
    page.get_by_role("link", name="Compare approaches").first.click()
    page.get_by_role("heading", name="Compare approaches").wait_for(timeout=60_000)
    settle(page)
    page.get_by_role("link", name="Misclassified gallery").first.click()
    page.get_by_role("heading", name="Misclassified gallery").wait_for(timeout=60_000)
    settle(page)
    assert "silkcut" in page.locator("[data-testid='stMultiSelect']").nth(0).inner_text()
    assert page.get_by_text("matching the filters", exact=False).count()
    assert "gallery_true=silkcut" in page.url
    screenshot(page, "gallery-filter-kept")


def test_a_shared_url_opens_the_same_filtered_view(server, page):
    page.goto(f"{server}/gallery?gallery_true=broken&gallery_true=silkcut&gallery_only_wrong=false",
              wait_until="networkidle")
    page.get_by_role("heading", name="Misclassified gallery").wait_for(timeout=60_000)
    page.get_by_text("held-out images matching the filters", exact=False).first.wait_for(timeout=60_000)
    settle(page)
    chosen = page.locator("[data-testid='stMultiSelect']").nth(0).inner_text()
    assert "broken" in chosen and "silkcut" in chosen
    assert not page.get_by_role("switch", name="Only misclassified").is_checked()
    assert "bundle=" in page.url  # the link names the bundle it shows
