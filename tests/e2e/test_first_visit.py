"""The first visit after the server starts, straight to a page's address (a bookmark, a link in
an email): Streamlit runs the page files of a folder named `pages/` on their own, without the
entrypoint, until some session has called `st.navigation`. With the pages there, that visit
skipped `app.py`: no sign-in gate (the page's title and every page file's name drawn for a
visitor nobody signed in), no page config, Streamlit's own file-name navigation. The pages now
hand themselves to the router (`ui.through_the_router`)."""

from __future__ import annotations

import re

import pytest
from test_browser import wait_idle
from test_signin import OTHER_ID, OTHER_NAME, signed_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def test_a_deep_link_as_the_first_visit_meets_the_sign_in_gate(signed_app, page) -> None:  # noqa: F811
    url, _provider = signed_app
    page.goto(f"{url}/explorer?pilot={OTHER_ID}")
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    wait_idle(page)
    text = page.locator("[data-testid='stApp']").inner_text()
    assert page.locator("[data-testid='stSidebarNav']").count() == 0  # no page names
    assert OTHER_NAME not in text
    assert not re.search(r"\b(explorer|compare|readiness|settings)\b", text, re.I), text


def test_a_deep_link_as_the_first_visit_is_routed_by_the_app(app_url, page) -> None:
    page.goto(f"{app_url}/upload")
    page.get_by_role("heading", name="Upload", exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    nav = page.locator("[data-testid='stSidebarNav']").inner_text()
    # the router's titles, not Streamlit's names for files ("app", "explorer", ...)
    assert "Pilot explorer" in nav and "Compare pilots" in nav, nav
    assert not re.search(r"^(app|explorer)$", nav, re.M), nav
