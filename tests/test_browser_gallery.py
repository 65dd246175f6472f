"""The dense gallery's details (nearest training images) and the text-search page in a real browser
(Debian's chromium through Playwright, as in test_browser.py). Screenshots land in test-artifacts/."""

from __future__ import annotations

from tests.test_browser import ARTIFACTS, browser, page, pytestmark, results, screenshot, server, settle  # noqa: F401  (fixtures)


def loaded_images(scope) -> int:
    """Images in ``scope`` whose bytes really arrived."""
    return scope.locator("[data-testid='stImage'] img").evaluate_all(
        "images => images.filter(image => image.complete && image.naturalWidth > 0).length")


def test_a_cards_details_show_its_nearest_training_images(server, page):
    page.goto(f"{server}/gallery", wait_until="networkidle")
    page.get_by_role("heading", name="Misclassified gallery").wait_for(timeout=60_000)
    page.get_by_role("button", name="Details").first.wait_for(timeout=60_000)
    settle(page)
    page.get_by_text("12", exact=True).first.click()  # twelve thumbnails per row
    settle(page)
    screenshot(page, "gallery-dense")
    page.get_by_role("button", name="Details").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("nearest training images are").first.wait_for(timeout=60_000)
    settle(page)
    page.wait_for_function("() => [...document.querySelectorAll('[role=dialog] [data-testid=stImage] img')]"
                           ".filter(image => image.complete && image.naturalWidth > 0).length >= 11", timeout=30_000)
    assert loaded_images(dialog) >= 11  # the image itself and its ten neighbours
    assert sum(dialog.get_by_text(said).count() for said in ("the neighbours agree", "the neighbours say",
                                                             "the neighbours give no vote")) >= 1
    page.screenshot(path=str(ARTIFACTS / "gallery-details.png"))


def test_typing_a_phrase_ranks_the_images(server, page):
    page.goto(f"{server}/search", wait_until="networkidle")
    page.get_by_role("heading", name="Text search").wait_for(timeout=60_000)
    box = page.get_by_label("Phrase")
    box.wait_for(timeout=60_000)
    box.fill("a broken corn kernel")
    box.press("Enter")
    page.get_by_text("most similar to “a broken corn kernel”").first.wait_for(timeout=90_000)
    settle(page)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".filter(image => image.complete && image.naturalWidth > 0).length >= 24", timeout=30_000)
    ranks = page.locator("[data-testid='stMarkdown'] strong").all_inner_texts()
    assert [text for text in ranks if text.isdigit()][:3] == ["1", "2", "3"]  # ranked, most similar first
    page.locator(".js-plotly-plot .boxlayer path").first.wait_for(timeout=30_000)  # similarity per true class, drawn
    assert page.locator(".js-plotly-plot").count() == 1
    screenshot(page, "search")
