"""Every money figure in an export carries its pilot's currency (issue 13): the report model,
the HTML text, the workbook's currency column and no chart axis reading '(currency)'; a pilot
without a net value says what is missing; a worsened guardrail's number is in the title."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from pilotproof import export
from pilotproof.analysis import analyze_store
from pilotproof.store import Store, seed_sample

# the sample's invoice-capture value a year: an estimate, about EUR 480k (470k to 489k)
SAMPLE_VALUE = r"EUR\xa04[78]\dk"


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
        assert net.startswith(f"{code}\u00a0") and f"Net value {net} a year" in html
    assert "(currency)" not in html
    workbook = io.BytesIO(export.render(report, "xlsx"))
    book = pd.read_excel(workbook, sheet_name="Summary", engine="calamine")
    assert dict(zip(book["pilot_id"], book["currency"], strict=True))["MF-AUDIT"] == "GBP"


def test_a_pilot_without_a_net_value_says_what_is_missing(report):
    fnol = next(p for p in report.pilots if p.pilot_id == "HB-FNOL")
    # its cost and volume are known: what is missing is a cost per transaction to value
    assert fnol.no_value_text == "Value not in money: no cost per transaction."
    assert fnol.no_value_text in export.render(report, "html").decode()


def test_what_is_missing_is_one_board_sentence_without_an_operators_step(report):
    """'Annualised net value: No cost data: add annual volume to the pilots file on the Upload
    page' read as two labels and an instruction (issue 13): one plain sentence instead."""
    from pilotproof.words import missing_value_words

    assert missing_value_words(None, 1000.0) == (
        "Value not stated: no cost data (monthly cost not given)."
    )
    assert missing_value_words(None, None) == (
        "Value not stated: no cost data (monthly cost and annual volume not given)."
    )
    deck = export.render(report, "pptx")
    from pptx import Presentation

    texts = [
        shape.text_frame.text
        for slide in Presentation(io.BytesIO(deck)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    assert not any("Upload page" in t or "Annualised net value:" in t for t in texts)
    assert "Value not in money: no cost per transaction." in texts


def test_the_value_of_what_to_scale_is_stated_per_currency_and_converted_only_at_rates(report):
    """The deck and the PDF state what the pilots to scale are worth a year, in the app's
    words and currency rules (issue 13): per currency, one total only at the rates entered."""
    from dataclasses import dataclass, field

    from pilotproof.export.content import value_words

    results = report.results
    currencies = {p.pilot_id: p.currency for p in report.pilots}
    from analytics.portfolio_health import standing_decision

    scale = [r for r in results if standing_decision(r) == "scale"]  # as the app counts
    from pilotproof.claims import scaling_words  # FNOL is marked: only under a lowered bar

    assert re.match(
        re.escape(f"{scaling_words(scale)}, worth ") + SAMPLE_VALUE + " a year",
        report.value_headline,
    )
    assert "Every pilot with a net value, those to fix and stop included (2 pilots): EUR" in (
        report.value_detail
    )
    assert "· GBP" in report.value_detail and "not added across currencies" in report.value_detail

    @dataclass(frozen=True)
    class Rates:
        reporting: str | None = "EUR"
        rates: dict = field(default_factory=lambda: {"GBP": 1.15})

        def convertible(self, codes: set[str]) -> bool:
            return all(c == self.reporting or c in self.rates for c in codes)

    _, detail = value_words(results, currencies, Rates())
    assert "EUR" in detail and "at your rates 1 GBP = 1.15 EUR" in detail
    assert "not added" not in detail


def test_the_title_carries_the_worsened_guardrails_number(report):
    assist = next(p for p in report.pilots if p.pilot_id == "CB-ASSIST")
    assert "cut response time 36%" in assist.action_title
    # a change in a sentence reads in words, never as a signed number (partner read-through)
    assert ", but rework rate 4.5 points higher downstream" in assist.action_title
    assert "+4.5" not in assist.action_title


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
