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
        assert pilot.action_title in page
        assert pilot.decision_label in page


def test_numbers_match_the_analysis(reader, results):
    page = _text(reader.pages[2])
    effect = results[0].metrics[0]
    assert f"{effect.effect_pct:+.1f}%" in page
    assert f"{effect.ci_low_pct:+.1f}% to {effect.ci_high_pct:+.1f}%" in page
    assert "Net 360k per year" in page  # as the app and the bridge chart say it


def test_chart_images_are_embedded(reader):
    counts = [len(page.images) for page in reader.pages]
    # comparison: forest; P1 and P2: series + bridge; P3: nothing to chart
    assert counts == [0, 1, 2, 2, 0, 0]


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
    from pilotproof.export import images

    real = images.render_pngs

    def second_fails(specs, progress=None, **kw):
        done = real(specs, progress, **kw)
        pngs = list(done.pngs)
        pngs[1] = None
        problems = ["", "KaleidoError: plotly.js error", *[""] * (len(pngs) - 2)]
        return images.Rendered(tuple(pngs), problems=tuple(problems))

    monkeypatch.setattr(pdf, "render_pngs", second_fails)
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(pdf.render(report, problems=problems)))
    assert problems == ["series chart of pilot P1 (Support assistant) not drawn: "
                        "KaleidoError: plotly.js error"]  # fmt: skip
    text = " ".join(_text(p) for p in reader.pages)
    assert "Chart not drawn: KaleidoError: plotly.js error" in text
    assert "1 chart(s) could not be drawn" in _text(reader.pages[0])
    # the others are still there: forest, P1's bridge, P2's series and bridge
    assert [len(page.images) for page in reader.pages] == [0, 1, 1, 2, 0, 0]
