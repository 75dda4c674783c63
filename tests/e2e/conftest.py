"""A real `streamlit run app.py` on a free port with its database in tmp_path, and a headless
Debian chromium driven by Playwright. The server is always killed, whatever the test does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from appserver import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    process, url = start_app(tmp_path / "e2e.duckdb", tmp_path / "streamlit.log")
    try:
        yield url
    finally:
        stop_app(process)


@pytest.fixture
def page(tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                viewport={"width": 1400, "height": 1000}, accept_downloads=True
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
