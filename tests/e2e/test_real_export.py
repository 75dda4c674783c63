"""End to end with a real one-pilot export (issue 12): a helpdesk workbook with a cover sheet, a
title row, its own headers, US dates written as text and percent cells. It is mapped to one pilot
in the browser, committed, gives the pilot a verdict, and is undone: exactly that upload goes,
nothing else in the database changes."""

from __future__ import annotations

import contextlib
import re
import time

import numpy as np
import pandas as pd
import pytest
import xlsxwriter
from appserver import start_app, stop_app
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pilotproof.store import Store, sample_files

pytestmark = pytest.mark.e2e

PILOT_ID = "HD-TRIAGE"
PILOT_LABEL = "Helpdesk triage (Helpdesk Co)"
SHEET = "Weekly data"
WEEKS = 60
MAPPING = {  # the export's headers -> pilotproof columns, saved earlier as SAVED
    "Avg Handle Time (min)": "response_time",
    "Reopen Rate": "rework_rate",
    "Team": "unit",
    "Ticket Week": "date",
}
SAVED = "helpdesk export"
UNCHANGED = (
    "pilots",
    "metric_catalog",
    "observations",
    "replaced_observations",
    "replaced_pilots",
    "thresholds",
    "events",
    "mappings",
)


def helpdesk_workbook(path) -> None:
    """60 weekly rows; handle time 20 -> 14 minutes at week 30 (the go-live), reopen rate flat."""
    rng = np.random.default_rng(12)
    weeks = pd.date_range("2025-01-06", periods=WEEKS, freq="W-MON")
    book = xlsxwriter.Workbook(str(path))
    percent = book.add_format({"num_format": "0.0%"})
    book.add_worksheet("Summary").write(0, 0, "Tier 1 queue: weekly KPIs from the helpdesk")
    sheet = book.add_worksheet(SHEET)
    sheet.write(0, 0, "Helpdesk export: Tier 1 queue")
    sheet.write_row(2, 0, ["Ticket Week", "Team", "Avg Handle Time (min)", "Reopen Rate"])
    for i, week in enumerate(weeks):
        sheet.write_string(3 + i, 0, week.strftime("%m/%d/%Y"))  # US dates, as text
        sheet.write_string(3 + i, 1, "Tier 1")
        sheet.write_number(3 + i, 2, round((20.0 if i < 30 else 14.0) + rng.normal(0, 0.4), 2))
        sheet.write_number(3 + i, 3, round(0.05 + rng.normal(0, 0.003), 4), percent)
    book.close()


def prepared_database(path, tmp_path) -> dict[str, list]:
    """The sample portfolio plus the helpdesk pilot, registered earlier; returns its tables."""
    pilots = tmp_path / "hd_pilots.csv"
    pilots.write_text(
        "pilot_id,go_live,pilot_name,company,function,value_metric\n"
        f"{PILOT_ID},2025-08-04,Helpdesk triage,Helpdesk Co,support,response_time\n"
    )
    with Store(path) as store:
        store.ingest([*sample_files(), pilots], user="setup")
        store.save_mapping(SAVED, MAPPING)
        return tables(store)


