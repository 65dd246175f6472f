"""Issue 16 in a real browser (Debian's chromium): the Report page's Markdown to copy, the
headline chart as a PNG download (when kaleido is installed), and a second bundle on Compare."""

from __future__ import annotations

import pytest

from analysis.present import export
from tests.test_browser import ARTIFACTS, browser, page, results, screenshot, server, settle  # noqa: F401 (fixtures)
from tests.test_combine import copy_bundle, with_other_split

pytestmark = pytest.mark.slow


def test_report_markdown_has_a_copy_button_and_the_chart_downloads_as_png(server, page):  # noqa: F811
    page.goto(f"{server}/report", wait_until="networkidle")
    page.get_by_role("tab", name="Markdown").wait_for(timeout=120_000)
    settle(page)
    if export.png_export_available():
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name="Headline chart (PNG)").click()
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / "headline.png"
        download.value.save_as(str(target))
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert page.get_by_text("camera button", exact=False).count() == 1
    page.get_by_role("tab", name="Markdown").click()
    code = page.locator("[data-testid='stCode']").first
    code.wait_for(timeout=30_000)
    assert "**Reproduce**" in code.inner_text()
    code.hover()
    assert code.locator("button").count() >= 1  # Streamlit's copy-to-clipboard button
    screenshot(page, "report-markdown")
    assert page.locator("iframe").count() == 0  # the HTML is drawn only when asked for
    page.get_by_role("tab", name="Preview").click()
    page.locator("iframe").first.wait_for(timeout=120_000)
    assert "CornLens" in page.frame_locator("iframe").first.locator("body").inner_text(timeout=60_000)
    screenshot(page, "report-preview")


def test_compare_adds_a_second_bundle_and_refuses_another_split(server, results, demo_bundle, page):  # noqa: F811
    copy_bundle(demo_bundle, results / "prompts-b")
    with_other_split(demo_bundle, results / "seed-1")
    page.goto(f"{server}/compare?compare_bundles=prompts-b&compare_bundles=seed-1", wait_until="networkidle")
    page.get_by_text("Where two approaches disagree").first.wait_for(timeout=120_000)  # a closed section's label
    settle(page)
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some("
                           "plot => plot.textContent.includes('[prompts-b]'))", timeout=60_000)  # charts drawn
    refusal = page.locator("[data-testid='stAlert']", has_text="different split")
    assert refusal.count() == 1 and "seed-1 is not added" in refusal.inner_text()
    chosen = page.locator("[data-testid='stMultiSelect']", has_text="Approaches to compare")
    assert "[prompts-b]" in chosen.inner_text()  # the added bundle's approaches are chosen, labelled with it
    screenshot(page, "compare-two-bundles")
