"""Every page at 1280 and 1920 px in a real browser (issue 24): no text broken inside a word (class
badges, button labels), no cut-off table cells; screenshots land in test-artifacts/ (one server, the
one of test_browser.py's fixtures)."""

from __future__ import annotations

import pytest

from tests.test_browser import ARTIFACTS, browser, page, pytestmark, results, server, settle  # noqa: F401  (fixtures)

PAGES = {"": "CornLens", "autopsy": "Zero-shot autopsy", "compare": "Compare approaches",
         "embedding_map": "Embedding map", "gallery": "Misclassified gallery", "search": "Text search",
         "label_problems": "Label problems"}
WIDE_PAGES = ("", "compare", "gallery", "search")  # at 1920 px the pages with the most side-by-side content

# Elements whose text must stay on one line, and table cells that must show all of their text.
BROKEN = """() => {
  const broken = [];
  for (const badge of document.querySelectorAll('span[style*="border-radius"]')) {
    if (badge.getClientRects().length > 1) broken.push('badge: ' + badge.textContent);
  }
  for (const label of document.querySelectorAll('[data-testid=stMain] button [data-testid=stMarkdownContainer] p')) {
    const lines = label.getBoundingClientRect().height / parseFloat(getComputedStyle(label).lineHeight || 20);
    const words = label.textContent.trim().split(/\\s+/).length;
    if (lines > words + 0.5) broken.push('button: ' + label.textContent);
  }
  for (const cell of document.querySelectorAll('[data-testid=stTable] td, [data-testid=stTable] th')) {
    if (cell.scrollWidth > cell.clientWidth + 2) broken.push('cell: ' + cell.textContent.slice(0, 40));
  }
  return broken;
}"""


@pytest.mark.parametrize("width", (1280, 1920))
def test_every_page_keeps_its_words_whole(server, page, width):
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    for path, title in PAGES.items():
        if width > 1280 and path not in WIDE_PAGES:
            continue
        page.goto(f"{server}/{path}", wait_until="networkidle")
        page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
        settle(page)
        if path == "search":
            page.get_by_label("Phrase").fill("a broken kernel")
            page.get_by_label("Phrase").press("Enter")
            page.get_by_role("button", name="Neighbours").first.wait_for(timeout=60_000)
            settle(page)
        page.screenshot(path=str(ARTIFACTS / f"layout-{path or 'home'}-{width}.png"), full_page=True)
        assert page.evaluate(BROKEN) == [], (path, width)
