"""End to end in a real browser: change a pilot's success plan after go-live, see the warning
on the Portfolio page and in the exported PDF."""

from __future__ import annotations

import io
import re

import pytest
from test_browser import wait_idle

pytestmark = pytest.mark.e2e

PILOT = "HB-TRIAGE"  # pre-registered at 10% in the sample portfolio
NAME = "Claims triage, North region"
COMPANY = "Harborline Insurance"  # board pages name the pilot with its company


def test_plan_edited_after_go_live_is_flagged_on_portfolio_and_in_the_pdf(app_url, page):
    page.goto(app_url)
    page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=90_000)
    wait_idle(page)
    page.get_by_text("1 pilot: criteria changed after the results were visible.").wait_for()

    page.goto(f"{app_url}/plans?pilot={PILOT}")
    page.get_by_role("heading", name="Success plans", exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_label("Your name (recorded with every change)").fill("e2e partner")
    page.get_by_label("Threshold: improvement needed to scale (%)").fill("5")
    page.get_by_label(re.compile("^Reason for the change")).fill("Board accepted a lower bar")
    page.get_by_role("button", name="Save plan").click()
    page.get_by_text(re.compile(r"threshold from 10% to 5% \(version 2 by e2e partner")).wait_for(
        timeout=60_000
    )
    wait_idle(page)

    page.goto(app_url)
    page.get_by_text("2 pilots: criteria changed after the results were visible.").wait_for(
        timeout=90_000
    )

    page.goto(f"{app_url}/export")
    page.get_by_role("heading", name="Export", exact=True).wait_for()
    wait_idle(page)
    page.get_by_text("PDF", exact=True).click()
    page.get_by_role("button", name="Build the summary").click()
    download_button = page.get_by_role("button", name=re.compile("^Download PDF"))
    download_button.wait_for(timeout=240_000)
    with page.expect_download() as info:
        download_button.click()
    from pypdf import PdfReader

    with open(info.value.path(), "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert (
        f"{NAME} ({COMPANY}): Criteria changed after the results were visible: threshold from 10% "
        "to 5%" in text
    )
    assert "Board accepted a lower bar" in text