def tables(store: Store) -> dict[str, list]:
    with store._cursor() as cur:  # test-only look under the public API
        return {
            t: sorted(cur.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in (*UNCHANGED, "uploads")
        }


def wait_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    time.sleep(0.3)


def choose(page, label: str, option: str | re.Pattern) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (again if a redraw ate it)."""
    value = ""
    for _ in range(3):
        settle(page)
        page.locator("[data-testid='stSelectbox']").filter(has_text=label).click()
        # the list is virtualised: type to bring the option into it
        page.keyboard.type(option if isinstance(option, str) else option.pattern.strip("^"))
        try:
            page.get_by_role("option", name=option).first.click(timeout=10_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        settle(page)
        value = selected(page, label)
        if option.search(value) if isinstance(option, re.Pattern) else value == option:
            return
    pytest.fail(f"could not choose {option} in {label}: {value}")


def selected(page, label: str) -> str:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label)
    return box.locator("input").first.input_value()


def settle(page) -> None:
    """Let a rerun the last action started begin, then finish."""
    with contextlib.suppress(PlaywrightTimeout):  # nothing ran
        page.locator("[data-testid='stStatusWidget']").wait_for(timeout=1_500)
    wait_idle(page)


def test_one_pilot_workbook_is_mapped_committed_judged_and_undone(page, tmp_path):
    db = tmp_path / "e2e.duckdb"
    before = prepared_database(db, tmp_path)
    book = tmp_path / "helpdesk_export.xlsx"
    helpdesk_workbook(book)
    process, url = start_app(db, tmp_path / "streamlit.log")
    try:
        page.goto(f"{url}/upload")
        page.get_by_role("heading", name="Upload", exact=True).wait_for()
        wait_idle(page)
        choose(page, "Upload to undo", re.compile(r"^#1 "))  # an old upload selected earlier

        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(book))
        page.get_by_text("Sheet of helpdesk_export.xlsx").wait_for()
        wait_idle(page)
        assert selected(page, "Sheet of") == SHEET  # the data, not the cover sheet
        preview = page.get_by_text("The first rows as this mapping reads them")
        # the mapping is picked from the saved ones (typing into the grid, a canvas whose
        # clicks a loaded machine swallows, made this test fail one run in two under CI load)
        for attempt in range(3):
            choose(page, "Saved mapping", SAVED)
            choose(page, "The whole file is one pilot", PILOT_LABEL)
            try:
                preview.wait_for(timeout=20_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    pytest.fail(page.locator("[data-testid='stMain']").inner_text()[:3000])
        passed = page.get_by_text(f"Every file passed validation: {2 * WEEKS} rows")
        for _ in range(3):  # a click while the page redraws is lost: click again
            settle(page)
            page.get_by_role("button", name="Apply mapping").click()
            settle(page)
            with contextlib.suppress(PlaywrightTimeout):  # validation may outlast `settle`
                passed.first.wait_for(timeout=20_000)
            if passed.count():
                break
        main = page.locator("[data-testid='stMain']")
        assert f"Every file passed validation: {2 * WEEKS} rows" in main.inner_text(), (
            main.inner_text()[-3000:]
        )
        page.get_by_role("button", name="Commit upload").click()
        page.get_by_text(f"ingested {2 * WEEKS} rows").wait_for(timeout=60_000)
        wait_idle(page)
        shown = selected(page, "Upload to undo")  # what was just written, not the old choice
        new_id = int(re.search(r"#(\d+) helpdesk_export\.xlsx\[Weekly data\]", shown).group(1))

        explorer = page.context.new_page()  # a second tab: the verdict
        explorer.goto(f"{url}/explorer?pilot={PILOT_ID}")
        checks = explorer.get_by_role("heading", name="Mirage checks", exact=True)
        try:  # the whole portfolio is analysed first: slow on a busy machine
            checks.wait_for(timeout=180_000)
        except PlaywrightTimeout:
            pytest.fail(explorer.locator("[data-testid='stMain']").inner_text()[-2000:])
        explorer.get_by_text("Real impact").first.wait_for()
        explorer.get_by_text(re.compile(r"response time \d+% lower than it would have been"))

        page.get_by_role("button", name="Undo this upload…").click()
        warning = page.get_by_text(re.compile(r"Undo #\d+ helpdesk_export"))
        warning.wait_for()
        assert f"#{new_id} helpdesk_export.xlsx[Weekly data]: {2 * WEEKS} rows" in (
            warning.inner_text()
        )
        assert f"for pilot {PILOT_ID}" in warning.inner_text()
        page.get_by_role("button", name=f"Yes, undo upload #{new_id}").click()
        wait_idle(page)

        explorer.reload()
        explorer.get_by_text("No metrics for this pilot yet").wait_for(timeout=60_000)
    finally:
        stop_app(process)

    with Store(db) as store:
        after = tables(store)
    for table in UNCHANGED:
        assert after[table] == before[table], table
    added = [row for row in after["uploads"] if row not in before["uploads"]]
    assert [(r[0], r[1], r[4], r[10]) for r in added] == [
        (new_id, f"helpdesk_export.xlsx[{SHEET}]", 2 * WEEKS, "undone")
    ]
