"""Every money figure in an export carries its pilot's currency (issue 13): the report model,
the HTML text, the workbook's currency column and no chart axis reading '(currency)'; a pilot
without a net value says what is missing; a worsened guardrail's number is in the title."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from pilotproof import export
from pilotproof.analysis import analyze_store
from pilotproof.store import Store, seed_sample


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    with Store(tmp_path_factory.mktemp("money") / "x.duckdb") as store:
        seed_sample(store)
        results = analyze_store(store)
        yield export.report_from_store(
            results, store, pilot_ids=["NW-AP", "MF-AUDIT", "HB-FNOL", "CB-ASSIST"]
        )


def test_each_section_states_money_in_its_pilots_currency(report):
    by_id = {p.pilot_id: p for p in report.pilots}
    assert by_id["NW-AP"].currency == "EUR" and by_id["MF-AUDIT"].currency == "GBP"
    # the words the app uses ('EUR 480k'), not every digit of an estimate with a wide interval
    assert by_id["NW-AP"].money(480_336.7) == "EUR\u00a0480k"
    assert by_id["NW-AP"].money(-1_250_000) == "EUR\u00a0-1.25M"
    assert by_id["NW-AP"].units["cost_per_transaction"] == "EUR"  # never "(currency)"
    assert by_id["HB-FNOL"].currency == "GBP"


def test_the_html_and_the_workbook_say_the_currency(report):
    html = export.render(report, "html").decode()
    by_id = {p.pilot_id: p for p in report.pilots}
    for pilot, code in (("NW-AP", "EUR"), ("MF-AUDIT", "GBP")):
        net = by_id[pilot].money(by_id[pilot].net_value.annual_net)
        assert net.startswith(f"{code}\u00a0") and f"Net {net}" in html
    assert "(currency)" not in html
    workbook = io.BytesIO(export.render(report, "xlsx"))
    book = pd.read_excel(workbook, sheet_name="Summary", engine="calamine")
    assert dict(zip(book["pilot_id"], book["currency"], strict=True))["MF-AUDIT"] == "GBP"


def test_a_pilot_without_a_net_value_says_what_is_missing(report):
    fnol = next(p for p in report.pilots if p.pilot_id == "HB-FNOL")
    # its cost and volume are known: what is missing is a cost per transaction to value
    assert fnol.no_value_text == "No cost data: cost per transaction not measured."
    assert (
        "No cost data: cost per transaction not measured." in export.render(report, "html").decode()
    )


def test_the_title_carries_the_worsened_guardrails_number(report):
    assist = next(p for p in report.pilots if p.pilot_id == "CB-ASSIST")
    assert "cut response time 36%" in assist.action_title
    assert ", but rework rate +4.5 points downstream" in assist.action_title


def test_a_mirage_states_the_teams_claim_beside_what_survives(tmp_path):
    with Store(tmp_path / "x.duckdb") as store:
        seed_sample(store)
        results = analyze_store(store)
        report = export.report_from_store(results, store, pilot_ids=["MF-PROC", "NW-AP"])
    proc, win = (next(p for p in report.pilots if p.pilot_id == i) for i in ("MF-PROC", "NW-AP"))
    assert proc.claim.startswith("The team sees ")
    assert "against what would have happened anyway, it is" in proc.claim
    assert win.claim == ""  # a real win has no claim to set right
    assert proc.claim in export.render(report, "html").decode()
