"""Nothing a partner needs is cut off with "…" (partner, at 1280x720 and 1440 wide, light and
dark): the Portfolio's purgatory, criteria, maturity and sprawl sections, the pilot names in
Compare, the Readiness answers and the upload history are static tables whose cells wrap,
inside the page's width, where a data grid cut a long cell at its column's edge with no way
to read it whole. No request leaves the machine (conftest's guard, asserted here too)."""

from __future__ import annotations

import pytest
from test_browser import wait_idle

pytestmark = pytest.mark.e2e

SIZES = ((1280, 720, "light"), (1440, 900, "dark"))
# each page, the heading of its last section (drawn last), and text that must be read whole
PAGES = {
    "": ("Maturity by company", (
        "pilotproof recommends 'fix' and no decision is logged",  # purgatory's rule
        "1 of 4 pilots prove value, but only 1 of 4 pilots pass the readiness test (needs 75%)",
        "In-app chat deflection bot; Support reply assistant",  # sprawl's pilot names
        "Criteria changed after results were visible",
    )),
    "compare": ("Series aligned on go-live", (
        "Commercial underwriting copilot (Harborline Insurance)",
        "Route and load planning, Leeds depot (Meridian Freight)",
    )),
    "upload": ("Upload history", ("ok: saved 14 pilots",)),
    "readiness": ("Edit the answers", (
        "Each evening the tool proposes next-day routes and vehicle loads for the Leeds depot; "
        "the planner adjusts and publishes them",
    )),
}  # fmt: skip
# text the browser cut with an ellipsis (the screenshot script's check): an element whose
# text overflows its box under `text-overflow: ellipsis`
CUT = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
  .filter(e => e.children.length === 0 && e.scrollWidth > e.clientWidth + 1
    && getComputedStyle(e).textOverflow === 'ellipsis' && e.textContent.trim())
  .map(e => e.textContent.trim())"""
WIDER = """() => [...document.querySelectorAll('[data-testid="stTable"]')]
  .filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.innerText.slice(0, 60))"""


def test_what_a_partner_reads_is_never_cut_at_laptop_or_desktop_width(
    app_url, page, outside_requests
):
    for width, height, scheme in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.emulate_media(color_scheme=scheme)
        for path, (last, whole) in PAGES.items():
            page.goto(f"{app_url}/{path}")
            page.get_by_role("heading", name=last).wait_for(timeout=120_000)
            wait_idle(page)
            main = page.locator("[data-testid='stMain']")
            tables = main.get_by_test_id("stTable")
            for text in whole:  # inside a table whose cells wrap, every word of it
                tables.filter(has_text=text).first.wait_for(timeout=60_000)
            wait_idle(page)
            if path == "readiness":  # the editor draws after the tables above it
                main.get_by_test_id("stDataFrame").first.wait_for(timeout=60_000)
            grids = main.get_by_test_id("stDataFrame").count()
            assert grids == (1 if path == "readiness" else 0), (width, path)  # the editor
            assert page.evaluate(WIDER) == [], (width, scheme, path)
            assert page.evaluate(CUT) == [], (width, scheme, path)
    assert outside_requests == []
