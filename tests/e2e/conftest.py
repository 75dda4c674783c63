"""A real `streamlit run app.py` on a free port with its database in tmp_path, and a headless
Debian chromium driven by Playwright. The server is always killed, whatever the test does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from appserver import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    process, url = start_app(tmp_path / "e2e.duckdb", tmp_path / "streamlit.log")
    try:
        yield url
    finally:
        stop_app(process)


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def outside_requests() -> list[str]:
    """Every request the browser tried to send to a host other than the app's own (blocked)."""
    return []


def _guard(outside: list[str]):
    """A route handler: requests to the app (loopback) go through; any other is recorded and
    aborted, so a test fails on it without the request ever leaving the machine."""

    def route(route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in {"data", "blob", "about"} or url.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    return route


@pytest.fixture
def page(tmp_path: Path, outside_requests: list[str]):
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
            context.route("**/*", _guard(outside_requests))
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
        # no request leaves the machine: not a font, not an icon, not a usage ping
        assert outside_requests == [], outside_requests
