"""Issue 16 in a real browser (Debian's chromium): the Report page's Markdown to copy and the
headline chart as a PNG download (when kaleido is installed)."""

from __future__ import annotations

import pytest

from analysis import export
from tests.test_browser import ARTIFACTS, browser, page, screenshot, server, settle  # noqa: F401 (fixtures)

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
