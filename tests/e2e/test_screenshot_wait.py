"""The screenshot script (docs/screenshots/take.py) captures a page only once it is drawn: the
explorer was shot before its analysis finished, with no chart."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TAKE = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "take.py"


def _take():
    spec = importlib.util.spec_from_file_location("screenshots_take", TAKE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_explorer_is_captured_after_its_analysis_with_its_chart(app_url, page):
    take = _take()
    # the first load: the explorer analyses its pilot after drawing its title
    take._load(page, f"{app_url}/explorer", "explorer")
    # what a screenshot taken now shows, without waiting any further
    state = page.locator("[data-testid='stApp']").get_attribute("data-test-script-state")
    assert state == "notRunning"
    assert page.locator("[data-testid='stStatusWidget']").count() == 0
    assert page.locator("[data-testid='stPlotlyChart'] .main-svg").count() >= 1
    assert page.get_by_role("heading", name="Mirage checks", exact=True).count() == 1
