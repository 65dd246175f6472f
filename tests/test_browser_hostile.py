"""A bundle and links written to attack the dashboard, in a real browser: every string the bundle holds
(classes, splits, views, paths, prompt sets, tags, approach and model names) and the ``?bundle=`` of a
link carry HTML and Markdown payloads. On every page, no injected element, request or script may
result, and the browser makes no request beyond the dashboard's own server (every other request is
blocked and recorded). One server, one small bundle built once (about 30 s on 2 cores)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, VIEWPORT, dashboard_server, settle

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                               "(apt-get install chromium)")]

EVIL = "evil.test"  # every payload points here: a request to it, or an element naming it, is an injection
REBOUND = "rebound.test"  # a site whose name the browser resolves to this machine (DNS rebinding)


def payload(number: int) -> str:
    """One string that is an element, a script, an image, a link and Streamlit Markdown at once."""
    return (f'<img src="http://{EVIL}/{number}.png" onerror="window.pwned={number}" id="pwn{number}">'
            f"![i](http://{EVIL}/md{number}.png)[link{number}](http://{EVIL}/l{number}) :red[r{number}] $x{number}$ "
            f"**b{number}** <script>window.pwned={number}</script>=HYPERLINK(\"http://{EVIL}\")")


def build_hostile_bundle(folder: Path) -> Path:
    """The pipeline on synthetic kernels whose classes, one split, views, paths, prompt set, model
    names and tags are payloads (classes are short: they become file and column names too)."""
    from analysis.data import synthetic
    from analysis.stages import runner

    data = synthetic.write_dataset(folder / "data", 96, 0, seed=1, show_progress=False)
    classes = [f"<img src=http://{EVIL}/c0.png id=pwnc0>", f"![c1](http://{EVIL}/c1.png)",
               f"[c2](http://{EVIL}/c2) :red[c]", f"=HYPERLINK(\"http://{EVIL}\")<b>c3</b>"]
    train = pd.read_csv(data / "train.csv", dtype=str)
    train["label"] = train["label"].map(dict(zip(synthetic.CLASSES, classes)))
    train.to_csv(data / "train.csv", index=False)
    prompts = folder / "prompts.json"
    prompts.write_text(json.dumps({"name": payload(1), "templates": ["a photo of a {}."]}))
    bundle = folder / "bundle"
    runner.run(runner.RunOptions(data=data, out=bundle, seed=0, show_progress=False, eval_fraction=0.25, folds=3,
                                 clip=["CornLens-Tiny:random"], convnext=["convnext_atto:scratch"], epochs=1,
                                 image_size=32, batch_size=32, prompts=[prompts]))
    images = pd.read_parquet(bundle / "images.parquet")
    images.loc[images.index[:4], "view"] = payload(2)
    images.loc[images.index[4:8], "path"] = [f"x{index}{payload(3)}.png".replace("/", "_") for index in range(4)]
    images.loc[images.index[len(images) // 2], "split"] = "train" + payload(4)
    images.to_parquet(bundle / "images.parquet", index=False)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for record in manifest["approaches"]:
        record["model"] = payload(5) if record.get("model") else record.get("model")
        record["device"] = payload(6)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    pd.DataFrame({"image_id": images["image_id"].iloc[:6], "tag": [payload(7), "=cmd|' /C calc'!A0"] * 3,
                  "tagged": "2026-12-04T00:00:00+00:00"}).to_csv(bundle / "tags.csv", index=False)
    return bundle


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    return build_hostile_bundle(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def server(hostile, tmp_path_factory):
    """The dashboard on a free localhost port, opening the hostile bundle (CORNLENS_BUNDLE)."""
    yield from dashboard_server(hostile, tmp_path_factory.mktemp("results"), tmp_path_factory)


@pytest.fixture(scope="module")
def watched(server):
    """A browser page whose every request beyond the server is blocked and recorded (``outside``)."""
    own = urllib.parse.urlsplit(server).netloc
    rebound = f"{REBOUND}:{urllib.parse.urlsplit(server).port}"
    outside: list[str] = []

    def route(request_route) -> None:
        address = urllib.parse.urlsplit(request_route.request.url)
        if address.scheme in ("data", "blob") or address.netloc in (own, rebound):
            request_route.continue_()
        else:
            outside.append(request_route.request.url)
            request_route.abort()

    with sync_api.sync_playwright() as playwright:
        # another site's name resolving to this machine, as a DNS-rebinding attack makes it
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS + [f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"])
        context = browser.new_context(viewport=VIEWPORT)
        context.route("**/*", route)
        context.on("dialog", lambda dialog: outside.append(f"dialog: {dialog.message}") or dialog.dismiss())
        page = context.new_page()
        page.outside = outside
        yield page
        browser.close()


# Anything a payload could have made: its element ids, an attribute naming the payload host, an
# inline event handler, a script the page does not own, the flag the payload scripts set.
INJECTED = """() => {
  const found = [];
  for (const element of document.querySelectorAll('*')) {
    if (/^pwn/.test(element.id)) found.push('element #' + element.id);
    for (const attribute of element.attributes) {
      if (attribute.value.includes('EVIL') && !['title', 'aria-label', 'value', 'data-testid', 'data-unformatted', 'srcdoc'].includes(attribute.name))
        found.push(element.tagName + ' ' + attribute.name + '=' + attribute.value.slice(0, 80));
      if (/^on/.test(attribute.name)) found.push(element.tagName + ' ' + attribute.name);
    }
    if (element.tagName === 'SCRIPT' && element.textContent.trim().startsWith('window.pwned')) found.push('script');
  }
  if (window.pwned !== undefined) found.push('window.pwned=' + window.pwned);
  return found;
}""".replace("EVIL", EVIL)


def injected(page) -> list[str]:
    """What payloads made in the page and in every frame of it (the report preview is one)."""
    found = []
    for frame in page.frames:
        try:
            found += [f"{frame.url[:60]}: {item}" for item in frame.evaluate(INJECTED)]
        except sync_api.Error:  # a frame that went away while looking
            continue
    return found


def visit(page, url: str, wait_for: str | None = None) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.locator("[data-testid='stSidebar']").wait_for(timeout=60_000)
    if wait_for:
        page.get_by_text(wait_for, exact=False).first.wait_for(timeout=60_000)
    settle(page)
    closed = page.locator("[data-testid=stMain] details:not([open]) > summary")
    for _ in range(20):  # every closed section (the autopsy's later headings): drawn once opened
        if not closed.count():
            break
        closed.first.click()
        settle(page)
    page.wait_for_timeout(500)  # images and fonts a payload might ask for


PAGES = {"": "Headline", "autopsy": None, "probe": None, "convnext": None, "compare": None, "gallery": None,
         "label_problems": None, "search": None, "report": None}


def test_no_page_runs_or_loads_what_a_bundle_says(server, watched, hostile):
    watched.outside.clear()
    problems = {}
    for path, wait_for in PAGES.items():
        visit(watched, f"{server}/{path}", wait_for)
        problems[path or "home"] = injected(watched)
    # the embedding map with a box around every point and training images shown: every image card
    visit(watched, f"{server}/embedding_map?map_box=-1000,1000,-1000,1000&map_training=true", "images selected")
    problems["embedding_map"] = injected(watched)
    # the gallery's details of one image (its answers, tags, neighbours)
    visit(watched, f"{server}/gallery?gallery_only_wrong=false")
    watched.get_by_role("button", name="Details").first.click()
    watched.get_by_role("dialog").wait_for(timeout=30_000)
    settle(watched)
    problems["gallery details"] = injected(watched)
    # the report's preview (the HTML report in a frame)
    visit(watched, f"{server}/report")
    watched.get_by_role("tab", name="Preview").click()
    watched.locator("iframe").first.wait_for(timeout=60_000)
    settle(watched)
    watched.wait_for_timeout(1500)
    problems["report preview"] = injected(watched)
    assert not {page: found for page, found in problems.items() if found}, problems
    assert not watched.outside, watched.outside


@pytest.mark.parametrize("asked", [f"/x/![a](http://{EVIL}/a.png)", f"[Session expired: sign in](http://{EVIL}/)",
                                   payload(8), f"/proc/self/cwd/{payload(9)}"])
def test_a_link_cannot_inject_through_the_bundle_it_asks_for(server, watched, asked):
    watched.outside.clear()  # each test answers for its own requests (the page is shared)
    visit(watched, f"{server}/?bundle={urllib.parse.quote(asked)}", "outside the folders this dashboard may open")
    alert = watched.locator("[data-testid='stAlert']", has_text="outside the folders").first.inner_text()
    assert not injected(watched) and not watched.outside, (injected(watched), watched.outside)
    assert "/proc/self/cwd" not in asked or str(PROJECT_ROOT) not in alert  # names what was given, not where it leads


def test_a_page_under_another_host_name_gets_nothing(server, watched):
    watched.goto(f"http://{REBOUND}:{urllib.parse.urlsplit(server).port}/", wait_until="domcontentloaded")
    refusal = watched.get_by_text("does not answer for the host name", exact=False).first
    refusal.wait_for(timeout=60_000)
    settle(watched)
    assert REBOUND in refusal.inner_text()
    assert watched.locator("[data-testid='stTable'], [data-testid='stDataFrame'], [data-testid='stSidebar']").count() == 0
