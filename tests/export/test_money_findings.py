"""What an operating partner found reading the sample portfolio's board exports beside the
app: one money rule (`pilotproof.totals`), the decision logged beside pilotproof's, a Scale
under a lowered bar marked where Scale is counted, value not in money said one way with its
running cost, what stopping saves, and the metric the money comes from. Each test fails on the
exports before the fix."""

from __future__ import annotations

import io

import openpyxl
import pytest

from pilotproof import export
from pilotproof.analysis import analyze_store
from pilotproof.store import Store, seed_sample
from pilotproof.totals import gross_interval, net_value_words

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    with Store(tmp_path_factory.mktemp("money") / "x.duckdb") as store:
        seed_sample(store)
        yield export.report_from_store(analyze_store(store), store)


@pytest.fixture(scope="module")
def pilots(report):
    return {p.pilot_id: p for p in report.pilots}


@pytest.fixture(scope="module")
def book(report):
    return openpyxl.load_workbook(io.BytesIO(export.render(report, "xlsx")))


def _sheet(book, name: str) -> dict[str, dict[str, object]]:
    """pilot_id -> {column: value} of a tidy sheet."""
    rows = list(book[name].iter_rows(values_only=True))
    header = rows[0]
    return {r[0]: dict(zip(header, r, strict=False)) for r in rows[1:] if r[0]}


@pytest.mark.parametrize("sheet", ["Summary", "Decisions"])
def test_the_excel_words_a_value_within_noise_as_the_deck_does(book, pilots, sheet):
    """The Summary read annual_net_value -252542 with a 95% interval -337438 to -167646 for
    Route planning, where the deck says 'value within noise (GBP -148k to +22k a year)'."""
    rows = _sheet(book, sheet)
    for pilot_id in ("MF-DISPATCH", "NW-ORDERS"):
        row, p = rows[pilot_id], pilots[pilot_id]
        assert row["value_within_noise"] is True
        assert row["net_value_words"] == p.net_text == net_value_words(p.result, p.currency)
        low, high = gross_interval(p.result)
        assert row["annual_gross_ci_low"] == pytest.approx(low) and low < 0
        assert row["annual_gross_ci_high"] == pytest.approx(high) and high > 0
        assert row["annual_cost"] == pytest.approx(p.net_value.annual_cost)
        assert isinstance(row["annual_net_ci_low"], float)  # numbers stay numbers
    booked = rows["NW-AP"]
    assert booked["value_within_noise"] is False
    assert booked["net_value_words"] == pilots["NW-AP"].net_text


@pytest.fixture(scope="module")
def deck(report):
    from pptx import Presentation

    return Presentation(io.BytesIO(export.render(report, "pptx")))


def _summary_rows(deck) -> list[list[str]]:
    """Every row of the executive summary's tables, cell texts, across its slides."""
    rows = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.name == "Summary table":
                rows += [[c.text_frame.text for c in r.cells] for r in shape.table.rows]
    return rows


def test_the_decision_logged_stands_beside_pilotproofs_in_the_excel_and_the_deck(
    book, deck, pilots
):
    """The XLSX showed only pilotproof's 'fix' for the Support reply assistant, which the deck
    lists under Scale (logged by the VP Support) with no word of the override."""
    p = pilots["CB-ASSIST"]
    logged = p.logged
    assert logged is not None and logged.decision == "scale" and p.recommended == "fix"
    for sheet in ("Summary", "Decisions"):
        row = _sheet(book, sheet)["CB-ASSIST"]
        assert row["decision"] == "fix"  # pilotproof's, as the JSON has it
        assert row["decision_logged"] == "scale"
        assert row["logged_by"] == logged.decided_by
        assert row["logged_on"].date() == logged.decided_at.date()
        for other in pilots.values():  # blank where none is logged
            want = other.logged.decision if other.logged else None
            assert _sheet(book, sheet)[other.pilot_id]["decision_logged"] == want
    said = (
        f"Scale (logged by {logged.decided_by} on {logged.decided_at:%Y-%m-%d}); pilotproof "
        f"recommends Fix: {p.action_title}"
    )
    row = next(r for r in _summary_rows(deck) if r[1] == p.label)
    assert row[2] == said
    invoice = next(r for r in _summary_rows(deck) if r[1] == pilots["NW-AP"].label)
    assert invoice[2] == pilots["NW-AP"].action_title  # no override, no prefix
