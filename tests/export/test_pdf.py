"""The PDF read back with pypdf: summary page, one page per pilot, charts, footer on every page."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from pilotproof.export import pdf


@pytest.fixture(scope="module")
def reader(report):
    return PdfReader(io.BytesIO(pdf.render(report)))


def _text(page) -> str:
    return re.sub(r"\s+", " ", page.extract_text())


def test_summary_comparison_then_one_page_per_pilot(reader, report):
    assert len(reader.pages) == 2 + len(report.pilots) + 1  # and how it was made, last
    assert "About this report" in _text(reader.pages[-1])
    summary = _text(reader.pages[0])
    assert "Executive summary" in summary
    for i, pilot in enumerate(report.pilots):
        page = _text(reader.pages[2 + i])
        assert pilot.heading in page and pilot.company in pilot.heading
        assert pilot.decision_label in page


def test_numbers_match_the_analysis(reader, results):
    page = _text(reader.pages[2])
    effect = results[0].metrics[0]
    assert f"{effect.effect_pct:+.1f}%" in page
    assert f"{effect.ci_low_pct:+.1f}% to {effect.ci_high_pct:+.1f}%" in page
    assert "Net value 360k a year" in page  # as the app and the bridge chart say it


def test_charts_are_drawn_where_the_app_draws_them(reader):
    # the comparison's forest plot is the app's figure as an image; each pilot's series and
    # net value bridge are vector drawings, so their labels are text on the page (the last
    # page says how the report was made)
    assert [len(page.images) for page in reader.pages] == [0, 1, 0, 0, 0, 0]
    for page in reader.pages[2:4]:  # P1 and P2: series and bridge
        text = _text(page)
        labels = ("Go-live", "Observed", "Expected without the pilot, 95% range", "Gross value")
        for label in labels:
            assert label in text, label
        assert "Running cost" in text and "Net value" in text
    assert "Go-live" not in _text(reader.pages[4])  # P3: no series to chart


def test_footer_on_every_page(reader, report):
    for number, page in enumerate(reader.pages, start=1):
        text = _text(page)
        assert f"Data as of {report.footer.data_as_of}" in text
        assert f"Page {number}" in text


def test_provenance_is_on_the_last_page_not_on_every_page(reader, report):
    """A board page carries no sha256 (issue 13); the last page says how it was made."""
    pages = [_text(page) for page in reader.pages]
    assert not any(report.footer.data_hash in page for page in pages[:-1])
    assert not any("sha256" in page for page in pages[:-1])
    assert report.footer.data_hash in pages[-1]
    assert " ".join(report.footer.method.split()) in pages[-1]


def test_the_first_page_states_what_scaling_is_worth_and_groups_by_decision(reader, report):
    """The PDF states the portfolio's value as the app does, and its summary lists the
    pilots under their decisions in the order scale, fix, extend (issue 13)."""
    first = _text(reader.pages[0])
    assert report.value_headline in first
    summary = first.split("Executive summary", 1)[1]
    heads = [summary.index(head) for head in ("Scale (1)", "Fix (1)", "Extend (1)")]
    assert heads == sorted(heads)


def test_user_text_is_printed_not_parsed(reader, evil_name):
    text = " ".join(_text(p) for p in reader.pages)
    assert evil_name in text
    assert "Triage <b>bot</b>" in text


def test_a_chart_that_cannot_be_drawn_is_noted_and_reported(report, monkeypatch):
    from pilotproof.export import pdf_charts

    real = pdf_charts.series_drawing

    def first_fails(p, *args):
        if p.pilot_id == "P1":
            raise ValueError("odd data")
        return real(p, *args)

    monkeypatch.setattr(pdf_charts, "series_drawing", first_fails)
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(pdf.render(report, problems=problems)))
    assert problems == ["series chart of pilot P1 (Support assistant) not drawn: "
                        "ValueError: odd data"]  # fmt: skip
    text = " ".join(_text(p) for p in reader.pages)
    assert "Chart not drawn: ValueError: odd data" in text
    assert "1 chart(s) could not be drawn" in _text(reader.pages[0])
    # the others are still there: P1's bridge, P2's series and bridge
    assert "Gross value" in _text(reader.pages[2]) and "Go-live" not in _text(reader.pages[2])
    assert "Go-live" in _text(reader.pages[3]) and "Gross value" in _text(reader.pages[3])


def test_a_comparison_image_that_cannot_be_rendered_is_noted(report, monkeypatch):
    from pilotproof.export import images

    def nothing(specs, progress=None, **kw):
        return images.Rendered((None,) * len(specs), problems=("KaleidoError: boom",) * len(specs))

    monkeypatch.setattr(pdf, "render_pngs", nothing)
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(pdf.render(report, problems=problems)))
    assert problems == ["comparison chart not drawn: KaleidoError: boom"]
    assert "Chart not drawn: KaleidoError: boom" in _text(reader.pages[1])
    assert "Go-live" in _text(reader.pages[2])  # the pilots' own charts do not need a browser


def test_a_board_pack_has_the_whole_summary_and_the_picked_pages(report):
    reader = PdfReader(io.BytesIO(pdf.render(report, pages=["P2"])))
    assert len(reader.pages) == 4  # summary, comparison, P2, about
    summary = _text(reader.pages[0])
    for pilot in report.pilots:  # the summary still covers every pilot
        assert pilot.action_title[:40] in summary
    assert report.pilots[1].heading in _text(reader.pages[2])
    assert len(PdfReader(io.BytesIO(pdf.render(report, pages=[]))).pages) == 3


def test_a_large_portfolio_compares_its_best_and_worst(report, monkeypatch):
    from pilotproof.export.content import comparison_ends

    assert comparison_ends(report, 2) is None  # three pilots: the chart draws them all
    ends = comparison_ends(report, 1)
    assert ends is not None and set(ends) == {"P1", "P2"}  # P3 has no estimate to rank
    monkeypatch.setattr(pdf, "FOREST_ENDS", 1)
    comparison = _text(PdfReader(io.BytesIO(pdf.render(report))).pages[1])
    assert "shows the 1 pilots with the largest improvement and the 1 with the smallest, of 3" in (
        comparison
    )
    for pilot in report.pilots[:2]:  # the table under it still lists every estimate
        assert pilot.name in comparison


def test_values_past_what_a_page_can_draw_are_a_note_not_a_broken_pdf(report):
    from dataclasses import replace

    from analytics.results import ChartSeries
    from pilotproof.export import pdf_charts

    first = report.pilots[0]
    series = first.headline.series.copy()
    series.loc[series.index[::2], "observed"] = 1e308
    series.loc[series.index[1::2], "observed"] = -1e308
    odd = replace(first, headline=replace(first.headline, chart=ChartSeries.of(series)))
    with pytest.raises(ValueError, match="too large to chart"):
        pdf_charts.series_drawing(odd, 400, 200, "Helvetica")
    problems: list[str] = []
    data = pdf.render(replace(report, pilots=(odd, *report.pilots[1:])), problems=problems)
    assert problems == [
        "series chart of pilot P1 (Support assistant) not drawn: ValueError: values too large "
        "to chart"
    ]
    assert "Chart not drawn: ValueError" in _text(PdfReader(io.BytesIO(data)).pages[2])
