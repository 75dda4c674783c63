"""End to end in a real browser: upload a CSV, see the pilot with its verdict, open its chart,
download an export."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

PILOT_ID = "e2e_triage"
PILOT_NAME = "E2E triage bot"


def upload_files(tmp_path):
    """A pilots file and a weekly long metrics file: cycle time 30% lower after go-live."""
    rng = np.random.default_rng(5)
    weeks = pd.date_range("2025-01-06", periods=60, freq="W-MON")
    go_live = weeks[30]
    level = np.where(weeks >= go_live, 14.0, 20.0) + rng.normal(0.0, 0.4, len(weeks))
    metrics = pd.DataFrame(
        {"pilot_id": PILOT_ID, "date": weeks.strftime("%Y-%m-%d"), "metric": "cycle_time",
         "value": level.round(2), "group": "treatment", "unit": "hours"}
    )  # fmt: skip
    pilots = pd.DataFrame(
        [{"pilot_id": PILOT_ID, "go_live": go_live.strftime("%Y-%m-%d"), "pilot_name": PILOT_NAME,
          "company": "E2E Co", "function": "support", "vendor": "Acme AI", "monthly_cost": 2000,
          "annual_volume": 50000, "workflow": "ticket triage", "decision_owner": "support lead",
          "execution_owner": "ops", "exception_path": "queue", "escalation_path": "tier 2",
          "control_points": "audit trail", "value_metric": "cycle_time"}]
    )  # fmt: skip
    pilots_csv, metrics_csv = tmp_path / "e2e_pilots.csv", tmp_path / "e2e_metrics.csv"
    pilots.to_csv(pilots_csv, index=False)
    metrics.to_csv(metrics_csv, index=False)
    return [str(pilots_csv), str(metrics_csv)]


def wait_idle(page):
    """Streamlit shows a running indicator while the script runs; wait until it is gone."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def export_file(page, app_url, fmt):
    """Build the whole portfolio's summary in `fmt` (PDF, HTML, ...) on the Export page and
    download it; returns the download."""
    page.goto(f"{app_url}/export")
    page.get_by_role("heading", name="Export", exact=True).wait_for()
    wait_idle(page)
    page.get_by_text(fmt, exact=True).click()
    page.get_by_role("button", name="Build the summary").click()
    download_button = page.get_by_role("button", name=re.compile(f"^Download {fmt}"))
    download_button.wait_for(timeout=180_000)
    with page.expect_download() as info:
        download_button.click()
    return info.value


def test_upload_verdict_chart_export(app_url, page, tmp_path):
    page.goto(f"{app_url}/upload")
    page.get_by_role("heading", name="Upload", exact=True).wait_for()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        upload_files(tmp_path)
    )
    page.get_by_text("Every file passed validation").wait_for()
    page.get_by_role("button", name="Commit upload").click()
    # the commit's own summary: "Every file passed validation: 61 rows ready to write" is
    # already on the page before the click, so waiting on "N rows" alone raced the commit
    page.get_by_text(re.compile(r"ingested \d+ rows", re.I)).first.wait_for(timeout=60_000)
    wait_idle(page)

    page.goto(f"{app_url}/explorer?pilot={PILOT_ID}")
    page.get_by_role("heading", name="Mirage checks", exact=True).wait_for(timeout=60_000)
    wait_idle(page)
    body = page.locator("[data-testid='stMain']")
    assert PILOT_NAME in body.inner_text()
    page.get_by_text("Real impact").first.wait_for()
    page.get_by_text(re.compile(r"cycle time \d+% lower than it would have been")).wait_for()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    assert chart.locator(".scatterlayer .trace").count() >= 2  # observed and counterfactual

    download = export_file(page, app_url, "PDF")
    path = download.path()
    assert download.suggested_filename.endswith(".pdf")
    with open(path, "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_portfolio_shows_headline_and_the_sample_pilots(app_url, page):
    page.goto(app_url)
    page.get_by_role("heading", name="Portfolio", exact=True).wait_for()
    page.get_by_text("Experimenting, expanding, coordinating").wait_for(timeout=90_000)
    wait_idle(page)
    metrics = page.locator("[data-testid='stMetric']")
    metrics.nth(4).wait_for()
    # real value, mirages, net value in EUR and in GBP (issue 13), "Not pre-registered" (15)
    assert metrics.count() == 5
    assert metrics.first.inner_text().split() == ["Real", "value", "5"]
    page.get_by_text("14 pilots at 4 companies").wait_for()
    tables = page.locator("[data-testid='stTable']")
    tables.first.wait_for()  # the pilots table; static tables whose cells wrap, never cut
    page.get_by_text("Experimenting, expanding, coordinating").scroll_into_view_if_needed()
    tables.nth(2).wait_for()  # pilots, purgatory, criteria, ..., maturity
    page.locator(".js-plotly-plot").first.wait_for()  # the decision board


def test_excels_unicode_text_export_is_accepted_on_the_upload_page(app_url, page, tmp_path):
    # Excel's "Unicode text" is tab-separated UTF-16 saved as .txt, and other tools write
    # .tsv: the command line read both, the Upload page's file filter refused them
    pilots_csv, metrics_csv = upload_files(tmp_path)
    as_txt = tmp_path / "e2e_metrics.txt"
    frame = pd.read_csv(metrics_csv)
    as_txt.write_bytes(frame.to_csv(sep="\t", index=False).encode("utf-16"))
    as_tsv = tmp_path / "e2e_pilots.tsv"
    as_tsv.write_text(pd.read_csv(pilots_csv).to_csv(sep="\t", index=False), encoding="utf-8")
    page.goto(f"{app_url}/upload")
    page.get_by_role("heading", name="Upload", exact=True).wait_for()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        [str(as_tsv), str(as_txt)]
    )
    page.get_by_text("Every file passed validation").wait_for(timeout=60_000)
    wait_idle(page)
    text = page.locator("[data-testid='stApp']").inner_text()
    assert "not allowed" not in text.lower() and "e2e_metrics.txt" in text, text
